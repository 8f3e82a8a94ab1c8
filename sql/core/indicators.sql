-- description: The indicator catalogue: one row per indicator id with its name, domain, source, statistic, unit, multiplier, polarity, cadence, whether it is public (referrals are not: disclosure control applies) and the decimal places it is published with. The rules come from data/indicators.csv (ref.indicators); QOF indicators, QOF registers and referral treatment functions are generated from the data for the families there ('qof_ach_*', ...).
-- unique: indicator_id
-- not_null: indicator_id, name, domain, source, statistic, unit, multiplier, polarity, cadence, public, precision
-- accepted_values: domain in ('qof', 'prevalence', 'investment', 'workforce', 'referrals')
-- accepted_values: statistic in ('proportion', 'rate', 'ratio', 'value')
-- accepted_values: polarity in ('higher_is_better', 'lower_is_better', 'no_judgement')
-- accepted_values: cadence in ('annual', 'monthly')
-- range: precision between 0 and 6
-- row_count: > 0
--
-- Ids: qof_points_pct (QOF points achieved / available), qof_ach_<indicator> (achievement, numerator / denominator; the denominator already
-- excludes PCAs), qof_int_<indicator> (patients receiving the intervention, numerator /
-- (denominator + PCAs)), qof_pca_<indicator> (PCA rate), qof_prev_<register>,
-- pay_<total|component group>_per_<registered|weighted>, wf_<gp|nurse|dpc|admin>_fte_per_10k,
-- ref_rate_per_1000[_<treatment function>], ref_<routine|urgent|2ww>_rate_per_1000,
-- ref_isr[_<treatment function>] (age-sex standardised referral ratio).
WITH cat AS (
    SELECT
        CAST(indicator_id AS VARCHAR) AS indicator_id, CAST(name AS VARCHAR) AS name, CAST(domain AS VARCHAR) AS domain,
        CAST(source AS VARCHAR) AS source, CAST(statistic AS VARCHAR) AS statistic, CAST(unit AS VARCHAR) AS unit,
        CAST(multiplier AS DOUBLE) AS multiplier, CAST(polarity AS VARCHAR) AS polarity, CAST(cadence AS VARCHAR) AS cadence,
        CAST(public AS BOOLEAN) AS public, CAST(precision AS INTEGER) AS precision, CAST(description AS VARCHAR) AS description
    FROM ref.indicators
),
qof_ind AS (
    -- every indicator with a denominator, described from its latest mapping
    SELECT a.indicator_code,
        arg_max(i.indicator_description, i.period) AS indicator_description,
        arg_max(i.group_description, i.period) AS group_description,
        arg_max(i.group_code, i.period) AS group_code
    FROM (SELECT DISTINCT indicator_code FROM staging.qof_achievement WHERE measure = 'DENOMINATOR') AS a
    LEFT JOIN staging.qof_indicators AS i USING (indicator_code)
    GROUP BY a.indicator_code
),
prev_groups AS (
    SELECT p.group_code,
        coalesce(any_value(g.group_description), p.group_code) AS label,
        coalesce(any_value(p.patient_list_type), 'TOTAL') AS list_type
    FROM staging.qof_prevalence AS p
    LEFT JOIN (SELECT group_code, arg_max(group_description, period) AS group_description
               FROM staging.qof_indicators GROUP BY group_code) AS g USING (group_code)
    GROUP BY p.group_code
),
tfc(code, specialty) AS (
    VALUES ('100', 'General surgery'), ('101', 'Urology'), ('103', 'Breast surgery'), ('104', 'Colorectal surgery'),
        ('107', 'Vascular surgery'), ('110', 'Trauma and orthopaedics'), ('120', 'ENT'), ('130', 'Ophthalmology'),
        ('140', 'Oral surgery'), ('150', 'Neurosurgery'), ('160', 'Plastic surgery'), ('170', 'Cardiothoracic surgery'),
        ('300', 'General internal medicine'), ('301', 'Gastroenterology'), ('302', 'Endocrinology'),
        ('303', 'Clinical haematology'), ('314', 'Rehabilitation medicine'), ('320', 'Cardiology'),
        ('330', 'Dermatology'), ('340', 'Respiratory medicine'), ('361', 'Nephrology'), ('370', 'Medical oncology'),
        ('400', 'Neurology'), ('410', 'Rheumatology'), ('420', 'Paediatrics'), ('430', 'Geriatric medicine'),
        ('501', 'Obstetrics'), ('502', 'Gynaecology'), ('650', 'Physiotherapy'), ('653', 'Podiatry'),
        ('710', 'Adult mental illness'), ('800', 'Clinical oncology'), ('811', 'Interventional radiology'),
        ('812', 'Diagnostic imaging')
),
specialties AS (
    SELECT DISTINCT r.treatment_function_code AS code,
        coalesce(t.specialty, 'Treatment function ' || r.treatment_function_code) AS specialty
    FROM staging.referrals AS r
    LEFT JOIN tfc AS t ON t.code = r.treatment_function_code
    WHERE r.treatment_function_code IS NOT NULL
),
-- family members: (family id, code, label, detail) filled into the family's template
members(family, code, label, detail, qof_indicator_code, group_code, specialty_code) AS (
    SELECT f.family, q.indicator_code, coalesce(' (' || q.group_description || ')', ''),
        coalesce(' ' || q.indicator_description, ''), q.indicator_code, q.group_code, NULL
    FROM qof_ind AS q, (VALUES ('qof_ach_*'), ('qof_int_*'), ('qof_pca_*')) AS f(family)
    UNION ALL
    SELECT 'qof_prev_*', group_code, label, list_type, NULL, group_code, NULL FROM prev_groups
    UNION ALL
    SELECT f.family, code, specialty, '', NULL, NULL, code
    FROM specialties, (VALUES ('ref_rate_per_1000_*'), ('ref_isr_*')) AS f(family)
),
generated AS (
    SELECT
        rtrim(c.indicator_id, '*') || m.code AS indicator_id,
        replace(replace(replace(c.name, '{code}', m.code), '{label}', m.label), '{detail}', m.detail) AS name,
        c.domain, c.source, c.statistic, c.unit, c.multiplier, c.polarity, c.cadence, c.public, c.precision,
        replace(replace(replace(c.description, '{code}', m.code), '{label}', m.label), '{detail}', m.detail) AS description,
        m.qof_indicator_code, m.group_code, NULL AS component_group, m.specialty_code, NULL AS priority
    FROM cat AS c
    JOIN members AS m ON m.family = c.indicator_id
),
fixed AS (
    SELECT c.indicator_id, c.name, c.domain, c.source, c.statistic, c.unit, c.multiplier, c.polarity, c.cadence,
        c.public, c.precision, c.description,
        NULL AS qof_indicator_code, NULL AS group_code,
        nullif(regexp_extract(c.indicator_id, '^pay_(.+)_per_(registered|weighted)$', 1), '') AS component_group,
        NULL AS specialty_code,
        upper(nullif(regexp_extract(c.indicator_id, '^ref_(routine|urgent|2ww)_rate_per_1000$', 1), '')) AS priority
    FROM cat AS c
    WHERE c.indicator_id NOT LIKE '%*'
)
SELECT
    indicator_id, name, domain, source, statistic, unit, multiplier, polarity, cadence,
    public, description, qof_indicator_code, group_code, component_group, specialty_code, priority, precision
FROM (SELECT * FROM generated UNION ALL BY NAME SELECT * FROM fixed)
