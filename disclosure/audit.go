package disclosure

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
)

// audit is the whole-system step of SuppressOpts: while the published
// relations determine a withheld count, withhold one more cell per such
// count and apply the per-relation rule again.
func (s *suppressor) audit(st *Stats) {
	if st == nil {
		st = &Stats{}
	}
	cache := &nulls{comps: map[int][][]relCoef{}}
	var prev []int
	for !s.stopped() {
		det, covers := s.auditRound(cache, prev, &st.Global)
		prev = det
		st.Rounds++
		st.Determined += len(det)
		if len(det) == 0 {
			return
		}
		before := s.withheld()
		for _, c := range covers {
			if s.state[c] == "" {
				s.hide(c)
			}
		}
		if s.withheld() == before {
			// every determined count is fixed by the relations alone
			// (a homogeneous system: all its cells withheld); nothing
			// published to withhold
			return
		}
		s.perRelation()
		st.Added += s.withheld() - before
	}
}

// chooseBasis picks the relations the audit solves: of an area's
// "level:L" relations (the area as the sum of its PCNs, of its sub-ICBs,
// ..., of its practices) only the one with the fewest terms, when every
// count in them is known. The others are sums of it and of the level
// relations of the areas in it (area = its L-areas + its loose practices,
// and each L-area = its practices), so the relations span the same space:
// the audit finds the same determined counts and the same null
// combinations, but England as the sum of its 6,300 practices, a dense
// row that fills the elimination in, is never solved.
func (s *suppressor) chooseBasis() {
	s.basis = make([]bool, len(s.groups))
	byParent := map[int][]int{}
	for gi, g := range s.groups {
		if strings.HasPrefix(g.Kind, "level:") {
			byParent[g.Parent] = append(byParent[g.Parent], gi)
		} else {
			s.basis[gi] = true
		}
	}
	for p, gis := range byParent {
		known := s.cells[p].Known
		for _, gi := range gis {
			for _, ch := range s.groups[gi].Children {
				known = known && s.cells[ch].Known
			}
		}
		if !known {
			for _, gi := range gis {
				s.basis[gi] = true
			}
			continue
		}
		// fewest terms, then the highest level of parts: independent of
		// the order of the relations
		best := gis[0]
		for _, gi := range gis[1:] {
			a, b := &s.groups[gi], &s.groups[best]
			if la, lb := len(a.Children), len(b.Children); la < lb || la == lb && rank(strings.TrimPrefix(a.Kind, "level:")) > rank(strings.TrimPrefix(b.Kind, "level:")) {
				best = gi
			}
		}
		s.basis[best] = true
	}
}

// solved: relation gi is one the audit solves.
func (s *suppressor) solved(gi int) bool {
	return s.active(gi) && (s.basis == nil || s.basis[gi])
}

func (s *suppressor) stopped() bool { return s.stop != nil && s.stop() }

func (s *suppressor) withheld() int {
	n := 0
	for _, x := range s.state {
		if x != "" {
			n++
		}
	}
	return n
}

// findFixed marks the cells whose count the active relations alone
// determine, with every known count an unknown. The answer depends only on
// the relations solved and which of their counts are known, never on the
// counts, and a warehouse's periods mostly share that structure, so it is
// kept for the last few structures seen (at England scale the solve takes
// about a second a period). The structure is keyed by the cells' places in
// key order and the relations' canonical order (relRank), not by input
// order: the cells of a period arrive in whatever order DuckDB's aggregate
// meets them.
func (s *suppressor) findFixed() {
	var eqs []Equation
	h := sha256.New()
	var buf []byte
	buf = binary.AppendUvarint(buf, uint64(len(s.cells)))
	rank := s.relRank()
	var gis []int
	for gi := range s.groups {
		if s.solved(gi) {
			gis = append(gis, gi)
		}
	}
	slices.SortFunc(gis, func(a, b int) int { return cmp.Compare(rank[a], rank[b]) })
	var known []int
	eqs = make([]Equation, 0, len(gis))
	for _, gi := range gis {
		g := s.groups[gi]
		eq := Equation{Terms: append(make([]Term, 0, 1+len(g.Children)), Term{Var: g.Parent, Coef: 1})}
		buf = binary.AppendUvarint(buf, uint64(s.pos[g.Parent])+1)
		known = known[:0]
		for _, ch := range g.Children {
			if s.cells[ch].Known {
				eq.Terms = append(eq.Terms, Term{Var: ch, Coef: -1})
				known = append(known, s.pos[ch])
			}
		}
		slices.Sort(known)
		for _, p := range known {
			buf = binary.AppendUvarint(buf, uint64(p)+1)
		}
		buf = append(buf, 0) // end of relation
		if len(buf) > 1<<16 {
			h.Write(buf)
			buf = buf[:0]
		}
		eqs = append(eqs, eq)
	}
	h.Write(buf)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	fixed, ok := fixedCache.get(key)
	if !ok {
		for _, x := range Solve(len(s.cells), eqs) {
			fixed = append(fixed, s.pos[x.Var])
		}
		fixedCache.put(key, fixed)
	}
	for _, p := range fixed {
		s.fixed[s.ord[p]] = true
	}
}

