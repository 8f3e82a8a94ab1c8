-- description: Where each practice sat in each period: PCN, sub-ICB location, ICB and region codes, resolved from every mapping source, with the source that placed it. Every practice with data in a period gets a sub-ICB, ICB and region; ICB and region are those of its sub-ICB in that period, so practice sums nest into sub-ICB, ICB, region and England.
-- unique: practice_code, period
-- not_null: practice_code, period, sub_icb_code, icb_code, region_code, placed_by, parent_from
-- relationships: period -> core.periods.period
--
-- Sub-ICB (and PCN): the first source that places the practice in the period, in this order:
--   for months         practice map, workforce, registrations, else the month's financial year below
--   for fin. years     QOF geography, the year's last practice map, payments, QOF points table
--   and failing those  the latest ODS epraccur snapshot's commissioner (placed_by 'ods')
-- ICB and region come from the sub-ICB's parents in that period (core.sub_icb_parents), never
-- from the practice row, so a practice missing from one mapping (e.g. in the payments file but
-- not in that year's QOF geography) lands in the same ICB as the sub-ICB's other practices.
WITH cand AS (
    SELECT practice_code, period, pcn_code, sub_icb_code, 'practice_map' AS source, 1 AS prio FROM staging.practice_map
    UNION ALL
    SELECT practice_code, period, any_value(pcn_code), any_value(sub_icb_code), 'workforce', 2
    FROM core.workforce_mapping GROUP BY practice_code, period
    UNION ALL
    SELECT practice_code, period, NULL, sub_icb_code, 'registrations', 3 FROM staging.registrations
    UNION ALL
    SELECT practice_code, period, pcn_code, sub_icb_code, 'qof_geography', 1 FROM staging.qof_geography
    UNION ALL
    -- a year's mapping places practices in that year only once an annual source covers it: April's
    -- map alone must not open a financial year that no QOF or payments file holds yet
    SELECT practice_code, fy, arg_max(pcn_code, period), arg_max(sub_icb_code, period), 'practice_map', 2
    FROM staging.practice_map WHERE fy IN (SELECT period FROM core.periods) GROUP BY practice_code, fy
    UNION ALL
    SELECT practice_code, period, any_value(pcn_code), any_value(sub_icb_code), 'payments', 3
    FROM staging.payments GROUP BY practice_code, period
    UNION ALL
    SELECT practice_code, period, any_value(pcn_code), any_value(sub_icb_code), 'qof_points', 4
    FROM staging.qof_points GROUP BY practice_code, period
),
keys AS (
    -- every practice and period with data of any kind
    SELECT DISTINCT practice_code, period FROM cand
    UNION SELECT practice_code, period FROM core.qof_practices
),
own AS (
    SELECT k.practice_code, k.period,
        arg_min(c.sub_icb_code, c.prio) FILTER (WHERE c.sub_icb_code IS NOT NULL) AS sub_icb_code,
        arg_min(c.source, c.prio) FILTER (WHERE c.sub_icb_code IS NOT NULL) AS sub_icb_source,
        arg_min(c.pcn_code, c.prio) FILTER (WHERE c.pcn_code IS NOT NULL) AS pcn_code
    FROM keys AS k
    LEFT JOIN cand AS c USING (practice_code, period)
    GROUP BY k.practice_code, k.period
),
ods AS (
    SELECT practice_code, arg_max(sub_icb_code, period) AS sub_icb_code
    FROM staging.ods_practices WHERE sub_icb_code IS NOT NULL
    GROUP BY practice_code
),
placed AS (
    -- a month no source places falls back to its financial year's placement, then to ODS
    SELECT o.practice_code, o.period,
        coalesce(o.pcn_code, CASE WHEN o.sub_icb_code IS NULL OR o.sub_icb_code = y.sub_icb_code THEN y.pcn_code END) AS pcn_code,
        coalesce(o.sub_icb_code, y.sub_icb_code, ods.sub_icb_code) AS sub_icb_code,
        CASE WHEN o.sub_icb_code IS NOT NULL THEN o.sub_icb_source
             WHEN y.sub_icb_code IS NOT NULL THEN y.sub_icb_source || ' ' || y.period
             WHEN ods.sub_icb_code IS NOT NULL THEN 'ods' END AS placed_by
    FROM (SELECT *, CASE WHEN NOT is_fy(period) THEN fy_of_month(period) END AS month_fy FROM own) AS o
    LEFT JOIN own AS y ON y.practice_code = o.practice_code AND y.period = o.month_fy
    LEFT JOIN ods ON ods.practice_code = o.practice_code
)
SELECT p.practice_code, p.period,
    -- 'Unknown or no PCN' style placeholders and blanks are no PCN
    CASE WHEN p.pcn_code SIMILAR TO '[A-Z0-9]{3,8}' THEN p.pcn_code END AS pcn_code,
    p.sub_icb_code, s.icb_code, s.region_code,
    p.placed_by, s.parent_from
FROM placed AS p
LEFT JOIN core.sub_icb_parents AS s USING (sub_icb_code, period)
