-- Section indicators: the catalogue entry of every indicator the pack shows, with the period shown.
SELECT DISTINCT m.pack_area, i.indicator_id, coalesce(i.name, i.indicator_id) AS indicator_name, i.domain, i.source,
    i.statistic, i.unit, CAST(i.multiplier AS DOUBLE) AS multiplier, coalesce(i.polarity, 'no_judgement') AS polarity,
    i.cadence, coalesce(i.public, false) AS public, c.period, i.description
FROM ({{members}}) AS m
-- only the four columns used: the DISTINCT over the joined view otherwise made DuckDB read every
-- column of the big table (1.1 GB of blocks at England scale, 9 s of CPU a level)
JOIN (SELECT indicator_id, period, area_level, area_code FROM {{schema}}.indicator_values
      WHERE period IN {{chosen_periods}}) AS v
    ON v.area_level = m.area_level AND v.area_code = m.area_code
JOIN {{chosen}} AS c ON c.indicator_id = v.indicator_id AND c.period = v.period
JOIN core.indicators AS i ON i.indicator_id = v.indicator_id
ORDER BY m.pack_area, i.indicator_id
