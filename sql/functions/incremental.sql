-- Incremental builds. When `gplens transform` refreshes a model declared `incremental: period`
-- for some periods only, it sets the variable gplens_periods to their list; in every other build
-- (and in `gplens sql`) it is NULL. A model filters its big inputs with WHERE in_build(period), on
-- reads whose rows feed only output rows of the same period, so a refresh reads just those periods.
CREATE OR REPLACE MACRO in_build(p) AS
    getvariable('gplens_periods') IS NULL OR list_contains(CAST(getvariable('gplens_periods') AS VARCHAR[]), CAST(p AS VARCHAR));
