-- description: IMD 2019 score by LSOA (higher is more deprived).
-- not_null: lsoa_code
-- unique: lsoa_code
SELECT
    upper(trim(lsoa_code)) AS lsoa_code,
    any_value(lsoa_name) AS lsoa_name,
    any_value(lad_code) AS lad_code,
    any_value(imd_score) AS imd_score
FROM lake.imd_scores
GROUP BY upper(trim(lsoa_code))
