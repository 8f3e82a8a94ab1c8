package publish

import (
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// comparison labels and their fills; the label text is always written too,
// so colour is never the only signal.
var comparisonFill = map[string]string{
	"better": "#C6E9D3", "significantly better": "#8FD0A8",
	"worse": "#F8D0C8", "significantly worse": "#EE9F90",
	"similar": "#FFF2B3",
	"higher":  "#CFE0F3", "significantly higher": "#9FC3E8",
	"lower": "#E3D6EE", "significantly lower": "#C7AEDD",
}

type xlStyles struct {
	title, header, text, int, dec1, dec2, money, pct, star int
	cmp                                                    map[string]int
}

func newXLStyles(f *excelize.File) (*xlStyles, error) {
	s := &xlStyles{cmp: map[string]int{}}
	var err error
	mk := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	border := []excelize.Border{{Type: "bottom", Color: "#4A4A4A", Style: 1}}
	s.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	s.header = mk(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#DCE6F1"}},
		Border: border, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	s.text = mk(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top"}})
	s.int = mk(&excelize.Style{NumFmt: 3})
	s.dec1 = mk(&excelize.Style{CustomNumFmt: ptr("#,##0.0")})
	s.dec2 = mk(&excelize.Style{NumFmt: 4})
	s.money = mk(&excelize.Style{CustomNumFmt: ptr("£#,##0.00")})
	s.pct = mk(&excelize.Style{CustomNumFmt: ptr("0.0")})
	s.star = mk(&excelize.Style{Alignment: &excelize.Alignment{Horizontal: "right"}})
	for _, k := range sortedKeys(comparisonFill) {
		s.cmp[k] = mk(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{comparisonFill[k]}}})
	}
	return s, err
}

func ptr[T any](v T) *T { return &v }

// sheetWriter fills one sheet row by row.
type sheetWriter struct {
	f     *excelize.File
	name  string
	row   int
	err   error
	st    *xlStyles
	ncols int
}

func (s *sheetWriter) put(vals ...any) {
	if s.err != nil {
		return
	}
	s.row++
	if len(vals) > s.ncols {
		s.ncols = len(vals)
	}
	cell, _ := excelize.CoordinatesToCellName(1, s.row)
	s.err = s.f.SetSheetRow(s.name, cell, &vals)
}

func (s *sheetWriter) style(col, style int) {
	s.styleRange(col, col, style)
}

func (s *sheetWriter) styleRange(c1, c2, style int) {
	if s.err != nil || style == 0 {
		return
	}
	a, _ := excelize.CoordinatesToCellName(c1, s.row)
	b, _ := excelize.CoordinatesToCellName(c2, s.row)
	s.err = s.f.SetCellStyle(s.name, a, b, style)
}

// table writes a header row at the current position, freezes it and adds an
// autofilter over the rows that follow (call finish after the rows).
func (s *sheetWriter) header(cols ...string) int {
	vals := make([]any, len(cols))
	for i, c := range cols {
		vals[i] = c
	}
	s.put(vals...)
	s.styleRange(1, len(cols), s.st.header)
	return s.row
}

func (s *sheetWriter) finishTable(headerRow, ncols int, freeze bool) {
	if s.err != nil {
		return
	}
	if freeze {
		top, _ := excelize.CoordinatesToCellName(1, headerRow+1)
		s.err = s.f.SetPanes(s.name, &excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: top, ActivePane: "bottomLeft"})
	}
	if s.err == nil && s.row > headerRow {
		a, _ := excelize.CoordinatesToCellName(1, headerRow)
		b, _ := excelize.CoordinatesToCellName(ncols, s.row)
		s.err = s.f.AutoFilter(s.name, a+":"+b, nil)
	}
}

func (s *sheetWriter) widths(ws ...float64) {
	for i, w := range ws {
		if s.err != nil {
			return
		}
		c, _ := excelize.ColumnNumberToName(i + 1)
		s.err = s.f.SetColWidth(s.name, c, c, w)
	}
}

// cellNum is a number, or "*" when withheld, or empty when missing.
func cellNum(n Num, withheld bool) any {
	if n.Valid {
		return n.V
	}
	if withheld {
		return "*"
	}
	return nil
}

