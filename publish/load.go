package publish

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Num is a nullable number as read from the warehouse.
type Num struct {
	V     float64
	Valid bool
}

func (n *Num) Scan(src any) error {
	var f sql.NullFloat64
	if err := f.Scan(src); err != nil {
		return err
	}
	n.V, n.Valid = f.Float64, f.Valid
	return nil
}

func num(v float64) Num { return Num{V: v, Valid: true} }

// Str is a nullable string read as "" when NULL.
type Str string

func (s *Str) Scan(src any) error {
	var n sql.NullString
	if err := n.Scan(src); err != nil {
		return err
	}
	*s = Str(n.String)
	return nil
}

type indicator struct {
	ID, Name, Domain, Source, Statistic, Unit string
	Multiplier                                float64
	Polarity, Cadence                         string
	Public                                    bool
	Description                               string
	// Period chosen for this pack (monthly: the pack month or latest before;
	// annual: the latest financial year available by then).
	Period string
}

type practice struct {
	Code, Name, Postcode             string
	PCN, PCNName, SubICB, SubICBName string
	ICB, ICBName, Region, RegionName string
	Status                           string
	ListSize                         Num
	Weighted, IMDScore               Num
	IMDDecile, IMDQuintile           Num
	OpenDate, CloseDate              string
}

func (p *practice) code(level string) string {
	switch level {
	case "pcn":
		return p.PCN
	case "sub_icb":
		return p.SubICB
	case "icb":
		return p.ICB
	case "region":
		return p.Region
	}
	return ""
}

// ivRow is one marts.indicator_values row.
type ivRow struct {
	IndicatorID, Period, AreaLevel, AreaCode, AreaName string
	PracticeCode, PCN, SubICB, ICB, Region             string
	Numerator, Denominator, Value                      Num
	Lower95, Upper95, Lower998, Upper998               Num
	England, ICBValue, SubICBValue                     Num
	Comparison, Funnel, FunnelOD                       string
	FL95, FU95, FL998, FU998                           Num
	IMDDecile                                          Num
	PeerMean, Opportunity                              Num
	Suppressed                                         bool
	// Suppression says why a row is withheld: "upstream" (the models),
	// "primary" or "secondary"; "" when shown.
	Suppression string
	DQ          string
}

type ineqRow struct {
	IndicatorID, Period, AreaLevel, AreaCode, AreaName string
	SII, SIILower, SIIUpper, RII, RIILower, RIIUpper   Num
	Q1, Q5, Gap, Ratio                                 Num
}

type decileRow struct {
	IndicatorID, Period, AreaLevel, AreaCode string
	Decile                                   int
	Numerator, Denominator, Value            Num
	Lower95, Upper95                         Num
	Practices                                int
	Suppression                              string
}

type trendRow struct {
	IndicatorID, AreaLevel, AreaCode, AreaName, PracticeCode, Period string
	Month                                                            string
	Value, Mean, LPL, UPL, NearLPL, NearUPL                          Num
	PointType, Icon                                                  string
	// numerator of the month's indicator value, for disclosure control.
	Numerator   Num
	Suppression string
}

type summaryRow struct {
	AreaLevel, AreaCode, AreaName, Period           string
	Practices                                       Num
	ListSize, Weighted                              Num
	QOFFY                                           string
	QOFAch, QOFPoints                               Num
	PaymentsFY                                      string
	TotalPayments, PayPerWeighted, PayPerRegistered Num
	GPFTE, NurseFTE, DPCFTE, AdminFTE               Num
	Referrals, ReferralRate, TwoWWRate              Num
	IMDScore                                        Num
	Suppression                                     string
}

// warehouse is everything one period's packs need, read once.
type warehouse struct {
	period     string
	catalogue  []*indicator
	byID       map[string]*indicator
	practices  []*practice
	values     []*ivRow
	inequality []*ineqRow
	deciles    []*decileRow
	trends     []*trendRow
	summary    []*summaryRow
	// practicePeriod is the core.practices period used (the pack month or the
	// latest before it).
	practicePeriod string
}

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

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// fyEnd gives the month after a financial year "2023-24" ends ("2024-04"),
// so an annual figure counts as available for packs from then on.
func fyEnd(fy string) (string, bool) {
	if len(fy) != 7 || fy[4] != '-' {
		return "", false
	}
	var y int
	if _, err := fmt.Sscanf(fy[:4], "%d", &y); err != nil {
		return "", false
	}
	return fmt.Sprintf("%04d-04", y+1), true
}

func addMonths(period string, n int) string {
	t, err := time.Parse("2006-01", period)
	if err != nil {
		return period
	}
	return t.AddDate(0, n, 0).Format("2006-01")
}

