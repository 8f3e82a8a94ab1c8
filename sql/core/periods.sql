-- description: Every period any source in the lake covers: months (YYYY-MM) and financial years (YYYY-YY), with first and last day, the financial year of each month and the sources that hold data for it. Monthly and annual sources coexist: a financial year that only one source covers (e.g. a QOF practice mapping for a year with no payments yet) is a period like any other.
-- unique: period
-- not_null: period, period_type, start_date, end_date, fy, sources
-- accepted_values: period_type in ('month', 'fy')
--
-- ODS snapshots and Fingertips extracts are reference data, dated by their own snapshot or time
-- period, so they describe practices in the periods above but do not add periods of their own.
-- Registrations by age band and by LSOA are listed from the lake with the staging views' filters:
-- the views sum every month's rows (the age bands 4 of this model's 4.4 s at England scale, the
-- LSOA rows 0.4 of 0.7 s) to list a column they keep.
WITH p AS (
    SELECT DISTINCT period, 'registrations' AS source FROM staging.registrations
    UNION ALL SELECT DISTINCT period, 'registrations_age' FROM lake.registrations_age
        WHERE upper(sex) IN ('MALE', 'FEMALE') AND upper(age_band) <> 'ALL'
    UNION ALL SELECT DISTINCT period, 'registrations_lsoa' FROM lake.registrations_lsoa
        WHERE coalesce(upper(sex), 'ALL') IN ('ALL', 'PERSONS')
    UNION ALL SELECT DISTINCT period, 'practice_map' FROM staging.practice_map
    UNION ALL SELECT DISTINCT period, 'workforce' FROM staging.workforce
    UNION ALL SELECT DISTINCT period, 'referrals' FROM staging.referrals
    UNION ALL SELECT DISTINCT period, 'qof_achievement' FROM staging.qof_achievement
    UNION ALL SELECT DISTINCT period, 'qof_prevalence' FROM staging.qof_prevalence
    UNION ALL SELECT DISTINCT period, 'qof_points' FROM staging.qof_points
    UNION ALL SELECT DISTINCT period, 'qof_geography' FROM staging.qof_geography
    UNION ALL SELECT DISTINCT period, 'qof_indicators' FROM staging.qof_indicators
    UNION ALL SELECT DISTINCT period, 'payments' FROM staging.payments
)
SELECT
    period,
    CASE WHEN is_fy(period) THEN 'fy' ELSE 'month' END AS period_type,
    period_start(period) AS start_date,
    period_end(period) AS end_date,
    CASE WHEN is_fy(period) THEN period ELSE fy_of_month(period) END AS fy,
    CASE WHEN is_fy(period) THEN NULL ELSE period_start(period) END AS month,
    list(DISTINCT source ORDER BY source) AS sources
FROM p
WHERE period SIMILAR TO '[0-9]{4}-[0-9]{2}'
GROUP BY period
