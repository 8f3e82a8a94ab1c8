// Package disclosure is gplens's statistical disclosure control: the
// primary and secondary suppression of small counts behind the release
// schema of the warehouse (sql/release), registered as the SQL function
// sdc_suppress, and (in disclosure/attack) the differencing attacks that
// check nothing withheld can be recovered from what is published.
package disclosure

import (
	"cmp"
	"iter"
	"slices"
	"strconv"
	"sync"
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
	// Kind is what the relation sums: "level:L" (the parent's areas of
	// level L, with its practices in none of them), "deciles", "parts:F"
	// or "same:I"; "" for a relation given by hand.
	Kind string
}

// Terms are the relation's cells, the total first (without building a
// slice: the audit walks every relation in every round).
func (g *Group) Terms() iter.Seq[int] {
	return func(yield func(int) bool) {
		if !yield(g.Parent) {
			return
		}
		for _, c := range g.Children {
			if !yield(c) {
				return
			}
		}
	}
}

var levels = []string{"practice", "pcn", "sub_icb", "icb", "region", "england"}

func rank(l string) int {
	if i := slices.Index(levels, l); i >= 0 {
		return i
	}
	return -1
}

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
	// Strings are numbered once and cells found by number: at England
	// scale (a quarter of a million cells a period) the lookups below run
	// millions of times.
	ids := map[string]int32{}
	intern := func(s string) int32 {
		v, ok := ids[s]
		if !ok {
			v = int32(len(ids))
			ids[s] = v
		}
		return v
	}
	none := intern("")
	lvl := func(l string) int32 {
		if r := rank(l); r >= 0 {
			return int32(r)
		}
		return int32(len(levels)) + intern(l)
	}
	type ckey struct{ ind, level, code, decile int32 }
	idx := make(map[ckey]int32, len(cells))
	ind := make([]int32, len(cells))
	for i := range cells {
		c := &cells[i]
		ind[i] = intern(c.Indicator)
		code := intern(c.Code)
		if c.Level == "england" {
			code = none // England's code is whatever its rows carry
		}
		idx[ckey{ind[i], lvl(c.Level), code, int32(c.Decile)}] = int32(i)
	}
	england := int32(len(levels) - 1)
	// lookup finds indicator in's cell at level li (a levels index) of the
	// area numbered code.
	lookup := func(in, li, code int32, decile int) (int, bool) {
		if li == england {
			code = none
		} else if code == none {
			return 0, false
		}
		i, ok := idx[ckey{in, li, code, int32(decile)}]
		return int(i), ok
	}
	families := func(p *Cell) []int {
		if p.IMD > 0 {
			return []int{0, p.IMD}
		}
		return []int{0}
	}
	nl := len(levels)
	// anc[pi*nl+li]: practice pi's area at level li, numbered
	var practices []int
	anc := make([]int32, 0)
	for i := range cells {
		p := &cells[i]
		if p.Level != "practice" || p.Decile != 0 {
			continue
		}
		practices = append(practices, i)
		for _, l := range levels {
			anc = append(anc, intern(p.ancestor(l)))
		}
	}
	// nested[a*nl+up] is the single area of level up all area a's
	// practices lie in (-1: none seen); straddles marks areas split
	// between two.
	nested := make([]int32, len(cells)*nl)
	for i := range nested {
		nested[i] = -1
	}
	straddles := make([]bool, len(cells)*nl)
	// at[(k*2+f)*nl+li]: practice k's area cell at level li in its family
	// f (0: all practices, 1: its decile), -1 if none; looked up once, read
	// by every loop below (about forty lookups a practice cell otherwise)
	at := make([]int32, len(practices)*2*nl)
	for k, pi := range practices {
		p := &cells[pi]
		a := anc[k*nl : (k+1)*nl]
		for f, d := range families(p) {
			row := at[(k*2+f)*nl : (k*2+f+1)*nl]
			row[0] = -1 // the practice itself: never looked up
			for li := 1; li < nl; li++ {
				row[li] = -1
				if c, ok := lookup(ind[pi], int32(li), a[li], d); ok {
					row[li] = int32(c)
				}
			}
		}
	}
	area := func(k, f, li int) (int, bool) {
		c := at[(k*2+f)*nl+li]
		return int(c), c >= 0
	}
	for k, pi := range practices {
		p := &cells[pi]
		a := anc[k*nl : (k+1)*nl]
		for f := range families(p) {
			for li := 1; li < nl-1; li++ {
				c, ok := area(k, f, li)
				if !ok {
					continue
				}
				for up := li + 1; up < nl; up++ {
					if prev := nested[c*nl+up]; prev >= 0 && prev != a[up] {
						straddles[c*nl+up] = true
					}
					nested[c*nl+up] = a[up]
				}
			}
		}
	}
	hasDeciles := make([]bool, len(cells))
	for i := range cells {
		if c := &cells[i]; c.Decile > 0 {
			if parent, ok := lookup(ind[i], lvl(c.Level), intern(c.Code), 0); ok {
				hasDeciles[parent] = true
			}
		}
	}

	// Relations in order of first appearance; the level relations, met
	// millions of times, are found through a dense table.
	var out []Group
	levelGroup := make([]int32, len(cells)*nl) // parent*nl+low -> relation+1
	// the other relations by total and kind, the kind numbered by its
	// string (a few: deciles, parts:F, same:I), built once each
	var kinds []string
	type kk struct{ prefix, name string }
	kindOf := map[kk]uint64{}
	kind := func(prefix, name string) uint64 {
		k, ok := kindOf[kk{prefix, name}]
		if !ok {
			k = uint64(len(kinds))
			kindOf[kk{prefix, name}] = k
			kinds = append(kinds, prefix+name)
		}
		return k
	}
	other := map[uint64]int{}
	add := func(parent int, what uint64, child int) {
		if child == parent {
			return
		}
		k := uint64(parent)<<32 | what
		g, ok := other[k]
		if !ok {
			g = len(out)
			other[k] = g
			out = append(out, Group{Parent: parent, Kind: kinds[what]})
		}
		out[g].Children = append(out[g].Children, child)
	}
	deciles := kind("", "deciles")
	// added[c*nl+up]: area c is already a part in its level-up relation
	// (an area lies in one area of each level above it, so once is all)
	added := make([]bool, len(cells)*nl)
	for k, pi := range practices {
		p := &cells[pi]
		a := anc[k*nl : (k+1)*nl]
		for f := range families(p) {
			for up := 1; up < nl; up++ {
				parent, ok := area(k, f, up)
				if !ok {
					continue
				}
				for low := 0; low < up; low++ {
					child := pi
					if low > 0 {
						c, ok := area(k, f, low)
						if ok && !straddles[c*nl+up] && nested[c*nl+up] == a[up] {
							if added[c*nl+up] {
								continue
							}
							added[c*nl+up] = true
							child = c
						}
					}
					if child == parent {
						continue
					}
					g := int(levelGroup[parent*nl+low]) - 1
					if g < 0 {
						g = len(out)
						levelGroup[parent*nl+low] = int32(g + 1)
						out = append(out, Group{Parent: parent, Kind: "level:" + levels[low]})
					}
					out[g].Children = append(out[g].Children, child)
				}
			}
		}
		if p.IMD == 0 {
			for up := 1; up < nl; up++ {
				if parent, ok := area(k, 0, up); ok && hasDeciles[parent] {
					add(parent, deciles, pi)
				}
			}
		}
	}
	for i := range cells {
		c := &cells[i]
		if c.Decile > 0 {
			if parent, ok := lookup(ind[i], lvl(c.Level), intern(c.Code), 0); ok {
				add(parent, deciles, i)
			}
		}
		if c.PartOf != "" {
			if parent, ok := lookup(intern(c.PartOf), lvl(c.Level), intern(c.Code), c.Decile); ok {
				add(parent, kind("parts:", c.Family), i)
			}
		}
		if c.SameAs != "" {
			if other, ok := lookup(intern(c.SameAs), lvl(c.Level), intern(c.Code), c.Decile); ok {
				add(other, kind("same:", c.Indicator), i)
				add(i, kind("same:", c.SameAs), other)
			}
		}
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
	// Stop, if set, is polled between audit rounds and cells: once it
	// returns true SuppressOpts gives up and its answer is incomplete (a
	// cancelled query's, to be thrown away).
	Stop func() bool
}

