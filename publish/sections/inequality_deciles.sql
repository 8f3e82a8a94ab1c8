-- Section inequality_deciles: values by practice deprivation decile for the pack's comparators.
SELECT m.pack_area, d.indicator_id, d.period, d.area_level, d.area_code, CAST(d.imd_decile AS INTEGER) AS imd_decile,
    CAST(d.numerator AS DOUBLE) AS numerator, CAST(d.denominator AS DOUBLE) AS denominator, d.value, d.lower95, d.upper95,
    CAST(coalesce(d.practices, 0) AS INTEGER) AS practices
FROM ({{members}}) AS m
JOIN {{schema}}.inequality_deciles AS d ON d.area_level = m.area_level AND d.area_code = m.area_code
JOIN {{chosen}} AS c ON c.indicator_id = d.indicator_id AND c.period = d.period
WHERE m.role = 'comparator' AND d.imd_decile BETWEEN 1 AND 10
ORDER BY m.pack_area, d.indicator_id, m.level_rank, d.area_code, d.imd_decile
