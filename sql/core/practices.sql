-- description: The practice dimension as it was in each period: one row per practice and period with data (months and financial years); the hierarchy resolved from every mapping source (core.hierarchy: every practice has a sub-ICB, ICB and region); current names (core.current_names); ODS open/close dates and status; registered and weighted list size; IMD 2019 deprivation (score, national decile and quintile, 1 = most deprived); is_closed and in_comparisons.
-- unique: practice_code, period
-- not_null: practice_code, period, status, sub_icb_code, icb_code, region_code, is_closed, in_comparisons
-- accepted_values: status in ('active', 'closed', 'dormant', 'proposed')
-- range: imd_decile between 1 and 10
-- range: imd_quintile between 1 and 5
-- range: list_size >= 0
-- relationships: period -> core.periods.period
-- relationships: sub_icb_code -> core.sub_icb_parents.sub_icb_code
-- row_count: > 0
--
-- Deprivation is the IMD 2019 score of each LSOA weighted by the practice's registered patients
-- living there (the latest registrations-by-LSOA quarter at or before the period's last month;
-- for a period before the workspace's first quarter, that quarter), falling back to the Fingertips
-- practice score (indicator 93553). A practice opened after the first quarter has no LSOA score
-- until its first quarter: taking a later quarter's would restate earlier periods (their deciles,
-- and every practice's whose rank it moves) each time a quarter arrives.
-- Deciles and quintiles rank the open practices of each period nationally, most deprived first.
-- Weighted list size is the payments file's weighted patients for a financial year; for a month,
-- the registered list times the practice's weighted/registered ratio of that year (else its latest).
-- Status and dates come from the latest ODS epraccur snapshot, with the close date also taken from the
-- payments file (a later source than a dated epraccur). is_closed means closed by the end of the
-- period (so a practice that closed during a financial year is closed for that year).
-- in_comparisons is true for practices open for the whole period; closed or proposed practices keep their numbers in
-- every total but are left out of comparisons (funnels, deciles, peers, robust centres).
WITH pay AS (
    SELECT period, practice_code,
        any_value(postcode) AS postcode,
        max(registered_patients) AS registered_patients,
        max(weighted_patients) AS weighted_patients,
        max(close_date) AS close_date
    FROM staging.payments
    GROUP BY period, practice_code
),
prev_list AS (
    SELECT period, practice_code, max(list_size) AS list_size
    FROM staging.qof_prevalence
    WHERE patient_list_type = 'TOTAL'
    GROUP BY period, practice_code
),
map_fy AS (
    SELECT fy AS period, practice_code, arg_max(postcode, period) AS postcode
    FROM staging.practice_map GROUP BY fy, practice_code
),
qp AS (
    SELECT period, practice_code, max(list_size) AS list_size FROM staging.qof_points GROUP BY ALL
),
annual AS (
    SELECT
        h.period,
        h.practice_code,
        coalesce(m.postcode, pay.postcode) AS postcode,
        CAST(coalesce(pl.list_size, qp.list_size, round(pay.registered_patients)) AS BIGINT) AS list_size,
        pay.weighted_patients AS weighted_list_size
    FROM core.hierarchy AS h
    LEFT JOIN map_fy AS m USING (period, practice_code)
    LEFT JOIN pay USING (period, practice_code)
    LEFT JOIN qp USING (period, practice_code)
    LEFT JOIN prev_list AS pl USING (period, practice_code)
    WHERE is_fy(h.period)
),
weight_ratio AS (
    SELECT period AS fy, practice_code, weighted_patients / registered_patients AS ratio
    FROM pay
    WHERE registered_patients > 0 AND weighted_patients > 0
),
monthly AS (
    SELECT
        h.period,
        h.practice_code,
        coalesce(m.postcode, r.postcode) AS postcode,
        r.patients AS list_size
    FROM core.hierarchy AS h
    LEFT JOIN staging.practice_map AS m USING (period, practice_code)
    LEFT JOIN staging.registrations AS r USING (period, practice_code)
    WHERE NOT is_fy(h.period)
),
monthly_weighted AS (
    SELECT
        mo.*,
        mo.list_size * coalesce(wr.ratio, wl.ratio) AS weighted_list_size
    FROM monthly AS mo
    LEFT JOIN weight_ratio AS wr ON wr.practice_code = mo.practice_code AND wr.fy = fy_of_month(mo.period)
    LEFT JOIN (
        SELECT practice_code, arg_max(ratio, fy) AS ratio FROM weight_ratio GROUP BY practice_code
    ) AS wl ON wl.practice_code = mo.practice_code
),
base AS (
    SELECT * FROM annual
    UNION ALL BY NAME
    SELECT * FROM monthly_weighted
),
lsoa_score AS (
    SELECT practice_code, period AS lsoa_period, imd_score FROM core.lsoa_deprivation
),
lsoa_first AS (
    -- the workspace's first quarter, for the periods before it; a practice first seen in a later
    -- quarter (a new one) takes nothing from here, so a new quarter changes no earlier period
    SELECT practice_code, imd_score FROM lsoa_score
    WHERE lsoa_period = (SELECT min(lsoa_period) FROM lsoa_score)
),
fingertips_score AS (
    -- the latest time period; one export over several years puts every year in one period, and two
    -- exports may hold the same year: the key makes the choice deterministic
    SELECT area_code AS practice_code,
        arg_max(value, period || '|' || coalesce(CAST(time_period AS VARCHAR), '') || '|' || coalesce(dataset, '')) AS imd_score
    FROM staging.fingertips
    WHERE indicator_id = 93553 AND value IS NOT NULL
    GROUP BY area_code
),
ods AS (
    SELECT practice_code,
        arg_max(postcode, period) AS postcode,
        arg_max(open_date, period) AS open_date, arg_max(close_date, period) AS close_date,
        arg_max(status, period) AS status
    FROM staging.ods_practices
    GROUP BY practice_code
),
pay_close AS (
    SELECT practice_code, arg_max(close_date, period) AS close_date FROM pay GROUP BY practice_code
),
dated AS (
    SELECT
        b.*,
        o.open_date,
        coalesce(o.close_date, pc.close_date) AS close_date,
        o.status AS ods_status
    FROM base AS b
    LEFT JOIN ods AS o USING (practice_code)
    LEFT JOIN pay_close AS pc USING (practice_code)
),
scored AS (
    SELECT
        d.*,
        coalesce(l.imd_score, lf.imd_score, ft.imd_score) AS imd_score,
        coalesce(d.close_date <= period_end(d.period), false) AS is_closed,
        coalesce(d.close_date <= period_end(d.period) OR d.open_date > period_start(d.period), false) AS out_of_comparisons
    FROM dated AS d
    ASOF LEFT JOIN lsoa_score AS l
        ON l.practice_code = d.practice_code AND period_last_month(d.period) >= l.lsoa_period
    LEFT JOIN lsoa_first AS lf ON lf.practice_code = d.practice_code
    LEFT JOIN fingertips_score AS ft ON ft.practice_code = d.practice_code
),
ranked AS (
    SELECT period, practice_code,
        CAST(ntile(10) OVER (PARTITION BY period ORDER BY imd_score DESC, practice_code) AS INTEGER) AS imd_decile
    FROM scored
    WHERE imd_score IS NOT NULL AND NOT is_closed
)
SELECT
    s.period,
    s.practice_code,
    coalesce(np.area_name, s.practice_code) AS practice_name,
    coalesce(s.postcode, o.postcode) AS postcode,
    h.pcn_code, npcn.area_name AS pcn_name,
    h.sub_icb_code, coalesce(nsub.area_name, h.sub_icb_code) AS sub_icb_name,
    h.icb_code, coalesce(nicb.area_name, h.icb_code) AS icb_name,
    h.region_code, coalesce(nreg.area_name, h.region_code) AS region_name,
    s.open_date,
    s.close_date,
    CASE
        WHEN s.is_closed THEN 'closed'
        WHEN s.open_date > period_end(s.period) THEN 'proposed'
        WHEN s.ods_status = 'dormant' THEN 'dormant'
        ELSE 'active'
    END AS status,
    CAST(s.list_size AS BIGINT) AS list_size,
    CAST(s.weighted_list_size AS DOUBLE) AS weighted_list_size,
    CAST(s.imd_score AS DOUBLE) AS imd_score,
    r.imd_decile,
    CAST((r.imd_decile + 1) // 2 AS INTEGER) AS imd_quintile,
    is_fy(s.period) AS is_annual,
    s.is_closed,
    NOT s.out_of_comparisons AS in_comparisons,
    h.placed_by
FROM scored AS s
JOIN core.hierarchy AS h USING (period, practice_code)
LEFT JOIN ranked AS r USING (period, practice_code)
LEFT JOIN ods AS o USING (practice_code)
LEFT JOIN core.current_names AS np ON np.area_level = 'practice' AND np.area_code = s.practice_code
LEFT JOIN core.current_names AS npcn ON npcn.area_level = 'pcn' AND npcn.area_code = h.pcn_code
LEFT JOIN core.current_names AS nsub ON nsub.area_level = 'sub_icb' AND nsub.area_code = h.sub_icb_code
LEFT JOIN core.current_names AS nicb ON nicb.area_level = 'icb' AND nicb.area_code = h.icb_code
LEFT JOIN core.current_names AS nreg ON nreg.area_level = 'region' AND nreg.area_code = h.region_code