func loadWarehouse(ctx context.Context, db *sql.DB, period string) (*warehouse, error) {
	w := &warehouse{period: period, byID: map[string]*indicator{}}
	if err := w.loadCatalogue(ctx, db); err != nil {
		return nil, err
	}
	if err := w.choosePeriods(ctx, db); err != nil {
		return nil, err
	}
	if err := w.loadPractices(ctx, db); err != nil {
		return nil, err
	}
	if err := w.loadValues(ctx, db); err != nil {
		return nil, err
	}
	if err := w.loadInequality(ctx, db); err != nil {
		return nil, err
	}
	if err := w.loadTrends(ctx, db); err != nil {
		return nil, err
	}
	if err := w.loadSummary(ctx, db); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *warehouse) loadCatalogue(ctx context.Context, db *sql.DB) error {
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
		w.catalogue = append(w.catalogue, in)
		w.byID[in.ID] = in
	}
	return rows.Err()
}

// choosePeriods picks, per indicator, the period a pack for month M shows:
// monthly indicators the latest month up to M; annual ones the latest
// financial year ended before M (or the one area_summary names for England).
func (w *warehouse) choosePeriods(ctx context.Context, db *sql.DB) error {
	named := map[string]string{}
	var qfy, pfy Str
	err := db.QueryRowContext(ctx, `SELECT qof_fy, payments_fy FROM marts.area_summary
		WHERE area_level = 'england' AND period = ? LIMIT 1`, w.period).Scan(&qfy, &pfy)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("read marts.area_summary financial years: %w", err)
	}
	named["qof"], named["prevalence"], named["investment"] = string(qfy), string(qfy), string(pfy)

	rows, err := db.QueryContext(ctx, `SELECT DISTINCT indicator_id, period FROM marts.indicator_values ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("read indicator periods: %w", err)
	}
	defer rows.Close()
	avail := map[string][]string{}
	for rows.Next() {
		var id, p string
		if err := rows.Scan(&id, &p); err != nil {
			return fmt.Errorf("read indicator periods: %w", err)
		}
		avail[id] = append(avail[id], p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read indicator periods: %w", err)
	}
	for _, in := range w.catalogue {
		ps := avail[in.ID]
		if fy := named[in.Domain]; fy != "" && slices.Contains(ps, fy) {
			in.Period = fy
			continue
		}
		for _, p := range ps { // ascending, so the last fit wins
			if periodRE.MatchString(p) {
				if p <= w.period {
					in.Period = p
				}
			} else if end, ok := fyEnd(p); ok && end <= w.period {
				in.Period = p
			}
		}
	}
	return nil
}

func (w *warehouse) chosen() []string {
	var out []string
	for _, in := range w.catalogue {
		if in.Period != "" {
			out = append(out, "("+sqlQuote(in.ID)+","+sqlQuote(in.Period)+")")
		}
	}
	return out
}

func (w *warehouse) loadPractices(ctx context.Context, db *sql.DB) error {
	err := db.QueryRowContext(ctx, `SELECT coalesce(max(period), '') FROM core.practices WHERE period <= ?`, w.period).Scan(&w.practicePeriod)
	if err != nil {
		return fmt.Errorf("read core.practices periods: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT practice_code, coalesce(practice_name, ''), postcode, pcn_code, pcn_name,
		sub_icb_code, sub_icb_name, icb_code, icb_name, region_code, region_name, coalesce(status, ''),
		list_size, weighted_list_size, imd_score, imd_decile, imd_quintile,
		coalesce(strftime(TRY_CAST(open_date AS DATE), '%Y-%m-%d'), ''), coalesce(strftime(TRY_CAST(close_date AS DATE), '%Y-%m-%d'), '')
		FROM core.practices WHERE period = ? ORDER BY practice_code`, w.practicePeriod)
	if err != nil {
		return fmt.Errorf("read core.practices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p := &practice{}
		var pc, pcn, pcnn, sub, subn, icb, icbn, reg, regn Str
		if err := rows.Scan(&p.Code, &p.Name, &pc, &pcn, &pcnn, &sub, &subn, &icb, &icbn, &reg, &regn, &p.Status,
			&p.ListSize, &p.Weighted, &p.IMDScore, &p.IMDDecile, &p.IMDQuintile, &p.OpenDate, &p.CloseDate); err != nil {
			return fmt.Errorf("read core.practices: %w", err)
		}
		p.Postcode, p.PCN, p.PCNName, p.SubICB, p.SubICBName = string(pc), string(pcn), string(pcnn), string(sub), string(subn)
		p.ICB, p.ICBName, p.Region, p.RegionName = string(icb), string(icbn), string(reg), string(regn)
		w.practices = append(w.practices, p)
	}
	return rows.Err()
}

