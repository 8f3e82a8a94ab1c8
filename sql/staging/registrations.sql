-- description: Patients registered at each GP practice per month (all ages, both sexes).
-- incremental: period
-- not_null: practice_code, period
-- unique: practice_code, period
-- range: patients >= 0
SELECT
    upper(trim(practice_code)) AS practice_code,
    any_value(sub_icb_code) AS sub_icb_code,
    any_value(postcode) AS postcode,
    max(extract_date) AS extract_date,
    sum(patients) AS patients,
    period,
    fy_of_month(period) AS fy
FROM lake.registrations
WHERE coalesce(upper(sex), 'ALL') = 'ALL' AND coalesce(upper(age), 'ALL') = 'ALL'
GROUP BY upper(trim(practice_code)), period
