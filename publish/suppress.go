package publish

import (
	"cmp"
	"slices"
)

// SuppressionCounts counts withheld cells (rows whose count and everything
// computed from it are hidden).
type SuppressionCounts struct {
	// Primary: counts 1..MinCount-1 of non-public indicators.
	Primary int `json:"primary"`
	// Secondary: further cells hidden so a primary one cannot be recovered
	// by subtracting the others from a published total.
	Secondary int `json:"secondary"`
	// Upstream: rows the models already marked suppressed.
	Upstream int `json:"upstream"`
}

func (c *SuppressionCounts) add(state string) {
	switch state {
	case "primary":
		c.Primary++
	case "secondary":
		c.Secondary++
	case "upstream":
		c.Upstream++
	}
}

func (c *SuppressionCounts) plus(o SuppressionCounts) {
	c.Primary += o.Primary
	c.Secondary += o.Secondary
	c.Upstream += o.Upstream
}

// cell is one count subject to disclosure control.
type cell struct {
	count float64
	known bool    // count present (a NULL count is hidden already)
	key   string  // tie-break so the choice of secondary cell is deterministic
	state *string // "", "primary", "secondary", "upstream"
}

func (c *cell) hidden() bool { return !c.known || *c.state != "" }

// group is a published total and the cells that add up to it.
type group struct {
	parent   int
	children []int
}

// suppress applies primary suppression (1 <= count < minCount) and, when
// secondary is set, repeats until no published total has exactly one hidden
// part: then the smallest visible part is hidden too (or, with none left, the
// total itself), so no hidden count equals total minus the shown ones.
func suppress(cells []cell, groups []group, minCount int, secondary bool) {
	for i := range cells {
		c := &cells[i]
		if *c.state == "" && c.known && c.count >= 1 && c.count < float64(minCount) {
			*c.state = "primary"
		}
	}
	if !secondary {
		return
	}
	for changed := true; changed; {
		changed = false
		for _, g := range groups {
			if cells[g.parent].hidden() {
				continue
			}
			nHidden, best := 0, -1
			for _, ch := range g.children {
				c := &cells[ch]
				if c.hidden() {
					nHidden++
					continue
				}
				if best < 0 || c.count < cells[best].count ||
					(c.count == cells[best].count && c.key < cells[best].key) {
					best = ch
				}
			}
			if nHidden != 1 {
				continue
			}
			if best >= 0 {
				*cells[best].state = "secondary"
			} else {
				*cells[g.parent].state = "secondary"
			}
			changed = true
		}
	}
}

// hierarchy maps any area (level, code) to the codes of the areas above it,
// built from the practice dimension.
type hierarchy map[string]map[string]string

func newHierarchy(ps []*practice) hierarchy {
	h := hierarchy{}
	for _, p := range ps {
		codes := map[string]string{"practice": p.Code, "pcn": p.PCN, "sub_icb": p.SubICB, "icb": p.ICB, "region": p.Region}
		for _, l := range []string{"practice", "pcn", "sub_icb", "icb", "region"} {
			if codes[l] == "" {
				continue
			}
			k := l + "|" + codes[l]
			if _, ok := h[k]; !ok {
				m := map[string]string{}
				for _, up := range []string{"pcn", "sub_icb", "icb", "region"} {
					if levelRank(up) <= levelRank(l) {
						m[up] = codes[up]
					}
				}
				m[l] = codes[l]
				h[k] = m
			}
		}
	}
	return h
}

// areaKeyed is anything at an area with a count.
type areaKeyed struct {
	level, code string
	c           cell
}

// groupsFor builds, within one set of rows of a single indicator and
// period, a group for every aggregate row and each lower level's rows inside
// it (an ICB total is the sum of its practices and also of its sub-ICBs).
func groupsFor(items []areaKeyed, h hierarchy) []group {
	parentIdx := map[string]int{}
	england := -1
	for i, it := range items {
		if it.level == "england" {
			england = i
		} else if it.level != "practice" {
			parentIdx[it.level+"|"+it.code] = i
		}
	}
	type gk struct {
		parent int
		lower  string
	}
	members := map[gk][]int{}
	var order []gk
	addTo := func(k gk, j int) {
		if _, ok := members[k]; !ok {
			order = append(order, k)
		}
		members[k] = append(members[k], j)
	}
	for j, it := range items {
		if it.level == "england" {
			continue
		}
		if england >= 0 {
			addTo(gk{england, it.level}, j)
		}
		anc := h[it.level+"|"+it.code]
		for _, up := range []string{"region", "icb", "sub_icb", "pcn"} {
			if levelRank(up) >= levelRank(it.level) || anc == nil || anc[up] == "" {
				continue
			}
			if p, ok := parentIdx[up+"|"+anc[up]]; ok {
				addTo(gk{p, it.level}, j)
			}
		}
	}
	gs := make([]group, 0, len(order))
	for _, k := range order {
		gs = append(gs, group{parent: k.parent, children: members[k]})
	}
	return gs
}

