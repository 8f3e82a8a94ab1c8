package publish

import "github.com/gplens/gplens/period"

type areaRef struct {
	Level, Code, Name string
}

// pack is one area's sections, already withheld and rounded.
type pack struct {
	Period    string
	Area      areaRef
	Ancestors []areaRef // nearest first, ending with England
	Practices int
	// Deepest is the lowest level the pack lists area by area
	// (Options.ListDownTo): its charts plot the areas of that level.
	Deepest string
	// tables by section name; a section with no rows is absent.
	tables     map[string]*table
	Indicators []*indicator // shown in this pack, catalogue order
	Key        []*indicator // charted and on the Practices sheet
	Counts     SuppressionCounts
}

func (p *pack) parent() areaRef {
	if len(p.Ancestors) > 0 {
		return p.Ancestors[0]
	}
	return areaRef{Level: "england", Name: "England"}
}

// section returns a section's rows, nil when the pack has none.
func (p *pack) section(name string) *table { return p.tables[name] }

// assemble turns the streamed rows of one pack into a pack: disclosure
// control, rounding to the published precision, the indicators shown.
func assemble(pl *plan, head packHead, tables map[string]*table, key []string) *pack {
	p := &pack{Period: pl.period, Area: head.area, Ancestors: head.ancestors, Practices: head.practices,
		Deepest: pl.listDownTo[head.area.Level], tables: map[string]*table{}}
	for _, s := range sections {
		t := tables[s.Name]
		if t == nil || t.n == 0 {
			continue
		}
		if wi := s.col(withheldCol.Name); wi >= 0 {
			// the release flags decide: the rows come withheld
			for r := 0; r < t.n; r++ {
				t.withheld[r] = t.str(r, withheldCol.Name)
			}
		}
		for r := 0; r < t.n; r++ {
			if t.withheld[r] != "" {
				p.Counts.add(t.withheld[r])
			}
		}
		t.round(pl)
		p.tables[s.Name] = t
	}
	has := map[string]bool{}
	if t := p.section("indicator_values"); t != nil {
		for r := 0; r < t.n; r++ {
			has[t.str(r, "indicator_id")] = true
		}
	}
	for _, in := range pl.catalogue {
		if has[in.ID] {
			p.Indicators = append(p.Indicators, in)
		}
	}
	for _, id := range key {
		if in := pl.byID[id]; in != nil && has[id] {
			p.Key = append(p.Key, in)
		}
	}
	return p
}

// round rounds every DOUBLE to its column's precision: fixed, or by the
// row's indicator unit (summary rows: by measure).
func (t *table) round(pl *plan) {
	// a row's unit is that of its measure (summary) or indicator
	measureCol := t.sec.col("measure")
	keyCol := measureCol
	if keyCol < 0 {
		keyCol = t.sec.col("indicator_id")
	}
	unitOf := func(k string) string {
		switch {
		case measureCol >= 0 && pl.byID[k] == nil:
			return "measure:" + k
		case keyCol >= 0:
			return pl.unitOf(k)
		}
		return "*"
	}
	for ci, c := range t.sec.Columns {
		if c.Type != tDouble {
			continue
		}
		col := &t.cols[ci]
		// a section's rows come indicator by indicator: the precision is
		// looked up once a run of the same key
		key, keyDP, have := "", 0, false
		for r := 0; r < t.n; r++ {
			if !col.ok[r] {
				continue
			}
			dp := c.DP
			if dp < 0 {
				k := ""
				if keyCol >= 0 {
					k = t.cols[keyCol].s[r]
				}
				if !have || k != key {
					key, keyDP, have = k, pl.dp(unitOf(k), dp), true
				}
				dp = keyDP
			}
			col.f[r] = round(col.f[r], dp)
		}
	}
}

// defaultKey picks the indicators shown on the Practices sheet and charted
// when none are configured: a few well-known ones, then the first of any
// domain still missing.
func defaultKey(cat []*indicator) []string {
	preferred := []string{"qof_ach_DM012", "qof_prev_DM", "pay_total_per_weighted", "wf_gp_fte_per_10k", "ref_rate_per_1000", "ref_2ww_rate_per_1000"}
	var out []string
	seen := map[string]bool{}
	for _, id := range preferred {
		for _, in := range cat {
			if in.ID == id && in.Period != "" {
				out = append(out, id)
				seen[in.Domain] = true
			}
		}
	}
	for _, in := range cat {
		if in.Period != "" && !seen[in.Domain] {
			out = append(out, in.ID)
			seen[in.Domain] = true
		}
	}
	return out
}

// The charts and the Practices sheet read typed rows of the key indicators;
// these adapt a pack's section rows to them.

// ivRow is one indicator value as the charts use it.
type ivRow struct {
	IndicatorID, Period, AreaLevel, AreaCode, AreaName, PracticeCode string
	Numerator, Denominator, Value, Lower95, Upper95, England         Num
	Comparison, Funnel                                               string
	Suppressed                                                       bool
}

type ineqRow struct {
	IndicatorID, AreaLevel, AreaCode, AreaName string
	SII, SIILower, SIIUpper, RII, Q1, Q5       Num
}

