-- description: GP practice to PCN, sub-ICB location, ICB and region, per month (as published with the registrations).
-- incremental: period
-- not_null: practice_code, period
-- unique: practice_code, period
SELECT
    upper(trim(practice_code)) AS practice_code,
    any_value(practice_name) AS practice_name,
    any_value(postcode) AS postcode,
    any_value(pcn_code) AS pcn_code, any_value(pcn_name) AS pcn_name,
    any_value(sub_icb_code) AS sub_icb_code, any_value(sub_icb_name) AS sub_icb_name,
    any_value(icb_code) AS icb_code, any_value(icb_name) AS icb_name,
    any_value(region_code) AS region_code, any_value(region_name) AS region_name,
    period,
    fy_of_month(period) AS fy
FROM lake.practice_map
GROUP BY upper(trim(practice_code)), period
