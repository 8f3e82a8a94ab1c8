package publish

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gplens/gplens/data"
	"github.com/gplens/gplens/period"
)

// Num is a nullable number as read from the warehouse.
type Num struct {
	V     float64
	Valid bool
}

func num(v float64) Num { return Num{V: v, Valid: true} }

type indicator struct {
	ID, Name, Domain, Source, Statistic, Unit string
	Multiplier                                float64
	Polarity, Cadence                         string
	Public                                    bool
	Description                               string
	// Period shown in packs of the month (see choosePeriods); "" when none.
	Period string
}

// plan is what every pack of one month shares: the catalogue with the
// period chosen per indicator, the practice-dimension month and the
// precision of published figures. Rows are not loaded here: each section
// streams its own.
type plan struct {
	schema         string
	period         string
	practicePeriod string
	catalogue      []*indicator
	byID           map[string]*indicator
	precision      map[string][3]int // unit (or measure:<name>) -> value, numerator, denominator dp
	listDownTo     map[string]string // Options.ListDownTo, normalised
}

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func tableExists(ctx context.Context, db *sql.DB, schema, table string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx,
		`SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`,
		schema, table).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up %s.%s: %w", schema, table, err)
	}
	return n > 0, nil
}

func loadPlan(ctx context.Context, db *sql.DB, opts *Options) (*plan, error) {
	pl := &plan{schema: opts.Schema, period: opts.Period, byID: map[string]*indicator{}, listDownTo: opts.ListDownTo}
	prec, err := loadPrecision(opts.Workspace)
	if err != nil {
		return nil, err
	}
	pl.precision = prec
	err = db.QueryRowContext(ctx, `SELECT coalesce(max(period), '') FROM core.practices
		WHERE period <= ? AND regexp_full_match(period, '[0-9]{4}-(0[1-9]|1[0-2])')`, opts.Period).Scan(&pl.practicePeriod)
	if err != nil {
		return nil, fmt.Errorf("read core.practices periods: %w", err)
	}
	if pl.practicePeriod == "" {
		return nil, fmt.Errorf("core.practices has no practices for %s or before it", opts.Period)
	}
	if err := pl.loadCatalogue(ctx, db); err != nil {
		return nil, err
	}
	if err := pl.choosePeriods(ctx, db); err != nil {
		return nil, err
	}
	return pl, nil
}

// loadPrecision reads data/publish_precision.csv (or the workspace's own).
func loadPrecision(workspace string) (map[string][3]int, error) {
	t, err := data.ReadCSV(workspace, "publish_precision.csv")
	if err != nil {
		return nil, err
	}
	out := map[string][3]int{}
	for i, r := range t.Rows {
		var dp [3]int
		for j, k := range []string{"value_dp", "numerator_dp", "denominator_dp"} {
			n, err := strconv.Atoi(r[k])
			if err != nil || n < 0 || n > 12 {
				return nil, fmt.Errorf("publish_precision.csv line %d: %s %q is not 0..12", t.Lines[i], k, r[k])
			}
			dp[j] = n
		}
		out[r["unit"]] = dp
	}
	if _, ok := out["*"]; !ok {
		return nil, fmt.Errorf("publish_precision.csv: no default row (unit *)")
	}
	return out, nil
}

// dp gives the decimals for a column of kind dpValue/dpNumerator/dpDenominator
// of a figure in unit (or "measure:<name>").
func (pl *plan) dp(unit string, kind int) int {
	p, ok := pl.precision[unit]
	if !ok {
		p = pl.precision["*"]
	}
	switch kind {
	case dpNumerator:
		return p[1]
	case dpDenominator:
		return p[2]
	}
	return p[0]
}

// round to dp decimals. The value is first cut to 12 significant digits
// (more when dp needs them), so sums that differ only in their last bits,
// as parallel aggregation leaves them, round alike even next to a half;
// then strconv's correctly rounded formatting gives the decimal. -0 is 0.
func round(v float64, dp int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return 0
	}
	if dp >= 0 && v == math.Trunc(v) && math.Abs(v) < 1e12 {
		return v // a whole number of at most 12 digits: roundDigits gives it back unchanged
	}
	if r, ok := roundFast(v, dp); ok {
		return r
	}
	return roundDigits(v, dp)
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12}