// fixedCache holds findFixed's answers (the fixed cells' places in key
// order) by a SHA-256 of the equations.
var fixedCache = &structCache{max: 8}

type structCache struct {
	mu   sync.Mutex
	max  int
	keys [][sha256.Size]byte
	vals [][]int
}

func (c *structCache) get(k [sha256.Size]byte) ([]int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.keys {
		if x == k {
			return c.vals[i], true
		}
	}
	return nil, false
}

func (c *structCache) put(k [sha256.Size]byte, v []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max <= 0 {
		return
	}
	if len(c.keys) == c.max {
		c.keys, c.vals = c.keys[1:], c.vals[1:]
	}
	c.keys = append(c.keys, k)
	c.vals = append(c.vals, v)
}

// relCoef is one relation of a combination of relations, with its
// coefficient (mod p).
type relCoef struct {
	g int
	v uint64
}

// nulls are, per component of withheld cells (keyed by its smallest cell
// index), the combinations of its relations that cancel every withheld
// count, as its last whole solve found them (components not changed since
// keep theirs); inc carries the rounds after the last solve (incremental).
type nulls struct {
	comps map[int][][]relCoef
	inc   *incremental
}

// incrLimit is how many cells may be withheld after a whole solve before
// the next round solves again instead of adding them as columns (a
// variable for the tests).
var incrLimit = 4000

