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

-- The quantile_cont (type 7) of a group's values from their sorted list (NULLs left out):
-- quantile_cont keeps a buffer per group, and over millions of small groups (each practice's
-- ten or so peers, per indicator and period) that was most of marts.peer_comparisons; a sorted
-- list costs half as much. Interpolated as quantile_cont does, lo * (1 - d) + hi * d, so the
-- values are the same to the bit; NULL for no values.
CREATE OR REPLACE MACRO sorted_quantile(xs, q) AS
    CASE WHEN floor((len(xs) - 1) * CAST(q AS DOUBLE)) = ceil((len(xs) - 1) * CAST(q AS DOUBLE))
         THEN xs[CAST(floor((len(xs) - 1) * CAST(q AS DOUBLE)) AS BIGINT) + 1]
         ELSE xs[CAST(floor((len(xs) - 1) * CAST(q AS DOUBLE)) AS BIGINT) + 1] * (1 - ((len(xs) - 1) * CAST(q AS DOUBLE) - floor((len(xs) - 1) * CAST(q AS DOUBLE))))
            + xs[CAST(ceil((len(xs) - 1) * CAST(q AS DOUBLE)) AS BIGINT) + 1] * ((len(xs) - 1) * CAST(q AS DOUBLE) - floor((len(xs) - 1) * CAST(q AS DOUBLE)))
    END;
