-- description: Each practice's age structure per month, as core.peer_features compares practices on it: % of registered patients aged 0-4, 65+ and 85+ (from core.population's five-year bands).
-- incremental: period
-- unique: practice_code, period
-- not_null: practice_code, period
-- range: pct_age_0_4 between 0 and 100
--
-- A table of its own, refreshed month by month, so that core.peer_features (rebuilt whole by
-- every build, since its periods reach into other periods) reads 180,000 rows at England scale
-- rather than the 6.4 million of core.population (2.2 s a build).
SELECT practice_code, period,
    100.0 * sum(patients) FILTER (WHERE lo < 5) / sum(patients) AS pct_age_0_4,
    100.0 * sum(patients) FILTER (WHERE lo >= 65) / sum(patients) AS pct_age_65_plus,
    100.0 * sum(patients) FILTER (WHERE lo >= 85) / sum(patients) AS pct_age_85_plus
FROM (SELECT practice_code, period, patients,
          TRY_CAST(regexp_extract(age_band, '^([0-9]+)', 1) AS INTEGER) AS lo
      FROM core.population
      WHERE in_build(period))
WHERE lo IS NOT NULL
GROUP BY practice_code, period
HAVING sum(patients) > 0
