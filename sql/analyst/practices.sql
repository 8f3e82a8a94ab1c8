-- materialized: view
-- description: One row per practice as at its latest period: current names, hierarchy (PCN, sub-ICB, ICB, region), status, list sizes, deprivation, and the headline figures of its latest summary (QOF achievement, payments per patient, GP FTE, referral rate), each the latest year or month of its source.

-- release.practices keeps the practice's history by period; this view keeps its latest row (which may
-- come from a mapping alone, e.g. a QOF geography for a year with no figures yet), and takes list
-- sizes from the latest summary, which has them.
SELECT
    p.practice_code,
    p.practice_name,
    p.postcode,
    p.pcn_code,
    p.pcn_name,
    p.sub_icb_code,
    p.sub_icb_name,
    p.icb_code,
    p.icb_name,
    p.region_code,
    p.region_name,
    p.status,
    p.open_date,
    p.close_date,
    p.period,
    coalesce(s.list_size, p.list_size) AS list_size,
    coalesce(s.weighted_list_size, p.weighted_list_size) AS weighted_list_size,
    p.imd_score,
    p.imd_decile,
    p.imd_quintile,
    s.period AS summary_period,
    s.qof_fy,
    s.qof_achievement_pct,
    s.payments_fy,
    s.total_payments,
    s.payments_per_weighted_patient,
    s.payments_per_registered_patient,
    s.gp_fte_per_10k,
    s.nurse_fte_per_10k,
    s.referral_rate_per_1000,
    s.twoww_rate_per_1000
FROM release.practices AS p
LEFT JOIN (
    SELECT *
    FROM release.area_summary
    WHERE area_level = 'practice'
    QUALIFY row_number() OVER (PARTITION BY area_code ORDER BY period DESC) = 1
) AS s ON s.area_code = p.practice_code
QUALIFY row_number() OVER (PARTITION BY p.practice_code ORDER BY p.period DESC) = 1
