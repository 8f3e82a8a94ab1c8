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
WITH prac AS (
    SELECT indicator_id, period, practice_code, numerator, denominator
    FROM core.indicator_facts
    WHERE in_build(period)
),
pooled AS (
    SELECT q.indicator_id, pe.period, pe.practice_code,
        count(*) AS peer_practices, exact_sum(q.numerator) / nullif(exact_sum(q.denominator), 0) AS peer_rate
    FROM marts.peers AS pe
    JOIN prac AS q ON q.period = pe.period AND q.practice_code = pe.peer_code
    WHERE q.denominator > 0 AND in_build(pe.period)
    GROUP BY q.indicator_id, pe.period, pe.practice_code
),
judged AS (
    -- the best quartile only where there is a better direction (fewer, heavier groups)
    SELECT indicator_id, period, practice_code,
        sorted_quantile(xs, CASE polarity WHEN 'higher_is_better' THEN 0.75 WHEN 'lower_is_better' THEN 0.25 END) AS best_rate
    FROM (
        SELECT q.indicator_id, pe.period, pe.practice_code, any_value(i.polarity) AS polarity,
            list_sort(list(q.numerator / q.denominator) FILTER (WHERE q.numerator IS NOT NULL)) AS xs
        FROM marts.peers AS pe
        JOIN prac AS q ON q.period = pe.period AND q.practice_code = pe.peer_code
        JOIN core.indicators AS i ON i.indicator_id = q.indicator_id
        WHERE q.denominator > 0 AND in_build(pe.period) AND i.statistic <> 'value' AND i.polarity IN ('higher_is_better', 'lower_is_better')
        GROUP BY q.indicator_id, pe.period, pe.practice_code
    )
)
SELECT
    a.indicator_id, a.period, a.practice_code,
    CAST(a.peer_practices AS INTEGER) AS peer_practices,
    a.peer_rate * i.multiplier AS peer_value,
    j.best_rate * i.multiplier AS peer_best_quartile,
    CASE WHEN i.statistic = 'value' THEN NULL
         WHEN i.polarity = 'higher_is_better' THEN greatest(0, a.peer_rate * p.denominator - p.numerator)
         WHEN i.polarity = 'lower_is_better' THEN greatest(0, p.numerator - a.peer_rate * p.denominator) END AS opportunity,
    CASE WHEN i.statistic = 'value' THEN NULL
         WHEN i.polarity = 'higher_is_better' THEN greatest(0, j.best_rate * p.denominator - p.numerator)
         WHEN i.polarity = 'lower_is_better' THEN greatest(0, p.numerator - j.best_rate * p.denominator) END AS opportunity_best_quartile
FROM pooled AS a
JOIN core.indicators AS i USING (indicator_id)
JOIN prac AS p USING (indicator_id, period, practice_code)
LEFT JOIN judged AS j USING (indicator_id, period, practice_code)
