-- description: Disclosure control of every count of a non-public indicator (referrals) per period: each area's numerator (practices to England) and each deprivation-decile numerator of an ICB, region and England, with the rule that applies (data/disclosure.csv, gplens.toml) and why it is withheld (primary: a small count; secondary: so that no withheld count is a published total minus published parts). Read by the release models; never published.
-- incremental: period
-- threads: 1
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
-- One DuckDB thread (threads, above) since that one call per batch of periods is the work: DuckDB's client thread would
-- poll beside it on a core of its own (8 England periods: 108 s, 5.6 GB with two threads; 83 s, 3.8 GB
-- with one, the call then on the client thread and its periods still spread over the cores).
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
    SELECT c.period,
        list({'indicator_id': c.indicator_id, 'area_level': c.area_level, 'area_code': c.area_code,
              'decile': CAST(c.decile AS BIGINT), 'n': CAST(c.n AS DOUBLE),
              'pcn': c.pcn, 'sub_icb': c.sub_icb, 'icb': c.icb, 'region': c.region, 'imd': CAST(c.imd AS BIGINT),
              'part_of': i.part_of, 'family': i.family, 'same_as': i.same_as,
              'min_count': i.min_count, 'zero': i.suppress_zero, 'secondary': i.secondary}
             ORDER BY c.indicator_id, c.area_level, c.area_code, c.decile) AS cells
    FROM c
    JOIN ind AS i USING (indicator_id)
    GROUP BY c.period
),
s AS (
    SELECT period, unnest(cells) AS cell,
        unnest(string_split(sdc_suppress(cells, coalesce(CAST(getvariable('disclosure_audit') AS BOOLEAN), true)), '')) AS code
    FROM per
)
SELECT s.cell.indicator_id AS indicator_id, s.period, s.cell.area_level AS area_level, s.cell.area_code AS area_code,
    CAST(s.cell.decile AS INTEGER) AS decile, s.cell.n AS n,
    CASE s.code WHEN 'p' THEN 'primary' WHEN 's' THEN 'secondary' END AS reason,
    i.min_count, i.suppress_zero, i.secondary, i.round_to
FROM s
JOIN ind AS i ON i.indicator_id = s.cell.indicator_id
