-- description: The inverse care law by deprivation group (marts.inverse_care) as readers see it: payments and workforce are public, no count under disclosure control, so passed through.
-- unique: period, measure, area_level, area_code, group_type, imd_group
SELECT * FROM marts.inverse_care
