-- members: every area a pack shows, for every pack of one level at once.
-- Included by the section queries (the members placeholder); not a section itself.
-- role: 'comparator' (England, the areas above the pack's area, and the area itself),
-- 'inside' (aggregate areas below it) or 'practice' (its practices), down to the level
-- the packs list area by area (publish.list_down_to). level_rank orders
-- a pack's rows top-down: England first, practices last.
SELECT DISTINCT p.pack_area, m.area_level, m.area_code,
    list_position(['england', 'region', 'icb', 'sub_icb', 'pcn', 'practice'], m.area_level) AS level_rank,
    CASE
        WHEN m.area_level = 'practice' THEN 'practice'
        WHEN list_position(['england', 'region', 'icb', 'sub_icb', 'pcn', 'practice'], m.area_level)
            <= list_position(['england', 'region', 'icb', 'sub_icb', 'pcn', 'practice'], {{level}}) THEN 'comparator'
        ELSE 'inside'
    END AS role
FROM (
    SELECT CASE {{level}} WHEN 'region' THEN region_code WHEN 'icb' THEN icb_code
                          WHEN 'sub_icb' THEN sub_icb_code WHEN 'pcn' THEN pcn_code END AS pack_area, *
    FROM core.practices
    WHERE period = {{practice_period}}
) AS p,
LATERAL (VALUES ('england', 'E92000001'), ('region', p.region_code), ('icb', p.icb_code),
                ('sub_icb', p.sub_icb_code), ('pcn', p.pcn_code), ('practice', p.practice_code)) AS m(area_level, area_code)
WHERE p.pack_area IS NOT NULL AND p.pack_area <> '' AND m.area_code IS NOT NULL AND m.area_code <> ''
    -- the areas listed one by one go down to the level configured for the packs (list_down_to)
    AND list_position(['england', 'region', 'icb', 'sub_icb', 'pcn', 'practice'], m.area_level)
        <= list_position(['england', 'region', 'icb', 'sub_icb', 'pcn', 'practice'], {{deepest}})
    {{area_filter}}
