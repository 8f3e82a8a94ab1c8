package publish

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The page's "Investment and need" part: drawn from the investment_need
// section (its feed holds the same rows), payments charted, every measure
// tabled.

// investRow is one row of the investment_need section.
type investRow struct {
	Part, Period, Measure, Unit, AreaLevel, AreaCode, AreaName string
	Quintile, Practices                                        Num
	NeedPatients, PerNeed, Lower95, Upper95, NeedIndex         Num
	Gap, GapLower, GapUpper, GapPct                            Num
	PeerPractices, PeerPerNeed, PeerGap                        Num
	Compared                                                   bool
	DQFlag                                                     string
}

func (p *pack) investment() []*investRow {
	t := p.section("investment_need")
	if t == nil {
		return nil
	}
	out := make([]*investRow, 0, t.n)
	c := &t.cols[t.idx("in_comparisons")]
	for r := 0; r < t.n; r++ {
		out = append(out, &investRow{Part: t.str(r, "part"), Period: t.str(r, "period"), Measure: t.str(r, "measure"),
			Unit: t.str(r, "unit"), AreaLevel: t.str(r, "area_level"), AreaCode: t.str(r, "area_code"), AreaName: t.str(r, "area_name"),
			Quintile: t.num(r, "imd_quintile"), Practices: t.num(r, "practices"), NeedPatients: t.num(r, "need_patients"),
			PerNeed: t.num(r, "per_need_patient"), Lower95: t.num(r, "lower95"), Upper95: t.num(r, "upper95"),
			NeedIndex: t.num(r, "need_index"), Gap: t.num(r, "fair_share_gap"), GapLower: t.num(r, "fair_share_gap_lower"),
			GapUpper: t.num(r, "fair_share_gap_upper"), GapPct: t.num(r, "fair_share_gap_pct"),
			PeerPractices: t.num(r, "peer_practices"), PeerPerNeed: t.num(r, "peer_per_need_patient"), PeerGap: t.num(r, "peer_gap"),
			Compared: c.ok[r] && c.b[r], DQFlag: t.str(r, "dq_flag")})
	}
	return out
}

type htmlInvestment struct {
	Period, AreaName        string
	Headline                string
	QuintileChart, GapChart template.HTML
	Quintiles               []*htmlTable
	Gaps                    *htmlTable
	NotCompared             string
}

// measureLabel names a measure with its per-need-weighted-patient unit.
func measureLabel(m string) (name, per string) {
	switch m {
	case "payments":
		return "Payments (Total NHS Payments to General Practice)", "£ per need-weighted patient"
	case "gp_fte":
		return "GP FTE", "FTE per 10,000 need-weighted patients"
	case "clinical_fte":
		return "Clinical FTE (GPs, nurses, direct patient care)", "FTE per 10,000 need-weighted patients"
	}
	return m, "per need-weighted patient"
}

// fixed formats v to dp decimals with thousands separators: the feed's
// figure as published (the section is already rounded).
func fixed(v float64, dp int) string {
	s := strconv.FormatFloat(v, 'f', dp, 64)
	if s == "-0" || strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	intPart, frac, _ := strings.Cut(s, ".")
	out := groupThousands(intPart)
	if frac != "" {
		out += "." + frac
	}
	return out
}

func fixedCell(n Num, dp int) htmlCell {
	if !n.Valid {
		return htmlCell{Text: "–", Num: true}
	}
	return htmlCell{Text: fixed(n.V, dp), Num: true}
}

func intervalText(lo, hi Num, dp int) string {
	if !lo.Valid || !hi.Valid {
		return "–"
	}
	return fixed(lo.V, dp) + " to " + fixed(hi.V, dp)
}

// gapVerdict reads a fair-share gap by its model interval.
func gapVerdict(r *investRow) (text, class, shape string) {
	switch {
	case !r.Gap.Valid:
		return "not compared", "cmp-none", "square"
	case r.GapUpper.Valid && r.GapUpper.V < 0:
		return "below fair share", "cmp-lower", "down"
	case r.GapLower.Valid && r.GapLower.V > 0:
		return "above fair share", "cmp-higher", "up"
	}
	return "about its fair share", "cmp-similar", "circle"
}

