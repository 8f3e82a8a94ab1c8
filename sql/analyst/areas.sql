-- materialized: view
-- description: One row per area (PCN, sub-ICB, ICB, region, England; practices too) as at its latest period, with its parent and the headline figures of its latest summary.

SELECT
    a.area_level,
    a.area_code,
    a.area_name,
    a.parent_level,
    a.parent_code,
    pa.area_name AS parent_name,
    a.period,
    s.period AS summary_period,
    s.practices,
    s.list_size,
    s.weighted_list_size,
    s.imd_score,
    s.qof_fy,
    s.qof_achievement_pct,
    s.qof_points_per_practice,
    s.payments_fy,
    s.total_payments,
    s.payments_per_weighted_patient,
    s.payments_per_registered_patient,
    s.gp_fte_per_10k,
    s.nurse_fte_per_10k,
    s.dpc_fte_per_10k,
    s.admin_fte_per_10k,
    s.referrals,
    s.referral_rate_per_1000,
    s.twoww_rate_per_1000
FROM release.areas AS a
LEFT JOIN release.areas AS pa
    ON pa.area_level = a.parent_level AND pa.area_code = a.parent_code AND pa.period = a.period
LEFT JOIN (
    SELECT *
    FROM release.area_summary
    QUALIFY row_number() OVER (PARTITION BY area_level, area_code ORDER BY period DESC) = 1
) AS s ON s.area_level = a.area_level AND s.area_code = a.area_code
QUALIFY row_number() OVER (PARTITION BY a.area_level, a.area_code ORDER BY a.period DESC) = 1
