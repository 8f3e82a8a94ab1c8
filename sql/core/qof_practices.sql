-- description: The practices each QOF year's achievement and prevalence files hold (practice × financial year). Read by core.hierarchy, rebuilt whole whenever a month arrives, in place of the achievement files' rows (1.6 M a year in the synthetic England, 7.5-7.9 M in the real files).
-- incremental: period
-- not_null: practice_code, period
-- unique: practice_code, period
SELECT DISTINCT practice_code, period FROM staging.qof_achievement WHERE in_build(period)
UNION
SELECT DISTINCT practice_code, period FROM staging.qof_prevalence WHERE in_build(period)
