-- description: The PCN, sub-ICB location, ICB and region each month's workforce file gives each practice, with the number of the file's rows (staff roles and measures) that give them. Read by core.hierarchy and core.sub_icb_parents in place of the workforce's 290,000 rows a month at England scale.
-- incremental: period
-- not_null: practice_code, period, workforce_rows
-- range: workforce_rows >= 1
--
-- Both readers are rebuilt whole whenever a month arrives; each scanned every month's workforce
-- rows (8.1 M for England's 28 months, about a second each). This table reads a month once, when it
-- arrives, and keeps the row counts: core.sub_icb_parents takes the parents most of the mapping rows
-- give, and a workforce file counts once per row there.
SELECT practice_code, period, pcn_code, sub_icb_code, icb_code, region_code, count(*) AS workforce_rows
FROM staging.workforce
WHERE in_build(period)
GROUP BY ALL
