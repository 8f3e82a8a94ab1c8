// Package disclosure is gplens's statistical disclosure control: the
// primary and secondary suppression of small counts behind the release
// schema of the warehouse (sql/release), registered as the SQL function
// sdc_suppress, and (in disclosure/attack) the differencing attacks that
// check nothing withheld can be recovered from what is published.
package disclosure

import (
	"cmp"
	"slices"
	"strconv"
)

// Cell is one count subject to disclosure control: an indicator's numerator
// at an area (and, for deprivation deciles, a decile) in one period.
type Cell struct {
	Indicator string
	Level     string // practice, pcn, sub_icb, icb, region, england
	Code      string
	// Decile is 1..10 for a decile cell (the area's practices of that
	// national deprivation decile), 0 for the area itself.
	Decile int
	N      float64
	Known  bool // N is present (a NULL count is missing, not secret)
	// Practice cells only: the areas above the practice, and the
	// deprivation decile it is counted in (0: in none).
	PCN, SubICB, ICB, Region string
	IMD                      int
	// PartOf is the indicator this one is a part of (a priority or a
	// specialty of all referrals); Family names the set of parts that add
	// up to it.
	PartOf, Family string
	// SameAs is an indicator whose count at the same area is the same
	// number (a standardised ratio's observed count and the rate's count).
	SameAs string
	// Rule is the indicator's disclosure rule.
	Rule Rule
}

// Rule is the suppression rule for an indicator's cells.
type Rule struct {
	// MinCount: counts 1..MinCount-1 are withheld.
	MinCount float64
	// Zero also withholds counts of 0.
	Zero bool
	// Secondary withholds further cells so that no withheld count is a
	// published total minus published parts.
	Secondary bool
}

// Reasons a cell is withheld.
const (
	Primary   = "primary"
	Secondary = "secondary"
)

// Group is a published relation: the parent's count is the sum of the
// children's counts.
type Group struct {
	Parent   int
	Children []int
}

var levels = []string{"practice", "pcn", "sub_icb", "icb", "region", "england"}

func rank(l string) int {
	if i := slices.Index(levels, l); i >= 0 {
		return i
	}
	return -1
}

type cellKey struct {
	ind, level, code string
	decile           int
}

func (c *Cell) key() cellKey { return cellKey{c.Indicator, c.Level, c.Code, c.Decile} }

// ancestor is the practice's area at level l ("" when it has none).
func (c *Cell) ancestor(l string) string {
	switch l {
	case "practice":
		return c.Code
	case "pcn":
		return c.PCN
	case "sub_icb":
		return c.SubICB
	case "icb":
		return c.ICB
	case "region":
		return c.Region
	case "england":
		return "england"
	}
	return ""
}

// Groups lists every additive relation among cells that a reader of the
// release tables can use:
//   - an area's count is the sum, for each lower level, of the areas of that
//     level nested in it plus its practices in none of them (so a practice
//     outside any PCN, or a PCN straddling two sub-ICBs, still closes the sum);
//   - the same for each deprivation decile of an ICB, region and England;
//   - an area's count is the sum of its ten decile cells plus its practices
//     counted in no decile;
//   - a total is the sum of its parts (PartOf/Family) at each area;
//   - two cells holding the same count (SameAs) each reveal the other.
//
// Groups are returned in a fixed order for a given input order.
func Groups(cells []Cell) []Group {
	idx := make(map[cellKey]int, len(cells))
	for i := range cells {
		k := cells[i].key()
		if k.level == "england" {
			k.code = "" // England's code is whatever its rows carry
		}
		idx[k] = i
	}
	lookup := func(ind, level, code string, decile int) (int, bool) {
		if level == "england" {
			code = ""
		} else if code == "" {
			return 0, false
		}
		i, ok := idx[cellKey{ind, level, code, decile}]
		return i, ok
	}
	families := func(p *Cell) []int {
		if p.IMD > 0 {
			return []int{0, p.IMD}
		}
		return []int{0}
	}
	// nested[{area cell, upper level}] is the single upper area all the
	// area's practices lie in; straddles marks areas split between two.
	type upKey struct {
		cell  int
		level string
	}
	nested := map[upKey]string{}
	straddles := map[upKey]bool{}
	var practices []int
	for i := range cells {
		p := &cells[i]
		if p.Level != "practice" || p.Decile != 0 {
			continue
		}
		practices = append(practices, i)
		for _, d := range families(p) {
			for li := 1; li < len(levels)-1; li++ {
				a, ok := lookup(p.Indicator, levels[li], p.ancestor(levels[li]), d)
				if !ok {
					continue
				}
				for _, up := range levels[li+1:] {
					k := upKey{a, up}
					code := p.ancestor(up)
					if prev, seen := nested[k]; seen && prev != code {
						straddles[k] = true
					}
					nested[k] = code
				}
			}
		}
	}
	hasDeciles := map[int]bool{}
	for i := range cells {
		if c := &cells[i]; c.Decile > 0 {
			if parent, ok := lookup(c.Indicator, c.Level, c.Code, 0); ok {
				hasDeciles[parent] = true
			}
		}
	}

	type gk struct {
		parent int
		what   string
	}
	members := map[gk][]int{}
	seen := map[gk]map[int]bool{}
	var order []gk
	add := func(k gk, child int) {
		if child == k.parent {
			return
		}
		s := seen[k]
		if s == nil {
			s = map[int]bool{}
			seen[k] = s
			order = append(order, k)
		}
		if !s[child] {
			s[child] = true
			members[k] = append(members[k], child)
		}
	}
	for _, pi := range practices {
		p := &cells[pi]
		for _, d := range families(p) {
			for li := 1; li < len(levels); li++ {
				up := levels[li]
				parent, ok := lookup(p.Indicator, up, p.ancestor(up), d)
				if !ok {
					continue
				}
				for _, low := range levels[:li] {
					child := pi
					if low != "practice" {
						c, ok := lookup(p.Indicator, low, p.ancestor(low), d)
						if ok && !straddles[upKey{c, up}] && nested[upKey{c, up}] == p.ancestor(up) {
							child = c
						}
					}
					add(gk{parent, "level:" + low}, child)
				}
			}
		}
		if p.IMD == 0 {
			for _, up := range levels[1:] {
				if parent, ok := lookup(p.Indicator, up, p.ancestor(up), 0); ok && hasDeciles[parent] {
					add(gk{parent, "deciles"}, pi)
				}
			}
		}
	}
	for i := range cells {
		c := &cells[i]
		if c.Decile > 0 {
			if parent, ok := lookup(c.Indicator, c.Level, c.Code, 0); ok {
				add(gk{parent, "deciles"}, i)
			}
		}
		if c.PartOf != "" {
			if parent, ok := lookup(c.PartOf, c.Level, c.Code, c.Decile); ok {
				add(gk{parent, "parts:" + c.Family}, i)
			}
		}
		if c.SameAs != "" {
			if other, ok := lookup(c.SameAs, c.Level, c.Code, c.Decile); ok {
				add(gk{other, "same:" + c.Indicator}, i)
				add(gk{i, "same:" + c.SameAs}, other)
			}
		}
	}
	out := make([]Group, 0, len(order))
	for _, k := range order {
		out = append(out, Group{Parent: k.parent, Children: members[k]})
	}
	return out
}

