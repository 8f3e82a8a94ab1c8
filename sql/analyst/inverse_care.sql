-- materialized: view
-- description: The inverse care law per financial year, measure (payments, GP FTE, clinical FTE) and area (England, regions, ICBs): the value per need-weighted patient in each national deprivation quintile and decile, with the area's slope index of inequality and concentration index and their 95% intervals.

-- One row per period x measure x area x group (group_type 'quintile' or 'decile'; imd_group 1 =
-- most deprived):
--   per_need_patient        £ per need-weighted patient, or FTE per 10,000 (multiplier); lower95, upper95
--   per_registered_patient, per_weighted_patient  the same per registered and Carr-Hill weighted patient
--   ratio_to_area           the group's per_need_patient over the area's
--   sii, sii_lower, sii_upper   slope index of inequality across the deciles (most to least deprived):
--                           above 0, the less deprived get more per need-weighted patient
--   concentration_index (and _lower, _upper)   above 0, concentrated among the less deprived
--   quintile_gap, quintile_ratio   most deprived quintile minus / over the least deprived
--   inverse_care            true when the SII's or the concentration index's interval is above 0
-- Trend: one set of rows per financial year in the lake.
SELECT
    g.period, g.measure, g.unit, g.multiplier,
    g.area_level, g.area_code, g.area_name,
    g.group_type, g.imd_group, g.practices,
    g.actual, g.registered_patients, g.weighted_patients, g.need_patients,
    g.per_registered_patient, g.per_weighted_patient, g.per_need_patient, g.lower95, g.upper95,
    g.ratio_to_area,
    i.sii, i.sii_lower, i.sii_upper,
    i.concentration_index, i.concentration_index_lower, i.concentration_index_upper,
    i.quintile_gap, i.quintile_ratio,
    (i.sii_lower > 0 OR i.concentration_index_lower > 0) AS inverse_care
FROM marts.inverse_care AS g
LEFT JOIN marts.inverse_care_index AS i USING (period, measure, area_level, area_code)
