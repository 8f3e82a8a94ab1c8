-- description: QOF disease registers and the list (of the register's patient list type) they count against, per practice and financial year.
-- incremental: period
-- not_null: practice_code, group_code, period
-- unique: practice_code, group_code, period
SELECT
    upper(trim(practice_code)) AS practice_code,
    upper(trim(group_code)) AS group_code,
    register,
    upper(trim(patient_list_type)) AS patient_list_type,
    practice_list_size AS list_size,
    dq_flag,
    period,
    period AS fy
FROM lake.qof_prevalence
