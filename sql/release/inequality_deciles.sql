-- description: marts.inequality_deciles under disclosure control: for non-public indicators a withheld decile count (disclosure.cells) is NULL with numerator_suppressed and value_suppressed set and suppression_reason, its value and limits NULL too; where the rule rounds, value and limits come from the rounded count.
-- incremental: period
-- unique: indicator_id, period, area_level, area_code, imd_decile
-- not_null: indicator_id, period, area_level, area_code, imd_decile, practices, numerator_suppressed, value_suppressed
-- accepted_values: suppression_reason in ('primary', 'secondary')
WITH private AS (
    SELECT d.*, i.statistic, i.multiplier, c.reason, coalesce(c.round_to, 1) AS round_to,
        CASE WHEN c.reason IS NOT NULL THEN NULL
             WHEN coalesce(c.round_to, 1) > 1 THEN round(d.numerator / c.round_to) * c.round_to
             ELSE d.numerator END AS rnum
    FROM marts.inequality_deciles AS d
    JOIN core.indicators AS i USING (indicator_id)
    -- the refreshed periods' cells only: the join's build side is otherwise every period's
    LEFT JOIN (SELECT * FROM disclosure.cells WHERE decile > 0 AND in_build(period)) AS c
        ON c.indicator_id = d.indicator_id AND c.period = d.period AND c.area_level = d.area_level
       AND c.area_code = d.area_code AND c.decile = d.imd_decile
    WHERE NOT coalesce(i.public, false) AND in_build(d.period)
)
SELECT d.*, false AS numerator_suppressed, false AS value_suppressed, CAST(NULL AS VARCHAR) AS suppression_reason
FROM marts.inequality_deciles AS d
SEMI JOIN core.indicators AS i ON i.indicator_id = d.indicator_id AND coalesce(i.public, false)
WHERE in_build(d.period)
UNION ALL BY NAME
SELECT indicator_id, period, area_level, area_code, imd_decile,
    CAST(rnum AS DOUBLE) AS numerator, denominator,
    CASE WHEN rnum IS NULL THEN NULL WHEN round_to > 1 THEN rnum / denominator * multiplier ELSE value END AS value,
    CASE WHEN rnum IS NULL THEN NULL WHEN round_to > 1 THEN
        CASE statistic
            WHEN 'proportion' THEN wilson_lower(rnum, usable_den(rnum, denominator, statistic), 0.95) * multiplier
            WHEN 'rate' THEN rate_lower(rnum, usable_den(rnum, denominator, statistic), multiplier, 0.95)
            WHEN 'ratio' THEN isr_lower(rnum, usable_den(rnum, denominator, statistic), 0.95) * multiplier END
        ELSE lower95 END AS lower95,
    CASE WHEN rnum IS NULL THEN NULL WHEN round_to > 1 THEN
        CASE statistic
            WHEN 'proportion' THEN wilson_upper(rnum, usable_den(rnum, denominator, statistic), 0.95) * multiplier
            WHEN 'rate' THEN rate_upper(rnum, usable_den(rnum, denominator, statistic), multiplier, 0.95)
            WHEN 'ratio' THEN isr_upper(rnum, usable_den(rnum, denominator, statistic), 0.95) * multiplier END
        ELSE upper95 END AS upper95,
    practices,
    reason IS NOT NULL AS numerator_suppressed,
    reason IS NOT NULL AS value_suppressed,
    reason AS suppression_reason
FROM private
