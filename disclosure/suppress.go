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
// under each cell's Rule: SuppressOpts with the whole-system audit.
func Suppress(cells []Cell, groups []Group) []string {
	return SuppressOpts(cells, groups, Options{Audit: true})
}

// Options tune SuppressOpts.
type Options struct {
	// Audit runs the whole-system audit after the per-relation rule (see
	// SuppressOpts). Off only to show, in the attack tests, what it adds.
	Audit bool
	// Stats, if set, receives what the audit did.
	Stats *Stats
}

// Stats are what the audit did in one SuppressOpts call.
type Stats struct {
	Rounds     int // audits run (the last one finds nothing, or nothing can be done)
	Determined int // withheld cells found determined, summed over rounds
	Added      int // secondary cells withheld because of the audit (and the per-relation rule after them)
}

// SuppressOpts returns, for each cell, "" (published), Primary or Secondary.
//
// Primary: a known count in 1..MinCount-1 (or 0 under Zero).
//
// Secondary, per relation (where the total's rule asks for it), repeated
// until nothing changes: in every relation total = sum of parts with exactly
// one withheld term (a part, or the total itself), a second term is
// withheld: the smallest published part (ties: the first in Indicator,
// Level, Code, Decile order), or the total when no part is published. All
// relations short of a term choose against the same state, then all the
// choices are withheld (in waves), so the order of the relations does not
// matter.
//
// Secondary, whole system (Audit): a reader can combine every published
// relation at once, so a withheld count may follow from several sums even
// though each has two withheld terms. The audit solves the relations as a
// linear system in the withheld counts (published counts moved to the
// right-hand side) and finds every withheld cell the system determines
// (Solve), keeping for each the combination of relations that isolates
// it. Among the published cells of that combination whose coefficient is
// not zero it withholds the cheapest (cells it would make determined at
// once: one per relation of published counts only holding it, one if it
// would be determined itself), then the one breaking the most determined
// counts, a non-zero count, the smallest, key order (auditRound); a cell of
// cost 0 breaks the count for every combination and determines nothing
// else. It then re-applies the per-relation rule and audits again
// until no withheld count is determined. Only the components of withheld
// cells (linked through relations) that changed are audited again. Each
// choice depends only on the cells, never on the input order or the
// elimination order, so the same inputs always withhold the same cells.
//
// A count the relations fix by themselves, whatever is published (a decile
// cell of an area with no practice in that decile is 0), is never chosen as
// a secondary cell (with Audit): withholding it would protect nothing.
//
// Missing counts (Known false) take no part in any sum.
func SuppressOpts(cells []Cell, groups []Group, o Options) []string {
	s := newSuppressor(cells, groups)
	if o.Audit {
		s.findFixed()
	}
	s.perRelation()
	if o.Audit {
		s.audit(o.Stats)
	}
	return s.state
}

type suppressor struct {
	cells    []Cell
	groups   []Group
	state    []string
	pos      []int   // tie-break order, independent of the input order
	ord      []int   // the cells in pos order
	touching [][]int // groups touching each cell
	queued   []bool
	queue    []int
	dirty    []bool // withheld since the last audit
	// fixed: cells whose count the relations fix whatever is published
	// (a decile cell of an area with no practice in that decile is 0 by
	// the sums alone): withholding one protects nothing, so none is ever
	// chosen as a secondary cell and the audit does not count them.
	fixed []bool
}

func newSuppressor(cells []Cell, groups []Group) *suppressor {
	s := &suppressor{cells: cells, groups: groups, state: make([]string, len(cells)), dirty: make([]bool, len(cells)), fixed: make([]bool, len(cells))}
	for i, c := range cells {
		if c.Known && ((c.N >= 1 && c.N < c.Rule.MinCount) || (c.Rule.Zero && c.N == 0)) {
			s.state[i] = Primary
			s.dirty[i] = true
		}
	}
	ord := make([]int, len(cells))
	for i := range ord {
		ord[i] = i
	}
	slices.SortFunc(ord, func(a, b int) int {
		x, y := &cells[a], &cells[b]
		return cmp.Or(cmp.Compare(x.Indicator, y.Indicator), cmp.Compare(rank(x.Level), rank(y.Level)),
			cmp.Compare(x.Code, y.Code), cmp.Compare(x.Decile, y.Decile))
	})
	s.ord = ord
	s.pos = make([]int, len(cells))
	for p, i := range ord {
		s.pos[i] = p
	}
	s.touching = make([][]int, len(cells))
	for gi, g := range groups {
		s.touching[g.Parent] = append(s.touching[g.Parent], gi)
		for _, ch := range g.Children {
			s.touching[ch] = append(s.touching[ch], gi)
		}
	}
	s.queued = make([]bool, len(groups))
	s.queue = make([]int, 0, len(groups))
	for gi := range groups {
		s.queued[gi] = true
		s.queue = append(s.queue, gi)
	}
	return s
}

// active: the relation is one the rules protect (its total is known and its
// rule asks for secondary suppression).
func (s *suppressor) active(gi int) bool {
	p := &s.cells[s.groups[gi].Parent]
	return p.Known && p.Rule.Secondary
}

func (s *suppressor) hide(i int) {
	s.state[i] = Secondary
	s.dirty[i] = true
	for _, gi := range s.touching[i] {
		if !s.queued[gi] {
			s.queued[gi] = true
			s.queue = append(s.queue, gi)
		}
	}
}

// less: cell a is the better cell to withhold than b (smaller count, then
// key order).
func (s *suppressor) less(a, b int) bool {
	x, y := s.cells[a].N, s.cells[b].N
	return x < y || (x == y && s.pos[a] < s.pos[b])
}

// perRelation applies the per-relation rule in waves: every queued relation
// with exactly one withheld term chooses its second term against the same
// state, then all choices are withheld and the relations they touch are
// queued. Choosing against one state makes the result independent of the
// order of the relations (and so of the input order).
func (s *suppressor) perRelation() {
	for len(s.queue) > 0 {
		wave := s.queue
		s.queue = nil
		var picks []int
		for _, gi := range wave {
			s.queued[gi] = false
			if p := s.pick(gi); p >= 0 {
				picks = append(picks, p)
			}
		}
		for _, p := range picks {
			if s.state[p] == "" {
				s.hide(p)
			}
		}
	}
}

// pick is the cell relation gi needs withheld, -1 if none: when exactly one
// term is withheld, the smallest published part, or the total when no part
// is published.
func (s *suppressor) pick(gi int) int {
	if !s.active(gi) {
		return -1
	}
	g := s.groups[gi]
	// a withheld total is as exposed as a withheld part: it is the sum
	// of the parts when they are all published
	nHidden, best := 0, -1
	if s.state[g.Parent] != "" {
		nHidden++
	}
	for _, ch := range g.Children {
		c := &s.cells[ch]
		if !c.Known {
			continue
		}
		if s.state[ch] != "" {
			nHidden++
			continue
		}
		if s.fixed[ch] {
			continue
		}
		if best < 0 || s.less(ch, best) {
			best = ch
		}
	}
	switch {
	case nHidden != 1:
		return -1
	case best >= 0:
		return best
	default:
		return g.Parent
	}
}

// String is a cell's readable key, for messages.
func (c Cell) String() string {
	s := c.Indicator + "/" + c.Level + "/" + c.Code
	if c.Decile > 0 {
		s += "/decile " + strconv.Itoa(c.Decile)
	}
	return s
}
