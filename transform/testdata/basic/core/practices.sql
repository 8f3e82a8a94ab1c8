-- description: one row per practice.
-- unique: practice_code
-- not_null: practice_code
-- row_count: > 0
SELECT practice_code, any_value(name) AS name
FROM staging.practices
GROUP BY practice_code
