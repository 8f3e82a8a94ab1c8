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
WITH private AS (
    SELECT indicator_id FROM core.indicators WHERE NOT coalesce(public, false)
),
series_values AS (
    SELECT v.indicator_id, v.area_level, v.area_code, v.area_name, v.practice_code, v.period, v.value,
        coalesce(i.polarity, 'no_judgement') AS polarity
    FROM release.indicator_values AS v
    JOIN core.indicators AS i USING (indicator_id)
    WHERE v.indicator_id IN (SELECT DISTINCT indicator_id FROM marts.trends)
      AND v.indicator_id IN (SELECT indicator_id FROM private)
      AND v.value IS NOT NULL
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
-- withheld months stay in the series as rows without numbers
SELECT v.indicator_id, v.area_level, v.area_code, v.area_name, v.practice_code, v.period,
    CAST(v.period || '-01' AS DATE) AS month,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    true, v.suppression_reason
FROM release.indicator_values AS v
WHERE v.value_suppressed
  AND v.indicator_id IN (SELECT DISTINCT indicator_id FROM marts.trends)
  AND EXISTS (SELECT 1 FROM published AS p
              WHERE p.indicator_id = v.indicator_id AND p.area_level = v.area_level AND p.area_code = v.area_code)
