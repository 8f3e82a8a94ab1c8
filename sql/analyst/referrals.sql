-- materialized: view
-- description: Referral rates and standardised ratios by area (practices included) and month, with intervals, England comparators and funnel outlier flags; referral data are under disclosure control, so suppressed rows carry no numbers.

-- The measure is 'rate' (per 1,000 patients) or 'ratio' (observed / expected, indirectly
-- standardised for age and sex; 1 = as expected). specialty_code is the treatment function
-- code for specialty-specific indicators (e.g. 330 dermatology), else NULL.
SELECT
    v.indicator_id,
    i.name AS indicator_name,
    i.statistic AS measure,
    i.unit,
    nullif(regexp_extract(v.indicator_id, '_(\d{3})$', 1), '') AS specialty_code,
    v.period,
    v.area_level,
    v.area_code,
    v.area_name,
    v.practice_code,
    v.pcn_code,
    v.sub_icb_code,
    v.icb_code,
    v.region_code,
    v.imd_decile,
    v.numerator AS referrals,
    v.denominator,
    v.value,
    v.lower95,
    v.upper95,
    v.lower998,
    v.upper998,
    v.england_value,
    v.comparison,
    v.funnel_significance,
    v.funnel_significance_od,
    v.suppressed,
    v.suppression_reason,
    v.dq_flag
FROM release.indicator_values AS v
JOIN release.indicators AS i USING (indicator_id)
WHERE i.domain = 'referrals'
