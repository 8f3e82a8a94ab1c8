-- description: Every period in the lake: months (YYYY-MM) and financial years (YYYY-YY), with first and last day and the financial year of each month.
-- unique: period
-- not_null: period, period_type, start_date, end_date, fy
-- accepted_values: period_type in ('month', 'fy')
WITH p AS (
    SELECT period FROM staging.registrations
    UNION SELECT period FROM staging.practice_map
    UNION SELECT period FROM staging.workforce
    UNION SELECT period FROM staging.referrals
    UNION SELECT period FROM staging.qof_achievement
    UNION SELECT period FROM staging.qof_prevalence
    UNION SELECT period FROM staging.payments
)
SELECT
    period,
    CASE WHEN is_fy(period) THEN 'fy' ELSE 'month' END AS period_type,
    period_start(period) AS start_date,
    period_end(period) AS end_date,
    CASE WHEN is_fy(period) THEN period ELSE fy_of_month(period) END AS fy,
    CASE WHEN is_fy(period) THEN NULL ELSE period_start(period) END AS month
FROM p
WHERE period SIMILAR TO '[0-9]{4}-[0-9]{2}'
