-- description: marts.investment_need as readers see it: payments and FTE are public figures (no counts under disclosure control), so it passes through unchanged.
-- unique: period, measure, area_level, area_code, within_level, within_code
SELECT * FROM marts.investment_need
