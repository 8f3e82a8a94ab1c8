SELECT *
FROM core.a
JOIN core.nope USING (k)
