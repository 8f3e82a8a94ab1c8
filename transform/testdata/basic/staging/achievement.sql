-- description: QOF achievement rows as ingested, one row per practice, indicator and measure.
-- incremental: period
-- not_null: practice_code, period
-- accepted_values: measure in ('NUMERATOR', 'DENOMINATOR')
SELECT practice_code, indicator, measure, value, period
FROM lake.achievement;
