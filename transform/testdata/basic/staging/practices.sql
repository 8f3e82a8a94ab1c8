-- description: the practice list.
SELECT practice_code, name FROM lake.practices
