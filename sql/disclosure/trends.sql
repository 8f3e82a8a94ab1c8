-- description: The XmR charts of the non-public series (referral rates) under disclosure control, read by release.trends: each chart (mean, limits, point types, variation icon) computed from the published months only, and a withheld month a row with NULL value, limits and point type, value_suppressed set and its suppression_reason.
-- unique: indicator_id, area_level, area_code, period
-- not_null: indicator_id, area_level, area_code, period, month, value_suppressed
-- accepted_values: point_type in ('common_cause', 'special_cause_improvement', 'special_cause_concern', 'special_cause_neutral_high', 'special_cause_neutral_low')
-- accepted_values: suppression_reason in ('primary', 'secondary')
--
-- The chart of a non-public series is spc_xmr() over its published values in month order, as in
-- marts/trends.sql, so no mean or limit is a function of a withheld value (n x mean - published
-- values gives nothing back). Rebuilt whole (a new month moves every point's limits); the public
-- series are not copied here: release.trends reads them from marts.trends.
-- The values are disclosure.indicator_values' (the non-public indicators, as release.indicator_values
-- shows them) with each area's current name joined per series: reading the release view scanned the
-- public indicators too and named every row; a chart is named once.
WITH private AS (
    SELECT indicator_id FROM core.indicators WHERE NOT coalesce(public, false)
),
series_values AS (
    SELECT v.indicator_id, v.area_level, v.area_code, v.practice_code, v.period, v.value,
        coalesce(i.polarity, 'no_judgement') AS polarity
    FROM disclosure.indicator_values AS v
    JOIN core.indicators AS i USING (indicator_id)
    WHERE v.indicator_id IN (SELECT DISTINCT indicator_id FROM marts.trends)
      AND v.indicator_id IN (SELECT indicator_id FROM private)
      AND v.value IS NOT NULL
),
s AS (
    SELECT indicator_id, area_level, area_code, any_value(practice_code) AS practice_code,
        CASE any_value(polarity) WHEN 'higher_is_better' THEN 'increase' WHEN 'lower_is_better' THEN 'decrease' ELSE 'neutral' END AS improvement,
        -- sorted after aggregating: an ordered aggregate (list(... ORDER BY period)) costs three
        -- times as much at England scale (3.1 s against 1.1 s for the 1.4 M points)
        list_sort(list({'period': period, 'value': value})) AS pts
    FROM series_values
    GROUP BY indicator_id, area_level, area_code
),
x AS (
    SELECT s.indicator_id, s.area_level, s.area_code, coalesce(n.area_name, s.area_code) AS area_name,
        s.practice_code, s.improvement,
        pts[-1].period AS last_period,
        unnest(list_transform(pts, e -> e.period)) AS period,
        unnest(spc_xmr(list_transform(pts, e -> e.value), improvement)) AS p
    FROM s
    LEFT JOIN core.current_names AS n ON n.area_level = s.area_level AND n.area_code = s.area_code
    -- An XmR chart needs at least two points (one moving range): a practice
    -- open for a single month has no chart yet.
    WHERE len(pts) >= 2
),
published AS (
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
    END AS variation_icon,
    false AS value_suppressed,
    CAST(NULL AS VARCHAR) AS suppression_reason
FROM x
)
SELECT * FROM published
UNION ALL
-- withheld months stay in the series as rows without numbers (of the charts above: their names)
SELECT v.indicator_id, v.area_level, v.area_code, c.area_name, v.practice_code, v.period,
    CAST(v.period || '-01' AS DATE) AS month,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    true, v.suppression_reason
FROM disclosure.indicator_values AS v
JOIN (SELECT DISTINCT indicator_id, area_level, area_code, area_name FROM published) AS c
    USING (indicator_id, area_level, area_code)
WHERE v.value_suppressed
