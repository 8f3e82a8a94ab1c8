-- Section inequality: SII, RII and quintile gap of the pack's comparators (England, region, ICB).
SELECT m.pack_area, q.indicator_id, q.period, q.area_level, q.area_code, coalesce(q.area_name, q.area_code) AS area_name,
    q.sii, q.sii_lower, q.sii_upper, q.rii, q.rii_lower, q.rii_upper, q.q1_value, q.q5_value, q.quintile_gap, q.quintile_ratio
FROM ({{members}}) AS m
JOIN {{schema}}.inequality AS q ON q.area_level = m.area_level AND q.area_code = m.area_code
JOIN {{chosen}} AS c ON c.indicator_id = q.indicator_id AND c.period = q.period
WHERE m.role = 'comparator'
ORDER BY m.pack_area, q.indicator_id, m.level_rank, q.area_code
