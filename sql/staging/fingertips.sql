-- description: OHID Fingertips export rows: indicator, area, period and value with the published limits.
-- incremental: period
SELECT
    indicator_id,
    indicator_name,
    upper(trim(area_code)) AS area_code,
    area_name,
    area_type,
    sex,
    age,
    time_period,
    value,
    lower95, upper95, lower998, upper998,
    count,
    denominator,
    period
FROM lake.fingertips
