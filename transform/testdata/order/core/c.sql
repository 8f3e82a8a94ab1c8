SELECT * FROM core.a WHERE k IN (SELECT k FROM core.b)
