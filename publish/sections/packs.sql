-- The packs of one level: one row per area with its name, its ancestors and its practices.
SELECT pack_area,
    any_value(CASE {{level}} WHEN 'region' THEN region_name WHEN 'icb' THEN icb_name
                             WHEN 'sub_icb' THEN sub_icb_name WHEN 'pcn' THEN pcn_name END) AS area_name,
    CASE WHEN {{level}} IN ('icb', 'sub_icb', 'pcn') THEN any_value(region_code) END AS region_code,
    CASE WHEN {{level}} IN ('icb', 'sub_icb', 'pcn') THEN any_value(region_name) END AS region_name,
    CASE WHEN {{level}} IN ('sub_icb', 'pcn') THEN any_value(icb_code) END AS icb_code,
    CASE WHEN {{level}} IN ('sub_icb', 'pcn') THEN any_value(icb_name) END AS icb_name,
    CASE WHEN {{level}} = 'pcn' THEN any_value(sub_icb_code) END AS sub_icb_code,
    CASE WHEN {{level}} = 'pcn' THEN any_value(sub_icb_name) END AS sub_icb_name,
    CAST(count(*) AS BIGINT) AS practices
FROM (
    SELECT CASE {{level}} WHEN 'region' THEN region_code WHEN 'icb' THEN icb_code
                          WHEN 'sub_icb' THEN sub_icb_code WHEN 'pcn' THEN pcn_code END AS pack_area, *
    FROM core.practices
    WHERE period = {{practice_period}}
) AS p
WHERE pack_area IS NOT NULL AND pack_area <> '' {{area_filter}}
GROUP BY pack_area
ORDER BY pack_area
