-- Section trends: the 24 months up to the pack's month of every SPC series of the comparators
-- and the practices.
SELECT m.pack_area, t.indicator_id, t.area_level, t.area_code, t.area_name,
    coalesce(t.practice_code, CASE WHEN t.area_level = 'practice' THEN t.area_code END) AS practice_code,
    t.period, coalesce(strftime(TRY_CAST(t.month AS DATE), '%Y-%m-%d'), t.period || '-01') AS month,
    t.value, t.mean, t.lpl, t.upl, t.near_lpl, t.near_upl, t.point_type, t.variation_icon
FROM ({{members}}) AS m
JOIN {{schema}}.trends AS t ON t.area_level = m.area_level AND t.area_code = m.area_code
WHERE m.role IN ('comparator', 'practice') AND t.period <= {{period}} AND t.period > {{trend_start}}
ORDER BY m.pack_area, t.indicator_id, m.level_rank, t.area_code, t.period
