-- description: Practice-level referral numerators and denominators per month: referrals (total, by priority, by treatment function) over registered patients, and observed over expected referrals for the age-sex standardised ratios (total and by treatment function).
-- incremental: period
-- batch: 12 periods of staging.referrals
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
-- Referrals with no treatment function count in every total (all referrals, by priority,
-- ref_isr) and in no specialty's; they were once counted twice in ref_isr's.
-- Each sum is one pass over the referrals (grouping sets): the rates by practice, by priority and by
-- treatment function in one, the observed counts and England's rates in another. England, 27
-- months (9.1 M referral rows), the query at memory_limit 3GB: 23.4 -> 16.3 s, 3.2 -> 2.6 GB, the
-- same rows; what remains is mostly the expected counts (97 M practice x band x specialty terms).
-- A full build takes twelve months a batch (batch, above), the same rows: England, the model rebuilt
-- alone at memory_limit 3GB, 60 months 54-57 s and 3.1-3.3 GB peak all at once, 44-46 s and 1.8 GB
-- in batches; 28 months 14.9 -> 12.5 s, 2.6 -> 1.0-1.3 GB.
WITH list AS (
    SELECT period, practice_code, patients AS list_size
    FROM staging.registrations
    WHERE patients > 0 AND in_build(period)
),
rates AS (
    SELECT CASE WHEN grouping(r.priority) = 0 THEN 'ref_' || lower(r.priority) || '_rate_per_1000'
                WHEN grouping(r.treatment_function_code) = 0 THEN 'ref_rate_per_1000_' || r.treatment_function_code
                ELSE 'ref_rate_per_1000' END AS indicator_id,
        r.period, r.practice_code, sum(r.referrals) AS numerator, any_value(l.list_size) AS denominator
    FROM staging.referrals AS r
    JOIN list AS l USING (period, practice_code)
    WHERE in_build(r.period)
    GROUP BY GROUPING SETS ((r.period, r.practice_code), (r.period, r.practice_code, r.priority),
        (r.period, r.practice_code, r.treatment_function_code))
    HAVING grouping(r.treatment_function_code) = 1 OR r.treatment_function_code IS NOT NULL
),
pop AS (
    -- practices that reported referrals that month
    SELECT p.period, p.practice_code, p.sex, p.age_band, p.patients
    FROM core.population AS p
    SEMI JOIN (SELECT DISTINCT period, practice_code FROM staging.referrals WHERE in_build(period)) AS r USING (period, practice_code)
    WHERE p.patients > 0 AND in_build(p.period)
),
-- referrals of known sex in the age bands the practice has patients in: by practice (observed) and
-- by sex and age band (England's rates: national = 1), each for all treatment functions ('') and
-- for each one
sums AS (
    SELECT period, practice_code,
        CASE WHEN grouping(treatment_function_code) = 1 THEN '' ELSE treatment_function_code END AS tfc,
        sex, age_band, grouping(practice_code) AS national, sum(referrals) AS referrals
    FROM staging.referrals AS r
    SEMI JOIN pop AS p USING (period, practice_code, sex, age_band)
    WHERE r.sex IN ('MALE', 'FEMALE') AND in_build(r.period)
    GROUP BY GROUPING SETS ((period, practice_code, treatment_function_code), (period, practice_code),
        (period, treatment_function_code, sex, age_band), (period, sex, age_band))
    HAVING grouping(treatment_function_code) = 1 OR treatment_function_code IS NOT NULL
),
england_rate AS (
    SELECT s.period, s.tfc, s.sex, s.age_band, s.referrals / e.patients AS rate
    FROM sums AS s
    JOIN (SELECT period, sex, age_band, sum(patients) AS patients FROM pop GROUP BY ALL) AS e
        USING (period, sex, age_band)
    WHERE s.national = 1
),
expected AS (
    SELECT p.period, p.practice_code, e.tfc, exact_sum(p.patients * e.rate) AS expected
    FROM pop AS p
    JOIN england_rate AS e USING (period, sex, age_band)
    GROUP BY p.period, p.practice_code, e.tfc
),
isr AS (
    SELECT CASE WHEN x.tfc = '' THEN 'ref_isr' ELSE 'ref_isr_' || x.tfc END AS indicator_id,
        x.period, x.practice_code, coalesce(o.referrals, 0) AS numerator, x.expected AS denominator
    FROM expected AS x
    LEFT JOIN (SELECT * FROM sums WHERE national = 0) AS o USING (period, practice_code, tfc)
    WHERE x.expected > 0
)
SELECT indicator_id, period, practice_code, CAST(numerator AS DOUBLE) AS numerator, CAST(denominator AS DOUBLE) AS denominator
FROM (SELECT * FROM rates UNION ALL SELECT * FROM isr)
