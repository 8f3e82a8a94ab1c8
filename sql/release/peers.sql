-- description: Each practice's similar practices (marts.peers) as readers see them: computed from public figures only (need, deprivation, list sizes), no count under disclosure control, so passed through.
-- unique: period, practice_code, rank
SELECT * FROM marts.peers
