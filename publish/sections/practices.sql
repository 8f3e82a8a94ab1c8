-- Section practices: the pack's practices as they were in the pack's month.
SELECT m.pack_area, p.practice_code, coalesce(p.practice_name, p.practice_code) AS practice_name, p.postcode,
    p.pcn_code, p.pcn_name, p.sub_icb_code, p.sub_icb_name, p.icb_code, p.icb_name, p.region_code, p.region_name,
    coalesce(p.status, '') AS status,
    strftime(TRY_CAST(p.open_date AS DATE), '%Y-%m-%d') AS open_date,
    strftime(TRY_CAST(p.close_date AS DATE), '%Y-%m-%d') AS close_date,
    CAST(p.list_size AS BIGINT) AS list_size, CAST(p.weighted_list_size AS DOUBLE) AS weighted_list_size,
    CAST(p.imd_score AS DOUBLE) AS imd_score, CAST(p.imd_decile AS INTEGER) AS imd_decile,
    CAST(p.imd_quintile AS INTEGER) AS imd_quintile
FROM ({{members}}) AS m
JOIN core.practices AS p ON p.practice_code = m.area_code AND p.period = {{practice_period}}
WHERE m.role = 'practice'
ORDER BY m.pack_area, p.practice_code
