-- description: marts.indicator_values without area names (the view adds each area's current name), so a renamed area changes no period's rows. Indicator values, long: one row per indicator x period x area (practices, PCNs, sub-ICBs, ICBs, regions, England), with 95% and 99.8% limits, England/ICB/sub-ICB comparators, comparison label, funnel-plot significance (plain and overdispersion-adjusted) and limits, deprivation decile, similar-practice (marts.peers) mean, best quartile and opportunity, and data-quality flag.
-- incremental: period
-- batch: 12 periods of core.indicator_rows
-- duckdb_memory: 70%
-- unique: indicator_id, period, area_level, area_code
-- not_null: indicator_id, period, area_level, area_code, suppressed, in_comparisons
-- accepted_values: area_level in ('practice', 'pcn', 'sub_icb', 'icb', 'region', 'england')
-- accepted_values: comparison in ('better', 'worse', 'similar', 'higher', 'lower', 'significantly better', 'significantly worse', 'significantly higher', 'significantly lower', 'not compared')
-- accepted_values: funnel_significance in ('Low (0.001)', 'Low (0.025)', 'High (0.001)', 'High (0.025)', 'Not significant')
-- accepted_values: funnel_significance_od in ('Low (0.001)', 'Low (0.025)', 'High (0.001)', 'High (0.025)', 'Not significant')
-- range: imd_decile between 1 and 10
-- relationships: indicator_id -> core.indicators.indicator_id
-- row_count: > 0
--
-- Area rows are computed from summed practice numerators and denominators, never from averages of
-- practice rates. Limits: Wilson score for proportions, Byar's (exact below 10) for rates and for
-- standardised ratios (observed over expected); none for plain values (payments, FTE).
-- Funnel plots compare each area with England at its own denominator (proportions: the England
-- proportion; rates: the England rate; ratios: 1). The overdispersion-adjusted flag uses
-- Spiegelhalter's additive random-effects method (winsorised z at 10%/90%, phi, tau²), estimated
-- over the areas of the same level, indicator and period.
-- Funnel limits for rates and ratios use the square-root normal approximation to the Poisson
-- count at the expected count E = target x denominator, (sqrt(E) +/- z/2)^2 (poisson_funnel),
-- which is close to the exact limits and far cheaper; the significance flags use the exact/Byar
-- intervals of the observed count (funnel_significance).
-- Peers: the practice's similar practices in marts.peers (K nearest by need and context; see
-- marts.peer_comparisons). peer_mean: the peers' pooled value (their summed numerators over summed
-- denominators); opportunity: numerator units (patients, referrals) the practice would gain at its
-- peers' rate, counted only in the direction of improvement (0 when not behind; NULL without a
-- polarity and for payments and FTE); peer_best_quartile and opportunity_best_quartile: the same
-- at the best quartile of its peers' values. NULL for areas other than practices.
-- Value statistics (payments, FTE per 10,000) have no limits and no plain funnel flag; their
-- funnel_significance_od flags practices by a robust z-score ((value - median) / (1.4826 x MAD)
-- of the period's practice values) at the same 95%/99.8% thresholds.
-- Practices closed during the period or whose denominator breaks a rule of data/plausibility.csv
-- (in_comparisons false) keep their numbers in every area total but are not compared: no funnel
-- flags, comparison 'not compared', no peers, and they are left out of the robust centre and
-- spread (robust_median, robust_scale = 1.4826 x MAD, practice rows of value statistics) and of
-- the overdispersion estimate.
-- suppressed is false here: publish applies disclosure control.
-- A full build writes the table twelve periods at a time (batch, above), so a row group holds few
-- periods and a reader choosing some (the packs' sections, an analyst's WHERE period = ...) skips
-- the rest by DuckDB's zone maps. In one statement every period was spread over every row group:
-- England, 60 months, the packs' nine sections reading this table (three a level) took 34.1 s of
-- CPU alone for their two periods, 16.6-17.8 s batched; the model took as long (115.7 s in a full
-- build, against 119.4 s). The batches' rows wait in the build's transaction, so DuckDB may use 70%
-- of its memory_limit meanwhile (duckdb_memory, above): the full build's peak was 3,656 MiB.
WITH od AS (
    -- overdispersion of each level's areas around England (at least 10 usable areas); the lists in
    -- any order: overdispersion() sorts its units (England, 27 months: 17.6 -> 4.5 s of CPU)
    SELECT indicator_id AS od_indicator_id, period AS od_period, area_level AS od_area_level,
        overdispersion(list(numerator), list(uden), any_value(statistic), any_value(target)) AS od
    FROM core.indicator_rows
    WHERE uden IS NOT NULL AND target IS NOT NULL AND statistic IN ('proportion', 'rate', 'ratio') AND area_level <> 'england'
      AND in_comparisons AND in_build(period)
    GROUP BY indicator_id, period, area_level
    HAVING count(*) >= 10
),
stats AS (
    SELECT v2.*,
        od.od.phi AS od_phi, od.od.tau2 AS od_tau2,
        CASE statistic
            WHEN 'proportion' THEN wilson_lower(numerator, uden, 0.95) * multiplier
            WHEN 'rate' THEN rate_lower(numerator, uden, multiplier, 0.95)
            WHEN 'ratio' THEN isr_lower(numerator, uden, 0.95) * multiplier
        END AS lower95,
        CASE statistic
            WHEN 'proportion' THEN wilson_upper(numerator, uden, 0.95) * multiplier
            WHEN 'rate' THEN rate_upper(numerator, uden, multiplier, 0.95)
            WHEN 'ratio' THEN isr_upper(numerator, uden, 0.95) * multiplier
        END AS upper95,
        CASE statistic
            WHEN 'proportion' THEN wilson_lower(numerator, uden, 0.998) * multiplier
            WHEN 'rate' THEN rate_lower(numerator, uden, multiplier, 0.998)
            WHEN 'ratio' THEN isr_lower(numerator, uden, 0.998) * multiplier
        END AS lower998,
        CASE statistic
            WHEN 'proportion' THEN wilson_upper(numerator, uden, 0.998) * multiplier
            WHEN 'rate' THEN rate_upper(numerator, uden, multiplier, 0.998)
            WHEN 'ratio' THEN isr_upper(numerator, uden, 0.998) * multiplier
        END AS upper998,
        CASE WHEN area_level <> 'england' AND target IS NOT NULL AND in_comparisons
             THEN funnel_significance(numerator, uden, target, statistic) END AS funnel_significance,
        CASE WHEN area_level <> 'england' AND target IS NOT NULL AND in_comparisons
             THEN funnel_significance_od(numerator, uden, target, od.od.phi, od.od.tau2, statistic, 'additive') END AS funnel_significance_od,
        CASE WHEN area_level = 'england' THEN NULL WHEN statistic = 'proportion' THEN funnel_limit(target, uden, 0.95, 'lower') * multiplier
             ELSE poisson_funnel(target, uden, -1.959964) * multiplier END AS funnel_lower95,
        CASE WHEN area_level = 'england' THEN NULL WHEN statistic = 'proportion' THEN funnel_limit(target, uden, 0.95, 'upper') * multiplier
             ELSE poisson_funnel(target, uden, 1.959964) * multiplier END AS funnel_upper95,
        CASE WHEN area_level = 'england' THEN NULL WHEN statistic = 'proportion' THEN funnel_limit(target, uden, 0.998, 'lower') * multiplier
             ELSE poisson_funnel(target, uden, -3.090232) * multiplier END AS funnel_lower998,
        CASE WHEN area_level = 'england' THEN NULL WHEN statistic = 'proportion' THEN funnel_limit(target, uden, 0.998, 'upper') * multiplier
             ELSE poisson_funnel(target, uden, 3.090232) * multiplier END AS funnel_upper998
    FROM core.indicator_rows AS v2
    LEFT JOIN od ON od_indicator_id = v2.indicator_id AND od_period = v2.period AND od_area_level = v2.area_level
    WHERE in_build(v2.period)
),
robust AS (
    -- centre and scale of practice values for value statistics: median and 1.4826 x MAD
    SELECT indicator_id AS r_indicator_id, period AS r_period,
        median(value) AS r_median, 1.4826 * mad(value) AS r_scale
    FROM core.indicator_rows
    WHERE statistic = 'value' AND area_level = 'practice' AND value IS NOT NULL AND in_comparisons AND in_build(period)
    GROUP BY indicator_id, period
),
stats2 AS (
    SELECT stats.*, robust.r_median, robust.r_scale,
        CASE WHEN statistic = 'value' AND area_level = 'practice' AND value IS NOT NULL AND r_scale > 0 AND in_comparisons THEN
            CASE WHEN (value - r_median) / r_scale < -3.090232 THEN 'Low (0.001)'
                 WHEN (value - r_median) / r_scale < -1.959964 THEN 'Low (0.025)'
                 WHEN (value - r_median) / r_scale > 3.090232 THEN 'High (0.001)'
                 WHEN (value - r_median) / r_scale > 1.959964 THEN 'High (0.025)'
                 ELSE 'Not significant' END
        END AS robust_significance
    FROM stats
    LEFT JOIN robust ON r_indicator_id = stats.indicator_id AND r_period = stats.period
)
SELECT
    s.indicator_id, s.period, s.area_level, s.area_code,
    s.practice_code, s.pcn_code, s.sub_icb_code, s.icb_code, s.region_code,
    CAST(s.numerator AS DOUBLE) AS numerator, CAST(s.denominator AS DOUBLE) AS denominator, s.value,
    s.lower95, s.upper95, s.lower998, s.upper998,
    s.england_value,
    s.icb_value,
    s.sub_icb_value,
    CASE WHEN s.area_level = 'england' OR NOT s.in_comparisons THEN 'not compared'
         ELSE compare_label(s.england_value, s.lower95, s.upper95, s.lower998, s.upper998, s.polarity) END AS comparison,
    s.funnel_significance,
    CASE
        -- value statistics (payments, FTE) have no sampling model: a robust z-score instead
        WHEN s.statistic = 'value' THEN s.robust_significance
        -- the adjustment only ever widens the limits: never more extreme than the plain flag
        WHEN s.funnel_significance = 'Not significant' THEN s.funnel_significance
        WHEN s.funnel_significance LIKE '%(0.025)' AND s.funnel_significance_od LIKE '%(0.001)' THEN s.funnel_significance
        ELSE s.funnel_significance_od
    END AS funnel_significance_od,
    s.funnel_lower95, s.funnel_upper95, s.funnel_lower998, s.funnel_upper998,
    CAST(s.imd_decile AS INTEGER) AS imd_decile,
    CASE WHEN s.in_comparisons THEN p.peer_value END AS peer_mean,
    CASE WHEN s.in_comparisons THEN p.opportunity END AS opportunity,
    CASE WHEN s.in_comparisons THEN p.peer_best_quartile END AS peer_best_quartile,
    CASE WHEN s.in_comparisons THEN p.opportunity_best_quartile END AS opportunity_best_quartile,
    false AS suppressed,
    coalesce(s.dq_flag,
        CASE WHEN s.denominator IS NULL OR s.denominator <= 0 THEN 'no denominator'
             WHEN s.statistic = 'proportion' AND s.numerator > s.denominator THEN 'numerator exceeds denominator'
             WHEN s.numerator < 0 AND s.statistic <> 'value' THEN 'negative numerator' END) AS dq_flag,
    s.practices,
    s.od_phi,
    s.od_tau2,
    p.peer_practices,
    s.in_comparisons,
    s.r_median AS robust_median,
    s.r_scale AS robust_scale
FROM stats2 AS s
LEFT JOIN (SELECT *, 'practice' AS area_level FROM marts.peer_comparisons WHERE in_build(period)) AS p
    ON p.indicator_id = s.indicator_id AND p.period = s.period
   AND p.area_level = s.area_level AND p.practice_code = s.area_code