// audit round: the withheld cells (not fixed) that the active relations
// determine, and the cells to withhold so that none of them still is (one
// cover may serve several). prev are the counts found determined last
// round. The first round solves every component of withheld cells whole.
// Withholding more never makes a count determined that was not (the
// published sums only lose terms), so later rounds decide only prev and
// the cells withheld since, from the last solve and the cells withheld
// after it (incremental); once incrLimit cells have been withheld after
// it, every component is solved whole again. global counts the rounds that
// solved.
func (s *suppressor) auditRound(cache *nulls, prev []int, global *int) (det, covers []int) {
	// the withheld known cells, fixed for the round (cells are withheld
	// between rounds): asked for every term of every relation
	hid := make([]bool, len(s.cells))
	for i := range hid {
		hid[i] = s.cells[i].Known && s.state[i] != ""
	}
	hidden := func(i int) bool { return hid[i] }
	var fresh []int // withheld since the last round
	for i, d := range s.dirty {
		if d {
			s.dirty[i] = false
			if hidden(i) {
				fresh = append(fresh, i)
			}
		}
	}
	// in key order, as the columns are taken
	slices.SortFunc(fresh, func(a, b int) int { return cmp.Compare(s.pos[a], s.pos[b]) })
	cand := append(slices.Clone(prev), fresh...)
	slices.Sort(cand)
	cand = slices.Compact(cand)
	why := map[int][]relCoef{}
	if inc := cache.inc; inc != nil && len(inc.newCells)+len(fresh) <= incrLimit {
		for _, f := range fresh {
			if s.stopped() {
				return nil, nil
			}
			s.take(inc, f)
		}
		for _, x := range cand {
			if !hidden(x) || s.fixed[x] {
				continue
			}
			if d, w := s.decide(inc, x); d {
				det = append(det, x)
				why[x] = w
			}
		}
		// near combinations where there are (localWhy), found on every
		// core and taken in order
		near := make([][]relCoef, len(det))
		s.relRank() // filled once, before it is shared
		forEach(len(det), func(k int) {
			if !s.stopped() {
				near[k] = s.localWhy(det[k], hidden)
			}
		})
		if s.stopped() {
			return nil, nil
		}
		for k, x := range det {
			if near[k] != nil {
				why[x] = near[k]
			}
		}
	} else {
		// stale: the cells whose components are solved whole: all of
		// them, the first time (every withheld cell is fresh) and after
		// incrLimit cells (the components those cells joined have changed
		// since the last solve, whether or not they hold a candidate)
		stale := cand
		if cache.inc != nil {
			stale = stale[:0:0]
			for i := range hid {
				if hid[i] {
					stale = append(stale, i)
				}
			}
		}
		parent := make([]int, len(s.cells))
		for i := range parent {
			parent[i] = i
		}
		find := func(x int) int {
			for parent[x] != x {
				parent[x] = parent[parent[x]]
				x = parent[x]
			}
			return x
		}
		// wterm[gi]: a withheld term of solved relation gi, -1 if none;
		// components are linked by the relations solved
		wterm := make([]int, len(s.groups))
		for gi, g := range s.groups {
			wterm[gi] = -1
			if !s.solved(gi) {
				continue
			}
			first := -1
			for t := range g.Terms() {
				if !hidden(t) {
					continue
				}
				if first < 0 {
					first = t
					continue
				}
				if a, b := find(first), find(t); a != b {
					parent[max(a, b)] = min(a, b)
				}
			}
			wterm[gi] = first
		}
		dirty := map[int]bool{}
		for _, y := range stale {
			if hidden(y) {
				dirty[find(y)] = true
			}
		}
		// the relations of each dirty component, in relation order
		rels := map[int][]int{}
		var roots []int
		for gi, w := range wterm {
			if w < 0 {
				continue
			}
			r := find(w)
			if !dirty[r] {
				continue
			}
			if _, ok := rels[r]; !ok {
				roots = append(roots, r)
			}
			rels[r] = append(rels[r], gi)
		}
		// components not changed keep their null combinations; the others
		// are solved again
		for r := range cache.comps {
			if dirty[r] || find(r) != r || !hidden(r) {
				delete(cache.comps, r)
			}
		}
		// components are independent: solved on every core, the
		// largest first (one holds most of England's relations), and
		// taken in root order
		type solvedComp struct {
			d       []int
			w, null [][]relCoef
		}
		res := make([]solvedComp, len(roots))
		order := make([]int, len(roots))
		for k := range order {
			order[k] = k
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(rels[roots[b]]), len(rels[roots[a]])) })
		s.relRank() // filled once, before it is shared
		forEach(len(order), func(k int) {
			i := order[k]
			d, w, ns := s.solveRels(rels[roots[i]], hidden, true)
			res[i] = solvedComp{d, w, ns}
		})
		if s.stopped() {
			return nil, nil
		}
		for k, r := range roots {
			d, w, ns := res[k].d, res[k].w, res[k].null
			for k, v := range d {
				if !s.fixed[v] {
					det = append(det, v)
					why[v] = w[k]
				}
			}
			cache.comps[r] = ns
		}
		cache.inc = s.newIncremental(hid, cache.comps, why)
		*global++
	}
	if len(det) == 0 {
		return nil, nil
	}
	slices.Sort(det)
	inc := cache.inc
	costMemo := map[int]int{}
	// cost of withholding published cell c: the cells it makes
	// determined at once, counted as one per active relation of
	// published counts only that holds it (the per-relation rule withholds
	// a second term there) plus one if a null combination holds it (its
	// column lies outside the span of the withheld ones: c itself would
	// be determined). A cell of cost 0 breaks x for every combination
	// isolating x and makes nothing else determined.
	cost := func(c int) int {
		if v, ok := costMemo[c]; ok {
			return v
		}
		n := 0
		for _, gi := range s.touching[c] {
			if s.active(gi) && !s.holdsHidden(gi, hid) {
				n++
			}
		}
		if s.heldByNull(inc, c) {
			n++
		}
		costMemo[c] = n
		return n
	}
	// candidates: published cells with a non-zero coefficient in the
	// combination of relations that isolates x, so that withholding one
	// breaks that combination. For a cell of cost 0 the coefficient is the
	// same for every combination isolating x; for the others it is the
	// one the canonical elimination found (so still order-independent).
	cands := map[int][]int{}
	coverOf := map[int][]int{}
	var all []int
	for _, x := range det {
		acc := map[int]uint64{}
		for _, rc := range why[x] {
			g := s.groups[rc.g]
			for t := range g.Terms() {
				if s.cells[t].Known && s.state[t] == "" && !s.fixed[t] {
					acc[t] = addMod(acc[t], mulMod(rc.v, s.coef(rc.g, t)))
				}
			}
		}
		for c, v := range acc {
			if v != 0 {
				cands[x] = append(cands[x], c)
				if _, ok := coverOf[c]; !ok {
					all = append(all, c)
				}
				coverOf[c] = append(coverOf[c], x)
			}
		}
	}
	// greedy cover: the cheapest cell, then the one breaking the most
	// determined counts, a non-zero count, the smallest, key order
	left := map[int]bool{}
	for _, x := range det {
		if len(cands[x]) > 0 {
			left[x] = true
		} else if c := s.cover(x); c >= 0 {
			covers = append(covers, c)
		}
	}
	cnt := map[int]int{}
	for _, c := range all {
		cnt[c] = len(coverOf[c])
		cost(c)
	}
	better := func(a, b int) bool {
		if ca, cb := costMemo[a], costMemo[b]; ca != cb {
			return ca < cb
		}
		if cnt[a] != cnt[b] {
			return cnt[a] > cnt[b]
		}
		if za, zb := s.cells[a].N == 0, s.cells[b].N == 0; za != zb {
			return zb
		}
		return s.less(a, b)
	}
	for len(left) > 0 {
		best := -1
		for _, c := range all {
			if cnt[c] > 0 && (best < 0 || better(c, best)) {
				best = c
			}
		}
		covers = append(covers, best)
		for _, x := range coverOf[best] {
			if left[x] {
				delete(left, x)
				for _, c := range cands[x] {
					cnt[c]--
				}
			}
		}
	}
	return det, covers
}

