-- description: The IMD 2019 score of each practice per registrations-by-LSOA period: the mean of its patients' LSOA scores, weighted by the patients registered from each LSOA (core.practices takes the latest period at or before each of its periods).
-- incremental: period
-- not_null: practice_code, period, imd_score
-- unique: practice_code, period
--
-- A table of its own so that a new quarter's file is scored once: core.practices, rebuilt whole
-- whenever a month arrives, scored every quarter's 880,000 rows again (about 1 of its 1.3 s at
-- England scale).
SELECT r.practice_code, r.period,
    -- summed in a fixed order (LSOA code, patients): a parallel sum of doubles differs in the
    -- last bits from build to build, and the score would then differ in every period whenever
    -- a month is added. Sorted after aggregating, not sum(... ORDER BY ...): the same additions
    -- in the same order, at half the cost (an ordered aggregate sorts each group on its own).
    list_sum(list_transform(list_sort(list({'l': r.lsoa_code, 'p': r.patients, 'x': r.patients * s.imd_score})), e -> e.x))
        / nullif(sum(r.patients), 0) AS imd_score
FROM staging.registrations_lsoa AS r
JOIN staging.imd_scores AS s USING (lsoa_code)
WHERE r.patients > 0 AND s.imd_score IS NOT NULL AND in_build(r.period)
GROUP BY r.practice_code, r.period
