-- description: marts.inverse_care_index as readers see it. It holds no count of a non-public indicator (referrals), so it passes through unchanged.
-- incremental: period
-- unique: period, measure, area_level, area_code
SELECT * FROM marts.inverse_care_index WHERE in_build(period)