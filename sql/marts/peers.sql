-- description: Similar practices (after NHS RightCare's "similar 10"): for every practice and period, its K most similar practices in England (K = peer_k in data/investment_settings.csv, 10 by default), nearest first, with the weighted Euclidean distance over standardised need and context variables (data/peer_weights.csv): IMD 2019 score, list size, % aged 0-4, 65+ and 85+, rurality, dispensing status and the Carr-Hill weighted/registered ratio. Closed and not-yet-open practices are neither given peers nor chosen as peers.
-- incremental: period
-- unique: period, practice_code, peer_code
-- unique: period, practice_code, rank
-- not_null: period, practice_code, peer_code, rank, distance
-- range: rank >= 1
-- range: distance >= 0
--
-- No rows when the lake has no deprivation scores (a practice needs one to be given or chosen as a peer).
-- Method (nearest_peers, metrics/peers.go): each variable is capped at its national mean + 5 SD,
-- square-rooted and z-scored with the population SD over the period's practices (RightCare's
-- standardisation); distance = sqrt(sum_k w_k (z_ik - z_jk)^2) with the weights of
-- data/peer_weights.csv; the K nearest other practices, ties by practice code. Candidates: status
-- active or dormant in the period, a list size above 0 and an IMD score. A missing value of the
-- other variables (rurality is not in the payments files before 2017-18; age bands for a year
-- with no registrations by age) sits at the variable's mean (z = 0): it neither attracts nor
-- repels. Age structure: the period's month, or a financial year's last month, else the latest
-- earlier month, else the earliest. Rurality and dispensing: the payments file of the period's
-- financial year, else the latest earlier one, else the earliest.
WITH cfg AS (
    -- nearest_peers checks that every variable has exactly one weight
    SELECT (SELECT string_agg(variable || '=' || CAST(weight AS VARCHAR), ';' ORDER BY variable) FROM ref.peer_weights) AS weights,
        (SELECT CAST(value AS BIGINT) FROM ref.investment_settings WHERE setting = 'peer_k') AS k
),
nn AS (
    SELECT period,
        unnest(nearest_peers(list(practice_code ORDER BY practice_code), list(f ORDER BY practice_code),
            ['imd_score', 'list_size', 'pct_age_0_4', 'pct_age_65_plus', 'pct_age_85_plus', 'rural', 'dispensing', 'weighted_ratio'],
            any_value(cfg.weights), any_value(cfg.k))) AS p
    FROM core.peer_features AS feat CROSS JOIN cfg
    -- the periods whose features changed (core.peer_features is rebuilt whole, so it sees every
    -- reach of a period's features into other periods)
    WHERE in_build(feat.period)
    GROUP BY period
)
SELECT period, p.id AS practice_code, p.peer AS peer_code, CAST(p.rank AS INTEGER) AS rank, p.distance
FROM nn
