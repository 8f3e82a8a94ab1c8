-- description: Patients registered at each GP practice by five-year age band and sex per month (bands only: the ALL rows are dropped, so sums are right).
-- incremental: period
-- not_null: practice_code, sex, age_band, period
-- unique: practice_code, sex, age_band, period
-- accepted_values: sex in ('MALE', 'FEMALE')
SELECT
    upper(trim(practice_code)) AS practice_code,
    upper(sex) AS sex,
    age_band,
    sum(patients) AS patients,
    period,
    fy_of_month(period) AS fy
FROM lake.registrations_age
WHERE upper(sex) IN ('MALE', 'FEMALE') AND upper(age_band) <> 'ALL'
GROUP BY ALL
