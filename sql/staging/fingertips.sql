-- description: OHID Fingertips export rows: indicator, area, period and value with the published limits; dataset is the export they came from (indicator ids, and the earliest period when it spans several).
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
    dataset,
    period
FROM lake.fingertips
