-- description: Headline numbers per area (practices included) and month: practices, registered and weighted list size, deprivation, QOF and payments (the latest financial year ended by that month: qof_fy, payments_fy), staff FTE per 10,000 weighted patients (workforce_period), referrals and referral rates. Every figure is the latest available at the month, with its period beside it.
-- incremental: period
-- refresh_later_periods: true
-- unique: area_level, area_code, period
-- not_null: area_level, area_code, period, list_period
-- accepted_values: area_level in ('practice', 'pcn', 'sub_icb', 'icb', 'region', 'england')
-- range: qof_achievement_pct >= 0
--
-- Months: every month with monthly data, and the last month (March) of every financial year
-- with annual data (QOF, payments), the month from which that year counts as available; so a
-- pack can be built for March 2023 from QOF and payments 2022-23 with no monthly file at all.
-- The practices, list sizes and hierarchy of a month are those of core.practices for the month,
-- else for the latest financial year ended by it (list_period says which). practices counts those not
-- closed by the end of list_period. Annual figures: the latest financial year ended by the month
-- that has data. Workforce: the latest month up to the month that has workforce data. Referrals:
-- the month itself. qof_achievement_pct can pass 100 where the published points exceed the points
-- available (income-protected years, e.g. 2021-22; flagged in marts.indicator_values). imd_score of an area is the mean of its practices' scores weighted by list size.
-- Refreshed by month: every figure of a month is the latest available by it, so a change in a
-- month reaches that month and every later one, and a change in a financial year its March and
-- every later month (refresh_later_periods); in_build picks the months built.
WITH annual_periods AS (
    SELECT DISTINCT period FROM staging.qof_achievement
    UNION SELECT DISTINCT period FROM staging.qof_points
    UNION SELECT DISTINCT period FROM staging.payments
),
months AS (
    SELECT period FROM (
        SELECT period FROM core.periods WHERE period_type = 'month'
        UNION
        SELECT period_last_month(period) FROM annual_periods
    ) WHERE in_build(period)
),
dims AS (
    -- the core.practices period describing each month
    SELECT m.period,
        CASE WHEN m.period IN (SELECT period FROM core.practices) THEN m.period
             ELSE (SELECT max(f.period) FROM (SELECT DISTINCT period FROM core.practices WHERE is_annual) AS f
                   WHERE period_last_month(f.period) <= m.period) END AS list_period
    FROM months AS m
),
dim AS (
    SELECT d.period, d.list_period, p.* EXCLUDE (period)
    FROM dims AS d
    JOIN core.practices AS p ON p.period = d.list_period
),
list AS (
    SELECT period, any_value(list_period) AS list_period,
        CASE WHEN grouping(practice_code) = 0 THEN 'practice' WHEN grouping(pcn_code) = 0 THEN 'pcn' WHEN grouping(sub_icb_code) = 0 THEN 'sub_icb'
             WHEN grouping(icb_code) = 0 THEN 'icb' WHEN grouping(region_code) = 0 THEN 'region' ELSE 'england' END AS area_level,
        CASE WHEN grouping(practice_code) = 0 THEN practice_code WHEN grouping(pcn_code) = 0 THEN pcn_code WHEN grouping(sub_icb_code) = 0 THEN sub_icb_code
             WHEN grouping(icb_code) = 0 THEN icb_code WHEN grouping(region_code) = 0 THEN region_code ELSE 'E92000001' END AS area_code,
        CASE WHEN grouping(practice_code) = 0 THEN any_value(practice_name) WHEN grouping(pcn_code) = 0 THEN min(pcn_name)
             WHEN grouping(sub_icb_code) = 0 THEN min(sub_icb_name) WHEN grouping(icb_code) = 0 THEN min(icb_name)
             WHEN grouping(region_code) = 0 THEN min(region_name) ELSE 'England' END AS area_name,
        count(*) FILTER (WHERE NOT is_closed) AS practices,
        sum(list_size) AS list_size,
        exact_sum(weighted_list_size) AS weighted_list_size,
        exact_sum(CASE WHEN imd_score IS NOT NULL THEN imd_score * list_size END) / nullif(sum(list_size) FILTER (WHERE imd_score IS NOT NULL), 0) AS imd_score
    FROM dim
    GROUP BY GROUPING SETS ((period, practice_code), (period, pcn_code), (period, sub_icb_code), (period, icb_code),
        (period, region_code), (period))
),
wf_months AS (
    SELECT DISTINCT period FROM staging.workforce
),
fy_available AS (
    SELECT m.period,
        (SELECT max(a.period) FROM (SELECT DISTINCT period FROM staging.qof_achievement
                                    UNION SELECT DISTINCT period FROM staging.qof_points) AS a
         WHERE period_last_month(a.period) <= m.period) AS qof_fy,
        (SELECT max(p.period) FROM (SELECT DISTINCT period FROM staging.payments) AS p
         WHERE period_last_month(p.period) <= m.period) AS payments_fy,
        (SELECT max(w.period) FROM wf_months AS w WHERE w.period <= m.period) AS workforce_period
    FROM months AS m
),
iv AS (
    SELECT indicator_id, period, area_level, area_code, numerator, denominator, value, practices
    FROM core.indicator_values
    WHERE indicator_id IN ('qof_points_pct', 'pay_total_per_weighted', 'pay_total_per_registered',
        'wf_gp_fte_per_10k', 'wf_nurse_fte_per_10k', 'wf_dpc_fte_per_10k', 'wf_admin_fte_per_10k',
        'ref_rate_per_1000', 'ref_2ww_rate_per_1000')
)
SELECT
    l.area_level, l.area_code, l.area_name, l.period,
    CAST(l.practices AS INTEGER) AS practices,
    CAST(l.list_size AS BIGINT) AS list_size,
    CAST(l.weighted_list_size AS DOUBLE) AS weighted_list_size,
    l.list_period,
    f.qof_fy,
    qof.value AS qof_achievement_pct,
    qof.numerator / nullif(qof.practices, 0) AS qof_points_per_practice,
    f.payments_fy,
    payw.numerator AS total_payments,
    payw.value AS payments_per_weighted_patient,
    payr.value AS payments_per_registered_patient,
    gp.value AS gp_fte_per_10k,
    nurse.value AS nurse_fte_per_10k,
    dpc.value AS dpc_fte_per_10k,
    admin.value AS admin_fte_per_10k,
    CAST(ref.numerator AS BIGINT) AS referrals,
    ref.value AS referral_rate_per_1000,
    ww.value AS twoww_rate_per_1000,
    l.imd_score,
    f.workforce_period
