-- description: Disclosure control of every count of a non-public indicator (referrals) per period: each area's numerator (practices to England) and each deprivation-decile numerator of an ICB, region and England, with the rule that applies (data/disclosure.csv, gplens.toml) and why it is withheld (primary: a small count; secondary: so that no withheld count is a published total minus published parts). Read by the release models; never published.
-- incremental: period
-- threads: 1
-- batch: 4 periods of core.indicator_values
-- duckdb_memory: 35%
-- unique: indicator_id, period, area_level, area_code, decile
-- not_null: indicator_id, period, area_level, area_code, decile, min_count, round_to
-- accepted_values: reason in ('primary', 'secondary')
--
-- sdc_suppress() (Go, package disclosure) sees every count of one period at once (one character
-- per cell back: '.' published, 'p' primary, 's' secondary; periods decided in parallel), so relations
-- across levels, deciles and indicators are closed together; its choice of secondary cells (the
-- smallest published part, ties by indicator, level, code, decile) depends only on the counts.
-- Relations between indicators come from the catalogue: a priority or a specialty's referrals are
-- parts of all referrals (ref_rate_per_1000); a standardised ratio's observed count is the same
-- number as the matching rate's count.
-- One DuckDB thread (threads, above): that one call per batch of periods is the work, and with more
-- DuckDB's client thread may poll beside it on a core of its own. England, 2 cores, this query before
-- and after (and with cells as lines, below): 1 period 14.0 -> 11.7-12.5 s, 4 periods 36.7 -> 31.5 s,
-- 8 periods 108 -> 83 s and 5.6 -> 3.8 GB; all 27 periods of a full build 210 -> 221 s (DuckDB's
-- share then on one thread) but 8.2 -> 5.1 GB peak. That share, the query without sdc_suppress on
-- the 27 months, was 37.8 s: the period lists sorted by key (16 s; the answer does not depend on the
-- order, so they are no longer sorted) and each line split back into fields and joined to the rules
-- (13 s; each cell's columns now travel beside its line). Now 18.7 s, the same rows.
-- A full build decides four periods at a time (batch, above): all periods at once held every
-- period's list in DuckDB's memory, which the lists cannot spill, so a memory_limit of 3GB ran
-- out on England's 27 months. England, 27 months, this query at memory_limit 3GB: batches of 4
-- 175 s and 3.9 GiB peak, where all at once took 180 s and 6.3 GiB at 8GB.
-- DuckDB may use 35% of the build's memory_limit while this model runs (duckdb_memory, above):
-- sdc_suppress holds the months it decides in Go's heap (0.5-1.5 GB on England), which DuckDB's
-- limit does not count, beside the blocks DuckDB keeps cached up to its limit. England, 27 months,
-- at memory_limit 3GB: the full build's peak RSS 4.5-5.1 GB, inside this model, became 3.9 GB at
-- 50%; the model took 170 s, as before (its own DuckDB work, four months' lists, needs far less).
-- At 35% rather than 50%: this model's peak 3.70-4.17 -> 3.33-3.71 GB over three and two full
-- builds, its time 147.8-165.5 -> 147.8-166.5 s (the machine's noise), the same fingerprints.
WITH rules AS (
    SELECT scope,
        CAST(CASE WHEN scope = '*' THEN coalesce(CAST(getvariable('disclosure_min_count') AS DOUBLE), min_count) ELSE min_count END AS DOUBLE) AS min_count,
        CAST(CASE WHEN scope = '*' THEN coalesce(CAST(getvariable('disclosure_suppress_zero') AS BOOLEAN), suppress_zero) ELSE suppress_zero END AS BOOLEAN) AS suppress_zero,
        CAST(CASE WHEN scope = '*' THEN coalesce(CAST(getvariable('disclosure_secondary') AS BOOLEAN), secondary) ELSE secondary END AS BOOLEAN) AS secondary,
        CAST(greatest(1, CASE WHEN scope = '*' THEN coalesce(CAST(getvariable('disclosure_round_to') AS DOUBLE), round_to) ELSE round_to END) AS DOUBLE) AS round_to
    FROM ref.disclosure
),
ind AS (
    SELECT i.indicator_id,
        arg_min(r.min_count, CASE WHEN r.scope = i.indicator_id THEN 1 WHEN r.scope = i.domain THEN 2 ELSE 3 END) AS min_count,
        arg_min(r.suppress_zero, CASE WHEN r.scope = i.indicator_id THEN 1 WHEN r.scope = i.domain THEN 2 ELSE 3 END) AS suppress_zero,
        arg_min(r.secondary, CASE WHEN r.scope = i.indicator_id THEN 1 WHEN r.scope = i.domain THEN 2 ELSE 3 END) AS secondary,
        arg_min(r.round_to, CASE WHEN r.scope = i.indicator_id THEN 1 WHEN r.scope = i.domain THEN 2 ELSE 3 END) AS round_to,
        CASE WHEN any_value(i.statistic) = 'rate' AND (any_value(i.priority) IS NOT NULL OR any_value(i.specialty_code) IS NOT NULL)
             THEN 'ref_rate_per_1000' END AS part_of,
        CASE WHEN any_value(i.priority) IS NOT NULL THEN 'priority' WHEN any_value(i.specialty_code) IS NOT NULL THEN 'specialty' END AS family,
        CASE WHEN any_value(i.statistic) = 'ratio' AND i.indicator_id LIKE 'ref\_isr%' ESCAPE '\'
             THEN 'ref_rate_per_1000' || coalesce('_' || any_value(i.specialty_code), '') END AS same_as
    FROM core.indicators AS i
    JOIN rules AS r ON r.scope IN (i.indicator_id, i.domain, '*')
    WHERE NOT coalesce(i.public, false)
    GROUP BY i.indicator_id
),
c AS (
    SELECT v.indicator_id, v.period, v.area_level, v.area_code, 0 AS decile, v.numerator AS n,
        CASE WHEN v.area_level = 'practice' THEN v.pcn_code END AS pcn,
        CASE WHEN v.area_level = 'practice' THEN v.sub_icb_code END AS sub_icb,
        CASE WHEN v.area_level = 'practice' THEN v.icb_code END AS icb,
        CASE WHEN v.area_level = 'practice' THEN v.region_code END AS region,
        -- the decile a practice is counted in by marts.inequality_deciles
        CASE WHEN v.area_level = 'practice' AND v.imd_decile IS NOT NULL AND v.denominator > 0 THEN v.imd_decile ELSE 0 END AS imd
    FROM core.indicator_values AS v
    SEMI JOIN ind USING (indicator_id)
    WHERE in_build(v.period)
    UNION ALL
    SELECT d.indicator_id, d.period, d.area_level, d.area_code, d.imd_decile, d.numerator, NULL, NULL, NULL, NULL, 0
    FROM marts.inequality_deciles AS d
    SEMI JOIN ind USING (indicator_id)
    WHERE in_build(d.period)
),
per AS (
    -- each cell one line of tab-separated fields for sdc_suppress (disclosure/sql.go: cellFields, ''
    -- for NULL) beside the columns the table keeps, so its answer (one character a cell, in list
    -- order) is matched to the cell without parsing the line back; the list's order is whatever
    -- the aggregate meets, since the answer does not depend on it (disclosure.Suppress)
    SELECT c.period,
        list({line: concat_ws(chr(9), c.indicator_id, c.area_level, c.area_code, c.decile, coalesce(CAST(CAST(c.n AS DOUBLE) AS VARCHAR), ''),
                 coalesce(c.pcn, ''), coalesce(c.sub_icb, ''), coalesce(c.icb, ''), coalesce(c.region, ''), c.imd,
                 coalesce(i.part_of, ''), coalesce(i.family, ''), coalesce(i.same_as, ''),
                 coalesce(CAST(i.min_count AS VARCHAR), ''), coalesce(CAST(i.suppress_zero AS VARCHAR), ''), coalesce(CAST(i.secondary AS VARCHAR), '')),
              indicator_id: c.indicator_id, area_level: c.area_level, area_code: c.area_code, decile: CAST(c.decile AS INTEGER),
              n: CAST(c.n AS DOUBLE), min_count: i.min_count, suppress_zero: i.suppress_zero, secondary: i.secondary, round_to: i.round_to}) AS cells
    FROM c
    JOIN ind AS i USING (indicator_id)
    GROUP BY c.period
),
u AS (
    SELECT period, unnest(cells) AS cell,
        unnest(string_split(sdc_suppress([x.line FOR x IN cells], coalesce(CAST(getvariable('disclosure_audit') AS BOOLEAN), true)), '')) AS code
    FROM per
)
SELECT u.cell.indicator_id, u.period, u.cell.area_level, u.cell.area_code, u.cell.decile, u.cell.n,
    CASE u.code WHEN 'p' THEN 'primary' WHEN 's' THEN 'secondary' END AS reason,
    u.cell.min_count, u.cell.suppress_zero, u.cell.secondary, u.cell.round_to
FROM u