// htmlInvestmentPart builds the page part, nil when the pack has no rows.
func htmlInvestmentPart(p *pack) *htmlInvestment {
	rows := p.investment()
	if len(rows) == 0 {
		return nil
	}
	hi := &htmlInvestment{AreaName: p.Area.Name}
	var measures []string
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.Measure] {
			seen[r.Measure] = true
			measures = append(measures, r.Measure)
		}
		if r.Measure == "payments" || hi.Period == "" {
			hi.Period = r.Period
		}
	}
	for _, m := range measures {
		if t := investQuintileTable(p, rows, m); t != nil {
			hi.Quintiles = append(hi.Quintiles, t)
		}
	}
	var eng, area, gaps []*investRow
	for _, r := range rows {
		if r.Measure != "payments" {
			continue
		}
		switch {
		case r.Part == "quintile" && r.AreaLevel == "england":
			eng = append(eng, r)
		case r.Part == "quintile" && r.AreaLevel == p.Area.Level && r.AreaCode == p.Area.Code:
			area = append(area, r)
		case r.Part == "practice":
			gaps = append(gaps, r)
		}
	}
	if len(eng) > 0 {
		hi.QuintileChart, _ = quintileChart("inv-q", eng, area, p.Area.Name)
		q1, q5 := quintileValue(eng, 1), quintileValue(eng, 5)
		if q1.Valid && q5.Valid && q5.V != 0 {
			diff := 100 * (q1.V/q5.V - 1)
			word := "more"
			if diff < 0 {
				word = "less"
			}
			hi.Headline = fmt.Sprintf("In England in %s the most deprived fifth of practices received £%s per need-weighted patient and the least deprived £%s: %s%% %s.",
				hi.Period, fixed(q1.V, 2), fixed(q5.V, 2), fixed(math.Abs(diff), 0), word)
		}
	}
	if len(gaps) > 0 {
		hi.GapChart, _ = gapChart("inv-g", gaps, p.Area.Name)
		hi.Gaps = investGapTable(p, gaps)
		n := 0
		for _, r := range gaps {
			if !r.Gap.Valid {
				n++
			}
		}
		switch {
		case n == 1:
			hi.NotCompared = "One practice is not compared (not open all year, or a list too small or inconsistent for per-patient figures): it counts in the area's totals only."
		case n > 1:
			hi.NotCompared = fmt.Sprintf("%d practices are not compared (not open all year, or a list too small or inconsistent for per-patient figures): they count in the area's totals only.", n)
		}
	}
	return hi
}

func quintileValue(rows []*investRow, q int) Num {
	for _, r := range rows {
		if r.Quintile.Valid && int(r.Quintile.V) == q {
			return r.PerNeed
		}
	}
	return Num{}
}

