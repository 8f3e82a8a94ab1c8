-- description: Need-weighted investment and fair-share gaps (marts.investment_need) as readers see them: payments and workforce are public, no count under disclosure control, so passed through.
-- unique: period, measure, area_level, area_code, within_level, within_code
SELECT * FROM marts.investment_need
