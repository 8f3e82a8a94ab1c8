-- Macros shared by the models.
CREATE OR REPLACE MACRO pct(n, d) AS 100.0 * n / nullif(d, 0);
