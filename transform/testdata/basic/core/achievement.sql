-- materialized: table
-- incremental: period
-- description: achievement by practice, indicator and period with the practice name.
-- unique: practice_code, indicator, period
-- relationships: practice_code -> core.practices.practice_code
-- range: percent between 0 and 100
WITH wide AS (
    SELECT practice_code, indicator, period,
           sum(value) FILTER (WHERE measure = 'NUMERATOR') AS numerator,
           sum(value) FILTER (WHERE measure = 'DENOMINATOR') AS denominator
    FROM staging.achievement
    GROUP BY ALL
)
SELECT w.practice_code, p.name, w.indicator, w.period, w.numerator, w.denominator,
       pct(w.numerator, w.denominator) AS percent
FROM wide AS w
JOIN core.practices AS p USING (practice_code);
