-- Sums that do not depend on the order rows are added in. A parallel sum of doubles
-- adds its partial sums in whatever order the threads finish, so a total of fractional
-- values (payments, FTE, expected counts) changes in its last bits from build to build;
-- an incremental build then sees every period of what reads it as changed. Each value
-- is rounded to 12 decimal places and added exactly (DECIMAL(38,12), totals up to 1e26).
-- Sums of counts are unchanged. Conditional sums: exact_sum(CASE WHEN ... THEN x END).
CREATE OR REPLACE MACRO exact_sum(x) AS CAST(sum(CAST(x AS DECIMAL(38, 12))) AS DOUBLE);

-- The most frequent non-NULL value, ties to the smallest: mode() takes whichever of the tied
-- values its threads met first, so a PCN with as many practices in two sub-ICBs (or a name
-- spelled two ways equally often) could change parent or name from build to build.
CREATE OR REPLACE MACRO most_common(x) AS
    list_sort(list_transform(map_entries(histogram(x)), e -> {'n': -e.value, 'k': e.key}))[1].k;
