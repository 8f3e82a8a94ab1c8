-- Period helpers. Monthly periods are 'YYYY-MM', financial years 'YYYY-YY' (April to March).
-- From 2013-14 on, a financial year's second part is above 12, which tells the two apart.

-- true for a financial year such as '2022-23', false for a month such as '2023-02'.
CREATE OR REPLACE MACRO is_fy(p) AS TRY_CAST(substr(p, 6, 2) AS INTEGER) > 12;

-- The financial year a month falls in: fy_of_month('2023-02') = '2022-23'.
CREATE OR REPLACE MACRO fy_of_month(m) AS
    CASE WHEN CAST(substr(m, 6, 2) AS INTEGER) >= 4
         THEN substr(m, 1, 4) || '-' || lpad(CAST((CAST(substr(m, 1, 4) AS INTEGER) + 1) % 100 AS VARCHAR), 2, '0')
         ELSE CAST(CAST(substr(m, 1, 4) AS INTEGER) - 1 AS VARCHAR) || '-' || substr(m, 3, 2)
    END;

-- The first and last months of a period: the month itself, or April and March of a financial year.
CREATE OR REPLACE MACRO period_first_month(p) AS
    CASE WHEN is_fy(p) THEN substr(p, 1, 4) || '-04' ELSE p END;
CREATE OR REPLACE MACRO period_last_month(p) AS
    CASE WHEN is_fy(p) THEN CAST(CAST(substr(p, 1, 4) AS INTEGER) + 1 AS VARCHAR) || '-03' ELSE p END;

-- First and last day of a period.
CREATE OR REPLACE MACRO period_start(p) AS CAST(period_first_month(p) || '-01' AS DATE);
CREATE OR REPLACE MACRO period_end(p) AS last_day(CAST(period_last_month(p) || '-01' AS DATE));

-- A count's interval only makes sense for a usable denominator: NULL (so NULL out) otherwise.
CREATE OR REPLACE MACRO usable_den(num, den, statistic) AS
    CASE WHEN den > 0 AND num >= 0 AND (statistic <> 'proportion' OR num <= den) THEN den END;

-- Funnel limit of a rate or ratio at denominator n for a target rate (1 for a ratio whose n is
-- the expected count): the square-root normal approximation to the Poisson count,
-- (sqrt(E) + z/2)^2 with E = target * n, over n. z is signed: negative for the lower limit.
CREATE OR REPLACE MACRO poisson_funnel(target, n, z) AS
    CASE WHEN target > 0 AND n > 0 THEN
        CASE WHEN sqrt(target * n) + z / 2 <= 0 THEN 0.0 ELSE pow(sqrt(target * n) + z / 2, 2) END / n
    END;
