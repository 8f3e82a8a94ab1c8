-- description: marts.peers as readers see it: the similar practices are chosen from public figures only (deprivation, list size, age structure, rurality, dispensing, weighted list), so it passes through unchanged.
-- unique: period, practice_code, peer_code
SELECT * FROM marts.peers
