-- description: The ICB and region of every sub-ICB location (or CCG, in earlier years) in every period it appears in, and where that came from: the period's own mapping files (QOF geography, practice map, workforce), else the ODS sub-ICB file's parent (eccg: health geography = ICB, national grouping = region), else the nearest period's mapping. Each ICB has one region per period (the one most of its sub-ICBs give).
-- unique: sub_icb_code, period
-- not_null: sub_icb_code, period, icb_code, region_code, parent_from
WITH mapped AS (
    -- every mapping row a vote: n is how many rows of the source give these parents
    SELECT sub_icb_code, period, icb_code, region_code, 1 AS n FROM staging.qof_geography
    UNION ALL SELECT sub_icb_code, period, icb_code, region_code, 1 FROM staging.practice_map
    UNION ALL SELECT sub_icb_code, fy, icb_code, region_code, 1 FROM staging.practice_map
        WHERE fy IN (SELECT period FROM core.periods) -- a year some annual source covers (core.hierarchy)
    UNION ALL SELECT sub_icb_code, period, icb_code, region_code, workforce_rows FROM core.workforce_mapping
),
votes AS (
    SELECT sub_icb_code, period, icb_code, region_code, sum(n) AS n
    FROM mapped
    WHERE sub_icb_code IS NOT NULL AND icb_code IS NOT NULL AND region_code IS NOT NULL
    GROUP BY ALL
),
same_period AS (
    -- the ICB and the region most mapping rows give, a tie to the smallest code
    SELECT sub_icb_code, period, i.icb_code, r.region_code
    FROM (SELECT sub_icb_code, period, first(icb_code ORDER BY n DESC, icb_code) AS icb_code
          FROM (SELECT sub_icb_code, period, icb_code, sum(n) AS n FROM votes GROUP BY ALL) GROUP BY ALL) AS i
    JOIN (SELECT sub_icb_code, period, first(region_code ORDER BY n DESC, region_code) AS region_code
          FROM (SELECT sub_icb_code, period, region_code, sum(n) AS n FROM votes GROUP BY ALL) GROUP BY ALL) AS r
        USING (sub_icb_code, period)
),
ods AS (
    SELECT sub_icb_code, arg_max(icb_code, period) AS icb_code, arg_max(region_code, period) AS region_code
    FROM staging.ods_sub_icbs
    WHERE icb_code IS NOT NULL AND region_code IS NOT NULL
    GROUP BY 1
),
nearest AS (
    SELECT sub_icb_code, arg_max(icb_code, period_end(period)) AS icb_code, arg_max(region_code, period_end(period)) AS region_code
    FROM same_period GROUP BY 1
),
subs AS (
    -- every sub-ICB code any source names in a period
    SELECT DISTINCT sub_icb_code, period FROM (
        SELECT sub_icb_code, period FROM mapped
        UNION ALL SELECT sub_icb_code, period FROM staging.payments
        UNION ALL SELECT sub_icb_code, period FROM staging.qof_points
        UNION ALL SELECT sub_icb_code, period FROM staging.registrations
        UNION ALL SELECT sub_icb_code, p.period FROM staging.ods_practices, (SELECT period FROM core.periods) AS p
    ) WHERE sub_icb_code IS NOT NULL
),
resolved AS (
    SELECT s.sub_icb_code, s.period,
        coalesce(sp.icb_code, o.icb_code, n.icb_code) AS icb_code,
        coalesce(sp.region_code, o.region_code, n.region_code) AS sub_region,
        CASE WHEN sp.icb_code IS NOT NULL THEN 'mapping' WHEN o.icb_code IS NOT NULL THEN 'ods_eccg'
             WHEN n.icb_code IS NOT NULL THEN 'nearest_mapping' END AS parent_from
    FROM subs AS s
    LEFT JOIN same_period AS sp USING (sub_icb_code, period)
    LEFT JOIN ods AS o USING (sub_icb_code)
    LEFT JOIN nearest AS n USING (sub_icb_code)
),
icb_region AS (
    SELECT icb_code, period, most_common(sub_region) AS region_code FROM resolved WHERE icb_code IS NOT NULL GROUP BY ALL
)
SELECT r.sub_icb_code, r.period, r.icb_code, i.region_code, r.parent_from
FROM resolved AS r
JOIN icb_region AS i USING (icb_code, period)
