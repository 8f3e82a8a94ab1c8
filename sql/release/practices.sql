-- description: The practice dimension by period (core.practices: names, hierarchy, status, list sizes, deprivation) as readers see it; public figures only, no counts under disclosure control.
-- incremental: period
-- unique: practice_code, period
SELECT * FROM core.practices WHERE in_build(period)