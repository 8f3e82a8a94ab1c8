-- materialized: view
-- description: Monthly series with statistical process control (XmR) limits and special-cause flags, named and with the indicator's polarity; one row per indicator x area x month.

--   special_cause       the point is a special cause of any kind
--   is_latest           the series' last month (where variation_icon is set)
--   months_in_series    points in the series
SELECT
    t.indicator_id,
    i.name AS indicator_name,
    i.unit,
    i.polarity,
    t.area_level,
    t.area_code,
    t.area_name,
    t.practice_code,
    t.period,
    t.month,
    t.value,
    t.mean,
    t.lpl,
    t.upl,
    t.near_lpl,
    t.near_upl,
    t.point_type,
    t.point_type LIKE 'special\_cause%' ESCAPE '\' AS special_cause,
    t.variation_icon,
    t.month = max(t.month) OVER series AS is_latest,
    count(*) OVER series AS months_in_series
FROM release.trends AS t
LEFT JOIN release.indicators AS i USING (indicator_id)
WINDOW series AS (PARTITION BY t.indicator_id, t.area_level, t.area_code)
