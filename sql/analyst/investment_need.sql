-- materialized: view
-- description: Investment against need per financial year, measure (payments, GP FTE, clinical FTE), practice or area, and the area it is measured within: totals, per registered, weighted and need-weighted patient, need index, and the fair-share gap with its model interval.

-- One row per period x measure x area (practices included) x containing area (within_*):
--   measure                 payments (£, Total NHS Payments to General Practice), gp_fte, clinical_fte
--                           (GP + nurses + direct patient care; mean over the year's months)
--   actual                  the measure's total for the practice or area (the part inside within_code)
--   registered_patients, weighted_patients (Carr-Hill), need_patients (need-weighted patients)
--   per_registered_patient, per_weighted_patient, per_need_patient
--                           £ per patient, or FTE per 10,000 patients (multiplier)
--   need_index              need-weighted patients per registered patient, England = 1
--   expected                the need-predicted share of within_code's total: total x need / total need
--   fair_share_gap          actual - expected (£ or FTE): above 0 more than the need-based share,
--                           below 0 less; the practices' gaps in any area add up to 0
--   fair_share_gap_lower/_upper  the gap when the need model's deprivation gradient runs from
--                           need_gradient_low to need_gradient_high (data/investment_settings.csv)
--   fair_share_gap_pct      fair_share_gap / expected x 100
--   fair_share              'above fair share' / 'below fair share' when the whole interval is on
--                           one side of 0, 'not compared' without a gap, else 'about its fair share'
--   need_flag               why the need index is approximate (no deprivation score)
--   in_comparisons, dq_flag false, and why, for a practice not compared (not open all year, or
--                           lists breaking data/plausibility.csv): it counts in every total and
--                           keeps its per-patient figures, but has no fair share (gap NULL,
--                           fair_share 'not compared'); the others' shares are taken without it
--   practices_compared      the row's practices that have a fair share
-- Need model: need = Carr-Hill weighted list x (1 + g x (5 - IMD quintile) / 4), g = 0.33 (Boomla
-- et al., BMJ 2014;349:g7648), rescaled to England's weighted list. See README "Investment and need".
SELECT
    period, measure, unit, multiplier,
    area_level, area_code, area_name,
    within_level, within_code, within_name,
    practices, imd_quintile,
    actual, registered_patients, weighted_patients, need_patients,
    per_registered_patient, per_weighted_patient, per_need_patient, need_index,
    expected, fair_share_gap, fair_share_gap_lower, fair_share_gap_upper, fair_share_gap_pct,
    CASE WHEN area_level = 'england' THEN NULL
         WHEN NOT in_comparisons OR fair_share_gap IS NULL THEN 'not compared'
         WHEN fair_share_gap_lower > 0 THEN 'above fair share'
         WHEN fair_share_gap_upper < 0 THEN 'below fair share'
         ELSE 'about its fair share' END AS fair_share,
    need_flag, in_comparisons, dq_flag, practices_compared
FROM release.investment_need
