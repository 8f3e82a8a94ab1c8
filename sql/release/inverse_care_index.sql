-- description: marts.inverse_care_index as readers see it: computed from public payments and FTE only, so it passes through unchanged.
-- unique: period, measure, area_level, area_code
SELECT * FROM marts.inverse_care_index
