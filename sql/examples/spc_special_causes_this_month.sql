-- What changed this month?
-- Series whose latest month is a special cause on the SPC (XmR) chart: a point outside the
-- process limits, a run or a trend, read with the indicator's polarity (improvement or
-- concern; neutral high/low where no direction is better). "This month" is the latest
-- month in the data; put a date in place of max(month) to look at another.
WITH this_month AS (
    SELECT max(month) AS month FROM analyst.trends
)
SELECT
    t.indicator_name,
    t.area_level,
    t.area_code,
    t.area_name,
    t.period,
    round(t.value, 2) AS value,
    round(t.mean, 2) AS mean,
    round(t.lpl, 2) AS lower_limit,
    round(t.upl, 2) AS upper_limit,
    t.point_type,
    t.months_in_series
FROM analyst.trends AS t
JOIN this_month USING (month)
WHERE t.special_cause
ORDER BY t.point_type LIKE '%concern' DESC, t.indicator_name, t.area_level, t.area_code;