// investQuintileTable: one measure's value per need-weighted patient by
// quintile, England beside the pack's area.
func investQuintileTable(p *pack, rows []*investRow, measure string) *htmlTable {
	name, per := measureLabel(measure)
	byQ := map[string]*investRow{}
	period := ""
	hasArea := false
	for _, r := range rows {
		if r.Part != "quintile" || r.Measure != measure || !r.Quintile.Valid {
			continue
		}
		period = r.Period
		who := "e"
		if r.AreaLevel != "england" {
			if r.AreaLevel != p.Area.Level || r.AreaCode != p.Area.Code {
				continue
			}
			who, hasArea = "a", true
		}
		byQ[fmt.Sprintf("%s%d", who, int(r.Quintile.V))] = r
	}
	if len(byQ) == 0 {
		return nil
	}
	t := &htmlTable{ID: "inv-quintiles-" + measure, Caption: fmt.Sprintf("%s, %s, by deprivation quintile of the practice, %s", name, per, period),
		Head: []string{"IMD quintile", "England", "England 95% interval", "England practices"}}
	if hasArea {
		t.Head = append(t.Head, p.Area.Name, p.Area.Name+" 95% interval", p.Area.Name+" practices")
	}
	for q := 1; q <= 5; q++ {
		label := strconv.Itoa(q)
		switch q {
		case 1:
			label += " (most deprived)"
		case 5:
			label += " (least deprived)"
		}
		row := []htmlCell{{Text: label}}
		for _, who := range []string{"e", "a"} {
			if who == "a" && !hasArea {
				continue
			}
			r := byQ[fmt.Sprintf("%s%d", who, q)]
			if r == nil {
				row = append(row, htmlCell{Text: "–", Num: true}, htmlCell{Text: "–", Num: true}, htmlCell{Text: "0", Num: true})
				continue
			}
			row = append(row, fixedCell(r.PerNeed, 2), htmlCell{Text: intervalText(r.Lower95, r.Upper95, 2), Num: true}, fixedCell(r.Practices, 0))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// investGapTable: each practice's fair-share gap within the area and its
// similar-practice comparison, most under-funded first (the section's order).
func investGapTable(p *pack, gaps []*investRow) *htmlTable {
	t := &htmlTable{ID: "inv-practices",
		Caption: fmt.Sprintf("Practices in %s, %s: payments against need and against similar practices", p.Area.Name, gaps[0].Period),
		Head: []string{"Practice", "IMD quintile", "Need index", "£ per need-weighted patient", "Fair-share gap (£)", "Gap interval (£)",
			"Gap % of fair share", "Verdict", "Similar practices", "Similar practices' £ per need-weighted patient", "Gap to similar practices (£)"}}
	for _, r := range gaps {
		verdict, cls, shape := gapVerdict(r)
		v := htmlCell{Text: verdict, Class: cls, Symbol: cmpSymbol[shape]}
		if !r.Compared && r.DQFlag != "" {
			v.Text = "not compared: " + r.DQFlag
		}
		t.Rows = append(t.Rows, []htmlCell{{Text: r.AreaName + " (" + r.AreaCode + ")"}, fixedCell(r.Quintile, 0), fixedCell(r.NeedIndex, 3),
			fixedCell(r.PerNeed, 2), fixedCell(r.Gap, 0), {Text: intervalText(r.GapLower, r.GapUpper, 0), Num: true}, fixedCell(r.GapPct, 1),
			v, fixedCell(r.PeerPractices, 0), fixedCell(r.PeerPerNeed, 2), fixedCell(r.PeerGap, 0)})
	}
	return t
}

// quintileChart draws payments per need-weighted patient by deprivation
// quintile: England's bar and the area's side by side, with 95% whiskers.
func quintileChart(id string, eng, area []*investRow, areaName string) (template.HTML, bool) {
	ymax := 0.0
	for _, rs := range [][]*investRow{eng, area} {
		for _, r := range rs {
			for _, n := range []Num{r.PerNeed, r.Upper95} {
				if n.Valid {
					ymax = math.Max(ymax, n.V)
				}
			}
		}
	}
	if ymax <= 0 {
		return "", false
	}
	ymax *= 1.1
	xs := scale{0.5, 5.5, marginL, chartW - marginR}
	ys := scale{0, ymax, chartH - marginB, marginT}
	series := []struct {
		rows       []*investRow
		name, cls  string
		off, width float64
	}{{eng, "England", "inv-eng", -0.2, 0.36}, {area, areaName, "inv-areabar", 0.2, 0.36}}
	if len(area) == 0 {
		series = series[:1]
		series[0].off, series[0].width = 0, 0.5
	}
	var b svgBuf
	desc := "Payments per need-weighted patient by national deprivation quintile of the practice, from 1 (most deprived, left) to 5 (least deprived, right), with 95% intervals: England"
	if len(area) > 0 {
		desc += " (left bar of each pair, plain) and " + areaName + " (right bar, hatched)"
	}
	var parts []string
	for _, s := range series {
		for _, r := range s.rows {
			if r.PerNeed.Valid && r.Quintile.Valid {
				parts = append(parts, fmt.Sprintf("%s quintile %d £%s", s.name, int(r.Quintile.V), fixed(r.PerNeed.V, 2)))
			}
		}
	}
	b.open(id, "Payments per need-weighted patient by deprivation quintile", desc+". "+strings.Join(parts, "; ")+".")
	fmt.Fprintf(&b, `<defs><pattern id="%s-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="inv-area"/><line x1="0" y1="0" x2="0" y2="6" class="inv-hatch"/></pattern></defs>`, id)
	b.axes(xs, ys, []float64{1, 2, 3, 4, 5}, niceTicks(0, ymax, 5), "National IMD quintile of the practice (1 = most deprived)", "£ per need-weighted patient",
		func(v float64) string { return strconv.Itoa(int(math.Round(v))) })
	for k, s := range series {
		for _, r := range s.rows {
			if !r.PerNeed.Valid || !r.Quintile.Valid {
				continue
			}
			q := r.Quintile.V
			x0, x1 := xs.at(q+s.off-s.width/2), xs.at(q+s.off+s.width/2)
			y := ys.at(r.PerNeed.V)
			t := fmt.Sprintf("%s, quintile %d: £%s per need-weighted patient", s.name, int(q), fixed(r.PerNeed.V, 2))
			if r.Lower95.Valid && r.Upper95.Valid {
				t += fmt.Sprintf(" (95%% interval %s to %s)", fixed(r.Lower95.V, 2), fixed(r.Upper95.V, 2))
			}
			if r.Practices.Valid {
				t += fmt.Sprintf(", %s practices", fixed(r.Practices.V, 0))
			}
			fill := ""
			if k == 1 {
				fill = fmt.Sprintf(` fill="url(#%s-hatch)"`, id)
			}
			fmt.Fprintf(&b, `<rect class="%s"%s x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
				s.cls, fill, f1(x0), f1(y), f1(x1-x0), f1(chartH-marginB-y), html.EscapeString(t))
			if r.Lower95.Valid && r.Upper95.Valid {
				mid := (x0 + x1) / 2
				fmt.Fprintf(&b, `<line class="ci" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(mid), f1(mid), f1(ys.at(r.Lower95.V)), f1(ys.at(r.Upper95.V)))
			}
		}
	}
	// legend, top left
	for k, s := range series {
		y := marginT + 4 + float64(k)*16
		fill := ""
		if k == 1 {
			fill = fmt.Sprintf(` fill="url(#%s-hatch)"`, id)
		}
		fmt.Fprintf(&b, `<rect class="%s"%s x="%s" y="%s" width="14" height="10"/><text x="%s" y="%s" class="small">%s</text>`,
			s.cls, fill, f1(marginL+10), f1(y), f1(marginL+30), f1(y+9), html.EscapeString(s.name))
	}
	return b.close(), true
}

// gapChart ranks the area's practices by fair-share gap (most under-funded
// left) with each gap's model interval; uncompared practices are left out.
func gapChart(id string, rows []*investRow, areaName string) (template.HTML, bool) {
	var pts []*investRow
	for _, r := range rows {
		if r.Gap.Valid {
			pts = append(pts, r)
		}
	}
	if len(pts) < 2 {
		return "", false
	}
	slices.SortStableFunc(pts, func(a, b *investRow) int {
		if c := cmp.Compare(a.Gap.V, b.Gap.V); c != 0 {
			return c
		}
		return strings.Compare(a.AreaCode, b.AreaCode)
	})
	// plotted in £ thousand, so the axis labels fit
	const k = 1000.0
	ymin, ymax := 0.0, 0.0
	for _, r := range pts {
		for _, n := range []Num{r.Gap, r.GapLower, r.GapUpper} {
			if n.Valid {
				ymin, ymax = math.Min(ymin, n.V/k), math.Max(ymax, n.V/k)
			}
		}
	}
	ymin, ymax = padRange(ymin, ymax, 0.06)
	xs := scale{0, float64(len(pts) + 1), marginL, chartW - marginR}
	ys := scale{ymin, ymax, chartH - marginB, marginT}
	below, above := 0, 0
	for _, r := range pts {
		switch _, _, shape := gapVerdict(r); shape {
		case "down":
			below++
		case "up":
			above++
		}
	}
	var b svgBuf
	b.open(id, "Fair-share gaps of the practices in "+areaName,
		fmt.Sprintf("%d practices ranked from the largest shortfall against their need-based share of %s's payments (left) to the largest excess (right), in £, each with the interval from the need model's deprivation gradient. %d below and %d above their fair share across the whole interval; the rest about their fair share.",
			len(pts), areaName, below, above)+notComparedNote(len(rows)-len(pts)))
	b.axes(xs, ys, nil, niceTicks(ymin, ymax, 6), "Practices, ranked by fair-share gap", "Fair-share gap (£ thousand)", fmtNum)
	y0 := ys.at(0)
	fmt.Fprintf(&b, `<line class="target" x1="%s" x2="%s" y1="%s" y2="%s"><title>Fair share (gap 0)</title></line>`, f1(marginL), f1(chartW-marginR), f1(y0), f1(y0))
	r := math.Max(1.5, math.Min(4, 300/float64(len(pts))))
	for i, p := range pts {
		x := xs.at(float64(i + 1))
		if p.GapLower.Valid && p.GapUpper.Valid {
			fmt.Fprintf(&b, `<line class="ci" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(x), f1(x), f1(ys.at(p.GapLower.V/k)), f1(ys.at(p.GapUpper.V/k)))
		}
		verdict, cls, shape := gapVerdict(p)
		label := fmt.Sprintf("%s (%s): £%s (%s%% of its fair share; interval £%s), %s", p.AreaName, p.AreaCode, fixed(p.Gap.V, 0),
			fixedCell(p.GapPct, 1).Text, intervalText(p.GapLower, p.GapUpper, 0), verdict)
		b.marker(shape, cls, x, ys.at(p.Gap.V/k), r, label)
	}
	return b.close(), true
}

func notComparedNote(n int) string {
	return hiddenNote(n, practiceNoun, "it is not compared (see the table)", "they are not compared (see the table)")
}