var domainSheets = []struct {
	sheet, about string
	domains      []string
}{
	{"QOF", "Quality and Outcomes Framework achievement and prevalence, by practice", []string{"qof", "prevalence"}},
	{"Investment", "NHS payments to general practice per patient, by practice", []string{"investment"}},
	{"Workforce", "GP, nurse, direct patient care and admin staff per 10,000 patients, by practice", []string{"workforce"}},
	{"Referrals", "Outpatient referral rates, by practice (disclosure control applied)", []string{"referrals"}},
}

// renderXLSX builds pack.xlsx; it returns the workbook and the number of
// data rows written.
func renderXLSX(p *pack, w *warehouse, opts *Options) ([]byte, int, error) {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newXLStyles(f)
	if err != nil {
		return nil, 0, fmt.Errorf("xlsx styles: %w", err)
	}
	stamp := p.Period + "-01T00:00:00Z" // fixed, so the same inputs give the same bytes
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "gplens", LastModifiedBy: "gplens", Created: stamp, Modified: stamp,
		Title: fmt.Sprintf("GP data pack: %s, %s", p.Area.Name, p.Period), Language: "en-GB", Version: opts.Version}); err != nil {
		return nil, 0, fmt.Errorf("xlsx properties: %w", err)
	}
	sheets := []struct{ name, about string }{
		{"Contents", "This list"},
		{"Summary", "Headline figures for the area, its parent area and England"},
		{"Practices", "One row per practice with the key indicators and how each compares with England"},
	}
	for _, d := range domainSheets {
		sheets = append(sheets, struct{ name, about string }{d.sheet, d.about})
	}
	sheets = append(sheets, struct{ name, about string }{"Inequality", "Slope and relative index of inequality, and values by deprivation decile"},
		struct{ name, about string }{"Notes", "Sources with periods and checksums, methods, disclosure control"})
	if err := f.SetSheetName("Sheet1", "Contents"); err != nil {
		return nil, 0, fmt.Errorf("xlsx: %w", err)
	}
	for _, s := range sheets[1:] {
		if _, err := f.NewSheet(s.name); err != nil {
			return nil, 0, fmt.Errorf("xlsx sheet %s: %w", s.name, err)
		}
	}
	rows := 0
	sw := func(name string) *sheetWriter { return &sheetWriter{f: f, name: name, st: st} }

	// Contents
	c := sw("Contents")
	c.put(fmt.Sprintf("GP data pack: %s (%s %s), %s", p.Area.Name, levelLabel(p.Area.Level), p.Area.Code, p.Period))
	c.style(1, st.title)
	c.put("Produced by gplens " + opts.Version + ". Figures marked * are withheld to protect confidentiality; see Notes.")
	c.put()
	h := c.header("Sheet", "What it holds")
	for _, s := range sheets[1:] {
		c.put(s.name, s.about)
		if c.err == nil {
			cell, _ := excelize.CoordinatesToCellName(1, c.row)
			c.err = f.SetCellHyperLink("Contents", cell, s.name+"!A1", "Location")
		}
	}
	c.finishTable(h, 2, false)
	c.widths(16, 90)
	if c.err != nil {
		return nil, 0, fmt.Errorf("xlsx contents: %w", c.err)
	}

	// Summary: the area, its parent, England
	s := sw("Summary")
	s.put(fmt.Sprintf("Summary: %s, %s", p.Area.Name, p.Period))
	s.style(1, st.title)
	cols := []*summaryRow{p.summaryFor(p.Area.Level, p.Area.Code), p.summaryFor(p.parent().Level, p.parent().Code), p.summaryFor("england", "")}
	names := []any{"Measure", p.Area.Name, p.parent().Name, "England"}
	if p.parent().Level == "england" {
		cols = cols[:1]
		cols = append(cols, p.summaryFor("england", ""))
		names = []any{"Measure", p.Area.Name, "England"}
	}
	hs := make([]string, len(names))
	for i, n := range names {
		hs[i] = fmt.Sprint(n)
	}
	h = s.header(hs...)
	for _, m := range summaryMeasures {
		vals := []any{m.label}
		for _, r := range cols {
			if r == nil {
				vals = append(vals, nil)
				continue
			}
			vals = append(vals, m.get(r))
		}
		s.put(vals...)
		rows++
		s.styleRange(2, len(vals), m.style(st))
	}
	s.finishTable(h, len(names), true)
	s.widths(36, 22, 22, 22)
	if s.err != nil {
		return nil, 0, fmt.Errorf("xlsx summary: %w", s.err)
	}

	// Practices: one row each, key indicators with their comparison
	pr := sw("Practices")
	hdr := []string{"Practice code", "Practice name", "PCN", "List size", "IMD decile (1 = most deprived)"}
	for _, in := range p.Key {
		hdr = append(hdr, fmt.Sprintf("%s (%s)", in.Name, in.Unit), in.Name+": compared with England")
	}
	h = pr.header(hdr...)
	vals := p.practiceValues()
	for _, ps := range p.Practices {
		row := []any{ps.Code, ps.Name, ps.PCNName, cellNum(ps.ListSize, false), cellNum(ps.IMDDecile, false)}
		var cmpCols []int
		for _, in := range p.Key {
			r := vals[in.ID+"|"+ps.Code]
			if r == nil {
				row = append(row, nil, "no data")
				continue
			}
			row = append(row, cellNum(r.Value, r.Suppressed))
			label := r.Comparison
			if r.Suppressed {
				label = "withheld (*)"
			}
			row = append(row, label)
			cmpCols = append(cmpCols, len(row))
		}
		pr.put(row...)
		rows++
		pr.style(4, st.int)
		for i := range p.Key {
			pr.style(6+2*i, st.dec1)
		}
		for _, ci := range cmpCols {
			label, _ := row[ci-1].(string)
			pr.style(ci, st.cmp[label])
		}
	}
	pr.finishTable(h, len(hdr), true)
	ws := []float64{10, 36, 30, 11, 12}
	for range p.Key {
		ws = append(ws, 14, 22)
	}
	pr.widths(ws...)
	if pr.err != nil {
		return nil, 0, fmt.Errorf("xlsx practices: %w", pr.err)
	}

	// one sheet per domain, long
	for _, d := range domainSheets {
		ds := sw(d.sheet)
		h := ds.header("Indicator", "Indicator name", "Period", "Area level", "Area code", "Area name", "Numerator", "Denominator",
			"Value", "Unit", "Lower 95%", "Upper 95%", "England", "Compared with England", "Funnel plot", "Data quality")
		for _, r := range p.Values {
			in := w.byID[r.IndicatorID]
			if in == nil || !containsStr(d.domains, in.Domain) {
				continue
			}
			label := r.Comparison
			if r.Suppressed {
				label = "withheld (*)"
			}
			ds.put(r.IndicatorID, in.Name, r.Period, levelLabel(r.AreaLevel), r.AreaCode, r.AreaName,
				cellNum(r.Numerator, r.Suppressed), cellNum(r.Denominator, false), cellNum(r.Value, r.Suppressed), in.Unit,
				cellNum(r.Lower95, r.Suppressed), cellNum(r.Upper95, r.Suppressed), cellNum(r.England, false), label, r.Funnel, r.DQ)
			rows++
			if in.Domain == "workforce" {
				ds.styleRange(7, 7, st.dec2) // FTE
				ds.style(8, st.int)
			} else {
				ds.styleRange(7, 8, st.int)
			}
			ds.style(9, st.dec2)
			ds.styleRange(11, 13, st.dec2)
			ds.style(14, st.cmp[label])
		}
		ds.finishTable(h, 16, true)
		ds.widths(18, 40, 9, 10, 10, 30, 11, 11, 10, 12, 10, 10, 10, 22, 16, 20)
		if ds.err != nil {
			return nil, 0, fmt.Errorf("xlsx %s: %w", d.sheet, ds.err)
		}
	}

	// Inequality
	iq := sw("Inequality")
	h = iq.header("Indicator", "Period", "Area level", "Area code", "Area name", "SII", "SII lower 95%", "SII upper 95%",
		"RII", "RII lower 95%", "RII upper 95%", "Most deprived quintile", "Least deprived quintile", "Quintile gap", "Quintile ratio")
	for _, r := range p.Inequality {
		iq.put(r.IndicatorID, r.Period, levelLabel(r.AreaLevel), r.AreaCode, r.AreaName, cellNum(r.SII, false), cellNum(r.SIILower, false),
			cellNum(r.SIIUpper, false), cellNum(r.RII, false), cellNum(r.RIILower, false), cellNum(r.RIIUpper, false),
			cellNum(r.Q1, false), cellNum(r.Q5, false), cellNum(r.Gap, false), cellNum(r.Ratio, false))
		rows++
		iq.styleRange(6, 15, st.dec2)
	}
	iq.finishTable(h, 15, true)
	if len(p.Deciles) > 0 {
		iq.put()
		iq.put("Values by practice deprivation decile (1 = most deprived)")
		iq.style(1, st.title)
		iq.header("Indicator", "Period", "Area level", "Area code", "IMD decile", "Numerator", "Denominator", "Value", "Lower 95%", "Upper 95%", "Practices")
		for _, r := range p.Deciles {
			sup := r.Suppression != ""
			iq.put(r.IndicatorID, r.Period, levelLabel(r.AreaLevel), r.AreaCode, r.Decile, cellNum(r.Numerator, sup), cellNum(r.Denominator, false),
				cellNum(r.Value, sup), cellNum(r.Lower95, sup), cellNum(r.Upper95, sup), r.Practices)
			rows++
			iq.styleRange(6, 7, st.int)
			iq.styleRange(8, 10, st.dec2)
		}
	}
	iq.widths(18, 9, 10, 10, 30, 10, 10, 10, 10, 10, 10, 12, 12, 10, 10)
	if iq.err != nil {
		return nil, 0, fmt.Errorf("xlsx inequality: %w", iq.err)
	}

	// Notes
	n := sw("Notes")
	n.put("Notes")
	n.style(1, st.title)
	n.put()
	n.put("Sources")
	n.style(1, st.title)
	n.header("File", "Period", "SHA-256")
	for _, src := range opts.Sources {
		n.put(src.Name, src.Period, src.SHA256)
	}
	if len(opts.Sources) == 0 {
		n.put("(no source list was given to the publisher)")
	}
	n.put()
	n.put("Indicators and the period shown")
	n.style(1, st.title)
	n.header("Indicator", "Name", "Domain", "Period", "Unit", "Polarity", "Public", "Description")
	for _, in := range p.Indicators {
		pub := "yes"
		if !in.Public {
			pub = "no (disclosure control)"
		}
		n.put(in.ID, in.Name, in.Domain, in.Period, in.Unit, strings.ReplaceAll(in.Polarity, "_", " "), pub, in.Description)
	}
	if len(opts.Models) > 0 {
		n.put()
		n.put("Model versions")
		n.style(1, st.title)
		n.header("Model", "SHA-256")
		for _, m := range opts.Models {
			n.put(m.Name, m.SHA256)
		}
	}
	n.put()
	n.put("Methods")
	n.style(1, st.title)
	for _, line := range methodNotes {
		n.put(line)
	}
	n.put()
	n.put("Disclosure control")
	n.style(1, st.title)
	n.put(sdcRule(opts.Suppression))
	n.put("Cells withheld in this pack", fmt.Sprintf("primary %d, secondary %d, upstream %d", p.Counts.Primary, p.Counts.Secondary, p.Counts.Upstream))
	n.widths(40, 24, 66, 10, 12, 18, 22, 60)
	if n.err != nil {
		return nil, 0, fmt.Errorf("xlsx notes: %w", n.err)
	}
	f.SetActiveSheet(0)
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, 0, fmt.Errorf("xlsx write: %w", err)
	}
	return buf.Bytes(), rows, nil
}

