-- a CTE named like a model is not a reference
WITH core_a AS (SELECT 2 AS k), a AS (SELECT 3 AS k)
SELECT core_a.k FROM core_a, a, core.e
WHERE EXISTS (SELECT 1 FROM lake.things)
