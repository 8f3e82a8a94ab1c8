-- description: QOF total achieved points per practice and financial year (the published table).
-- incremental: period
-- not_null: practice_code, period
-- range: achieved_points >= 0
SELECT
    upper(trim(practice_code)) AS practice_code,
    practice_name,
    sub_icb_code,
    pcn_code,
    list_size,
    achieved_points,
    max_points_where_register,
    period,
    period AS fy
FROM lake.qof_points
