-- materialized: view
-- description: marts.trends under disclosure control: for non-public indicators (referral rates) the XmR chart (mean, limits, point types, variation icon) is computed from the published months only, and a withheld month is a row with NULL value, limits and point type, value_suppressed set and its suppression_reason.
-- unique: indicator_id, area_level, area_code, period
--
-- Public series (and list_size) pass through from marts.trends; the non-public ones come from
-- disclosure.trends. A view, so the million public rows are not written again each month
-- (England: 2.3-3.4 s a build, and as much again at the commit); snapshots hold its rows as a table.
SELECT t.*, false AS value_suppressed, CAST(NULL AS VARCHAR) AS suppression_reason
FROM marts.trends AS t
WHERE t.indicator_id NOT IN (SELECT indicator_id FROM core.indicators WHERE NOT coalesce(public, false))
UNION ALL
SELECT * FROM disclosure.trends
