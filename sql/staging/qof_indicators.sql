-- description: QOF indicator mappings per financial year: indicator, register group, domain, maximum points and list type.
-- incremental: period
-- not_null: indicator_code, period
-- unique: indicator_code, period
SELECT
    upper(trim(indicator_code)) AS indicator_code,
    indicator_description,
    point_value AS max_points,
    upper(trim(group_code)) AS group_code,
    group_description,
    domain_code,
    domain_description,
    upper(trim(patient_list_type)) AS patient_list_type,
    period,
    period AS fy
FROM lake.qof_indicators
