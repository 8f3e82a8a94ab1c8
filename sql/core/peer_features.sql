-- description: The need and context variables marts.peers compares practices on, one row per practice and period: the candidates (active or dormant, a list size above 0 and an IMD score) with IMD 2019 score, list size, % aged 0-4, 65+ and 85+, rurality, dispensing status and the weighted/registered ratio, in that order (f). A table of its own so marts.peers recomputes only the periods whose features changed: a period's features reach into other periods (a year's latest month, the latest earlier payments file, the earliest as a fallback), and rebuilding this small table in full catches every such reach.
-- unique: period, practice_code
-- not_null: period, practice_code, f
--
-- Age structure: the period's month, or a financial year's last month, else the latest earlier
-- month, else the earliest. Rurality and dispensing: the payments file of the period's financial
-- year, else the latest earlier one, else the earliest. A missing value stays NULL (marts.peers
-- puts it at the variable's mean).
WITH pr AS (
    SELECT period, practice_code, list_size, weighted_list_size, imd_score,
        CASE WHEN is_fy(period) THEN period ELSE fy_of_month(period) END AS fy
    FROM core.practices
    WHERE status IN ('active', 'dormant') AND list_size > 0 AND imd_score IS NOT NULL
),
age AS (
    SELECT practice_code, period AS age_period, pct_age_0_4, pct_age_65_plus, pct_age_85_plus
    FROM core.age_profile
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
)
SELECT period, practice_code, f FROM feat
