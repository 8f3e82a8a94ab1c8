-- Section summary: the headline measures of the pack's comparators, long: one row per area and
-- measure, each the latest figure available at the pack's month, with its period. Practices and
-- list sizes are the month's; indicator measures come at the period chosen for their domain.
WITH months AS (
    SELECT area_level, area_code, area_name, period,
        CAST(practices AS DOUBLE) AS practices, CAST(list_size AS DOUBLE) AS list_size,
        CAST(weighted_list_size AS DOUBLE) AS weighted_list_size, CAST(imd_score AS DOUBLE) AS imd_score
    FROM {{schema}}.area_summary
    WHERE period = {{practice_period}}
),
base AS (
    UNPIVOT months ON practices, list_size, weighted_list_size, imd_score INTO NAME measure VALUE value
),
ind AS (
    SELECT v.area_level, v.area_code, v.area_name, v.period, v.indicator_id,
        v.numerator, v.value, v.practices,
        CASE WHEN v.numerator_suppressed OR v.value_suppressed THEN coalesce(v.suppression_reason, 'upstream') END AS withheld
    FROM {{schema}}.indicator_values AS v
    JOIN {{chosen}} AS c ON c.indicator_id = v.indicator_id AND c.period = v.period
    WHERE v.period IN {{chosen_periods}} AND v.area_level <> 'practice' AND v.indicator_id IN ('qof_points_pct', 'pay_total_per_weighted',
        'pay_total_per_registered', 'wf_gp_fte_per_10k', 'wf_nurse_fte_per_10k', 'wf_dpc_fte_per_10k',
        'wf_admin_fte_per_10k', 'ref_rate_per_1000', 'ref_2ww_rate_per_1000')
),
measures AS (
    SELECT area_level, area_code, area_name, period, NULL AS indicator_id, measure, value, CAST(NULL AS VARCHAR) AS withheld FROM base
    UNION ALL SELECT area_level, area_code, area_name, period, indicator_id, indicator_id, value, withheld FROM ind
    UNION ALL SELECT area_level, area_code, area_name, period, indicator_id, 'qof_points_per_practice',
        numerator / nullif(practices, 0), withheld FROM ind WHERE indicator_id = 'qof_points_pct'
    UNION ALL SELECT area_level, area_code, area_name, period, indicator_id, 'total_payments', numerator, withheld
        FROM ind WHERE indicator_id = 'pay_total_per_weighted'
    UNION ALL SELECT area_level, area_code, area_name, period, indicator_id, 'referrals', numerator, withheld
        FROM ind WHERE indicator_id = 'ref_rate_per_1000'
)
SELECT m.pack_area, s.area_level, s.area_code, s.area_name, s.measure, s.indicator_id, s.period, CAST(s.value AS DOUBLE) AS value, s.withheld
FROM ({{members}}) AS m
JOIN measures AS s ON s.area_level = m.area_level AND s.area_code = m.area_code
WHERE m.role = 'comparator' AND (s.value IS NOT NULL OR s.withheld IS NOT NULL)
ORDER BY m.pack_area, m.level_rank, s.area_code, s.measure
