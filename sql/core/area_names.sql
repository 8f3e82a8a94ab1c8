-- description: Names of practices, PCNs, sub-ICB locations, ICBs and regions as each source spelled them in each period (history: names change with eras, e.g. 'MIDLANDS COMMISSIONING REGION' then 'Midlands'). core.current_names picks one current name per code from these.
-- unique: area_level, area_code, period, source
-- not_null: area_level, area_code, period, area_name, source, source_rank
-- accepted_values: area_level in ('practice', 'pcn', 'sub_icb', 'icb', 'region')
-- incremental: period
--
-- source_rank orders the sources within a period: the statistical publications (QOF geography
-- and practice map 1, workforce 2, payments 3, QOF points table 4) before the ODS reference
-- files (9), which spell every name in capitals. Names are kept exactly as published (trimmed).
WITH n AS (
    SELECT 'practice' AS area_level, practice_code AS area_code, practice_name AS area_name, period, 'qof_geography' AS source, 1 AS source_rank FROM staging.qof_geography
    UNION ALL SELECT 'pcn', pcn_code, pcn_name, period, 'qof_geography', 1 FROM staging.qof_geography
    UNION ALL SELECT 'sub_icb', sub_icb_code, sub_icb_name, period, 'qof_geography', 1 FROM staging.qof_geography
    UNION ALL SELECT 'icb', icb_code, icb_name, period, 'qof_geography', 1 FROM staging.qof_geography
    UNION ALL SELECT 'region', region_code, region_name, period, 'qof_geography', 1 FROM staging.qof_geography
    UNION ALL SELECT 'practice', practice_code, practice_name, period, 'practice_map', 1 FROM staging.practice_map
    UNION ALL SELECT 'pcn', pcn_code, pcn_name, period, 'practice_map', 1 FROM staging.practice_map
    UNION ALL SELECT 'sub_icb', sub_icb_code, sub_icb_name, period, 'practice_map', 1 FROM staging.practice_map
    UNION ALL SELECT 'icb', icb_code, icb_name, period, 'practice_map', 1 FROM staging.practice_map
    UNION ALL SELECT 'region', region_code, region_name, period, 'practice_map', 1 FROM staging.practice_map
    UNION ALL SELECT 'practice', practice_code, practice_name, period, 'workforce', 2 FROM staging.workforce
    UNION ALL SELECT 'pcn', pcn_code, pcn_name, period, 'workforce', 2 FROM staging.workforce
    UNION ALL SELECT 'sub_icb', sub_icb_code, sub_icb_name, period, 'workforce', 2 FROM staging.workforce
    UNION ALL SELECT 'icb', icb_code, icb_name, period, 'workforce', 2 FROM staging.workforce
    UNION ALL SELECT 'region', region_code, region_name, period, 'workforce', 2 FROM staging.workforce
    UNION ALL SELECT 'practice', practice_code, practice_name, period, 'payments', 3 FROM staging.payments
    UNION ALL SELECT 'pcn', pcn_code, pcn_name, period, 'payments', 3 FROM staging.payments
    UNION ALL SELECT 'sub_icb', sub_icb_code, sub_icb_name, period, 'payments', 3 FROM staging.payments
    UNION ALL SELECT 'region', region_code, region_name, period, 'payments', 3 FROM staging.payments
    UNION ALL SELECT 'practice', practice_code, practice_name, period, 'qof_points', 4 FROM staging.qof_points
    UNION ALL SELECT 'practice', practice_code, practice_name, period, 'ods_epraccur', 9 FROM staging.ods_practices
    UNION ALL SELECT 'sub_icb', sub_icb_code, sub_icb_name, period, 'ods_eccg', 9 FROM staging.ods_sub_icbs
)
SELECT area_level, area_code, period, source, any_value(source_rank) AS source_rank,
    -- the spelling most rows of the source use in the period
    most_common(trim(area_name)) AS area_name
FROM n
WHERE nullif(trim(area_code), '') IS NOT NULL AND nullif(trim(area_name), '') IS NOT NULL
    AND in_build(period) -- a new month reads its own names only (this was 17 s a build at England scale)
GROUP BY area_level, area_code, period, source