// holdsHidden: relation gi has a withheld term.
func (s *suppressor) holdsHidden(gi int, hid []bool) bool {
	for t := range s.groups[gi].Terms() {
		if hid[t] {
			return true
		}
	}
	return false
}

// cover is the cell to withhold so that withheld cell x is no longer
// determined: the smallest published non-zero count in an active relation
// holding x, else the smallest published count there, else the same search
// one relation further out through withheld cells; -1 if there is none.
func (s *suppressor) cover(x int) int {
	seen := map[int]bool{x: true}
	frontier := []int{x}
	for len(frontier) > 0 {
		best, zero := -1, -1
		var next []int
		consider := func(m int) {
			c := &s.cells[m]
			switch {
			case !c.Known, s.fixed[m]:
			case s.state[m] != "":
				if !seen[m] {
					seen[m] = true
					next = append(next, m)
				}
			case c.N != 0:
				if best < 0 || s.less(m, best) {
					best = m
				}
			default:
				if zero < 0 || s.less(m, zero) {
					zero = m
				}
			}
		}
		for _, c := range frontier {
			for _, gi := range s.touching[c] {
				if !s.active(gi) {
					continue
				}
				for t := range s.groups[gi].Terms() {
					consider(t)
				}
			}
		}
		if best >= 0 {
			return best
		}
		if zero >= 0 {
			return zero
		}
		frontier = next
	}
	return -1
}

// localLimit is how many withheld cells localWhy looks at around a cell.
const localLimit = 15000

// localWhy finds a combination of relations isolating withheld cell x,
// which the audit knows to be determined, among the relations near it:
// those whose withheld cells all lie in T, the withheld cells around x,
// widened one relation at a time until they determine x (nil once T
// outgrows localLimit). Any combination isolating x is a combination of
// the whole system; a near one names published cells near x as the cells
// to withhold, where one built from the whole system's null combinations
// (decide) names cells anywhere, most of them ones that would be
// determined themselves: on an England month the audit then took 134
// rounds and withheld twice the cells, against 12 with near ones. T grows
// by whole layers of relations, so the combination depends only on the
// cells, not on any order.
func (s *suppressor) localWhy(x int, hidden func(int) bool) []relCoef {
	sc := s.marks(len(s.cells), len(s.groups))
	defer s.scratch.Put(sc)
	inT, relSeen := sc.mark(), sc.mark()
	sc.cell[x] = inT
	size := 1
	frontier := []int{x}
	var touch []int
	for size <= localLimit {
		for _, c := range frontier {
			for _, gi := range s.touching[c] {
				if s.solved(gi) && sc.rel[gi] != relSeen {
					sc.rel[gi] = relSeen
					touch = append(touch, gi)
				}
			}
		}
		var in, next []int
		for _, gi := range touch {
			all := true
			for t := range s.groups[gi].Terms() {
				if hidden(t) && sc.cell[t] != inT {
					all = false
					next = append(next, t)
				}
			}
			if all {
				in = append(in, gi)
			}
		}
		col := func(c int) bool { return sc.cell[c] == inT && hidden(c) }
		if d, w, _ := s.solveRels(in, col, true); slices.Contains(d, x) {
			return w[slices.Index(d, x)]
		}
		slices.Sort(next)
		next = slices.Compact(next)
		if len(next) == 0 {
			return nil
		}
		for _, t := range next {
			sc.cell[t] = inT
		}
		size += len(next)
		frontier = next
	}
	return nil
}

