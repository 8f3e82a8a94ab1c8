package publish

import (
	"cmp"
	"fmt"
	"slices"
)

type areaRef struct {
	Level, Code, Name string
}

// pack is everything one area's outputs are drawn from, already suppressed
// and sorted.
type pack struct {
	Period     string
	Area       areaRef
	Ancestors  []areaRef // nearest first, ending with England
	Practices  []*practice
	Values     []*ivRow
	Inequality []*ineqRow
	Deciles    []*decileRow
	Trends     []*trendRow
	Summary    []*summaryRow
	Indicators []*indicator // with data in this pack, catalogue order
	Key        []*indicator
	Counts     SuppressionCounts
}

func (p *pack) parent() areaRef {
	if len(p.Ancestors) > 0 {
		return p.Ancestors[0]
	}
	return areaRef{Level: "england", Name: "England"}
}

func areaKey(level, code string) string {
	if level == "england" {
		return "england"
	}
	return level + "|" + code
}

// areasOf lists the areas of the given levels present in the practice
// dimension, with their ancestors.
func areasOf(ps []*practice, levels []string) (map[string]areaRef, map[string][]areaRef) {
	areas := map[string]areaRef{}
	anc := map[string][]areaRef{}
	for _, p := range ps {
		chain := []areaRef{
			{"region", p.Region, p.RegionName},
			{"icb", p.ICB, p.ICBName},
			{"sub_icb", p.SubICB, p.SubICBName},
			{"pcn", p.PCN, p.PCNName},
		}
		for i, a := range chain {
			if a.Code == "" || !slices.Contains(levels, a.Level) {
				continue
			}
			k := areaKey(a.Level, a.Code)
			if _, ok := areas[k]; ok {
				continue
			}
			if a.Name == "" {
				a.Name = a.Code
			}
			areas[k] = a
			var up []areaRef
			for j := i - 1; j >= 0; j-- {
				if chain[j].Code != "" {
					up = append(up, chain[j])
				}
			}
			anc[k] = append(up, areaRef{Level: "england", Code: "", Name: "England"})
		}
	}
	return areas, anc
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

type index[T any] map[string][]T

func indexBy[T any](xs []T, key func(T) string) index[T] {
	ix := index[T]{}
	for _, x := range xs {
		k := key(x)
		ix[k] = append(ix[k], x)
	}
	return ix
}

// packer slices the period's data into packs.
type packer struct {
	w          *warehouse
	h          hierarchy
	values     index[*ivRow]
	ineq       index[*ineqRow]
	deciles    index[*decileRow]
	trends     index[*trendRow]
	summary    index[*summaryRow]
	aggregates []string // keys of every aggregate area below England, sorted
	key        []string
}

func newPacker(w *warehouse, key []string) *packer {
	pk := &packer{w: w, h: newHierarchy(w.practices), key: key}
	pk.values = indexBy(w.values, func(r *ivRow) string { return areaKey(r.AreaLevel, r.AreaCode) })
	pk.ineq = indexBy(w.inequality, func(r *ineqRow) string { return areaKey(r.AreaLevel, r.AreaCode) })
	pk.deciles = indexBy(w.deciles, func(r *decileRow) string { return areaKey(r.AreaLevel, r.AreaCode) })
	pk.trends = indexBy(w.trends, func(r *trendRow) string { return areaKey(r.AreaLevel, r.AreaCode) })
	pk.summary = indexBy(w.summary, func(r *summaryRow) string { return areaKey(r.AreaLevel, r.AreaCode) })
	for k := range pk.h {
		if len(k) < 9 || k[:9] != "practice|" {
			pk.aggregates = append(pk.aggregates, k)
		}
	}
	slices.Sort(pk.aggregates)
	return pk
}

func (pk *packer) build(a areaRef, ancestors []areaRef) (*pack, error) {
	p := &pack{Period: pk.w.period, Area: a, Ancestors: ancestors}
	for _, pr := range pk.w.practices {
		if pr.code(a.Level) == a.Code {
			p.Practices = append(p.Practices, pr)
		}
	}
	if len(p.Practices) == 0 {
		return nil, fmt.Errorf("area %s %s has no practices in %s", a.Level, a.Code, pk.w.practicePeriod)
	}
	// comparators top-down, the area, the areas inside it, its practices
	var comps []string
	for i := len(ancestors) - 1; i >= 0; i-- {
		comps = append(comps, areaKey(ancestors[i].Level, ancestors[i].Code))
	}
	comps = append(comps, areaKey(a.Level, a.Code))
	var inside []string
	for _, k := range pk.aggregates {
		m := pk.h[k]
		if m[a.Level] == a.Code && k != areaKey(a.Level, a.Code) {
			inside = append(inside, k)
		}
	}
	slices.SortFunc(inside, func(x, y string) int {
		lx, ly := x[:indexByte(x, '|')], y[:indexByte(y, '|')]
		return cmp.Or(cmp.Compare(levelRank(lx), levelRank(ly)), cmp.Compare(x, y))
	})
	var prs []string
	for _, pr := range p.Practices {
		prs = append(prs, areaKey("practice", pr.Code))
	}
	all := slices.Concat(comps, inside, prs)
	withPractices := slices.Concat(comps, prs)

	pos := map[string]int{}
	for i, k := range all {
		pos[k] = i
	}
	p.Values = gather(pk.values, all, pos, func(r *ivRow) (string, string) { return r.IndicatorID, areaKey(r.AreaLevel, r.AreaCode) })
	p.Inequality = gather(pk.ineq, comps, pos, func(r *ineqRow) (string, string) { return r.IndicatorID, areaKey(r.AreaLevel, r.AreaCode) })
	p.Deciles = gather(pk.deciles, comps, pos, func(r *decileRow) (string, string) { return r.IndicatorID, areaKey(r.AreaLevel, r.AreaCode) })
	p.Trends = gather(pk.trends, withPractices, pos, func(r *trendRow) (string, string) { return r.IndicatorID, areaKey(r.AreaLevel, r.AreaCode) })
	p.Summary = gather(pk.summary, comps, pos, func(r *summaryRow) (string, string) { return "", areaKey(r.AreaLevel, r.AreaCode) })

	has := map[string]bool{}
	for _, r := range p.Values {
		has[r.IndicatorID] = true
		p.Counts.add(r.Suppression)
	}
	for _, r := range p.Trends {
		has[r.IndicatorID] = true
		p.Counts.add(r.Suppression)
	}
	for _, r := range p.Deciles {
		p.Counts.add(r.Suppression)
	}
	for _, r := range p.Summary {
		p.Counts.add(r.Suppression)
	}
	for _, in := range pk.w.catalogue {
		if has[in.ID] {
			p.Indicators = append(p.Indicators, in)
		}
	}
	for _, id := range pk.key {
		if in := pk.w.byID[id]; in != nil && has[id] {
			p.Key = append(p.Key, in)
		}
	}
	return p, nil
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return len(s)
}

// gather concatenates the rows of keys and sorts them by indicator, then by
// the keys' order, stably (rows of one key keep their warehouse order).
func gather[T any](ix index[T], keys []string, pos map[string]int, by func(T) (string, string)) []T {
	var out []T
	for _, k := range keys {
		out = append(out, ix[k]...)
	}
	slices.SortStableFunc(out, func(a, b T) int {
		ia, ka := by(a)
		ib, kb := by(b)
		return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(pos[ka], pos[kb]))
	})
	return out
}