type decileRow struct {
	Decile                        int
	Numerator, Denominator, Value Num
	Lower95, Upper95              Num
	Practices                     int
}

type trendRow struct {
	Period, PointType, Icon  string
	Value, Mean, LPL, UPL    Num
	NearLPL, NearUPL         Num
	Suppressed               bool
	IndicatorID, AreaLevel   string
	AreaCode, AreaName, Desc string
}

// values gives the rows of one indicator, in pack order.
func (p *pack) values(id string) []*ivRow {
	t := p.section("indicator_values")
	if t == nil {
		return nil
	}
	var out []*ivRow
	for r := 0; r < t.n; r++ {
		if t.str(r, "indicator_id") != id {
			continue
		}
		out = append(out, &ivRow{IndicatorID: id, Period: t.str(r, "period"), AreaLevel: t.str(r, "area_level"),
			AreaCode: t.str(r, "area_code"), AreaName: t.str(r, "area_name"), PracticeCode: t.str(r, "practice_code"),
			Numerator: t.num(r, "numerator"), Denominator: t.num(r, "denominator"), Value: t.num(r, "value"),
			Lower95: t.num(r, "lower95"), Upper95: t.num(r, "upper95"), England: t.num(r, "england_value"),
			Comparison: p.sdcStr(t, r, "comparison", "withheld"), Funnel: p.sdcStr(t, r, "funnel_significance", ""),
			Suppressed: t.withheld[r] != ""})
	}
	return out
}

// sdcStr is a text cell, or alt when its row is withheld.
func (p *pack) sdcStr(t *table, r int, col, alt string) string {
	if t.withheld[r] != "" {
		return alt
	}
	return t.str(r, col)
}

func (p *pack) inequality(id string) []*ineqRow {
	t := p.section("inequality")
	if t == nil {
		return nil
	}
	var out []*ineqRow
	for r := 0; r < t.n; r++ {
		if t.str(r, "indicator_id") == id {
			out = append(out, &ineqRow{IndicatorID: id, AreaLevel: t.str(r, "area_level"), AreaCode: t.str(r, "area_code"),
				AreaName: t.str(r, "area_name"), SII: t.num(r, "sii"), SIILower: t.num(r, "sii_lower"), SIIUpper: t.num(r, "sii_upper"),
				RII: t.num(r, "rii"), Q1: t.num(r, "q1_value"), Q5: t.num(r, "q5_value")})
		}
	}
	return out
}

func (p *pack) deciles(id string, a areaRef) []*decileRow {
	t := p.section("inequality_deciles")
	if t == nil {
		return nil
	}
	var out []*decileRow
	for r := 0; r < t.n; r++ {
		if t.str(r, "indicator_id") == id && t.str(r, "area_level") == a.Level && (a.Level == "england" || t.str(r, "area_code") == a.Code) {
			out = append(out, &decileRow{Decile: int(t.num(r, "imd_decile").V), Numerator: t.num(r, "numerator"),
				Denominator: t.num(r, "denominator"), Value: t.num(r, "value"), Lower95: t.num(r, "lower95"),
				Upper95: t.num(r, "upper95"), Practices: int(t.num(r, "practices").V)})
		}
	}
	return out
}

func (p *pack) trend(id string, a areaRef) []*trendRow {
	t := p.section("trends")
	if t == nil {
		return nil
	}
	var out []*trendRow
	for r := 0; r < t.n; r++ {
		if t.str(r, "indicator_id") == id && t.str(r, "area_level") == a.Level && (a.Level == "england" || t.str(r, "area_code") == a.Code) {
			out = append(out, &trendRow{IndicatorID: id, AreaLevel: a.Level, AreaCode: t.str(r, "area_code"), AreaName: t.str(r, "area_name"),
				Period: t.str(r, "period"), PointType: p.sdcStr(t, r, "point_type", ""), Icon: t.str(r, "variation_icon"),
				Value: t.num(r, "value"), Mean: t.num(r, "mean"), LPL: t.num(r, "lpl"), UPL: t.num(r, "upl"),
				NearLPL: t.num(r, "near_lpl"), NearUPL: t.num(r, "near_upl"), Suppressed: t.withheld[r] != ""})
		}
	}
	return out
}

// summaryValue is one headline figure of an area with its period.
type summaryValue struct {
	V        Num
	Period   string
	Withheld bool
}

// summary indexes the Summary rows by level|code|measure.
func (p *pack) summary() map[string]summaryValue {
	out := map[string]summaryValue{}
	t := p.section("summary")
	if t == nil {
		return out
	}
	for r := 0; r < t.n; r++ {
		code := t.str(r, "area_code")
		if t.str(r, "area_level") == "england" {
			code = ""
		}
		out[t.str(r, "area_level")+"|"+code+"|"+t.str(r, "measure")] = summaryValue{V: t.num(r, "value"), Period: t.str(r, "period"), Withheld: t.withheld[r] != ""}
	}
	return out
}

// periodLabel: "2024-03" -> "March 2024"; a financial year stays "2022-23".
func periodLabel(p string) string {
	if period.IsMonth(p) {
		months := []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
		m := int(p[5]-'0')*10 + int(p[6]-'0')
		return months[m-1] + " " + p[:4]
	}
	return p
}
