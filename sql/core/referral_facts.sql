-- description: Practice-level referral numerators and denominators per month: referrals (total, by priority, by treatment function) over registered patients, and observed over expected referrals for the age-sex standardised ratios (total and by treatment function).
-- incremental: period
-- unique: indicator_id, practice_code, period
-- not_null: indicator_id, practice_code, period, numerator, denominator
-- range: denominator > 0
-- range: numerator >= 0
--
-- Expected referrals (indirect standardisation): the practice's registered patients in each
-- five-year age band and sex times England's referral rate for that month, band and sex (and
-- treatment function). Referrals of unknown sex or age band count in the rates per 1,000 but not
-- in the standardised ratios. Each month stands alone, so the model refreshes month by month, and
-- every read is cut to the months being built (in_build).
WITH list AS (
    SELECT period, practice_code, patients AS list_size
    FROM staging.registrations
    WHERE patients > 0 AND in_build(period)
),
ref AS (
    SELECT r.period, r.practice_code, r.treatment_function_code, r.priority, r.age_band, r.sex, r.referrals, l.list_size
    FROM staging.referrals AS r
    JOIN list AS l USING (period, practice_code)
    WHERE in_build(r.period)
),
rates AS (
    SELECT 'ref_rate_per_1000' AS indicator_id, period, practice_code, sum(referrals) AS numerator, any_value(list_size) AS denominator
    FROM ref GROUP BY period, practice_code
    UNION ALL
    SELECT 'ref_' || lower(priority) || '_rate_per_1000', period, practice_code, sum(referrals), any_value(list_size)
    FROM ref WHERE priority IN ('ROUTINE', 'URGENT', '2WW') GROUP BY ALL
    UNION ALL
    SELECT 'ref_rate_per_1000_' || treatment_function_code, period, practice_code, sum(referrals), any_value(list_size)
    FROM ref WHERE treatment_function_code IS NOT NULL GROUP BY ALL
),
pop AS (
    -- practices that reported referrals that month
    SELECT p.period, p.practice_code, p.sex, p.age_band, p.patients
    FROM core.population AS p
    SEMI JOIN (SELECT DISTINCT period, practice_code FROM staging.referrals WHERE in_build(period)) AS r USING (period, practice_code)
    WHERE p.patients > 0 AND in_build(p.period)
),
-- referrals by practice, month, age band and sex, for all specialties ('') and each one
strata AS (
    SELECT period, practice_code, coalesce(treatment_function_code, '') AS tfc, sex, age_band, sum(referrals) AS referrals
    FROM staging.referrals
    WHERE sex IN ('MALE', 'FEMALE') AND in_build(period)
    GROUP BY GROUPING SETS ((period, practice_code, treatment_function_code, sex, age_band), (period, practice_code, sex, age_band))
),
observed AS (
    SELECT s.period, s.practice_code, s.tfc, s.sex, s.age_band, s.referrals
    FROM strata AS s
    SEMI JOIN pop AS p USING (period, practice_code, sex, age_band)
),
england_rate AS (
    SELECT o.period, o.tfc, o.sex, o.age_band, sum(o.referrals) / any_value(e.patients) AS rate
    FROM observed AS o
    JOIN (SELECT period, sex, age_band, sum(patients) AS patients FROM pop GROUP BY ALL) AS e
        USING (period, sex, age_band)
    GROUP BY o.period, o.tfc, o.sex, o.age_band
),
expected AS (
    SELECT p.period, p.practice_code, e.tfc, exact_sum(p.patients * e.rate) AS expected
    FROM pop AS p
    JOIN england_rate AS e USING (period, sex, age_band)
    GROUP BY p.period, p.practice_code, e.tfc
),
obs AS (
    SELECT period, practice_code, tfc, sum(referrals) AS observed FROM observed GROUP BY ALL
),
isr AS (
    SELECT CASE WHEN x.tfc = '' THEN 'ref_isr' ELSE 'ref_isr_' || x.tfc END AS indicator_id,
        x.period, x.practice_code, coalesce(o.observed, 0) AS numerator, x.expected AS denominator
    FROM expected AS x
    LEFT JOIN obs AS o USING (period, practice_code, tfc)
    WHERE x.expected > 0
)
SELECT indicator_id, period, practice_code, CAST(numerator AS DOUBLE) AS numerator, CAST(denominator AS DOUBLE) AS denominator
FROM (SELECT * FROM rates UNION ALL SELECT * FROM isr)
