-- description: GP referrals (a table: read several times downstream) per practice, month, treatment function (specialty), priority, age band and sex: the aggregated extract, plus record-level referrals counted the same way for months the aggregated extract lacks.
-- materialized: table
-- incremental: period
-- not_null: practice_code, period, priority
-- accepted_values: priority in ('ROUTINE', 'URGENT', '2WW')
-- range: referrals >= 0
SELECT
    upper(trim(practice_code)) AS practice_code,
    treatment_function_code,
    upper(priority) AS priority,
    age_band,
    upper(sex) AS sex,
    referrals,
    period
FROM lake.referrals
UNION ALL
SELECT
    upper(trim(practice_code)) AS practice_code,
    treatment_function_code,
    upper(priority) AS priority,
    CASE WHEN age IS NULL THEN 'UNKNOWN'
         WHEN age >= 95 THEN '95+'
         ELSE CAST(age // 5 * 5 AS VARCHAR) || '_' || CAST(age // 5 * 5 + 4 AS VARCHAR) END AS age_band,
    upper(sex) AS sex,
    count(*) AS referrals,
    period
FROM lake.referral_records
WHERE period NOT IN (SELECT DISTINCT period FROM lake.referrals)
GROUP BY ALL
