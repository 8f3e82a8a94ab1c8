-- description: Every area (practice, PCN, sub-ICB, ICB, region, England) by period with its parent (core.areas), as readers see it.
-- incremental: period
SELECT * FROM core.areas WHERE in_build(period)