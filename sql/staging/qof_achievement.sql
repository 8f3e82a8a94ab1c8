-- description: QOF achievement, long: one row per practice, indicator, measure and financial year.
-- incremental: period
-- not_null: practice_code, indicator_code, measure, period
-- accepted_values: measure in ('REGISTER', 'ACHIEVED_POINTS', 'NUMERATOR', 'DENOMINATOR', 'PCAS', 'EXCEPTIONS')
-- The DENOMINATOR already excludes personalised care adjustments (PCAs).
SELECT
    upper(trim(practice_code)) AS practice_code,
    upper(trim(indicator_code)) AS indicator_code,
    upper(trim(measure)) AS measure,
    value,
    coalesce(value_suppressed, false) AS value_suppressed,
    period,
    period AS fy
FROM lake.qof_achievement