// Stats are what the audit did in one SuppressOpts call.
type Stats struct {
	Rounds     int // audits run (the last one finds nothing, or nothing can be done)
	Determined int // withheld cells found determined, summed over rounds
	Added      int // secondary cells withheld because of the audit (and the per-relation rule after them)
	Global     int // rounds that solved whole components (the first; later ones add the cells withheld since: incremental)
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
// until no withheld count is determined. Rounds after the first decide
// only the counts withheld since and those found determined, from the
// first round's solve and the cells withheld since (incremental). Each
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
		s.chooseBasis()
		s.findFixed()
	}
	s.perRelation()
	if o.Audit {
		s.stop = o.Stop
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
	// basis: the relations the audit solves (chooseBasis); nil: all
	basis []bool
	stop  func() bool // Options.Stop
	rank  []int       // relRank
	// act: active(gi), fixed for the suppressor's life (a relation's total
	// and rule never change); read for every relation in every round
	act []bool
	// scratch holds localWhy's marks, colIdx solveRels' column
	// indexes (colScratch), each one per goroutine at a time
	scratch, colIdx sync.Pool
}

// keyOrder is the cells' indices in key order: indicator, level (practice
// up to England), code, decile; equal keys keep their input order.
//
// The strings are ranked once (a period has a few hundred indicators and
// some thousands of codes among a quarter of a million cells) and the cells
// sorted by numbers: the same order as comparing the strings, in a third of
// the time (England, 271,047 cells: 0.29 -> 0.09 s).
func keyOrder(cells []Cell) []int {
	has := func(m map[string]int32, v string) bool { _, ok := m[v]; return ok }
	rankOf := func(get func(*Cell) string) []int32 {
		seen := map[string]int32{}
		var uniq []string
		for i := range cells {
			if v := get(&cells[i]); !has(seen, v) {
				seen[v] = 0
				uniq = append(uniq, v)
			}
		}
		slices.Sort(uniq)
		for r, v := range uniq {
			seen[v] = int32(r)
		}
		out := make([]int32, len(cells))
		for i := range cells {
			out[i] = seen[get(&cells[i])]
		}
		return out
	}
	ind := rankOf(func(c *Cell) string { return c.Indicator })
	code := rankOf(func(c *Cell) string { return c.Code })
	type key struct {
		hi     uint64 // indicator, level, code
		decile int
		i      int
	}
	keys := make([]key, len(cells))
	for i := range cells {
		c := &cells[i]
		// rank(level) is -1 for a level not known: first, as before
		keys[i] = key{uint64(ind[i])<<40 | uint64(rank(c.Level)+1)<<32 | uint64(code[i]), c.Decile, i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.decile, b.decile), cmp.Compare(a.i, b.i))
	})
	ord := make([]int, len(cells))
	for k, x := range keys {
		ord[k] = x.i
	}
	return ord
}

