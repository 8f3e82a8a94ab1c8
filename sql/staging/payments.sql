-- description: NHS payments to general practice, long: one row per practice, payment component and financial year, with the practice's registered and weighted patients, dispensing status and rurality (as published: Yes/No, Urban/Rural; rurality from 2017-18).
-- incremental: period
-- not_null: practice_code, component, period
-- accepted_values: kind in ('payment', 'total', 'deduction')
SELECT
    upper(trim(practice_code)) AS practice_code,
    practice_name,
    pcn_code, pcn_name,
    sub_icb_code, sub_icb_name,
    region_code, region_name,
    postcode,
    open_date, close_date,
    contract_type,
    dispensing_practice,
    rurality,
    registered_patients,
    weighted_patients,
    component,
    component_label,
    component_group,
    kind,
    amount,
    coalesce(amount_suppressed, false) AS amount_suppressed,
    period,
    period AS fy
FROM lake.payments
