-- description: Slope and concentration indices of the inverse care law (marts.inverse_care_index) as readers see them: public inputs only, passed through.
-- unique: period, measure, area_level, area_code
SELECT * FROM marts.inverse_care_index
