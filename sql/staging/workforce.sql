-- description: General Practice Workforce, long: practice x role x measure (HC, FTE) per month. The staff-group totals are the roles GP, NURSES, DPC and ADMIN (is_group_total).
-- incremental: period
-- not_null: practice_code, role, measure, period
-- accepted_values: measure in ('HC', 'FTE')
-- accepted_values: staff_group in ('GP', 'NURSE', 'DPC', 'ADMIN', 'OTHER')
SELECT
    upper(trim(practice_code)) AS practice_code,
    practice_name,
    pcn_code, pcn_name,
    sub_icb_code, sub_icb_name,
    icb_code, icb_name,
    region_code, region_name,
    total_patients,
    staff_group,
    role,
    role IN ('GP', 'NURSES', 'DPC', 'ADMIN') AS is_group_total,
    measure,
    value,
    coalesce(value_suppressed, false) AS value_suppressed,
    period,
    fy_of_month(period) AS fy
FROM lake.workforce
