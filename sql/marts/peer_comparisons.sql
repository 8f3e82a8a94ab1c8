-- description: Each practice's indicator values against its similar practices (marts.peers): the peers' pooled value, the best quartile of the peers' values and the opportunity: what the practice would gain at its peers' rate, and at the best quartile of its peers, in numerator units (patients, referrals), counted only in the direction of improvement.
-- incremental: period
-- batch: 6 periods of core.indicator_facts
-- unique: indicator_id, period, practice_code
-- not_null: indicator_id, period, practice_code, peer_practices
-- range: opportunity >= 0
-- range: opportunity_best_quartile >= 0
--
-- peer_value = sum of the peers' numerators / sum of their denominators x multiplier (peers with
-- a positive denominator for the indicator and period; the practice itself is never its own peer).
-- peer_best_quartile is the peers' 75th percentile value (quantile_cont, as sorted_quantile) where higher is better,
-- the 25th where lower is better; NULL without a polarity or for value statistics (payments, FTE).
-- opportunity = max(0, peer rate x denominator - numerator) where higher is better
-- (max(0, numerator - peer rate x denominator) where lower is better); opportunity_best_quartile
-- the same at the best-quartile rate. NULL without a polarity and for value statistics.
-- Built six periods at a time (batch, above): England's 27 months at memory_limit 3GB spilled the
-- peers' join and lists, and the model rebuilt in place took 62.6 s; in batches of six 31.4-35.1 s
-- (1.8-2.2 GB peak), of nine 35.2 s. core.indicator_values was tried the same way and ran slower
-- batched (39.3 -> 50.4 s), so it is built in one statement.
-- The peers' rows are grouped once for the pooled rate and the best quartile (they were joined
-- and grouped twice), by the indicator's number rather than its name (names of more than 12
-- characters are compared through a pointer): England, 27 months in batches of six, 26.0-27.9 s
-- -> 22.0-24.2 s of query, the same rows.
WITH ind AS (
    SELECT indicator_id, statistic, polarity, multiplier,
        CAST(row_number() OVER (ORDER BY indicator_id) AS INTEGER) AS ind_no
    FROM core.indicators
),
prac AS (
    SELECT i.ind_no, f.period, f.practice_code, f.numerator, f.denominator
    FROM core.indicator_facts AS f
    JOIN ind AS i USING (indicator_id)
    WHERE in_build(f.period)
),
pooled AS (
    -- the peers' pooled rate, and their values for the best quartile where there is a better
    -- direction
    SELECT q.ind_no, pe.period, pe.practice_code,
        count(*) AS peer_practices, exact_sum(q.numerator) / nullif(exact_sum(q.denominator), 0) AS peer_rate,
        list(q.numerator / q.denominator) FILTER (WHERE q.numerator IS NOT NULL AND i.statistic <> 'value'
            AND i.polarity IN ('higher_is_better', 'lower_is_better')) AS xs
    FROM marts.peers AS pe
    JOIN prac AS q ON q.period = pe.period AND q.practice_code = pe.peer_code
    JOIN ind AS i ON i.ind_no = q.ind_no
    WHERE q.denominator > 0 AND in_build(pe.period)
    GROUP BY q.ind_no, pe.period, pe.practice_code
),
judged AS (
    SELECT a.*, i.indicator_id, i.statistic, i.polarity, i.multiplier,
        sorted_quantile(list_sort(a.xs), CASE i.polarity WHEN 'higher_is_better' THEN 0.75 WHEN 'lower_is_better' THEN 0.25 END) AS best_rate
    FROM pooled AS a
    JOIN ind AS i USING (ind_no)
)
SELECT
    a.indicator_id, a.period, a.practice_code,
    CAST(a.peer_practices AS INTEGER) AS peer_practices,
    a.peer_rate * a.multiplier AS peer_value,
    a.best_rate * a.multiplier AS peer_best_quartile,
    CASE WHEN a.statistic = 'value' THEN NULL
         WHEN a.polarity = 'higher_is_better' THEN greatest(0, a.peer_rate * p.denominator - p.numerator)
         WHEN a.polarity = 'lower_is_better' THEN greatest(0, p.numerator - a.peer_rate * p.denominator) END AS opportunity,
    CASE WHEN a.statistic = 'value' THEN NULL
         WHEN a.polarity = 'higher_is_better' THEN greatest(0, a.best_rate * p.denominator - p.numerator)
         WHEN a.polarity = 'lower_is_better' THEN greatest(0, p.numerator - a.best_rate * p.denominator) END AS opportunity_best_quartile
FROM judged AS a
JOIN prac AS p USING (ind_no, period, practice_code)