var methodNotes = []string{
	"Proportions have Wilson score intervals; counts and rates exact Poisson (under 10) or Byar's intervals, at 95% and 99.8%.",
	"Compared with England: England's value inside the practice's 95% interval is similar; outside it higher or lower, outside the 99.8% interval significantly so; read as better or worse where the indicator has a polarity.",
	"Funnel plots: limits around the England value at each denominator (95% and 99.8%); overdispersion-adjusted positions are in the feeds.",
	"Inequality: slope (SII) and relative (RII) index of inequality across practice deprivation deciles (IMD 2019), limits by seeded simulation.",
	"Trends: XmR statistical process control charts (Making Data Count): special causes are points outside the limits, trends of 7, 2 of 3 beyond two sigma, runs of 7.",
	"Monthly packs show monthly data for the pack month and the latest annual (financial year) data published by then; the Indicators table above gives each period.",
}

type summaryMeasure struct {
	label string
	get   func(*summaryRow) any
	style func(*xlStyles) int
}

func sn(n Num) any { return cellNum(n, false) }

func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

var summaryMeasures = []summaryMeasure{
	{"Practices", func(r *summaryRow) any { return sn(r.Practices) }, func(s *xlStyles) int { return s.int }},
	{"Registered patients", func(r *summaryRow) any { return sn(r.ListSize) }, func(s *xlStyles) int { return s.int }},
	{"Weighted patients", func(r *summaryRow) any { return sn(r.Weighted) }, func(s *xlStyles) int { return s.int }},
	{"QOF year", func(r *summaryRow) any { return str(r.QOFFY) }, func(s *xlStyles) int { return s.text }},
	{"QOF achievement (% of points)", func(r *summaryRow) any { return sn(r.QOFAch) }, func(s *xlStyles) int { return s.pct }},
	{"QOF points per practice", func(r *summaryRow) any { return sn(r.QOFPoints) }, func(s *xlStyles) int { return s.dec1 }},
	{"Payments year", func(r *summaryRow) any { return str(r.PaymentsFY) }, func(s *xlStyles) int { return s.text }},
	{"Total NHS payments (£)", func(r *summaryRow) any { return sn(r.TotalPayments) }, func(s *xlStyles) int { return s.money }},
	{"Payments per weighted patient (£)", func(r *summaryRow) any { return sn(r.PayPerWeighted) }, func(s *xlStyles) int { return s.money }},
	{"Payments per registered patient (£)", func(r *summaryRow) any { return sn(r.PayPerRegistered) }, func(s *xlStyles) int { return s.money }},
	{"GP FTE per 10,000 patients", func(r *summaryRow) any { return sn(r.GPFTE) }, func(s *xlStyles) int { return s.dec2 }},
	{"Nurse FTE per 10,000 patients", func(r *summaryRow) any { return sn(r.NurseFTE) }, func(s *xlStyles) int { return s.dec2 }},
	{"Direct patient care FTE per 10,000", func(r *summaryRow) any { return sn(r.DPCFTE) }, func(s *xlStyles) int { return s.dec2 }},
	{"Admin FTE per 10,000 patients", func(r *summaryRow) any { return sn(r.AdminFTE) }, func(s *xlStyles) int { return s.dec2 }},
	{"Referrals in the month", func(r *summaryRow) any { return cellNum(r.Referrals, r.Suppression != "") }, func(s *xlStyles) int { return s.int }},
	{"Referrals per 1,000 patients", func(r *summaryRow) any { return cellNum(r.ReferralRate, r.Suppression != "") }, func(s *xlStyles) int { return s.dec1 }},
	{"Two-week-wait referrals per 1,000", func(r *summaryRow) any { return cellNum(r.TwoWWRate, r.Suppression != "") }, func(s *xlStyles) int { return s.dec2 }},
	{"IMD 2019 score (population weighted)", func(r *summaryRow) any { return sn(r.IMDScore) }, func(s *xlStyles) int { return s.dec1 }},
}

func (p *pack) summaryFor(level, code string) *summaryRow {
	for _, r := range p.Summary {
		if r.AreaLevel == level && (level == "england" || r.AreaCode == code) {
			return r
		}
	}
	return nil
}

// practiceValues indexes the pack's practice rows by indicator|practice.
func (p *pack) practiceValues() map[string]*ivRow {
	m := make(map[string]*ivRow, len(p.Values))
	for _, r := range p.Values {
		if r.AreaLevel == "practice" {
			m[r.IndicatorID+"|"+r.PracticeCode] = r
		}
	}
	return m
}

func levelLabel(l string) string {
	switch l {
	case "icb":
		return "ICB"
	case "sub_icb":
		return "sub-ICB"
	case "pcn":
		return "PCN"
	case "england":
		return "England"
	}
	return l
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
