-- description: The indicator catalogue: one row per indicator id with its name, domain, source, statistic, unit, multiplier, polarity, cadence and whether it is public (referrals are not: disclosure control applies).
-- unique: indicator_id
-- not_null: indicator_id, name, domain, source, statistic, unit, multiplier, polarity, cadence, public
-- accepted_values: domain in ('qof', 'prevalence', 'investment', 'workforce', 'referrals')
-- accepted_values: statistic in ('proportion', 'rate', 'ratio', 'value')
-- accepted_values: polarity in ('higher_is_better', 'lower_is_better', 'no_judgement')
-- accepted_values: cadence in ('annual', 'monthly')
-- row_count: > 0
--
-- Ids: qof_points_pct (QOF points achieved / available), qof_ach_<indicator> (achievement, numerator / denominator; the denominator already
-- excludes PCAs), qof_int_<indicator> (patients receiving the intervention, numerator /
-- (denominator + PCAs)), qof_pca_<indicator> (PCA rate), qof_prev_<register>,
-- pay_<total|component group>_per_<registered|weighted>, wf_<gp|nurse|dpc|admin>_fte_per_10k,
-- ref_rate_per_1000[_<treatment function>], ref_<routine|urgent|2ww>_rate_per_1000,
-- ref_isr[_<treatment function>] (age-sex standardised referral ratio).
WITH qof_ind AS (
    -- every indicator with a denominator, described from its latest mapping
    SELECT a.indicator_code,
        arg_max(i.indicator_description, i.period) AS indicator_description,
        arg_max(i.group_description, i.period) AS group_description,
        arg_max(i.group_code, i.period) AS group_code
    FROM (SELECT DISTINCT indicator_code FROM staging.qof_achievement WHERE measure = 'DENOMINATOR') AS a
    LEFT JOIN staging.qof_indicators AS i USING (indicator_code)
    GROUP BY a.indicator_code
),
qof_kinds(kind, id_prefix, label, polarity, what) AS (
    VALUES
    ('ach', 'qof_ach_', 'achievement', 'higher_is_better', 'Patients for whom the indicator was achieved as a percentage of the denominator (which excludes personalised care adjustments).'),
    ('int', 'qof_int_', 'patients receiving the intervention', 'higher_is_better', 'Patients for whom the indicator was achieved as a percentage of the denominator plus personalised care adjustments (PCAs).'),
    ('pca', 'qof_pca_', 'personalised care adjustment rate', 'no_judgement', 'Personalised care adjustments (PCAs) as a percentage of the denominator plus PCAs.')
),
qof AS (
    SELECT
        k.id_prefix || q.indicator_code AS indicator_id,
        q.indicator_code || ' ' || k.label || coalesce(' (' || q.group_description || ')', '') AS name,
        'qof' AS domain, 'qof_achievement' AS source, 'proportion' AS statistic, '%' AS unit, 100.0 AS multiplier,
        k.polarity, 'annual' AS cadence, true AS public,
        k.what || coalesce(' ' || q.indicator_description, '') AS description,
        q.indicator_code AS qof_indicator_code, q.group_code, NULL AS component_group, NULL AS specialty_code, NULL AS priority
    FROM qof_ind AS q, qof_kinds AS k
),
qof_total AS (
    SELECT 'qof_points_pct' AS indicator_id, 'QOF points achieved (% of available)' AS name,
        'qof' AS domain, 'qof_points' AS source, 'value' AS statistic, '%' AS unit, 100.0 AS multiplier,
        'higher_is_better' AS polarity, 'annual' AS cadence, true AS public,
        'QOF points achieved (the published practice total, else the sum over indicators) as a percentage of the points available in the year''s indicator set.' AS description,
        NULL AS qof_indicator_code, NULL AS group_code, NULL AS component_group, NULL AS specialty_code, NULL AS priority
),
prev AS (
    SELECT
        'qof_prev_' || p.group_code AS indicator_id,
        coalesce(any_value(g.group_description), p.group_code) || ' prevalence' AS name,
        'prevalence', 'qof_prevalence', 'proportion', '%', 100.0, 'no_judgement', 'annual', true,
        'Patients on the QOF ' || coalesce(any_value(g.group_description), p.group_code)
            || ' register as a percentage of the practice list of the register''s list type ('
            || coalesce(any_value(p.patient_list_type), 'TOTAL') || ').',
        NULL, p.group_code, NULL, NULL, NULL
    FROM staging.qof_prevalence AS p
    LEFT JOIN (SELECT group_code, arg_max(group_description, period) AS group_description
               FROM staging.qof_indicators GROUP BY group_code) AS g USING (group_code)
    GROUP BY p.group_code
),
pay_groups(component_group, label) AS (
    VALUES ('total', 'Total NHS payments'), ('global_sum', 'Global sum payments'), ('qof', 'QOF payments'),
        ('enhanced_services', 'Enhanced services payments'), ('premises', 'Premises payments'),
        ('pcn', 'PCN payments'), ('covid', 'COVID payments'),
        ('prescribing_dispensing', 'Prescribing and dispensing payments'), ('other', 'Other payments')
),
pay_bases(basis, label) AS (VALUES ('registered', 'registered'), ('weighted', 'weighted')),
pay AS (
    SELECT
        'pay_' || g.component_group || '_per_' || b.basis,
        g.label || ' per ' || b.label || ' patient',
        'investment', 'payments', 'value', '£ per patient', 1.0, 'no_judgement', 'annual', true,
        g.label || ' to the practice in the financial year divided by its ' || b.label
            || ' patients (as in the NHS Payments to General Practice file).',
        NULL, NULL, g.component_group, NULL, NULL
    FROM pay_groups AS g, pay_bases AS b
),
wf(staff, label) AS (
    VALUES ('gp', 'GP'), ('nurse', 'Nurse'), ('dpc', 'Direct patient care staff'), ('admin', 'Admin/non-clinical staff')
),
workforce AS (
    SELECT
        'wf_' || staff || '_fte_per_10k', label || ' FTE per 10,000 weighted patients',
        'workforce', 'workforce', 'value', 'FTE per 10,000', 10000.0, 'no_judgement', 'monthly', true,
        'Full-time equivalent ' || lower(label) || ' in post (General Practice Workforce) per 10,000 weighted patients (registered list times the practice''s weighted/registered ratio from the payments file).',
        NULL, NULL, NULL, NULL, NULL
    FROM wf
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
ref AS (
    SELECT 'ref_rate_per_1000', 'Referrals per 1,000 registered patients', 'referrals', 'referrals', 'rate', 'per 1,000', 1000.0,
        'no_judgement', 'monthly', false, 'GP referrals in the month per 1,000 registered patients (all specialties and priorities).',
        NULL, NULL, NULL, NULL, NULL
    UNION ALL
    SELECT 'ref_' || lower(p) || '_rate_per_1000',
        CASE p WHEN '2WW' THEN 'Two-week-wait (suspected cancer) referrals' ELSE upper(p[1]) || lower(p[2:]) || ' referrals' END || ' per 1,000 registered patients',
        'referrals', 'referrals', 'rate', 'per 1,000', 1000.0, 'no_judgement', 'monthly', false,
        'GP referrals of priority ' || p || ' in the month per 1,000 registered patients.', NULL, NULL, NULL, NULL, p
    FROM (VALUES ('ROUTINE'), ('URGENT'), ('2WW')) AS pr(p)
    UNION ALL
    SELECT 'ref_rate_per_1000_' || code, specialty || ' referrals per 1,000 registered patients',
        'referrals', 'referrals', 'rate', 'per 1,000', 1000.0, 'no_judgement', 'monthly', false,
        'GP referrals to treatment function ' || code || ' (' || specialty || ') in the month per 1,000 registered patients.',
        NULL, NULL, NULL, code, NULL
    FROM specialties
    UNION ALL
    SELECT 'ref_isr', 'Referrals: age-sex standardised ratio', 'referrals', 'referrals', 'ratio', 'ratio', 1.0,
        'no_judgement', 'monthly', false,
        'Observed referrals divided by those expected from England''s referral rates for the month by five-year age band and sex (indirect standardisation; 1 = as expected).',
        NULL, NULL, NULL, NULL, NULL
    UNION ALL
    SELECT 'ref_isr_' || code, specialty || ' referrals: age-sex standardised ratio', 'referrals', 'referrals', 'ratio', 'ratio', 1.0,
        'no_judgement', 'monthly', false,
        'Observed referrals to treatment function ' || code || ' (' || specialty || ') divided by those expected from England''s rates by age band and sex (1 = as expected).',
        NULL, NULL, NULL, code, NULL
    FROM specialties
)
SELECT
    indicator_id, name, domain, source, statistic, unit, CAST(multiplier AS DOUBLE) AS multiplier, polarity, cadence,
    public, description, qof_indicator_code, group_code, component_group, specialty_code, priority
FROM (
    SELECT * FROM qof
    UNION ALL SELECT * FROM qof_total
    UNION ALL SELECT * FROM prev
    UNION ALL SELECT * FROM pay
    UNION ALL SELECT * FROM workforce
    UNION ALL SELECT * FROM ref
)
