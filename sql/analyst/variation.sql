-- materialized: view
-- description: Indicator values for every area and period with the indicator's name, unit and polarity, intervals, England/ICB/sub-ICB comparators, funnel-plot outlier flags and a plain-words judgement; one row per indicator x period x area (practices included).

-- Columns beyond release.indicator_values:
--   indicator_name, domain, statistic, unit, polarity, public (false: disclosure control applies)
--   difference_from_england   value - england_value
--   outlier_99_8, outlier_99_8_od   outside the 99.8% funnel limits (plain / overdispersion-adjusted)
--   judgement_od   'better' / 'worse' for an overdispersion-adjusted 99.8% outlier where the
--                  indicator has a polarity, 'higher' / 'lower' where it has none, else NULL
--   peer_mean      the pooled value of the practice's similar practices (release.peers)
--   opportunity    patients (or referrals) the practice would gain at its peers' rate, in the
--                  direction of improvement; opportunity_best_quartile at the best quartile of its
--                  peers (peer_best_quartile); NULL for areas, payments and FTE
SELECT
    v.indicator_id,
    i.name AS indicator_name,
    i.domain,
    i.statistic,
    i.unit,
    i.polarity,
    i.public,
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
    v.numerator,
    v.denominator,
    v.value,
    v.lower95,
    v.upper95,
    v.lower998,
    v.upper998,
    v.england_value,
    v.icb_value,
    v.sub_icb_value,
    v.value - v.england_value AS difference_from_england,
    v.comparison,
    v.funnel_significance,
    v.funnel_significance_od,
    v.funnel_lower95,
    v.funnel_upper95,
    v.funnel_lower998,
    v.funnel_upper998,
    v.funnel_significance LIKE '%(0.001)' AS outlier_99_8,
    v.funnel_significance_od LIKE '%(0.001)' AS outlier_99_8_od,
    CASE
        WHEN v.funnel_significance_od NOT LIKE '%(0.001)' OR v.funnel_significance_od IS NULL THEN NULL
        WHEN i.polarity = 'higher_is_better' THEN CASE WHEN v.funnel_significance_od LIKE 'High%' THEN 'better' ELSE 'worse' END
        WHEN i.polarity = 'lower_is_better' THEN CASE WHEN v.funnel_significance_od LIKE 'High%' THEN 'worse' ELSE 'better' END
        ELSE CASE WHEN v.funnel_significance_od LIKE 'High%' THEN 'higher' ELSE 'lower' END
    END AS judgement_od,
    v.peer_mean,
    v.opportunity,
    v.peer_best_quartile,
    v.opportunity_best_quartile,
    v.suppressed,
    v.suppression_reason,
    v.dq_flag
FROM release.indicator_values AS v
LEFT JOIN release.indicators AS i USING (indicator_id)