func runSuppression(items []areaKeyed, h hierarchy, cfg SuppressionConfig) {
	cells := make([]cell, len(items))
	for i := range items {
		cells[i] = items[i].c
	}
	var gs []group
	if cfg.Secondary {
		gs = groupsFor(items, h)
	}
	suppress(cells, gs, cfg.MinCount, cfg.Secondary)
}

// applySuppression runs disclosure control once over the whole period, so
// every pack that shows a cell shows it the same way (packs combined cannot
// undo each other's protection).
func (w *warehouse) applySuppression(cfg SuppressionConfig) {
	h := newHierarchy(w.practices)
	private := func(id string) bool {
		in := w.byID[id]
		return in != nil && !in.Public
	}
	// indicator values, one indicator (one chosen period) at a time
	for _, run := range runsBy(w.values, func(r *ivRow) string { return r.IndicatorID + "|" + r.Period }) {
		if !private(run[0].IndicatorID) {
			continue
		}
		items := make([]areaKeyed, len(run))
		for i, r := range run {
			items[i] = areaKeyed{level: r.AreaLevel, code: r.AreaCode,
				c: cell{count: r.Numerator.V, known: r.Numerator.Valid, key: r.AreaLevel + "|" + r.AreaCode, state: &r.Suppression}}
		}
		runSuppression(items, h, cfg)
		for _, r := range run {
			if r.Suppression != "" {
				r.withhold()
			}
		}
	}
	// trends: each indicator and month
	tr := slices.Clone(w.trends)
	slices.SortStableFunc(tr, func(a, b *trendRow) int {
		return cmp.Or(cmp.Compare(a.IndicatorID, b.IndicatorID), cmp.Compare(a.Period, b.Period))
	})
	for _, run := range runsBy(tr, func(r *trendRow) string { return r.IndicatorID + "|" + r.Period }) {
		if !private(run[0].IndicatorID) {
			continue
		}
		items := make([]areaKeyed, len(run))
		for i, r := range run {
			items[i] = areaKeyed{level: r.AreaLevel, code: r.AreaCode,
				c: cell{count: r.Numerator.V, known: r.Numerator.Valid, key: r.AreaLevel + "|" + r.AreaCode, state: &r.Suppression}}
		}
		runSuppression(items, h, cfg)
		for _, r := range run {
			if r.Suppression != "" {
				r.Value, r.Numerator, r.PointType = Num{}, Num{}, ""
			}
		}
	}
	// deciles add up to their area's total, which is published
	for _, run := range runsBy(w.deciles, func(r *decileRow) string {
		return r.IndicatorID + "|" + r.Period + "|" + r.AreaLevel + "|" + r.AreaCode
	}) {
		if !private(run[0].IndicatorID) {
			continue
		}
		total := ""
		cells := []cell{{known: true, state: &total}}
		g := group{parent: 0}
		for _, r := range run {
			cells = append(cells, cell{count: r.Numerator.V, known: r.Numerator.Valid, key: string(rune('0' + r.Decile)), state: &r.Suppression})
			g.children = append(g.children, len(cells)-1)
		}
		suppress(cells, []group{g}, cfg.MinCount, cfg.Secondary)
		for _, r := range run {
			if r.Suppression != "" {
				r.Numerator, r.Value, r.Lower95, r.Upper95 = Num{}, Num{}, Num{}, Num{}
			}
		}
	}
	// headline referral counts; their rates follow the indicator rows
	withheld := map[string]bool{}
	for _, r := range w.values {
		if r.Suppression != "" {
			withheld[r.IndicatorID+"|"+r.AreaLevel+"|"+r.AreaCode] = true
		}
	}
	for _, s := range w.summary {
		if s.Referrals.Valid && s.Referrals.V >= 1 && s.Referrals.V < float64(cfg.MinCount) {
			s.Suppression = "primary"
			s.Referrals, s.ReferralRate, s.TwoWWRate = Num{}, Num{}, Num{}
		}
		if withheld["ref_rate_per_1000|"+s.AreaLevel+"|"+s.AreaCode] {
			s.ReferralRate = Num{}
		}
		if withheld["ref_2ww_rate_per_1000|"+s.AreaLevel+"|"+s.AreaCode] {
			s.TwoWWRate = Num{}
		}
	}
}

// withhold clears the count and everything computed from it.
func (r *ivRow) withhold() {
	r.Suppressed = true
	r.Numerator, r.Value = Num{}, Num{}
	r.Lower95, r.Upper95, r.Lower998, r.Upper998 = Num{}, Num{}, Num{}, Num{}
	// funnel limits at a denominator need not involve the count, but the
	// models may compute them from it: withhold them as well, to be safe
	r.FL95, r.FU95, r.FL998, r.FU998 = Num{}, Num{}, Num{}, Num{}
	r.Opportunity = Num{}
	r.Comparison, r.Funnel, r.FunnelOD = "not compared", "", ""
}

// runsBy splits xs into runs of equal key (xs must be grouped by key).
func runsBy[T any](xs []T, key func(T) string) [][]T {
	var out [][]T
	start := 0
	for i := 1; i <= len(xs); i++ {
		if i == len(xs) || key(xs[i]) != key(xs[start]) {
			if i > start {
				out = append(out, xs[start:i])
			}
			start = i
		}
	}
	return out
}
