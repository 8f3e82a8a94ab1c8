-- materialized: view
-- description: Each practice's similar practices (the K nearest in England by need and context, RightCare style) per period, with both practices' names, the distance and the peer's key variables.

-- One row per period x practice x peer (rank 1 = the most similar):
--   distance        weighted Euclidean distance over standardised variables (data/peer_weights.csv):
--                   0 = identical; about 1 = one SD apart on one equally weighted variable
--   peer_*          the peer's IMD score, deprivation decile, list size and weighted list
--   practice_*      the same for the practice, to see how alike they are
-- Use with analyst.variation: peer_mean is the peers' pooled value, opportunity what the practice
-- would gain at its peers' rate (opportunity_best_quartile at their best quartile).
SELECT
    pe.period,
    pe.practice_code,
    p.practice_name,
    p.sub_icb_code,
    p.icb_code,
    pe.rank,
    pe.peer_code,
    q.practice_name AS peer_name,
    q.sub_icb_code AS peer_sub_icb_code,
    q.icb_code AS peer_icb_code,
    pe.distance,
    p.imd_score AS practice_imd_score,
    q.imd_score AS peer_imd_score,
    p.imd_decile AS practice_imd_decile,
    q.imd_decile AS peer_imd_decile,
    p.list_size AS practice_list_size,
    q.list_size AS peer_list_size,
    p.weighted_list_size AS practice_weighted_list_size,
    q.weighted_list_size AS peer_weighted_list_size
FROM marts.peers AS pe
LEFT JOIN core.practices AS p ON p.period = pe.period AND p.practice_code = pe.practice_code
LEFT JOIN core.practices AS q ON q.period = pe.period AND q.practice_code = pe.peer_code
