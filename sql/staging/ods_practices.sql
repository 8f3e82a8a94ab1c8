-- description: ODS GP practices (epraccur) per snapshot month: name, postcode, open and close dates, status, commissioner. Only prescribing setting 4 (GP practices) where the setting is given.
-- incremental: period
-- not_null: practice_code, period
-- accepted_values: status in ('active', 'closed', 'dormant', 'proposed')
SELECT
    upper(trim(org_code)) AS practice_code,
    name AS practice_name,
    postcode,
    open_date,
    close_date,
    CASE upper(status) WHEN 'A' THEN 'active' WHEN 'C' THEN 'closed' WHEN 'D' THEN 'dormant' WHEN 'P' THEN 'proposed' END AS status,
    commissioner AS sub_icb_code,
    national_grouping AS region_code,
    prescribing_setting,
    period
FROM lake.ods_practices
WHERE prescribing_setting IS NULL OR trim(prescribing_setting) IN ('', '4')
