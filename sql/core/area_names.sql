-- description: Names of practices, PCNs, sub-ICB locations, ICBs and regions as each source spelled them in each period (history: names change with eras, e.g. 'MIDLANDS COMMISSIONING REGION' then 'Midlands'). core.current_names picks one current name per code from these.
-- unique: area_level, area_code, period, source
-- not_null: area_level, area_code, period, area_name, source, source_rank
-- accepted_values: area_level in ('practice', 'pcn', 'sub_icb', 'icb', 'region')
-- incremental: period
--
-- source_rank orders the sources within a period: the statistical publications (QOF geography
-- and practice map 1, workforce 2, payments 3, QOF points table 4) before the ODS reference
-- files (9), which spell every name in capitals. Names are kept exactly as published (trimmed).
-- Each source is scanned once and its rows counted by the names they carry before they are spread
-- to one row per level (was a scan per level and source: England's 7.9 M workforce rows five
-- times, 18 s a full build, now under 5 s, the same rows). Where two spellings are equally common
-- the smallest wins, as with most_common, so the name never depends on the order rows are read in.
WITH src AS (
    -- each source read once, its rows counted by the names they carry (a month of workforce is
    -- ~290,000 staff rows for ~6,300 practices), then spread to one row per area level
    SELECT 'qof_geography' AS source, 1 AS source_rank, period, practice_code, practice_name, pcn_code, pcn_name,
        sub_icb_code, sub_icb_name, icb_code, icb_name, region_code, region_name, count(*) AS n
    FROM staging.qof_geography WHERE in_build(period) GROUP BY ALL
    UNION ALL
    SELECT 'practice_map', 1, period, practice_code, practice_name, pcn_code, pcn_name,
        sub_icb_code, sub_icb_name, icb_code, icb_name, region_code, region_name, count(*)
    FROM staging.practice_map WHERE in_build(period) GROUP BY ALL
    UNION ALL
    SELECT 'workforce', 2, period, practice_code, practice_name, pcn_code, pcn_name,
        sub_icb_code, sub_icb_name, icb_code, icb_name, region_code, region_name, count(*)
    FROM staging.workforce WHERE in_build(period) GROUP BY ALL
    UNION ALL
    SELECT 'payments', 3, period, practice_code, practice_name, pcn_code, pcn_name,
        sub_icb_code, sub_icb_name, NULL, NULL, region_code, region_name, count(*)
    FROM staging.payments WHERE in_build(period) GROUP BY ALL
    UNION ALL
    SELECT 'qof_points', 4, period, practice_code, practice_name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, count(*)
    FROM staging.qof_points WHERE in_build(period) GROUP BY ALL
    UNION ALL
    SELECT 'ods_epraccur', 9, period, practice_code, practice_name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, count(*)
    FROM staging.ods_practices WHERE in_build(period) GROUP BY ALL
    UNION ALL
    SELECT 'ods_eccg', 9, period, NULL, NULL, NULL, NULL, sub_icb_code, sub_icb_name, NULL, NULL, NULL, NULL, count(*)
    FROM staging.ods_sub_icbs WHERE in_build(period) GROUP BY ALL
),
n AS (
    SELECT source, source_rank, period, n, unnest([
            {area_level: 'practice', area_code: practice_code, area_name: practice_name},
            {area_level: 'pcn', area_code: pcn_code, area_name: pcn_name},
            {area_level: 'sub_icb', area_code: sub_icb_code, area_name: sub_icb_name},
            {area_level: 'icb', area_code: icb_code, area_name: icb_name},
            {area_level: 'region', area_code: region_code, area_name: region_name}], recursive := true)
    FROM src
),
spelled AS (
    SELECT area_level, area_code, period, source, any_value(source_rank) AS source_rank, trim(area_name) AS area_name, sum(n) AS n
    FROM n
    WHERE nullif(trim(area_code), '') IS NOT NULL AND nullif(trim(area_name), '') IS NOT NULL
    GROUP BY area_level, area_code, period, source, trim(area_name)
)
-- the spelling most rows of the source use in the period (ties: the smallest)
SELECT area_level, area_code, period, source, any_value(source_rank) AS source_rank,
    arg_min(area_name, (-n, area_name)) AS area_name
FROM spelled
GROUP BY area_level, area_code, period, source
