-- description: The practice dimension as it was in each period: one row per practice and month (hierarchy from the monthly practice map) and per practice and financial year (hierarchy from the QOF geography, else the year's last practice map, else the payments file); ODS open/close dates and status; registered and weighted list size; IMD 2019 deprivation (score, national decile and quintile, 1 = most deprived).
-- unique: practice_code, period
-- not_null: practice_code, period, status
-- accepted_values: status in ('active', 'closed', 'dormant', 'proposed')
-- range: imd_decile between 1 and 10
-- range: imd_quintile between 1 and 5
-- range: list_size >= 0
-- relationships: period -> core.periods.period
-- row_count: > 0
--
-- Deprivation: the IMD 2019 score of each LSOA weighted by the practice's registered patients
-- living there (the latest registrations-by-LSOA quarter at or before the period's last month,
-- else the earliest one), falling back to the Fingertips practice score (indicator 93553).
-- Deciles and quintiles rank the practices of each period nationally, most deprived first.
-- Weighted list size: the payments file's weighted patients for a financial year; for a month,
-- the registered list times the practice's weighted/registered ratio of that year (else its latest).
WITH map_fy AS (
    SELECT fy AS period, practice_code,
        arg_max(practice_name, period) AS practice_name, arg_max(postcode, period) AS postcode,
        arg_max(pcn_code, period) AS pcn_code, arg_max(pcn_name, period) AS pcn_name,
        arg_max(sub_icb_code, period) AS sub_icb_code, arg_max(sub_icb_name, period) AS sub_icb_name,
        arg_max(icb_code, period) AS icb_code, arg_max(icb_name, period) AS icb_name,
        arg_max(region_code, period) AS region_code, arg_max(region_name, period) AS region_name
    FROM staging.practice_map
    GROUP BY fy, practice_code
),
pay AS (
    SELECT period, practice_code,
        any_value(practice_name) AS practice_name, any_value(postcode) AS postcode,
        any_value(pcn_code) AS pcn_code, any_value(pcn_name) AS pcn_name,
        any_value(sub_icb_code) AS sub_icb_code, any_value(sub_icb_name) AS sub_icb_name,
        any_value(region_code) AS region_code, any_value(region_name) AS region_name,
        max(registered_patients) AS registered_patients,
        max(weighted_patients) AS weighted_patients
    FROM staging.payments
    GROUP BY period, practice_code
),
prev_list AS (
    SELECT period, practice_code, max(list_size) AS list_size
    FROM staging.qof_prevalence
    WHERE patient_list_type = 'TOTAL'
    GROUP BY period, practice_code
),
annual_keys AS (
    SELECT period, practice_code FROM staging.qof_geography
    UNION SELECT period, practice_code FROM staging.qof_achievement
    UNION SELECT period, practice_code FROM staging.qof_prevalence
    UNION SELECT period, practice_code FROM staging.qof_points
    UNION SELECT period, practice_code FROM pay
),
annual AS (
    SELECT
        k.period,
        k.practice_code,
        coalesce(g.practice_name, m.practice_name, pay.practice_name, qp.practice_name) AS practice_name,
        coalesce(m.postcode, pay.postcode) AS postcode,
        coalesce(g.pcn_code, m.pcn_code, pay.pcn_code, qp.pcn_code) AS pcn_code,
        coalesce(g.pcn_name, m.pcn_name, pay.pcn_name) AS pcn_name,
        coalesce(g.sub_icb_code, m.sub_icb_code, pay.sub_icb_code, qp.sub_icb_code) AS sub_icb_code,
        coalesce(g.sub_icb_name, m.sub_icb_name, pay.sub_icb_name) AS sub_icb_name,
        coalesce(g.icb_code, m.icb_code) AS icb_code,
        coalesce(g.icb_name, m.icb_name) AS icb_name,
        coalesce(g.region_code, m.region_code, pay.region_code) AS region_code,
        coalesce(g.region_name, m.region_name, pay.region_name) AS region_name,
        CAST(coalesce(pl.list_size, qp.list_size, round(pay.registered_patients)) AS BIGINT) AS list_size,
        pay.weighted_patients AS weighted_list_size
    FROM annual_keys AS k
    LEFT JOIN staging.qof_geography AS g USING (period, practice_code)
    LEFT JOIN map_fy AS m USING (period, practice_code)
    LEFT JOIN pay USING (period, practice_code)
    LEFT JOIN staging.qof_points AS qp USING (period, practice_code)
    LEFT JOIN prev_list AS pl USING (period, practice_code)
),
weight_ratio AS (
    SELECT period AS fy, practice_code, weighted_patients / registered_patients AS ratio
    FROM pay
    WHERE registered_patients > 0 AND weighted_patients > 0
),
monthly AS (
    SELECT
        coalesce(m.period, r.period) AS period,
        coalesce(m.practice_code, r.practice_code) AS practice_code,
        m.practice_name,
        coalesce(m.postcode, r.postcode) AS postcode,
        m.pcn_code, m.pcn_name,
        coalesce(m.sub_icb_code, r.sub_icb_code) AS sub_icb_code, m.sub_icb_name,
        m.icb_code, m.icb_name,
        m.region_code, m.region_name,
        r.patients AS list_size
    FROM staging.practice_map AS m
    FULL JOIN staging.registrations AS r USING (period, practice_code)
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
    SELECT r.practice_code, r.period AS lsoa_period,
        sum(r.patients * s.imd_score) / nullif(sum(r.patients), 0) AS imd_score
    FROM staging.registrations_lsoa AS r
    JOIN staging.imd_scores AS s USING (lsoa_code)
    WHERE r.patients > 0 AND s.imd_score IS NOT NULL
    GROUP BY r.practice_code, r.period
),
lsoa_first AS (
    SELECT practice_code, arg_min(imd_score, lsoa_period) AS imd_score FROM lsoa_score GROUP BY practice_code
),
fingertips_score AS (
    SELECT area_code AS practice_code, arg_max(value, period) AS imd_score
    FROM staging.fingertips
    WHERE indicator_id = 93553 AND value IS NOT NULL
    GROUP BY area_code
),
ods AS (
    SELECT practice_code,
        arg_max(practice_name, period) AS practice_name, arg_max(postcode, period) AS postcode,
        arg_max(open_date, period) AS open_date, arg_max(close_date, period) AS close_date,
        arg_max(status, period) AS status
    FROM staging.ods_practices
    GROUP BY practice_code
),
scored AS (
    SELECT
        b.*,
        coalesce(l.imd_score, lf.imd_score, ft.imd_score) AS imd_score
    FROM base AS b
    ASOF LEFT JOIN lsoa_score AS l
        ON l.practice_code = b.practice_code AND period_last_month(b.period) >= l.lsoa_period
    LEFT JOIN lsoa_first AS lf ON lf.practice_code = b.practice_code
    LEFT JOIN fingertips_score AS ft ON ft.practice_code = b.practice_code
),
ranked AS (
    SELECT period, practice_code,
        CAST(ntile(10) OVER (PARTITION BY period ORDER BY imd_score DESC, practice_code) AS INTEGER) AS imd_decile
    FROM scored
    WHERE imd_score IS NOT NULL
)
SELECT
    s.period,
    s.practice_code,
    coalesce(s.practice_name, o.practice_name) AS practice_name,
    coalesce(s.postcode, o.postcode) AS postcode,
    s.pcn_code, s.pcn_name,
    s.sub_icb_code, s.sub_icb_name,
    s.icb_code, s.icb_name,
    s.region_code, s.region_name,
    o.open_date,
    o.close_date,
    CASE
        WHEN o.close_date IS NOT NULL AND o.close_date < period_start(s.period) THEN 'closed'
        WHEN o.open_date > period_end(s.period) THEN 'proposed'
        WHEN o.status = 'dormant' THEN 'dormant'
        ELSE 'active'
    END AS status,
    CAST(s.list_size AS BIGINT) AS list_size,
    CAST(s.weighted_list_size AS DOUBLE) AS weighted_list_size,
    CAST(s.imd_score AS DOUBLE) AS imd_score,
    r.imd_decile,
    CAST((r.imd_decile + 1) // 2 AS INTEGER) AS imd_quintile,
    is_fy(s.period) AS is_annual
FROM scored AS s
LEFT JOIN ranked AS r USING (period, practice_code)
LEFT JOIN ods AS o USING (practice_code)