// marks is localWhy's scratch: sets of cells and of relations as marks
// (a set holds i when its slot equals the set's mark), so that each
// search neither allocates nor clears a map.
type marks struct {
	cell, rel []uint32
	last      uint32
}

// mark is a new, empty set's mark.
func (m *marks) mark() uint32 {
	if m.last == ^uint32(0) {
		clear(m.cell)
		clear(m.rel)
		m.last = 0
	}
	m.last++
	return m.last
}

func (s *suppressor) marks(cells, groups int) *marks {
	if m, ok := s.scratch.Get().(*marks); ok {
		return m
	}
	return &marks{cell: make([]uint32, cells), rel: make([]uint32, groups)}
}

// colScratch is a column index for solveComponent (one entry a cell, every
// one -1), so that the many small systems of localWhy number their columns
// without a map.
func (s *suppressor) colScratch() *[]int32 {
	if c, ok := s.colIdx.Get().(*[]int32); ok {
		return c
	}
	c := make([]int32, len(s.cells))
	for i := range c {
		c[i] = -1
	}
	return &c
}

// relRank is each relation's place in the canonical order solveRels takes
// relations in: by the key order of its total, then of its sorted parts.
// Computed once: the relations and the key order never change.
func (s *suppressor) relRank() []int {
	if s.rank != nil {
		return s.rank
	}
	keys := make([][]int, len(s.groups))
	perm := make([]int, len(s.groups))
	for gi, g := range s.groups {
		k := make([]int, 0, 1+len(g.Children))
		k = append(k, s.pos[g.Parent])
		for _, ch := range g.Children {
			k = append(k, s.pos[ch])
		}
		slices.Sort(k[1:])
		keys[gi] = k
		perm[gi] = gi
	}
	slices.SortFunc(perm, func(a, b int) int { return slices.Compare(keys[a], keys[b]) })
	s.rank = make([]int, len(s.groups))
	for r, gi := range perm {
		s.rank[gi] = r
	}
	return s.rank
}

// solveRels solves relations gis in the withheld cells col admits (the
// other terms are dropped: counts taken as known), with the unknowns
// numbered by key order and the relations in a canonical order, so the
// elimination, and the combination found for a determined count, does not
// depend on the input order. It returns the determined cells, with track
// the combination of relations isolating each, and the combinations that
// cancel every unknown.
func (s *suppressor) solveRels(gis []int, col func(int) bool, track bool) (det []int, why, null [][]relCoef) {
	// the relations in canonical order (rank, packed with the index for a
	// plain integer sort), then their rows over the admitted cells, which
	// solveComponent copies: built in one scratch array
	rank := s.relRank()
	perm := make([]uint64, len(gis))
	for k, gi := range gis {
		perm[k] = uint64(rank[gi])<<32 | uint64(k)
	}
	slices.Sort(perm)
	size := 0
	for _, gi := range gis {
		size += 1 + len(s.groups[gi].Children)
	}
	buf := make([]entry, 0, size)
	ends := make([]int, 0, len(gis))
	sgis := make([]int, 0, len(gis))
	for _, pk := range perm {
		gi := gis[uint32(pk)]
		g := s.groups[gi]
		start := len(buf)
		if col(g.Parent) {
			buf = append(buf, entry{int32(s.pos[g.Parent]), 1})
		}
		for _, ch := range g.Children {
			if col(ch) {
				buf = append(buf, entry{int32(s.pos[ch]), modP - 1})
			}
		}
		if len(buf) == start {
			continue // no unknown: says nothing here
		}
		slices.SortFunc(buf[start:], func(a, b entry) int { return cmp.Compare(a.col, b.col) })
		ends = append(ends, len(buf))
		sgis = append(sgis, gi)
	}
	if len(sgis) == 0 {
		return nil, nil, nil
	}
	sorted := make([]srow, len(sgis))
	start := 0
	for k, end := range ends {
		sorted[k] = srow{e: buf[start:end:end], id: int32(k)}
		start = end
	}
	colIdx := s.colScratch()
	defer s.colIdx.Put(colIdx)
	_, red := solveComponent(sorted, track, *colIdx)
	toRel := func(c []entry) []relCoef {
		out := make([]relCoef, len(c))
		for k, x := range c {
			out[k] = relCoef{sgis[x.col], x.val}
		}
		return out
	}
	for k, x := range red.solved {
		det = append(det, s.ord[x.Var])
		if track {
			why = append(why, toRel(red.why[k]))
		}
	}
	for _, c := range red.null {
		null = append(null, toRel(c))
	}
	return det, why, null
}