const orderLevels = `CASE area_level WHEN 'england' THEN 0 WHEN 'region' THEN 1 WHEN 'icb' THEN 2 WHEN 'sub_icb' THEN 3 WHEN 'pcn' THEN 4 ELSE 5 END`

func (w *warehouse) loadValues(ctx context.Context, db *sql.DB) error {
	pairs := w.chosen()
	if len(pairs) == 0 {
		return nil
	}
	q := `SELECT indicator_id, period, area_level, coalesce(area_code, ''), coalesce(area_name, ''), practice_code, pcn_code, sub_icb_code, icb_code, region_code,
		numerator, denominator, value, lower95, upper95, lower998, upper998, england_value, icb_value, sub_icb_value,
		comparison, funnel_significance, funnel_significance_od, funnel_lower95, funnel_upper95, funnel_lower998, funnel_upper998,
		imd_decile, peer_mean, opportunity, coalesce(suppressed, false), dq_flag
		FROM marts.indicator_values WHERE (indicator_id, period) IN (` + strings.Join(pairs, ",") + `)
		ORDER BY indicator_id, ` + orderLevels + `, area_code`
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read marts.indicator_values: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := &ivRow{}
		var pc, pcn, sub, icb, reg, cmp, fs, fso, dq Str
		if err := rows.Scan(&r.IndicatorID, &r.Period, &r.AreaLevel, &r.AreaCode, &r.AreaName, &pc, &pcn, &sub, &icb, &reg,
			&r.Numerator, &r.Denominator, &r.Value, &r.Lower95, &r.Upper95, &r.Lower998, &r.Upper998, &r.England, &r.ICBValue, &r.SubICBValue,
			&cmp, &fs, &fso, &r.FL95, &r.FU95, &r.FL998, &r.FU998, &r.IMDDecile, &r.PeerMean, &r.Opportunity, &r.Suppressed, &dq); err != nil {
			return fmt.Errorf("read marts.indicator_values: %w", err)
		}
		r.PracticeCode, r.PCN, r.SubICB, r.ICB, r.Region = string(pc), string(pcn), string(sub), string(icb), string(reg)
		r.Comparison, r.Funnel, r.FunnelOD, r.DQ = string(cmp), string(fs), string(fso), string(dq)
		if r.AreaLevel == "practice" && r.PracticeCode == "" {
			r.PracticeCode = r.AreaCode
		}
		if r.Suppressed {
			r.Suppression = "upstream"
		}
		w.values = append(w.values, r)
	}
	return rows.Err()
}

