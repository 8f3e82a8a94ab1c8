-- description: practices, unaffected by achievement changes.
SELECT practice_code, name FROM core.practices ORDER BY practice_code
