-- description: Every area (practice, PCN, sub-ICB, ICB, region, England) by period with its parent (core.areas), as readers see it.
SELECT * FROM core.areas
