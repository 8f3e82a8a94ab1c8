-- description: marts.inverse_care as readers see it. It holds no count of a non-public indicator (referrals), so it passes through unchanged.
-- incremental: period
-- unique: period, measure, area_level, area_code, group_type, imd_group
SELECT * FROM marts.inverse_care WHERE in_build(period)