// roundFast is roundDigits by arithmetic, for the values where that cannot
// differ: with x = |v|·10^dp below 10^9 the cut to 12 significant digits moves
// x by at most 5·10^-4 and the product's own error is below 10^-7, so when x's
// fraction is more than 10^-3 from a half both steps round x the same way, and
// k/10^dp (both exact) divides to the double nearest the decimal, as
// ParseFloat gives it. Near a half, or for larger x, ok is false. Publish
// rounds every figure of a pack; the digit steps were 6% of its CPU.
func roundFast(v float64, dp int) (float64, bool) {
	if dp < 0 || dp >= len(pow10) {
		return 0, false
	}
	x := math.Abs(v) * pow10[dp]
	if !(x < 1e9) {
		return 0, false
	}
	k := math.Floor(x)
	frac := x - k
	if math.Abs(frac-0.5) <= 1e-3 {
		return 0, false
	}
	if frac > 0.5 {
		k++
	}
	if k == 0 {
		return 0, true
	}
	return math.Copysign(k/pow10[dp], v), true
}

// roundDigits is round without the whole-number shortcut.
func roundDigits(v float64, dp int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return 0
	}
	sig := 12
	if d := int(math.Floor(math.Log10(math.Abs(v)))) + 1 + dp + 1; d > sig {
		sig = min(d, 15)
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', sig, 64), 64)
	if err != nil {
		return v
	}
	out, err := strconv.ParseFloat(strconv.FormatFloat(r, 'f', dp, 64), 64)
	if err != nil || out == 0 {
		return 0
	}
	return out
}

