SELECT * FROM core.c JOIN core.b USING (k)
