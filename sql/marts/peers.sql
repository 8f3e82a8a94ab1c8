-- description: Similar practices (after NHS RightCare's "similar 10"): for every practice and period, its K most similar practices in England (K = peer_k in data/investment_settings.csv, 10 by default), nearest first, with the weighted Euclidean distance over standardised need and context variables (data/peer_weights.csv): IMD 2019 score, list size, % aged 0-4, 65+ and 85+, rurality, dispensing status and the Carr-Hill weighted/registered ratio. Closed and not-yet-open practices are neither given peers nor chosen as peers.
-- unique: period, practice_code, peer_code
-- unique: period, practice_code, rank
-- not_null: period, practice_code, peer_code, rank, distance
-- range: rank >= 1
-- range: distance >= 0
-- row_count: > 0
--
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
WITH pr AS (
    SELECT period, practice_code, list_size, weighted_list_size, imd_score,
        CASE WHEN is_fy(period) THEN period ELSE fy_of_month(period) END AS fy
    FROM core.practices
    WHERE status IN ('active', 'dormant') AND list_size > 0 AND imd_score IS NOT NULL
),
age AS (
    SELECT practice_code, period AS age_period,
        100.0 * sum(patients) FILTER (WHERE lo < 5) / sum(patients) AS pct_age_0_4,
        100.0 * sum(patients) FILTER (WHERE lo >= 65) / sum(patients) AS pct_age_65_plus,
        100.0 * sum(patients) FILTER (WHERE lo >= 85) / sum(patients) AS pct_age_85_plus
    FROM (SELECT practice_code, period, patients,
              TRY_CAST(regexp_extract(age_band, '^([0-9]+)', 1) AS INTEGER) AS lo
          FROM core.population)
    WHERE lo IS NOT NULL
    GROUP BY practice_code, period
    HAVING sum(patients) > 0
),
age_first AS (
    SELECT practice_code, arg_min(pct_age_0_4, age_period) AS pct_age_0_4,
        arg_min(pct_age_65_plus, age_period) AS pct_age_65_plus, arg_min(pct_age_85_plus, age_period) AS pct_age_85_plus
    FROM age GROUP BY practice_code
),
ctx AS (
    SELECT practice_code, period AS ctx_fy,
        max(CASE WHEN upper(trim(rurality)) = 'RURAL' THEN 1 WHEN upper(trim(rurality)) = 'URBAN' THEN 0 END) AS rural,
        max(CASE WHEN upper(trim(dispensing_practice)) IN ('YES', 'Y') THEN 1
                 WHEN upper(trim(dispensing_practice)) IN ('NO', 'N') THEN 0 END) AS dispensing
    FROM staging.payments
    GROUP BY practice_code, period
),
ctx_first AS (
    SELECT practice_code, arg_min(rural, ctx_fy) FILTER (WHERE rural IS NOT NULL) AS rural,
        arg_min(dispensing, ctx_fy) FILTER (WHERE dispensing IS NOT NULL) AS dispensing
    FROM ctx GROUP BY practice_code
),
feat AS (
    SELECT pr.period, pr.practice_code,
        [pr.imd_score, pr.list_size,
         coalesce(a.pct_age_0_4, af.pct_age_0_4), coalesce(a.pct_age_65_plus, af.pct_age_65_plus),
         coalesce(a.pct_age_85_plus, af.pct_age_85_plus),
         coalesce(c.rural, cf.rural), coalesce(c.dispensing, cf.dispensing),
         pr.weighted_list_size / pr.list_size]::DOUBLE[] AS f
    FROM pr
    ASOF LEFT JOIN age AS a ON a.practice_code = pr.practice_code AND period_last_month(pr.period) >= a.age_period
    LEFT JOIN age_first AS af ON af.practice_code = pr.practice_code
    ASOF LEFT JOIN ctx AS c ON c.practice_code = pr.practice_code AND pr.fy >= c.ctx_fy
    LEFT JOIN ctx_first AS cf ON cf.practice_code = pr.practice_code
),
cfg AS (
    -- nearest_peers checks that every variable has exactly one weight
    SELECT (SELECT string_agg(variable || '=' || CAST(weight AS VARCHAR), ';' ORDER BY variable) FROM ref.peer_weights) AS weights,
        (SELECT CAST(value AS BIGINT) FROM ref.investment_settings WHERE setting = 'peer_k') AS k
),
nn AS (
    SELECT period,
        unnest(nearest_peers(list(practice_code ORDER BY practice_code), list(f ORDER BY practice_code),
            ['imd_score', 'list_size', 'pct_age_0_4', 'pct_age_65_plus', 'pct_age_85_plus', 'rural', 'dispensing', 'weighted_ratio'],
            any_value(cfg.weights), any_value(cfg.k))) AS p
    FROM feat CROSS JOIN cfg
    GROUP BY period
)
SELECT period, p.id AS practice_code, p.peer AS peer_code, CAST(p.rank AS INTEGER) AS rank, p.distance
FROM nn
