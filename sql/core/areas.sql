-- description: Every area in each period with its parent: practices (parent PCN, else sub-ICB), PCNs (parent sub-ICB), sub-ICB locations (ICB), ICBs (region), regions (England) and England. area_name is the area's one current name (core.current_names); names by period are in core.area_names.
-- unique: area_level, area_code, period
-- not_null: area_level, area_code, period, area_name
-- accepted_values: area_level in ('practice', 'pcn', 'sub_icb', 'icb', 'region', 'england')
-- accepted_values: parent_level in ('pcn', 'sub_icb', 'icb', 'region', 'england')
-- A PCN whose practices sit in more than one sub-ICB takes the sub-ICB of most of its practices
-- (of as many, the smallest code: most_common).
SELECT 'practice' AS area_level, practice_code AS area_code, practice_name AS area_name,
    CASE WHEN pcn_code IS NOT NULL THEN 'pcn' ELSE 'sub_icb' END AS parent_level,
    coalesce(pcn_code, sub_icb_code) AS parent_code, period
FROM core.practices
UNION ALL
SELECT 'pcn', pcn_code, coalesce(min(pcn_name), pcn_code), 'sub_icb', most_common(sub_icb_code), period
FROM core.practices WHERE pcn_code IS NOT NULL GROUP BY pcn_code, period
UNION ALL
SELECT 'sub_icb', sub_icb_code, min(sub_icb_name), 'icb', min(icb_code), period
FROM core.practices GROUP BY sub_icb_code, period
UNION ALL
SELECT 'icb', icb_code, min(icb_name), 'region', min(region_code), period
FROM core.practices GROUP BY icb_code, period
UNION ALL
SELECT 'region', region_code, min(region_name), 'england', 'E92000001', period
FROM core.practices GROUP BY region_code, period
UNION ALL
SELECT 'england', 'E92000001', 'England', NULL, NULL, period
FROM core.practices GROUP BY period
