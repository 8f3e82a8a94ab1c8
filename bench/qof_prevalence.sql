-- The QOF 2022-23 prevalence analysis, as an analyst would write it in `gplens sql`
-- (bench/qof_prevalence.py is the same analysis in pandas; scripts/bench-qof.sh times both and
-- bench/qof_prevalence_test.go checks they agree row by row). Run from the repository root:
--
--   gplens sql -f bench/qof_prevalence.sql --format csv --out practices.csv
--
-- Inputs (../shared/data/real, see its SOURCES.md): QOF 2022-23 practice prevalence (registers and
-- list sizes), the practice -> ICB mapping, and OHID Fingertips' practice IMD 2019 scores.
-- For every practice and QOF register: prevalence with 95% and 99.8% Wilson intervals, the
-- comparison with England, the funnel-plot label around England's prevalence and the PHE decile;
-- ICB totals with the same intervals and comparison; and across national practice deprivation
-- deciles the slope and relative index of inequality (SII, RII). Rows whose register exceeds the
-- list size (one in the 2022-23 file: Y05750 LD) are left out: a prevalence above 1 has no
-- Wilson interval.
-- Printed: England, ICBs, SII (CSV blocks on standard output); --out takes the practices.

-- The practice rows are read once and kept (three results use them); the rest are views, computed
-- once each when printed.
CREATE OR REPLACE TEMP TABLE prev AS
SELECT p.practice_code, p.group_code, p.register, p.list_size, m.icb_code
FROM read_csv('../shared/data/real/qof/2022-23/PREVALENCE_2223.csv', header = true,
        columns = {'practice_code': 'VARCHAR', 'group_code': 'VARCHAR', 'register': 'DOUBLE',
                   'list_type': 'VARCHAR', 'list_size': 'DOUBLE'}) AS p
JOIN (SELECT PRACTICE_CODE AS practice_code, ICB_ODS_CODE AS icb_code, ICB_NAME AS icb_name
      FROM read_csv('../shared/data/real/qof/2022-23/MAPPING_NHS_GEOGRAPHIES_2223.csv', header = true, all_varchar = true)) AS m
    USING (practice_code)
WHERE p.list_size > 0 AND p.register <= p.list_size;

CREATE OR REPLACE TEMP VIEW england AS
SELECT group_code, count(*) AS practices, sum(register) AS register, sum(list_size) AS list_size,
    sum(register) / sum(list_size) AS prevalence
FROM prev GROUP BY group_code;

CREATE OR REPLACE TEMP VIEW practices AS
WITH w AS (
    SELECT p.*, p.register / p.list_size AS prevalence,
        wilson_lower(p.register, p.list_size) AS lower95, wilson_upper(p.register, p.list_size) AS upper95,
        wilson_lower(p.register, p.list_size, 99.8) AS lower998, wilson_upper(p.register, p.list_size, 99.8) AS upper998,
        e.prevalence AS england
    FROM prev AS p JOIN england AS e USING (group_code)
)
SELECT practice_code, group_code, icb_code, register, list_size, prevalence, lower95, upper95, lower998, upper998,
    england,
    compare_label(england, lower95, upper95, lower998, upper998) AS vs_england,
    funnel_significance(register, list_size, england) AS funnel,
    -- PHE's quantile rule (METRICS.md "Ranks and peers"): deciles of prevalence within each register
    greatest(1, floor(11 - ceil((count(*) OVER g + 1 - rank() OVER (g ORDER BY prevalence))
        / (count(*) OVER g / 10))))::INTEGER AS decile
FROM w
WINDOW g AS (PARTITION BY group_code);

CREATE OR REPLACE TEMP VIEW icbs AS
WITH t AS (
    SELECT icb_code, group_code, count(*) AS practices, sum(register) AS register, sum(list_size) AS list_size
    FROM prev GROUP BY ALL
), names AS (
    SELECT DISTINCT ICB_ODS_CODE AS icb_code, ICB_NAME AS icb_name
    FROM read_csv('../shared/data/real/qof/2022-23/MAPPING_NHS_GEOGRAPHIES_2223.csv', header = true, all_varchar = true)
), w AS (
    SELECT t.*, t.register / t.list_size AS prevalence,
        wilson_lower(t.register, t.list_size) AS lower95, wilson_upper(t.register, t.list_size) AS upper95,
        wilson_lower(t.register, t.list_size, 99.8) AS lower998, wilson_upper(t.register, t.list_size, 99.8) AS upper998,
        e.prevalence AS england
    FROM t JOIN england AS e USING (group_code)
)
SELECT icb_code, icb_name, group_code, practices, register, list_size, prevalence, lower95, upper95, lower998, upper998,
    england, compare_label(england, lower95, upper95, lower998, upper998) AS vs_england
FROM w JOIN names USING (icb_code);

-- Practices' national IMD 2019 deciles (decile 1 = most deprived: PHE's rule ranking the score
-- descending), then per register the pooled prevalence of each decile and the SII across them
-- (percentage points from most to least deprived, 100,000 simulations as PHE, seeded).
CREATE OR REPLACE TEMP VIEW sii_by_group AS
WITH imd AS (
    SELECT "Area Code" AS practice_code, max("Value"::DOUBLE) AS score
    FROM read_csv('../shared/data/real/deprivation/indicator-data.csv', header = true, all_varchar = true)
    WHERE "Area Type" = 'GP' AND "Value" <> ''
    GROUP BY ALL
), scored AS (
    SELECT DISTINCT practice_code, i.score
    FROM prev JOIN imd AS i USING (practice_code)
), deciles AS (
    SELECT practice_code,
        greatest(1, floor(11 - ceil((count(*) OVER () + 1 - rank() OVER (ORDER BY score DESC))
            / (count(*) OVER () / 10))))::INTEGER AS imd_decile
    FROM scored
), d AS (
    SELECT p.group_code, d.imd_decile, sum(p.register) AS register, sum(p.list_size) AS list_size
    FROM prev AS p JOIN deciles AS d USING (practice_code)
    GROUP BY ALL
), v AS (
    SELECT *, register / list_size AS value, wilson_lower(register, list_size) AS lower95,
        wilson_upper(register, list_size) AS upper95
    FROM d
), s AS (
    SELECT group_code, sii(list(value ORDER BY imd_decile), list(list_size ORDER BY imd_decile),
            list(lower95 ORDER BY imd_decile), list(upper95 ORDER BY imd_decile), 2, 100, false, 0.95, 100000, 2223) AS r
    FROM v GROUP BY group_code
)
SELECT group_code, r.sii, r.sii_lower, r.sii_upper, r.rii, r.rii_lower, r.rii_upper, r.intercept
FROM s;

SELECT group_code, practices, register, list_size, prevalence FROM england ORDER BY group_code;
SELECT * FROM icbs ORDER BY icb_code, group_code;
SELECT * FROM sii_by_group ORDER BY group_code;
SELECT * FROM practices ORDER BY practice_code, group_code;
