-- How does investment per weighted patient compare with England?
-- Total NHS payments per weighted patient for each ICB and sub-ICB in the latest financial
-- year, against England: the difference in £ and the ratio. Weighting (the Carr-Hill
-- formula) adjusts the list for need, so this compares like with like better than per
-- registered patient, which is shown alongside.
WITH latest AS (
    SELECT max(period) AS period FROM analyst.investment WHERE component = 'total'
)
SELECT
    i.area_level,
    i.area_code,
    i.area_name,
    i.period,
    round(i.payments) AS payments,
    round(i.weighted_patients) AS weighted_patients,
    round(i.per_weighted_patient, 2) AS per_weighted_patient,
    round(i.england_per_weighted_patient, 2) AS england_per_weighted_patient,
    round(i.per_weighted_patient - i.england_per_weighted_patient, 2) AS difference,
    round(i.ratio_to_england_weighted, 3) AS ratio_to_england,
    round(i.per_registered_patient, 2) AS per_registered_patient
FROM analyst.investment AS i
JOIN latest USING (period)
WHERE i.component = 'total'
  AND i.area_level IN ('icb', 'sub_icb')
ORDER BY i.area_level, i.ratio_to_england_weighted;
