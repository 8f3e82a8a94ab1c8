-- materialized: view
-- description: Indicator values, long: one row per indicator x period x area (practices, PCNs, sub-ICBs, ICBs, regions, England), with 95% and 99.8% limits, England/ICB/sub-ICB comparators, comparison label, funnel-plot significance (plain and overdispersion-adjusted) and limits, deprivation decile, similar-practice (marts.peers) mean, best quartile and opportunity, and data-quality flag. core.indicator_values (methods described there) with each area's current name.
--
-- The name is joined here, not stored with the numbers: a month that renames an area (most
-- months, on real ePCN data) then changes no earlier period's rows, and the incremental build
-- leaves them alone. area_name: the current name (core.current_names), else the code.
SELECT v.indicator_id, v.period, v.area_level, v.area_code,
    coalesce(n.area_name, v.area_code) AS area_name,
    v.* EXCLUDE (indicator_id, period, area_level, area_code)
FROM core.indicator_values AS v
LEFT JOIN core.current_names AS n ON n.area_level = v.area_level AND n.area_code = v.area_code
