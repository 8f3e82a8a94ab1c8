// Package metrics implements the statistical methods gplens publishes, as
// plain functions over float64 slices and small structs, so its numbers agree
// with Fingertips, PHEindicatormethods (UKHSA/OHID) and NHSRplotthedots
// (NHS-R, Making Data Count):
//
//   - intervals: Wilson (proportions), Byar's and exact Poisson (counts),
//     PHE's rate rule (exact below 10 events, Byar's from 10), means with
//     the t distribution, directly standardised rates (Dobson) and
//     indirectly standardised ratios and rates;
//   - comparison with a benchmark at 95% and 99.8% with polarity;
//   - funnel limits and significance for proportions, ratios and rates, and
//     Spiegelhalter's overdispersion adjustment;
//   - slope and relative index of inequality with seeded simulated limits;
//   - PHE quantiles, RightCare-style similar-practice peers and opportunity;
//   - XmR statistical process control charts;
//   - QOF achievement, points, prevalence and payment.
//
// Missing results are NaN; invalid input is an error wrapping ErrInvalid,
// never a panic. The package keeps no global state. RegisterSQL exposes the
// methods as DuckDB SQL functions (see the README for the reference).
package metrics
