-- description: Practice-level numerators and denominators for every indicator in core.indicators, one row per indicator, practice and period, with the practice's hierarchy (codes), deprivation decile and list-size band for that period; the marts compute values, limits and area rows from these sums.
-- incremental: period
-- unique: indicator_id, practice_code, period
-- not_null: indicator_id, practice_code, period, numerator, denominator, in_comparisons
-- relationships: indicator_id -> core.indicators.indicator_id
-- range: denominator >= 0
-- row_count: > 0
--
-- QOF: NUMERATOR, DENOMINATOR (which excludes PCAs) and PCAS (EXCEPTIONS before 2019-20).
-- Prevalence: register / the list of its patient list type. Payments: the year's amounts over the
-- practice's registered or weighted patients; 'total' is the published Total NHS Payments to
-- General Practice. Workforce: the staff group's total FTE over the weighted list of the month
-- (the registered list, flagged, where no weighted list is known). Referrals: core.referral_facts.
WITH qof AS (
    SELECT period, practice_code, indicator_code,
        max(value) FILTER (WHERE measure = 'NUMERATOR') AS num,
        max(value) FILTER (WHERE measure = 'DENOMINATOR') AS den,
        coalesce(max(value) FILTER (WHERE measure = 'PCAS'), max(value) FILTER (WHERE measure = 'EXCEPTIONS'), 0) AS pcas
    FROM staging.qof_achievement
    WHERE measure IN ('NUMERATOR', 'DENOMINATOR', 'PCAS', 'EXCEPTIONS') AND in_build(period)
    GROUP BY period, practice_code, indicator_code
),
qof_facts AS (
    SELECT 'qof_ach_' || indicator_code AS indicator_id, period, practice_code, num AS numerator, den AS denominator, NULL AS dq_flag
    FROM qof WHERE num IS NOT NULL AND den IS NOT NULL
    UNION ALL
    SELECT 'qof_int_' || indicator_code, period, practice_code, num, den + pcas, NULL
    FROM qof WHERE num IS NOT NULL AND den IS NOT NULL
    UNION ALL
    SELECT 'qof_pca_' || indicator_code, period, practice_code, pcas, den + pcas, NULL
    FROM qof WHERE den IS NOT NULL
),
max_points AS (
    SELECT period, exact_sum(max_points) AS points FROM staging.qof_indicators GROUP BY period
),
points AS (
    SELECT coalesce(q.period, a.period) AS period, coalesce(q.practice_code, a.practice_code) AS practice_code,
        coalesce(q.achieved_points, a.achieved_points) AS achieved_points,
        q.max_points_where_register
    FROM (SELECT period, practice_code, exact_sum(achieved_points) AS achieved_points,
                 max(max_points_where_register) AS max_points_where_register
          FROM staging.qof_points WHERE achieved_points IS NOT NULL AND in_build(period) GROUP BY ALL) AS q
    FULL JOIN (SELECT period, practice_code, exact_sum(value) AS achieved_points FROM staging.qof_achievement
               WHERE measure = 'ACHIEVED_POINTS' AND value IS NOT NULL AND in_build(period) GROUP BY ALL) AS a USING (period, practice_code)
),
points_facts AS (
    -- points available: the year's indicator set, else the practice's published maximum
    -- (points for indicators where it has a register), else the latest indicator set
    SELECT 'qof_points_pct', p.period, p.practice_code, p.achieved_points,
        coalesce(m.points, p.max_points_where_register, (SELECT arg_max(points, period) FROM max_points)),
        CASE WHEN p.achieved_points > coalesce(m.points, p.max_points_where_register, (SELECT arg_max(points, period) FROM max_points))
             THEN 'points achieved exceed the points available (income protection or a changed indicator set)' END
    FROM points AS p
    LEFT JOIN max_points AS m USING (period)
),
prev_facts AS (
    SELECT 'qof_prev_' || group_code, period, practice_code, CAST(register AS DOUBLE), CAST(list_size AS DOUBLE), dq_flag
    FROM staging.qof_prevalence
    WHERE register IS NOT NULL AND list_size IS NOT NULL AND in_build(period)
),
pay AS (
    SELECT period, practice_code,
        max(registered_patients) AS registered, max(weighted_patients) AS weighted,
        exact_sum(CASE WHEN component = 'total_nhs_payments_to_general_practice' THEN amount END) AS total,
        exact_sum(CASE WHEN kind = 'payment' AND component_group = 'global_sum' THEN amount END) AS global_sum,
        exact_sum(CASE WHEN kind = 'payment' AND component_group = 'qof' THEN amount END) AS qof,
        exact_sum(CASE WHEN kind = 'payment' AND component_group = 'enhanced_services' THEN amount END) AS enhanced_services,
        exact_sum(CASE WHEN kind = 'payment' AND component_group = 'premises' THEN amount END) AS premises,
        exact_sum(CASE WHEN kind = 'payment' AND component_group = 'pcn' THEN amount END) AS pcn,
        exact_sum(CASE WHEN kind = 'payment' AND component_group = 'covid' THEN amount END) AS covid,
        exact_sum(CASE WHEN kind = 'payment' AND component_group = 'prescribing_dispensing' THEN amount END) AS prescribing_dispensing,
        exact_sum(CASE WHEN kind = 'payment' AND component_group = 'other' THEN amount END) AS other
    FROM staging.payments
    WHERE in_build(period)
    GROUP BY period, practice_code
),
pay_long AS (
    UNPIVOT pay ON total, global_sum, qof, enhanced_services, premises, pcn, covid, prescribing_dispensing, other
    INTO NAME component_group VALUE amount
),
pay_facts AS (
    -- practices with no patients keep their payments (so area totals are complete), with no value
    SELECT 'pay_' || component_group || '_per_registered', period, practice_code, amount, coalesce(registered, 0), NULL
    FROM pay_long
    UNION ALL
    SELECT 'pay_' || component_group || '_per_weighted', period, practice_code, amount, coalesce(weighted, 0), NULL
    FROM pay_long
),
-- the patients a practice's per-patient values rest on: the payments file's own lists for a
-- financial year, the practice's registered and weighted list for a month
denominators AS (
    SELECT 'pay_' AS prefix, period, practice_code, registered, weighted FROM pay
    UNION ALL
    SELECT 'wf_', period, practice_code, list_size, weighted_list_size FROM core.practices WHERE NOT is_annual AND in_build(period)
),
implausible AS (
    -- the first rule of data/plausibility.csv (ref.plausibility) each practice's denominator breaks
    SELECT d.prefix, d.period, d.practice_code, min(CAST(r.reason AS VARCHAR)) AS reason
    FROM denominators AS d
    JOIN ref.plausibility AS r ON d.prefix LIKE CAST(r.applies_to AS VARCHAR) || '%'
    WHERE (r.rule = 'min_registered' AND coalesce(d.registered, 0) < CAST(r.min AS DOUBLE))
       OR (r.rule = 'weighted_ratio' AND d.registered > 0 AND d.weighted IS NOT NULL
           AND (d.weighted / d.registered < CAST(r.min AS DOUBLE) OR d.weighted / d.registered > CAST(r.max AS DOUBLE)))
    GROUP BY ALL
),
wf AS (
    SELECT period, practice_code,
        CASE role WHEN 'GP' THEN 'gp' WHEN 'NURSES' THEN 'nurse' WHEN 'DPC' THEN 'dpc' WHEN 'ADMIN' THEN 'admin' END AS staff,
        exact_sum(value) AS fte
    FROM staging.workforce
    WHERE is_group_total AND measure = 'FTE' AND value IS NOT NULL AND in_build(period)
    GROUP BY ALL
),
wf_facts AS (
    SELECT 'wf_' || w.staff || '_fte_per_10k', w.period, w.practice_code, w.fte,
        coalesce(p.weighted_list_size, p.list_size),
        CASE WHEN p.weighted_list_size IS NULL THEN 'registered list used: no weighted list' END
    FROM wf AS w
    JOIN core.practices AS p USING (period, practice_code)
    WHERE coalesce(p.weighted_list_size, p.list_size) > 0
)
SELECT f.indicator_id, f.period, f.practice_code, CAST(f.numerator AS DOUBLE) AS numerator,
    CAST(f.denominator AS DOUBLE) AS denominator, coalesce(f.dq_flag, ip.reason) AS dq_flag,
    -- compared with others only when open for the whole period and plausible (data/plausibility.csv)
    coalesce(p.in_comparisons, true) AND ip.reason IS NULL AS in_comparisons,
    -- codes only: names live in core.current_names, joined where tables are read (a renamed area
    -- would otherwise change every period's rows and refresh every period below)
    p.pcn_code, p.sub_icb_code, p.icb_code, p.region_code, p.imd_decile,
    -- list-size band for the (simplified) peer groups
    CASE WHEN p.list_size < 5000 THEN '<5k' WHEN p.list_size < 10000 THEN '5-10k'
         WHEN p.list_size < 15000 THEN '10-15k' WHEN p.list_size >= 15000 THEN '15k+' END AS size_band
FROM (
    SELECT * FROM qof_facts
    UNION ALL SELECT * FROM points_facts
    UNION ALL SELECT * FROM prev_facts
    UNION ALL SELECT * FROM pay_facts
    UNION ALL SELECT * FROM wf_facts
    UNION ALL SELECT indicator_id, period, practice_code, numerator, denominator, NULL FROM core.referral_facts WHERE in_build(period)
) AS f
LEFT JOIN core.practices AS p USING (period, practice_code)
LEFT JOIN implausible AS ip
    ON ip.period = f.period AND ip.practice_code = f.practice_code
   AND ip.prefix = CASE WHEN f.indicator_id LIKE 'pay\_%' ESCAPE '\' THEN 'pay_' WHEN f.indicator_id LIKE 'wf\_%' ESCAPE '\' THEN 'wf_' END
WHERE f.numerator IS NOT NULL AND f.denominator IS NOT NULL
