-- Section indicator_values: every indicator value the pack shows, at the period chosen for the
-- pack's month (one period per domain, so no section mixes years), for the comparators, the areas
-- inside the pack's area and its practices. Ordered top-down within each indicator.
SELECT m.pack_area, v.indicator_id, v.period, v.area_level, v.area_code, v.area_name,
    coalesce(v.practice_code, CASE WHEN v.area_level = 'practice' THEN v.area_code END) AS practice_code,
    v.pcn_code, v.sub_icb_code, v.icb_code, v.region_code,
    CAST(v.numerator AS DOUBLE) AS numerator, CAST(v.denominator AS DOUBLE) AS denominator, v.value,
    v.lower95, v.upper95, v.lower998, v.upper998, v.england_value, v.icb_value, v.sub_icb_value,
    v.comparison, v.funnel_significance, v.funnel_significance_od,
    v.funnel_lower95, v.funnel_upper95, v.funnel_lower998, v.funnel_upper998,
    CAST(v.imd_decile AS INTEGER) AS imd_decile, v.peer_mean, v.opportunity, v.dq_flag,
    -- why the row's counts and statistics are withheld (release flags; upstream: the models)
    CASE WHEN v.numerator_suppressed OR v.value_suppressed THEN coalesce(v.suppression_reason, 'upstream')
         WHEN coalesce(v.suppressed, false) THEN 'upstream' END AS withheld
FROM ({{members}}) AS m
-- the columns used, named (DuckDB otherwise reads every column of the big table), and only the
-- chosen periods' rows (row groups holding other periods alone, as a month's build appends them, are skipped)
JOIN (SELECT indicator_id, period, area_level, area_code, area_name, practice_code, pcn_code, sub_icb_code,
          icb_code, region_code, numerator, denominator, value, lower95, upper95, lower998, upper998,
          england_value, icb_value, sub_icb_value, comparison, funnel_significance, funnel_significance_od,
          funnel_lower95, funnel_upper95, funnel_lower998, funnel_upper998, imd_decile, peer_mean,
          opportunity, dq_flag, numerator_suppressed, value_suppressed, suppression_reason, suppressed
      FROM {{schema}}.indicator_values WHERE period IN {{chosen_periods}}) AS v
    ON v.area_level = m.area_level AND v.area_code = m.area_code
JOIN {{chosen}} AS c ON c.indicator_id = v.indicator_id AND c.period = v.period
ORDER BY m.pack_area, v.indicator_id, m.level_rank, v.area_code
