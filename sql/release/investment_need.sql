-- description: marts.investment_need as readers see it. It holds no count of a non-public indicator (referrals), so it passes through unchanged.
-- incremental: period
-- unique: period, measure, area_level, area_code, within_level, within_code
SELECT * FROM marts.investment_need WHERE in_build(period)