func newSuppressor(cells []Cell, groups []Group) *suppressor {
	s := &suppressor{cells: cells, groups: groups, state: make([]string, len(cells)), dirty: make([]bool, len(cells)), fixed: make([]bool, len(cells))}
	for i, c := range cells {
		if c.Known && ((c.N >= 1 && c.N < c.Rule.MinCount) || (c.Rule.Zero && c.N == 0)) {
			s.state[i] = Primary
			s.dirty[i] = true
		}
	}
	ord := keyOrder(cells)
	s.ord = ord
	s.pos = make([]int, len(cells))
	for p, i := range ord {
		s.pos[i] = p
	}
	// each cell's relations in one array, counted first (a quarter of a
	// million cells would otherwise each grow a slice of their own)
	n := make([]int32, len(cells))
	total := 0
	for gi := range groups {
		for t := range groups[gi].Terms() {
			n[t]++
			total++
		}
	}
	all := make([]int, total)
	s.touching = make([][]int, len(cells))
	for i, k := range n {
		s.touching[i], all = all[:0:k], all[k:]
	}
	for gi := range groups {
		for t := range groups[gi].Terms() {
			s.touching[t] = append(s.touching[t], gi)
		}
	}
	s.act = make([]bool, len(groups))
	for gi := range groups {
		p := &cells[groups[gi].Parent]
		s.act[gi] = p.Known && p.Rule.Secondary
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
func (s *suppressor) active(gi int) bool { return s.act[gi] }

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