// Suppress returns, for each cell, "" (published), Primary or Secondary,
// under each cell's Rule.
//
// Primary: a known count in 1..MinCount-1 (or 0 under Zero). Secondary
// (where the total's rule asks for it), repeated until nothing changes: in
// every relation total = sum of parts with exactly one withheld term (a part,
// or the total itself), a second term is withheld: the smallest published
// part (ties: the first in Indicator, Level, Code, Decile order), or the
// total when no part is published. The choice depends only on the cells, so
// the same inputs always withhold the same cells. Missing counts (Known
// false) take no part in any sum.
func Suppress(cells []Cell, groups []Group) []string {
	state := make([]string, len(cells))
	for i, c := range cells {
		if c.Known && ((c.N >= 1 && c.N < c.Rule.MinCount) || (c.Rule.Zero && c.N == 0)) {
			state[i] = Primary
		}
	}
	// tie-break order, independent of the input order
	ord := make([]int, len(cells))
	for i := range ord {
		ord[i] = i
	}
	slices.SortFunc(ord, func(a, b int) int {
		x, y := &cells[a], &cells[b]
		return cmp.Or(cmp.Compare(x.Indicator, y.Indicator), cmp.Compare(rank(x.Level), rank(y.Level)),
			cmp.Compare(x.Code, y.Code), cmp.Compare(x.Decile, y.Decile))
	})
	pos := make([]int, len(cells))
	for p, i := range ord {
		pos[i] = p
	}
	// groups touching each cell, to revisit only what a change affects
	touching := make([][]int, len(cells))
	for gi, g := range groups {
		touching[g.Parent] = append(touching[g.Parent], gi)
		for _, ch := range g.Children {
			touching[ch] = append(touching[ch], gi)
		}
	}
	queued := make([]bool, len(groups))
	queue := make([]int, 0, len(groups))
	for gi := range groups {
		queued[gi] = true
		queue = append(queue, gi)
	}
	hide := func(i int) {
		state[i] = Secondary
		for _, gi := range touching[i] {
			if !queued[gi] {
				queued[gi] = true
				queue = append(queue, gi)
			}
		}
	}
	for len(queue) > 0 {
		gi := queue[0]
		queue = queue[1:]
		queued[gi] = false
		g := groups[gi]
		if !cells[g.Parent].Known || !cells[g.Parent].Rule.Secondary {
			continue
		}
		// a withheld total is as exposed as a withheld part: it is the sum
		// of the parts when they are all published
		nHidden, best := 0, -1
		if state[g.Parent] != "" {
			nHidden++
		}
		for _, ch := range g.Children {
			c := &cells[ch]
			if !c.Known {
				continue
			}
			if state[ch] != "" {
				nHidden++
				continue
			}
			if best < 0 || c.N < cells[best].N || (c.N == cells[best].N && pos[ch] < pos[best]) {
				best = ch
			}
		}
		if nHidden != 1 {
			continue
		}
		if best >= 0 {
			hide(best)
		} else {
			hide(g.Parent)
		}
	}
	return state
}

// String is a cell's readable key, for messages.
func (c Cell) String() string {
	s := c.Indicator + "/" + c.Level + "/" + c.Code
	if c.Decile > 0 {
		s += "/decile " + strconv.Itoa(c.Decile)
	}
	return s
}
