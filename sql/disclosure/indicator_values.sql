-- description: core.indicator_values of the non-public indicators (referrals) under disclosure control, without area names (release.indicator_values, the view readers and packs use, adds them and the public indicators, which pass unchanged): a withheld count (disclosure.cells) is NULL with numerator_suppressed and value_suppressed set and suppression_reason 'primary' or 'secondary', and so is everything computed from it; every statistic published beside it is computed from published counts only.
-- incremental: period
-- batch: 4 periods of core.indicator_values
-- build_side: right
-- duckdb_memory: 80%
-- unique: indicator_id, period, area_level, area_code
-- not_null: indicator_id, period, area_level, area_code, suppressed, numerator_suppressed, value_suppressed
-- accepted_values: suppression_reason in ('primary', 'secondary')
--
-- Empty where there are no non-public indicators (the real files: no referrals). Public
-- indicators are not copied here: release.indicator_values reads them from
-- core.indicator_values with the flags false (England, 27 months: 5.4 M of 12.2 M rows, which this
-- table wrote, fingerprinted and tested again in every full build). Built four periods at a time
-- (batch, above): at memory_limit 3GB the query over all 27 England months spilled its joins and the
-- peers' lists; rebuilding this model in place on that warehouse took 75.9 s unbatched, 54.2 s in
-- batches of 6 (3.2 GB peak), 54.4 s in batches of 9 and 43.5 s in batches of 3, whose commit then
-- took 12.9 s more (the small batches' rows were written at commit rather than as they came). In a
-- full England build at 3GB, batches of 4 rather than 6: the model 38.7-44.4 -> 33.1-34.6 s, its
-- peak RSS 3.8-4.0 -> 3.6-3.8 GB (the peers' lists, which DuckDB's limit does not bound), the
-- same fingerprints.
-- DuckDB may use 80% of the build's memory_limit while this model runs (duckdb_memory, above): the
-- peers' lists sit beside its buffers. England, 60 months, full builds at 3GB: the build's peak RSS
-- had been this model's, 4,150 and 4,200 MiB (98.8 and 110.1 s); with 80%, 3,586 MiB here (79.5 s),
-- the same rows, and the build's peak 4,009 MiB (in core.indicator_rows).
-- Each join hashes its right-hand side as written (build_side, above): DuckDB's estimates put the
-- peers' figures (800,000 rows of a batch, 7 columns) above the rows they join onto (1.5 M rows,
-- 50 columns), so it hashed those wide rows instead, and scanned them again for the unmatched
-- ones. England, a batch of 6 months at memory_limit 3GB: that join 4.3 s -> 0.6 s, the batch
-- 7.4 -> 5.0 s (14.2 -> 9.6 s of CPU), peak RSS 2.9 -> 2.2 GB, the same rows.
-- For non-public ones:
--   numerator, value, lower/upper 95 and 99.8, comparison, funnel_significance, opportunity:
--     NULL ('not compared') when the count is withheld; from the rounded count where the rule rounds.
--   funnel_lower/upper -- NULL when withheld (they depend on the denominator and England only).
--   england_value, icb_value, sub_icb_value -- the published value of that area (NULL if withheld).
--   funnel_significance_od, od_phi, od_tau2 -- overdispersion re-estimated over the published rows.
--   peer_mean, peer_best_quartile -- over the similar practices (marts.peers) whose counts are
--     published; opportunity and opportunity_best_quartile from them; peer_practices counts them.
WITH base AS (
    SELECT v.*, i.statistic, i.multiplier, i.polarity, c.reason, coalesce(c.round_to, 1) AS round_to,
        CASE WHEN c.reason IS NOT NULL THEN NULL
             WHEN coalesce(c.round_to, 1) > 1 THEN round(v.numerator / c.round_to) * c.round_to
             ELSE v.numerator END AS rnum
    FROM core.indicator_values AS v
    JOIN core.indicators AS i USING (indicator_id)
    -- the refreshed periods' cells only: the join's build side is otherwise every period's
    LEFT JOIN (SELECT * FROM disclosure.cells WHERE decile = 0 AND in_build(period)) AS c
        ON c.indicator_id = v.indicator_id AND c.period = v.period AND c.area_level = v.area_level
       AND c.area_code = v.area_code
    WHERE NOT coalesce(i.public, false) AND in_build(v.period)
),
r AS (
    SELECT base.*,
        CASE WHEN rnum IS NOT NULL AND denominator > 0 THEN rnum / denominator * multiplier END AS rvalue,
        usable_den(rnum, denominator, statistic) AS ruden
    FROM base
),
bench AS (
    -- England's published value and the funnels' target, as core.indicator_rows computes them
    SELECT indicator_id, period, rvalue AS e_value, rnum IS NULL AS e_withheld,
        CASE statistic
            WHEN 'ratio' THEN 1.0
            WHEN 'proportion' THEN CASE WHEN rnum / denominator > 0 AND rnum / denominator < 1 THEN rnum / denominator END
            WHEN 'rate' THEN CASE WHEN rnum / denominator > 0 THEN rnum / denominator END
        END AS target
    FROM r
    WHERE area_level = 'england'
),
od AS (
    SELECT r.indicator_id, r.period, r.area_level,
        overdispersion(list(r.rnum), list(r.ruden), any_value(r.statistic), any_value(b.target)) AS od
    FROM r
    JOIN bench AS b USING (indicator_id, period)
    WHERE r.ruden IS NOT NULL AND b.target IS NOT NULL AND r.statistic IN ('proportion', 'rate', 'ratio') AND r.area_level <> 'england'
    GROUP BY r.indicator_id, r.period, r.area_level
    HAVING count(*) >= 10
),
peers AS (
    -- each practice's similar practices, counting only the published ones; the best quartile as
    -- quantile_cont, from the sorted values (sorted_quantile: functions/sums.sql)
    SELECT indicator_id, period, area_level, peer_of, peer_n, peer_num, peer_den,
        sorted_quantile(xs, CASE polarity WHEN 'higher_is_better' THEN 0.75 WHEN 'lower_is_better' THEN 0.25 END) AS peer_best
    FROM (
        SELECT q.indicator_id, pe.period, 'practice' AS area_level, pe.practice_code AS peer_of,
            count(*) AS peer_n, exact_sum(q.rnum) AS peer_num, exact_sum(q.denominator) AS peer_den,
            any_value(q.polarity) AS polarity, list_sort(list(q.rnum / q.denominator)) AS xs
        FROM marts.peers AS pe
        JOIN r AS q ON q.area_level = 'practice' AND q.period = pe.period AND q.area_code = pe.peer_code
        WHERE q.rnum IS NOT NULL AND q.denominator > 0 AND in_build(pe.period)
        GROUP BY q.indicator_id, pe.period, pe.practice_code
    )
),
s AS (
    SELECT r.*, b.e_value, b.e_withheld, b.target, od.od.phi AS rphi, od.od.tau2 AS rtau2,
        CASE WHEN r.round_to > 1 THEN
            CASE r.statistic
                WHEN 'proportion' THEN wilson_lower(r.rnum, r.ruden, 0.95) * r.multiplier
                WHEN 'rate' THEN rate_lower(r.rnum, r.ruden, r.multiplier, 0.95)
                WHEN 'ratio' THEN isr_lower(r.rnum, r.ruden, 0.95) * r.multiplier END
            ELSE r.lower95 END AS rl95,
        CASE WHEN r.round_to > 1 THEN
            CASE r.statistic
                WHEN 'proportion' THEN wilson_upper(r.rnum, r.ruden, 0.95) * r.multiplier
                WHEN 'rate' THEN rate_upper(r.rnum, r.ruden, r.multiplier, 0.95)
                WHEN 'ratio' THEN isr_upper(r.rnum, r.ruden, 0.95) * r.multiplier END
            ELSE r.upper95 END AS ru95,
        CASE WHEN r.round_to > 1 THEN
            CASE r.statistic
                WHEN 'proportion' THEN wilson_lower(r.rnum, r.ruden, 0.998) * r.multiplier
                WHEN 'rate' THEN rate_lower(r.rnum, r.ruden, r.multiplier, 0.998)
                WHEN 'ratio' THEN isr_lower(r.rnum, r.ruden, 0.998) * r.multiplier END
            ELSE r.lower998 END AS rl998,
        CASE WHEN r.round_to > 1 THEN
            CASE r.statistic
                WHEN 'proportion' THEN wilson_upper(r.rnum, r.ruden, 0.998) * r.multiplier
                WHEN 'rate' THEN rate_upper(r.rnum, r.ruden, r.multiplier, 0.998)
                WHEN 'ratio' THEN isr_upper(r.rnum, r.ruden, 0.998) * r.multiplier END
            ELSE r.upper998 END AS ru998,
        CASE WHEN p.peer_den > 0 THEN p.peer_num / p.peer_den * r.multiplier END AS rpeer,
        CASE WHEN r.statistic <> 'value' THEN p.peer_best * r.multiplier END AS rbest,
        p.peer_n
    FROM r
    LEFT JOIN bench AS b USING (indicator_id, period)
    LEFT JOIN od ON od.indicator_id = r.indicator_id AND od.period = r.period AND od.area_level = r.area_level
    -- equalities only: a condition on r alone (r.area_level = 'practice') turns this LEFT JOIN into a
    -- nested loop over all rows (3m45s instead of seconds on 300 practices x 12 months)
    LEFT JOIN peers AS p ON p.area_level = r.area_level AND p.indicator_id = r.indicator_id AND p.period = r.period AND p.peer_of = r.area_code
),
x AS (
    SELECT s.*,
        s.rnum IS NULL AS withheld,
        -- comparisons with England need England's published value
        s.rnum IS NULL OR s.area_level = 'england' OR coalesce(s.e_withheld, true) AS no_compare,
        CASE WHEN s.area_level <> 'england' AND s.target IS NOT NULL AND s.rnum IS NOT NULL
             THEN funnel_significance(s.rnum, s.ruden, s.target, s.statistic) END AS fs,
        CASE WHEN s.area_level <> 'england' AND s.target IS NOT NULL AND s.rnum IS NOT NULL
             THEN funnel_significance_od(s.rnum, s.ruden, s.target, s.rphi, s.rtau2, s.statistic, 'additive') END AS fso
    FROM s
),
private AS (
    SELECT
        x.indicator_id, x.period, x.area_level, x.area_code,
        x.practice_code, x.pcn_code, x.sub_icb_code, x.icb_code, x.region_code,
        CAST(x.rnum AS DOUBLE) AS numerator, x.denominator, x.rvalue AS value,
        CASE WHEN NOT withheld THEN x.rl95 END AS lower95,
        CASE WHEN NOT withheld THEN x.ru95 END AS upper95,
        CASE WHEN NOT withheld THEN x.rl998 END AS lower998,
        CASE WHEN NOT withheld THEN x.ru998 END AS upper998,
        x.e_value AS england_value,
        icb.rvalue AS icb_value,
        sub.rvalue AS sub_icb_value,
        CASE WHEN no_compare THEN 'not compared'
             WHEN x.round_to > 1 THEN compare_label(x.e_value, x.rl95, x.ru95, x.rl998, x.ru998, x.polarity)
             ELSE x.comparison END AS comparison,
        CASE WHEN NOT no_compare AND x.round_to > 1 THEN x.fs WHEN NOT no_compare THEN x.funnel_significance END AS funnel_significance,
        CASE WHEN no_compare THEN NULL
             WHEN x.fs = 'Not significant' THEN x.fs
             WHEN x.fs LIKE '%(0.025)' AND x.fso LIKE '%(0.001)' THEN x.fs
             ELSE x.fso END AS funnel_significance_od,
        CASE WHEN NOT no_compare THEN x.funnel_lower95 END AS funnel_lower95,
        CASE WHEN NOT no_compare THEN x.funnel_upper95 END AS funnel_upper95,
        CASE WHEN NOT no_compare THEN x.funnel_lower998 END AS funnel_lower998,
        CASE WHEN NOT no_compare THEN x.funnel_upper998 END AS funnel_upper998,
        x.imd_decile,
        x.rpeer AS peer_mean,
        CASE WHEN x.rnum IS NULL THEN NULL
             WHEN x.rpeer IS NOT NULL AND x.statistic <> 'value' AND x.polarity = 'higher_is_better'
                 THEN greatest(0, x.rpeer / x.multiplier * x.denominator - x.rnum)
             WHEN x.rpeer IS NOT NULL AND x.statistic <> 'value' AND x.polarity = 'lower_is_better'
                 THEN greatest(0, x.rnum - x.rpeer / x.multiplier * x.denominator)
        END AS opportunity,
        x.rbest AS peer_best_quartile,
        CASE WHEN x.rnum IS NULL THEN NULL
             WHEN x.rbest IS NOT NULL AND x.polarity = 'higher_is_better'
                 THEN greatest(0, x.rbest / x.multiplier * x.denominator - x.rnum)
             WHEN x.rbest IS NOT NULL AND x.polarity = 'lower_is_better'
                 THEN greatest(0, x.rnum - x.rbest / x.multiplier * x.denominator)
        END AS opportunity_best_quartile,
        x.reason IS NOT NULL AS suppressed,
        x.dq_flag, x.practices,
        x.rphi AS od_phi, x.rtau2 AS od_tau2,
        CAST(x.peer_n AS INTEGER) AS peer_practices,
        x.in_comparisons,
        -- robust centre and spread are for value statistics (payments, FTE), never counts
        x.robust_median, x.robust_scale,
        x.reason IS NOT NULL AS numerator_suppressed,
        x.reason IS NOT NULL AS value_suppressed,
        x.reason AS suppression_reason
    FROM x
    LEFT JOIN r AS icb ON icb.indicator_id = x.indicator_id AND icb.period = x.period AND icb.area_level = 'icb' AND icb.area_code = x.icb_code
    LEFT JOIN r AS sub ON sub.indicator_id = x.indicator_id AND sub.period = x.period AND sub.area_level = 'sub_icb' AND sub.area_code = x.sub_icb_code
)
SELECT * FROM private
