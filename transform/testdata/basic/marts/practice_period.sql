-- incremental: period
-- unique: practice_code, period
SELECT practice_code, period, pct(sum(numerator), sum(denominator)) AS percent
FROM core.achievement
WHERE practice_code IN (SELECT practice_code FROM core.practices)
GROUP BY ALL