FROM list AS l
JOIN fy_available AS f USING (period)
LEFT JOIN iv AS qof ON qof.indicator_id = 'qof_points_pct' AND qof.period = f.qof_fy AND qof.area_level = l.area_level AND qof.area_code = l.area_code
LEFT JOIN iv AS payw ON payw.indicator_id = 'pay_total_per_weighted' AND payw.period = f.payments_fy AND payw.area_level = l.area_level AND payw.area_code = l.area_code
LEFT JOIN iv AS payr ON payr.indicator_id = 'pay_total_per_registered' AND payr.period = f.payments_fy AND payr.area_level = l.area_level AND payr.area_code = l.area_code
LEFT JOIN iv AS gp ON gp.indicator_id = 'wf_gp_fte_per_10k' AND gp.period = f.workforce_period AND gp.area_level = l.area_level AND gp.area_code = l.area_code
LEFT JOIN iv AS nurse ON nurse.indicator_id = 'wf_nurse_fte_per_10k' AND nurse.period = f.workforce_period AND nurse.area_level = l.area_level AND nurse.area_code = l.area_code
LEFT JOIN iv AS dpc ON dpc.indicator_id = 'wf_dpc_fte_per_10k' AND dpc.period = f.workforce_period AND dpc.area_level = l.area_level AND dpc.area_code = l.area_code
LEFT JOIN iv AS admin ON admin.indicator_id = 'wf_admin_fte_per_10k' AND admin.period = f.workforce_period AND admin.area_level = l.area_level AND admin.area_code = l.area_code
LEFT JOIN iv AS ref ON ref.indicator_id = 'ref_rate_per_1000' AND ref.period = l.period AND ref.area_level = l.area_level AND ref.area_code = l.area_code
LEFT JOIN iv AS ww ON ww.indicator_id = 'ref_2ww_rate_per_1000' AND ww.period = l.period AND ww.area_level = l.area_level AND ww.area_code = l.area_code
WHERE l.area_code IS NOT NULL
