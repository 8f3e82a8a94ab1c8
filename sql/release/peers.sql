-- description: marts.peers as readers see it. It holds no count of a non-public indicator (referrals), so it passes through unchanged.
-- incremental: period
-- unique: period, practice_code, peer_code
-- unique: period, practice_code, rank
SELECT * FROM marts.peers WHERE in_build(period)