-- description: QOF practice geography per financial year (practice to PCN, sub-ICB, ICB and region).
-- incremental: period
-- not_null: practice_code, period
-- unique: practice_code, period
SELECT
    upper(trim(practice_code)) AS practice_code,
    practice_name,
    pcn_code, pcn_name,
    sub_icb_code, sub_icb_name,
    icb_code, icb_name,
    region_code, region_name,
    period,
    period AS fy
FROM lake.qof_geography
