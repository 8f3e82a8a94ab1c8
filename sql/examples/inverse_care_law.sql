-- Does resource follow need? (the inverse care law)
-- Practices grouped by national IMD decile (1 = most deprived): patients, payments per
-- weighted patient, GP FTE per 10,000 patients and QOF achievement, pooled over the
-- practices in each decile, each as a ratio to the all-practice figure. Where need is
-- highest (decile 1) and resource lowest, the inverse care law holds.
WITH p AS (
    SELECT *
    FROM analyst.practices
    WHERE status = 'active' AND imd_decile IS NOT NULL
),
by_decile AS (
    SELECT
        imd_decile,
        count(*) AS practices,
        sum(list_size)::BIGINT AS patients,
        sum(total_payments) / nullif(sum(weighted_list_size) FILTER (WHERE total_payments IS NOT NULL), 0) AS payments_per_weighted_patient,
        sum(gp_fte_per_10k * list_size) / nullif(sum(list_size) FILTER (WHERE gp_fte_per_10k IS NOT NULL), 0) AS gp_fte_per_10k,
        sum(qof_achievement_pct * list_size) / nullif(sum(list_size) FILTER (WHERE qof_achievement_pct IS NOT NULL), 0) AS qof_achievement_pct
    FROM p
    GROUP BY imd_decile
),
overall AS (
    SELECT
        sum(total_payments) / nullif(sum(weighted_list_size) FILTER (WHERE total_payments IS NOT NULL), 0) AS payments_per_weighted_patient,
        sum(gp_fte_per_10k * list_size) / nullif(sum(list_size) FILTER (WHERE gp_fte_per_10k IS NOT NULL), 0) AS gp_fte_per_10k
    FROM p
)
SELECT
    d.imd_decile,
    d.practices,
    d.patients,
    round(d.payments_per_weighted_patient, 2) AS payments_per_weighted_patient,
    round(d.payments_per_weighted_patient / o.payments_per_weighted_patient, 3) AS payments_ratio,
    round(d.gp_fte_per_10k, 2) AS gp_fte_per_10k,
    round(d.gp_fte_per_10k / o.gp_fte_per_10k, 3) AS gp_fte_ratio,
    round(d.qof_achievement_pct, 1) AS qof_achievement_pct
FROM by_decile AS d, overall AS o
ORDER BY d.imd_decile;