// appendShortest appends strconv.AppendFloat(b, v, 'f', -1, 64): the
// shortest decimal that reads back as v. Publish writes every figure that
// way (feeds and workbooks), after round has made most of them the double
// nearest a decimal of a few places, and strconv's general algorithm was
// most of the feeds' formatting. So it first looks for such a decimal: a
// whole number, or m/10^dp for dp up to 6 with |m| < 10^15. A decimal of
// at most 15 significant digits is the only one of that length or shorter
// that reads back as its double (they lie at least 10^-15 apart relative,
// doubles at most 2.2·10^-16), so it is strconv's answer; the first dp
// that fits leaves no trailing zero. Anything else goes to strconv.
func appendShortest(b []byte, v float64) []byte {
	if v == 0 && math.Signbit(v) {
		return append(b, "-0"...)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	for dp := 1; dp <= 6; dp++ {
		m := math.Round(v * pow10[dp])
		if !(math.Abs(m) < 1e15) {
			break
		}
		if m/pow10[dp] == v {
			return appendScaled(b, int64(m), dp)
		}
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendScaled appends m/10^dp (dp >= 1) in plain decimal notation.
func appendScaled(b []byte, m int64, dp int) []byte {
	if m < 0 {
		b = append(b, '-')
		m = -m
	}
	p := int64(pow10[dp])
	b = strconv.AppendInt(b, m/p, 10)
	b = append(b, '.')
	frac := m % p
	for q := p / 10; q > frac && q > 1; q /= 10 {
		b = append(b, '0') // leading zeros of the fraction
	}
	return strconv.AppendInt(b, frac, 10)
}

func (pl *plan) loadCatalogue(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT indicator_id, coalesce(name, indicator_id), coalesce(domain, ''),
		coalesce(source, ''), coalesce(statistic, ''), coalesce(unit, ''), coalesce(multiplier, 1),
		coalesce(polarity, 'no_judgement'), coalesce(cadence, ''), coalesce(public, false), coalesce(description, '')
		FROM core.indicators ORDER BY indicator_id`)
	if err != nil {
		return fmt.Errorf("read core.indicators: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		in := &indicator{}
		if err := rows.Scan(&in.ID, &in.Name, &in.Domain, &in.Source, &in.Statistic, &in.Unit, &in.Multiplier,
			&in.Polarity, &in.Cadence, &in.Public, &in.Description); err != nil {
			return fmt.Errorf("read core.indicators: %w", err)
		}
		pl.catalogue = append(pl.catalogue, in)
		pl.byID[in.ID] = in
	}
	return rows.Err()
}

// periodGroup names the indicators that share one period in a pack: the
// domains of one workbook sheet (QOF achievement and prevalence come from
// one QOF year), else the domain alone.
func periodGroup(domain string) string {
	for _, s := range sectionByName("indicator_values").Sheets {
		if slices.Contains(s.Domains, domain) {
			return s.Name
		}
	}
	return domain
}

// available says whether data of period p is available for a pack of
// month m: a month up to m, or a financial year from its last month (March)
// on, as marts.area_summary counts it.
func available(p, m string) bool {
	if period.IsMonth(p) {
		return p <= m
	}
	end, ok := period.LastMonth(p)
	return ok && end <= m
}

// choosePeriods picks one period per period group for the pack month: the
// latest available by then with data for any of the group's indicators.
// Every indicator of the group shows that period or nothing, so no section
// mixes years; the Summary's headline figures follow the same choice.
func (pl *plan) choosePeriods(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT indicator_id, period FROM `+pl.schema+`.indicator_values ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("read indicator periods: %w", err)
	}
	defer rows.Close()
	has := map[string]bool{}
	best := map[string]string{}
	for rows.Next() {
		var id, p string
		if err := rows.Scan(&id, &p); err != nil {
			return fmt.Errorf("read indicator periods: %w", err)
		}
		in := pl.byID[id]
		if in == nil || !available(p, pl.period) {
			continue
		}
		has[id+"|"+p] = true
		g := periodGroup(in.Domain)
		if later(p, best[g]) {
			best[g] = p
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read indicator periods: %w", err)
	}
	for _, in := range pl.catalogue {
		if p := best[periodGroup(in.Domain)]; has[in.ID+"|"+p] {
			in.Period = p
		}
	}
	return nil
}

// later compares periods by when they end: "2023-24" ends 2024-03.
func later(p, q string) bool {
	if q == "" {
		return true
	}
	end := func(x string) string {
		if e, ok := period.LastMonth(x); ok && period.IsYear(x) {
			return e + "~" // a year sorts after its own last month's data
		}
		return x
	}
	return end(p) > end(q)
}

// chosenSQL is the (indicator_id, period) relation of the chosen periods.
func (pl *plan) chosenSQL() string {
	var vals []string
	for _, in := range pl.catalogue {
		if in.Period != "" {
			vals = append(vals, "("+sqlQuote(in.ID)+", "+sqlQuote(in.Period)+")")
		}
	}
	if len(vals) == 0 {
		return "(SELECT NULL::VARCHAR AS indicator_id, NULL::VARCHAR AS period WHERE false)"
	}
	return "(SELECT * FROM (VALUES " + strings.Join(vals, ", ") + ") AS chosen(indicator_id, period))"
}

// chosenPeriodsSQL is the IN list of the chosen periods, sorted: (NULL)
// when none, which matches no row, as chosenSQL then does.
func (pl *plan) chosenPeriodsSQL() string {
	var ps []string
	for _, in := range pl.catalogue {
		if in.Period != "" {
			ps = append(ps, in.Period)
		}
	}
	slices.Sort(ps)
	ps = slices.Compact(ps)
	if len(ps) == 0 {
		return "(NULL)"
	}
	for i, p := range ps {
		ps[i] = sqlQuote(p)
	}
	return "(" + strings.Join(ps, ", ") + ")"
}

// unitOf gives the precision key of an indicator id.
func (pl *plan) unitOf(id string) string {
	if in := pl.byID[id]; in != nil {
		return in.Unit
	}
	return "*"
}
