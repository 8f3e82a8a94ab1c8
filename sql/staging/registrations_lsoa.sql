-- description: Patients registered at each GP practice by LSOA of residence (quarterly; both sexes). NO2011/NO2021 (no known LSOA) rows are kept with has_lsoa false.
-- incremental: period
-- not_null: practice_code, lsoa_code, period
-- unique: practice_code, lsoa_code, period
SELECT
    upper(trim(practice_code)) AS practice_code,
    upper(trim(lsoa_code)) AS lsoa_code,
    upper(trim(lsoa_code)) NOT LIKE 'NO%' AS has_lsoa,
    sum(patients) AS patients,
    period
FROM lake.registrations_lsoa
WHERE coalesce(upper(sex), 'ALL') IN ('ALL', 'PERSONS')
GROUP BY ALL
