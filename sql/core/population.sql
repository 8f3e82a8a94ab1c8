-- description: Registered patients by practice, month, five-year age band and sex (bands only, from registrations_age).
-- incremental: period
-- unique: practice_code, period, sex, age_band
-- not_null: practice_code, period, sex, age_band, patients
-- range: patients >= 0
SELECT practice_code, period, sex, age_band, patients
FROM staging.registrations_age
