-- materialized: view
-- description: NHS payments to general practice per registered and per weighted patient, by area (practices included), financial year and payment component, against England.

-- One row per area x financial year x component. The component comes from the indicator id
-- (pay_<component>_per_weighted / pay_<component>_per_registered; 'total' is every payment).
--   payments                     the component's payments in £ for the year
--   registered_patients, weighted_patients   the list sizes used as denominators
--   per_registered_patient, per_weighted_patient   £ per patient
--   england_per_*                England's figure for the same component and year
--   ratio_to_england_weighted    per_weighted_patient / england_per_weighted_patient
WITH pay AS (
    SELECT
        v.*,
        coalesce(nullif(regexp_extract(v.indicator_id, '^pay_(.+)_per_(weighted|registered)$', 1), ''),
                 regexp_replace(v.indicator_id, '^pay_', '')) AS component,
        nullif(regexp_extract(v.indicator_id, '_per_(weighted|registered)$', 1), '') AS basis
    FROM release.indicator_values AS v
    WHERE v.indicator_id LIKE 'pay\_%' ESCAPE '\'
)
SELECT
    period,
    area_level,
    area_code,
    any_value(area_name) AS area_name,
    any_value(practice_code) AS practice_code,
    any_value(pcn_code) AS pcn_code,
    any_value(sub_icb_code) AS sub_icb_code,
    any_value(icb_code) AS icb_code,
    any_value(region_code) AS region_code,
    any_value(imd_decile) AS imd_decile,
    component,
    max(numerator) AS payments,
    max(denominator) FILTER (WHERE basis = 'registered') AS registered_patients,
    max(denominator) FILTER (WHERE basis = 'weighted') AS weighted_patients,
    max(value) FILTER (WHERE basis = 'registered') AS per_registered_patient,
    max(value) FILTER (WHERE basis = 'weighted') AS per_weighted_patient,
    max(england_value) FILTER (WHERE basis = 'registered') AS england_per_registered_patient,
    max(england_value) FILTER (WHERE basis = 'weighted') AS england_per_weighted_patient,
    max(value) FILTER (WHERE basis = 'weighted')
        / nullif(max(england_value) FILTER (WHERE basis = 'weighted'), 0) AS ratio_to_england_weighted,
    bool_or(suppressed) AS suppressed
FROM pay
GROUP BY period, area_level, area_code, component
