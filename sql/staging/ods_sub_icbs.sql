-- description: ODS sub-ICB locations (and the CCGs before them; eccg) per snapshot: name, parent ICB (health geography), region (national grouping), open and close dates.
-- incremental: period
-- not_null: sub_icb_code, period
SELECT
    upper(trim(org_code)) AS sub_icb_code,
    name AS sub_icb_name,
    nullif(upper(trim(health_geography)), '') AS icb_code,
    nullif(upper(trim(national_grouping)), '') AS region_code,
    open_date,
    close_date,
    period
FROM lake.ods_sub_icbs
