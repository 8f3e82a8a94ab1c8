-- description: Investment against need, per financial year, measure (payments in £, GP FTE, clinical FTE), practice and area (PCN, sub-ICB, ICB, region, England): the total, per registered, per Carr-Hill weighted and per need-weighted patient, the need index, and the fair-share gap within each containing area (practice within its PCN, sub-ICB, ICB, region and England; PCN within its sub-ICB ... ; England within itself): actual minus the need-predicted share of that area's total, with a sensitivity interval from the need model's deprivation gradient.
-- incremental: period
-- refresh_year_of_month: true
-- unique: period, measure, area_level, area_code, within_level, within_code
-- not_null: period, measure, area_level, area_code, within_level, within_code, actual, practices, practices_compared, in_comparisons
-- accepted_values: measure in ('payments', 'gp_fte', 'clinical_fte')
-- accepted_values: area_level in ('practice', 'pcn', 'sub_icb', 'icb', 'region', 'england')
-- accepted_values: within_level in ('pcn', 'sub_icb', 'icb', 'region', 'england')
-- range: imd_quintile between 1 and 5
-- range: need_index >= 0
--
-- Need model (README "Investment and need"; parameters in data/investment_settings.csv, ref.investment_settings):
--   need_i = weighted_i x (1 + g x (5 - q_i) / 4)
-- weighted_i the practice's Carr-Hill weighted list (NHS Payments to General Practice), q_i its
-- national IMD 2019 quintile in the year (1 = most deprived; 3 assumed, and flagged, without a
-- score), g the deprivation gradient: 0.33 by default, the most deprived quintile needing 33% more
-- per weighted patient than the least (Boomla, Hull and Robson, BMJ 2014;349:g7648). Need-weighted
-- patients are need_i rescaled so they add up to England's weighted list in the year.
-- need_index = (need-weighted / registered patients) / England's: 1 is average need per head.
-- Fair share within area A (any containing area): expected_i = total_A x need_i / sum_A need, so
-- gaps add to exactly 0 over A; an area's gap within A is the sum of its practices' gaps there.
-- fair_share_gap_lower/_upper: the gap at need_gradient_low and need_gradient_high (the extremes:
-- a share is monotone in g), i.e. how much the verdict rests on the deprivation adjustment. It is
-- a model (sensitivity) interval, not a sampling interval: payments are a census.
-- Measures: payments = Total NHS Payments to General Practice (the published total, before
-- deductions); gp_fte and clinical_fte (GP + nurses + direct patient care) = the mean over the
-- year's months in the workforce collection. A practice with no value for a measure (no
-- workforce return) is left out of that measure, its need included in neither side.
-- per_need_patient is £ per need-weighted patient, or FTE per 10,000 need-weighted patients
-- (likewise per_registered_patient, per_weighted_patient; multiplier says which).
-- Not compared (in_comparisons false, dq_flag says why): a practice not open for the whole year
-- (core.practices.in_comparisons) or whose lists break a rule of data/plausibility.csv
-- (ref.plausibility; 'pay_' rules for payments, 'wf_' rules for FTE, both on the payments file's
-- registered and weighted lists the need rests on). Such a practice counts in every total (actual,
-- patients, need of its areas) and keeps its own per-patient figures and need index, but it has no
-- fair share: the shares of an area are taken over its compared practices only (expected_i =
-- compared total_A x need_i / compared need_A), so their gaps add to 0 and its gap is NULL.
-- practices_compared counts the compared practices of a row.
WITH pay AS (
    SELECT period, practice_code,
        exact_sum(CASE WHEN component = 'total_nhs_payments_to_general_practice' THEN amount END) AS payments,
        max(registered_patients) AS registered, max(weighted_patients) AS weighted
    FROM staging.payments
    WHERE in_build(period)
    GROUP BY period, practice_code
),
wf_month AS (
    SELECT practice_code, period AS month, fy,
        exact_sum(CASE WHEN role = 'GP' THEN value END) AS gp,
        exact_sum(CASE WHEN role IN ('GP', 'NURSES', 'DPC') THEN value END) AS clinical
    FROM staging.workforce
    WHERE is_group_total AND measure = 'FTE' AND value IS NOT NULL AND in_build(fy) -- every month of the year
    GROUP BY practice_code, period, fy
),
wf AS (
    SELECT practice_code, fy AS period, exact_sum(gp) / count(gp) AS gp_fte, exact_sum(clinical) / count(clinical) AS clinical_fte
    FROM wf_month GROUP BY practice_code, fy
),
prac AS (
    SELECT pay.period, pay.practice_code, c.practice_name,
        c.pcn_code, c.sub_icb_code, c.icb_code, c.region_code, c.imd_quintile,
        pay.payments, wf.gp_fte, wf.clinical_fte,
        coalesce(pay.registered, 0) AS registered, coalesce(pay.weighted, 0) AS weighted,
        (5 - coalesce(c.imd_quintile, 3)) / 4.0 AS dep,
        CASE WHEN c.imd_quintile IS NULL THEN 'no deprivation score: middle quintile assumed' END AS need_flag,
        coalesce(c.in_comparisons, true) AS open_all_year
    FROM pay
    LEFT JOIN core.practices AS c USING (period, practice_code)
    LEFT JOIN wf USING (period, practice_code)
),
g AS (
    SELECT CAST(max(value) FILTER (WHERE setting = 'need_gradient') AS DOUBLE) AS g,
        CAST(max(value) FILTER (WHERE setting = 'need_gradient_low') AS DOUBLE) AS g_lo,
        CAST(max(value) FILTER (WHERE setting = 'need_gradient_high') AS DOUBLE) AS g_hi
    FROM ref.investment_settings
),
scale AS (
    -- rescale each gradient's need so England's need-weighted patients equal its weighted list
    SELECT period,
        exact_sum(weighted) / exact_sum(weighted * (1 + g.g * dep)) AS s,
        exact_sum(weighted) / exact_sum(weighted * (1 + g.g_lo * dep)) AS s_lo,
        exact_sum(weighted) / exact_sum(weighted * (1 + g.g_hi * dep)) AS s_hi,
        exact_sum(weighted) / exact_sum(registered) AS eng_need_per_head
    FROM prac CROSS JOIN g
    WHERE weighted > 0
    GROUP BY period
),
need AS (
    SELECT p.*,
        p.weighted * (1 + g.g * p.dep) * s.s AS need,
        p.weighted * (1 + g.g_lo * p.dep) * s.s_lo AS need_lo,
        p.weighted * (1 + g.g_hi * p.dep) * s.s_hi AS need_hi,
        s.eng_need_per_head
    FROM prac AS p
    CROSS JOIN g
    JOIN scale AS s ON s.period = p.period
),
long AS (
    SELECT n.*, m.measure, m.actual, m.multiplier, m.prefix
    FROM need AS n,
    LATERAL (VALUES ('payments', n.payments, 1.0::DOUBLE, 'pay_'), ('gp_fte', n.gp_fte, 10000.0::DOUBLE, 'wf_'),
                    ('clinical_fte', n.clinical_fte, 10000.0::DOUBLE, 'wf_'))
        AS m(measure, actual, multiplier, prefix)
    WHERE m.actual IS NOT NULL
),
implausible AS (
    -- the first rule of data/plausibility.csv each practice's lists break (as core.indicator_facts)
    SELECT l.period, l.practice_code, l.measure, min(CAST(r.reason AS VARCHAR)) AS reason
    FROM long AS l
    JOIN ref.plausibility AS r ON l.prefix LIKE CAST(r.applies_to AS VARCHAR) || '%'
    WHERE (r.rule = 'min_registered' AND l.registered < CAST(r.min AS DOUBLE))
       OR (r.rule = 'weighted_ratio' AND l.registered > 0
           AND (l.weighted / l.registered < CAST(r.min AS DOUBLE) OR l.weighted / l.registered > CAST(r.max AS DOUBLE)))
    GROUP BY ALL
),
judged AS (
    SELECT l.*, l.open_all_year AND ip.reason IS NULL AS in_comparisons,
        coalesce(ip.reason, CASE WHEN NOT l.open_all_year THEN 'not open for the whole year' END) AS dq_flag
    FROM long AS l
    LEFT JOIN implausible AS ip USING (period, practice_code, measure)
),
within AS (
    SELECT l.*, w.within_level, w.within_code
    FROM judged AS l,
    LATERAL (VALUES ('pcn', l.pcn_code), ('sub_icb', l.sub_icb_code), ('icb', l.icb_code),
                    ('region', l.region_code), ('england', 'E92000001')) AS w(within_level, within_code)
    WHERE w.within_code IS NOT NULL
),
shares AS (
    -- fair shares among the compared practices only: the others have none
    SELECT *,
        CASE WHEN in_comparisons THEN CAST(sum(CAST(CASE WHEN in_comparisons THEN actual END AS DECIMAL(38, 12))) OVER a AS DOUBLE) * need
            / nullif(CAST(sum(CAST(CASE WHEN in_comparisons THEN need END AS DECIMAL(38, 12))) OVER a AS DOUBLE), 0) END AS expected,
        CASE WHEN in_comparisons THEN CAST(sum(CAST(CASE WHEN in_comparisons THEN actual END AS DECIMAL(38, 12))) OVER a AS DOUBLE) * need_lo
            / nullif(CAST(sum(CAST(CASE WHEN in_comparisons THEN need_lo END AS DECIMAL(38, 12))) OVER a AS DOUBLE), 0) END AS expected_lo,
        CASE WHEN in_comparisons THEN CAST(sum(CAST(CASE WHEN in_comparisons THEN actual END AS DECIMAL(38, 12))) OVER a AS DOUBLE) * need_hi
            / nullif(CAST(sum(CAST(CASE WHEN in_comparisons THEN need_hi END AS DECIMAL(38, 12))) OVER a AS DOUBLE), 0) END AS expected_hi
    FROM within
    WINDOW a AS (PARTITION BY period, measure, within_level, within_code)
),
rolled AS (
    SELECT period, measure, within_level, within_code,
        CASE WHEN grouping(practice_code) = 0 THEN 'practice' WHEN grouping(pcn_code) = 0 THEN 'pcn'
             WHEN grouping(sub_icb_code) = 0 THEN 'sub_icb' WHEN grouping(icb_code) = 0 THEN 'icb'
             WHEN grouping(region_code) = 0 THEN 'region' ELSE 'england' END AS area_level,
        CASE WHEN grouping(practice_code) = 0 THEN practice_code WHEN grouping(pcn_code) = 0 THEN pcn_code
             WHEN grouping(sub_icb_code) = 0 THEN sub_icb_code WHEN grouping(icb_code) = 0 THEN icb_code
             WHEN grouping(region_code) = 0 THEN region_code ELSE 'E92000001' END AS area_code,
        any_value(multiplier) AS multiplier,
        count(*) AS practices,
        count(*) FILTER (WHERE in_comparisons) AS practices_compared,
        exact_sum(actual) AS actual, exact_sum(registered) AS registered, exact_sum(weighted) AS weighted,
        exact_sum(need) AS need, any_value(eng_need_per_head) AS eng_need_per_head,
        exact_sum(expected) AS expected,
        exact_sum(actual - expected) AS gap, exact_sum(actual - expected_lo) AS gap_lo, exact_sum(actual - expected_hi) AS gap_hi,
        CASE WHEN grouping(practice_code) = 0 THEN any_value(imd_quintile) END AS imd_quintile,
        CASE WHEN grouping(practice_code) = 0 THEN any_value(need_flag) END AS need_flag,
        CASE WHEN grouping(practice_code) = 0 THEN bool_and(in_comparisons) ELSE true END AS in_comparisons,
        CASE WHEN grouping(practice_code) = 0 THEN any_value(dq_flag) END AS dq_flag
    FROM shares
    GROUP BY GROUPING SETS (
        (period, measure, within_level, within_code, practice_code),
        (period, measure, within_level, within_code, pcn_code),
        (period, measure, within_level, within_code, sub_icb_code),
        (period, measure, within_level, within_code, icb_code),
        (period, measure, within_level, within_code, region_code),
        (period, measure, within_level, within_code))
),
ranked AS (
    SELECT r.*,
        list_position(['practice', 'pcn', 'sub_icb', 'icb', 'region', 'england'], area_level) AS area_rank,
        list_position(['practice', 'pcn', 'sub_icb', 'icb', 'region', 'england'], within_level) AS within_rank
    FROM rolled AS r
    WHERE area_code IS NOT NULL
)
SELECT
    r.period, r.measure,
    CASE r.measure WHEN 'payments' THEN '£' ELSE 'FTE' END AS unit,
    r.multiplier,
    r.area_level, r.area_code, a.area_name,
    r.within_level, r.within_code, w.area_name AS within_name,
    CAST(r.practices AS INTEGER) AS practices,
    CAST(r.practices_compared AS INTEGER) AS practices_compared,
    CAST(r.imd_quintile AS INTEGER) AS imd_quintile,
    r.actual,
    r.registered AS registered_patients,
    r.weighted AS weighted_patients,
    r.need AS need_patients,
    r.actual / nullif(r.registered, 0) * r.multiplier AS per_registered_patient,
    r.actual / nullif(r.weighted, 0) * r.multiplier AS per_weighted_patient,
    r.actual / nullif(r.need, 0) * r.multiplier AS per_need_patient,
    r.need / nullif(r.registered, 0) / r.eng_need_per_head AS need_index,
    r.expected AS expected,
    r.gap AS fair_share_gap,
    least(r.gap_lo, r.gap_hi, r.gap) AS fair_share_gap_lower,
    greatest(r.gap_lo, r.gap_hi, r.gap) AS fair_share_gap_upper,
    100 * r.gap / nullif(r.expected, 0) AS fair_share_gap_pct,
    r.need_flag,
    r.in_comparisons,
    r.dq_flag
FROM ranked AS r
LEFT JOIN (SELECT area_level, area_code, period, min(area_name) AS area_name FROM core.areas GROUP BY ALL) AS a
    ON a.area_level = r.area_level AND a.area_code = r.area_code AND a.period = r.period
LEFT JOIN (SELECT area_level, area_code, period, min(area_name) AS area_name FROM core.areas GROUP BY ALL) AS w
    ON w.area_level = r.within_level AND w.area_code = r.within_code AND w.period = r.period
WHERE r.area_rank < r.within_rank OR (r.area_level = 'england' AND r.within_level = 'england')