func (w *warehouse) loadInequality(ctx context.Context, db *sql.DB) error {
	pairs := w.chosen()
	if len(pairs) == 0 {
		return nil
	}
	in := `(indicator_id, period) IN (` + strings.Join(pairs, ",") + `)`
	if ok, err := tableExists(ctx, db, "marts", "inequality"); err != nil {
		return err
	} else if ok {
		rows, err := db.QueryContext(ctx, `SELECT indicator_id, period, area_level, coalesce(area_code, ''), coalesce(area_name, ''),
			sii, sii_lower, sii_upper, rii, rii_lower, rii_upper, q1_value, q5_value, quintile_gap, quintile_ratio
			FROM marts.inequality WHERE `+in+` ORDER BY indicator_id, `+orderLevels+`, area_code`)
		if err != nil {
			return fmt.Errorf("read marts.inequality: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r := &ineqRow{}
			if err := rows.Scan(&r.IndicatorID, &r.Period, &r.AreaLevel, &r.AreaCode, &r.AreaName, &r.SII, &r.SIILower, &r.SIIUpper,
				&r.RII, &r.RIILower, &r.RIIUpper, &r.Q1, &r.Q5, &r.Gap, &r.Ratio); err != nil {
				return fmt.Errorf("read marts.inequality: %w", err)
			}
			w.inequality = append(w.inequality, r)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read marts.inequality: %w", err)
		}
	}
	if ok, err := tableExists(ctx, db, "marts", "inequality_deciles"); err != nil {
		return err
	} else if ok {
		rows, err := db.QueryContext(ctx, `SELECT indicator_id, period, area_level, coalesce(area_code, ''), imd_decile,
			numerator, denominator, value, lower95, upper95, coalesce(practices, 0)
			FROM marts.inequality_deciles WHERE `+in+` AND imd_decile BETWEEN 1 AND 10 ORDER BY indicator_id, `+orderLevels+`, area_code, imd_decile`)
		if err != nil {
			return fmt.Errorf("read marts.inequality_deciles: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r := &decileRow{}
			if err := rows.Scan(&r.IndicatorID, &r.Period, &r.AreaLevel, &r.AreaCode, &r.Decile, &r.Numerator, &r.Denominator,
				&r.Value, &r.Lower95, &r.Upper95, &r.Practices); err != nil {
				return fmt.Errorf("read marts.inequality_deciles: %w", err)
			}
			w.deciles = append(w.deciles, r)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read marts.inequality_deciles: %w", err)
		}
	}
	return nil
}

// loadTrends reads the 24 months up to the pack month, with each point's
// numerator for non-public indicators so small counts can be withheld.
func (w *warehouse) loadTrends(ctx context.Context, db *sql.DB) error {
	if ok, err := tableExists(ctx, db, "marts", "trends"); err != nil || !ok {
		return err
	}
	var private []string
	for _, in := range w.catalogue {
		if !in.Public {
			private = append(private, sqlQuote(in.ID))
		}
	}
	join := `NULL::DOUBLE AS numerator FROM marts.trends t`
	if len(private) > 0 {
		join = `iv.numerator FROM marts.trends t LEFT JOIN (SELECT indicator_id, period, area_level, area_code, numerator
			FROM marts.indicator_values WHERE indicator_id IN (` + strings.Join(private, ",") + `)) iv
			USING (indicator_id, period, area_level, area_code)`
	}
	q := `SELECT t.indicator_id, t.area_level, coalesce(t.area_code, ''), coalesce(t.area_name, ''), t.practice_code, t.period,
		coalesce(strftime(TRY_CAST(t.month AS DATE), '%Y-%m-%d'), t.period || '-01'),
		t.value, t.mean, t.lpl, t.upl, t.near_lpl, t.near_upl, t.point_type, t.variation_icon, ` + join + `
		WHERE t.period <= ? AND t.period > ?
		ORDER BY t.indicator_id, CASE t.area_level WHEN 'england' THEN 0 WHEN 'region' THEN 1 WHEN 'icb' THEN 2 WHEN 'sub_icb' THEN 3 WHEN 'pcn' THEN 4 ELSE 5 END, t.area_code, t.period`
	rows, err := db.QueryContext(ctx, q, w.period, addMonths(w.period, -24))
	if err != nil {
		return fmt.Errorf("read marts.trends: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := &trendRow{}
		var pc, pt, icon Str
		if err := rows.Scan(&r.IndicatorID, &r.AreaLevel, &r.AreaCode, &r.AreaName, &pc, &r.Period, &r.Month,
			&r.Value, &r.Mean, &r.LPL, &r.UPL, &r.NearLPL, &r.NearUPL, &pt, &icon, &r.Numerator); err != nil {
			return fmt.Errorf("read marts.trends: %w", err)
		}
		r.PracticeCode, r.PointType, r.Icon = string(pc), string(pt), string(icon)
		if r.AreaLevel == "practice" && r.PracticeCode == "" {
			r.PracticeCode = r.AreaCode
		}
		w.trends = append(w.trends, r)
	}
	return rows.Err()
}

func (w *warehouse) loadSummary(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT area_level, coalesce(area_code, ''), coalesce(area_name, ''), period, practices, list_size, weighted_list_size,
		qof_fy, qof_achievement_pct, qof_points_per_practice, payments_fy, total_payments, payments_per_weighted_patient,
		payments_per_registered_patient, gp_fte_per_10k, nurse_fte_per_10k, dpc_fte_per_10k, admin_fte_per_10k,
		referrals, referral_rate_per_1000, twoww_rate_per_1000, imd_score
		FROM marts.area_summary WHERE period = ? AND area_level <> 'practice' ORDER BY `+orderLevels+`, area_code`, w.period)
	if err != nil {
		return fmt.Errorf("read marts.area_summary: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := &summaryRow{}
		var qfy, pfy Str
		if err := rows.Scan(&r.AreaLevel, &r.AreaCode, &r.AreaName, &r.Period, &r.Practices, &r.ListSize, &r.Weighted,
			&qfy, &r.QOFAch, &r.QOFPoints, &pfy, &r.TotalPayments, &r.PayPerWeighted, &r.PayPerRegistered,
			&r.GPFTE, &r.NurseFTE, &r.DPCFTE, &r.AdminFTE, &r.Referrals, &r.ReferralRate, &r.TwoWWRate, &r.IMDScore); err != nil {
			return fmt.Errorf("read marts.area_summary: %w", err)
		}
		r.QOFFY, r.PaymentsFY = string(qfy), string(pfy)
		w.summary = append(w.summary, r)
	}
	return rows.Err()
}
