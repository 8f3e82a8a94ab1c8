-- description: One current name per area code and level: the name as the publisher spells it in the latest period that names the code, statistical publications before ODS reference files (see core.area_names; no change of case); where a month and a financial year end on the same day (March), the month's file first, then by source and name, so the choice never depends on row order. England is 'England'.
-- unique: area_level, area_code
-- not_null: area_level, area_code, area_name, name_period, name_source
SELECT area_level, area_code,
    arg_min(area_name, (source_rank >= 9, -epoch(period_end(period)), source_rank, is_fy(period), source, area_name)) AS area_name,
    arg_min(period, (source_rank >= 9, -epoch(period_end(period)), source_rank, is_fy(period), source, area_name)) AS name_period,
    arg_min(source, (source_rank >= 9, -epoch(period_end(period)), source_rank, is_fy(period), source, area_name)) AS name_source
FROM core.area_names
GROUP BY area_level, area_code
UNION ALL
SELECT 'england', 'E92000001', 'England', max(period), 'gplens'
FROM core.periods
