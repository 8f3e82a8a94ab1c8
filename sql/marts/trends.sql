-- description: Monthly series with statistical process control: workforce FTE per 10,000 weighted patients, referral rates and the registered list size, per practice and area, with XmR chart limits, point types and (on each series' last point) the variation icon.
-- unique: indicator_id, area_level, area_code, period
-- not_null: indicator_id, area_level, area_code, period, month, value, point_type
-- accepted_values: area_level in ('practice', 'pcn', 'sub_icb', 'icb', 'region', 'england')
-- accepted_values: point_type in ('common_cause', 'special_cause_improvement', 'special_cause_concern', 'special_cause_neutral_high', 'special_cause_neutral_low')
-- accepted_values: variation_icon in ('common_cause', 'improvement_high', 'improvement_low', 'concern_high', 'concern_low', 'neutral_high', 'neutral_low')
--
-- spc_xmr() over each series' values in month order (NHS 'Making Data Count' XmR rules as
-- NHSRplotthedots: limits mean +/- 2.66 x mean moving range, runs, trends, two-in-three near a limit).
-- Improvement direction from the indicator's polarity (neutral without one). 'list_size' (registered
-- patients) is a series here, not a catalogue indicator.
WITH series_values AS (
    SELECT v.indicator_id, v.area_level, v.area_code, v.area_name, v.practice_code, v.period, v.value,
        coalesce(i.polarity, 'no_judgement') AS polarity
    FROM marts.indicator_values AS v
    JOIN core.indicators AS i USING (indicator_id)
    WHERE v.indicator_id IN ('wf_gp_fte_per_10k', 'wf_nurse_fte_per_10k', 'wf_dpc_fte_per_10k', 'wf_admin_fte_per_10k',
                             'ref_rate_per_1000', 'ref_2ww_rate_per_1000')
      AND v.value IS NOT NULL
    UNION ALL
    SELECT 'list_size',
        CASE WHEN grouping(practice_code) = 0 THEN 'practice' WHEN grouping(pcn_code) = 0 THEN 'pcn' WHEN grouping(sub_icb_code) = 0 THEN 'sub_icb'
             WHEN grouping(icb_code) = 0 THEN 'icb' WHEN grouping(region_code) = 0 THEN 'region' ELSE 'england' END,
        coalesce(practice_code, pcn_code, sub_icb_code, icb_code, region_code, 'E92000001'),
        CASE WHEN grouping(practice_code) = 0 THEN any_value(practice_name) WHEN grouping(pcn_code) = 0 THEN min(pcn_name)
             WHEN grouping(sub_icb_code) = 0 THEN min(sub_icb_name) WHEN grouping(icb_code) = 0 THEN min(icb_name)
             WHEN grouping(region_code) = 0 THEN min(region_name) ELSE 'England' END,
        practice_code,
        period,
        CAST(sum(list_size) AS DOUBLE),
        'no_judgement'
    FROM core.practices
    WHERE NOT is_annual AND list_size IS NOT NULL
    GROUP BY GROUPING SETS ((period, practice_code), (period, pcn_code), (period, sub_icb_code), (period, icb_code),
        (period, region_code), (period))
    HAVING coalesce(practice_code, pcn_code, sub_icb_code, icb_code, region_code, '') <> ''
        OR grouping(region_code) = 1 AND grouping(icb_code) = 1 AND grouping(sub_icb_code) = 1 AND grouping(pcn_code) = 1 AND grouping(practice_code) = 1
),
s AS (
    SELECT indicator_id, area_level, area_code,
        any_value(area_name) AS area_name, any_value(practice_code) AS practice_code,
        CASE any_value(polarity) WHEN 'higher_is_better' THEN 'increase' WHEN 'lower_is_better' THEN 'decrease' ELSE 'neutral' END AS improvement,
        -- sorted after aggregating: an ordered aggregate (list(... ORDER BY period)) costs three
        -- times as much at England scale (3.1 s against 1.1 s for the 1.4 M points)
        list_sort(list({'period': period, 'value': value})) AS pts
    FROM series_values
    GROUP BY indicator_id, area_level, area_code
),
x AS (
    SELECT indicator_id, area_level, area_code, area_name, practice_code, improvement,
        pts[-1].period AS last_period,
        unnest(list_transform(pts, e -> e.period)) AS period,
        unnest(spc_xmr(list_transform(pts, e -> e.value), improvement)) AS p
    FROM s
    -- An XmR chart needs at least two points (one moving range): a practice
    -- open for a single month has no chart yet.
    WHERE len(pts) >= 2
)
SELECT
    indicator_id, area_level, area_code, area_name, practice_code, period,
    CAST(period || '-01' AS DATE) AS month,
    p.value AS value, p.mean AS mean, p.lpl AS lpl, p.upl AS upl, p.near_lpl AS near_lpl, p.near_upl AS near_upl,
    p.point_type AS point_type,
    CASE WHEN period = last_period THEN
        CASE p.point_type
            WHEN 'special_cause_improvement' THEN CASE WHEN improvement = 'decrease' THEN 'improvement_low' ELSE 'improvement_high' END
            WHEN 'special_cause_concern' THEN CASE WHEN improvement = 'decrease' THEN 'concern_high' ELSE 'concern_low' END
            WHEN 'special_cause_neutral_high' THEN 'neutral_high'
            WHEN 'special_cause_neutral_low' THEN 'neutral_low'
            ELSE 'common_cause'
        END
    END AS variation_icon
FROM x
