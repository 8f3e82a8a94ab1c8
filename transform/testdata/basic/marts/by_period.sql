-- description: national totals per period (not incremental: rebuilt when any period changes).
-- unique: period
-- row_count: between 1 and 1000
SELECT period, sum(numerator) AS numerator, sum(denominator) AS denominator,
       pct(sum(numerator), sum(denominator)) AS percent
FROM core.achievement
GROUP BY period
