package disclosure

import (
	"math/rand"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// determinedBy is an independent check of what the published relations
// give away: dense elimination over the rationals (determinedRat) of the
// active relations restricted to the withheld cells.
func determinedBy(cells []Cell, gs []Group, state []string) []string {
	eqs := withheldEquations(cells, gs, state)
	var out []string
	for _, s := range determinedRat(len(cells), eqs) {
		out = append(out, cells[s.Var].String())
	}
	slices.Sort(out)
	return out
}

func dec(ind, level, code string, d int, c float64) Cell {
	x := area(ind, level, code, c)
	x.Decile = d
	return x
}

// pracR: a practice in region r.
func pracR(ind, p, s, i, r string, c float64, imd int) Cell {
	x := prac(ind, p, "", s, i, c, imd)
	x.Region = r
	return x
}

func TestSuppressAudit(t *testing.T) {
	// sub-ICB x decile as a 2x2 table with margins: S1 holds A and B (both
	// decile 7), S2 holds G (decile 7), H and J (decile 1); the cell S1 x
	// decile 1 is empty. A, B, G are small (primary).
	table := func(ind string) []Cell {
		return []Cell{
			pracR(ind, "A", "S1", "I1", "R1", 3, 7), pracR(ind, "B", "S1", "I1", "R1", 6, 7),
			pracR(ind, "G", "S2", "I1", "R1", 5, 7), pracR(ind, "H", "S2", "I1", "R1", 40, 1), pracR(ind, "J", "S2", "I1", "R1", 45, 1),
			area(ind, "sub_icb", "S1", 9), area(ind, "sub_icb", "S2", 90),
			dec(ind, "england", "E", 7, 14), dec(ind, "england", "E", 1, 85), area(ind, "england", "E", 99),
		}
	}
	// per relation: S2 = G + H + J withholds H (40); England decile 1 =
	// H + J then J. Every sum has 0 or at least 2 withheld terms, but
	// S1 = A + B = 9 and England decile 7 = A + B + G = 14 give G = 5 (and
	// so do S2 and England decile 1). The combination isolating G is
	// decile 7 - S1 (published: 14 and 9). Withholding either makes one
	// other cell determined (England = S1 + S2, England = decile 1 +
	// decile 7: all published), so the smaller count goes: S1 (9), and
	// England = S1 + S2 then withholds S2. G is then free: A + B + G = 14,
	// S1 = A + B and S2 = G + 85 leave one degree of freedom.
	tableWant := func(ind string) []string {
		return []string{ind + "/practice/A=primary", ind + "/practice/B=primary", ind + "/practice/G=primary",
			ind + "/practice/H=secondary", ind + "/practice/J=secondary",
			ind + "/sub_icb/S1=secondary", ind + "/sub_icb/S2=secondary"}
	}
	tests := []struct {
		name  string
		cells []Cell
		// withheld cells the relations determine when secondary suppression
		// works one relation at a time (worked by hand)
		perRelationDetermined []string
		// withheld cells with the audit
		want []string
	}{
		{
			name:                  "2x2 table with margins and an empty cell: per-sum checks pass, the system gives G",
			cells:                 table("r"),
			perRelationDetermined: []string{"r/practice/G"},
			want:                  tableWant("r"),
		},
		{
			// K (decile 1) in S1 fills the empty cell: S1 = A + B + K and
			// England decile 7 = A + B + G leave A + B free; nothing is
			// determined and the audit adds nothing. Per relation: H for
			// S2, then K (30) for England decile 1 = H + J + K.
			name: "safe: the same table without an empty cell",
			cells: []Cell{
				pracR("r", "A", "S1", "I1", "R1", 3, 7), pracR("r", "B", "S1", "I1", "R1", 6, 7), pracR("r", "K", "S1", "I1", "R1", 30, 1),
				pracR("r", "G", "S2", "I1", "R1", 5, 7), pracR("r", "H", "S2", "I1", "R1", 40, 1), pracR("r", "J", "S2", "I1", "R1", 45, 1),
				area("r", "sub_icb", "S1", 39), area("r", "sub_icb", "S2", 90),
				dec("r", "england", "E", 7, 14), dec("r", "england", "E", 1, 115), area("r", "england", "E", 129),
			},
			perRelationDetermined: nil,
			want:                  []string{"r/practice/A=primary", "r/practice/B=primary", "r/practice/G=primary", "r/practice/H=secondary", "r/practice/K=secondary"},
		},
		{
			// the table for a rate and for a ratio whose observed counts are
			// the same numbers: the chain runs through the hierarchy, the
			// deciles and the second indicator; each G is fixed as above and
			// each gets its own sub-ICB totals withheld
			name: "chain across hierarchy, deciles and a same-count indicator",
			cells: func() []Cell {
				cs := table("rate")
				for _, c := range table("isr") {
					c.SameAs = "rate"
					cs = append(cs, c)
				}
				return cs
			}(),
			perRelationDetermined: []string{"isr/practice/G", "rate/practice/G"},
			want:                  append(tableWant("isr"), tableWant("rate")...),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := Groups(tt.cells)
			per := SuppressOpts(tt.cells, gs, Options{})
			for _, g := range gs {
				n := 0
				for i := range g.Terms() {
					if per[i] != "" {
						n++
					}
				}
				if n == 1 {
					t.Errorf("per relation: relation %v has one withheld term", g)
				}
			}
			if got := determinedBy(tt.cells, gs, per); !slices.Equal(got, tt.perRelationDetermined) {
				t.Errorf("per relation: the relations determine %v, want %v (withheld %v)", got, tt.perRelationDetermined, withheld(tt.cells, per))
			}
			var st Stats
			full := SuppressOpts(tt.cells, gs, Options{Audit: true, Stats: &st})
			if got := determinedBy(tt.cells, gs, full); len(got) != 0 {
				t.Errorf("audited: the relations still determine %v (withheld %v)", got, withheld(tt.cells, full))
			}
			got := withheld(tt.cells, full)
			for _, w := range withheld(tt.cells, per) {
				if !slices.Contains(got, w) {
					t.Errorf("audited: %s no longer withheld", w)
				}
			}
			if tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("audited: withheld %v, want %v", got, tt.want)
			}
			if (len(tt.perRelationDetermined) == 0) != (st.Added == 0) {
				t.Errorf("audit added %d cells with %d determined before it", st.Added, len(tt.perRelationDetermined))
			}
			// the input order does not matter
			rev := slices.Clone(tt.cells)
			slices.Reverse(rev)
			if again := withheld(rev, SuppressOpts(rev, Groups(rev), Options{Audit: true})); !slices.Equal(again, got) {
				t.Errorf("reversed input withholds %v, want %v", again, got)
			}
		})
	}
}

// A decile cell of an area with no practice in that decile is 0 by the
// relations alone: it is never chosen as a secondary cell (it would
// protect nothing) and the audit does not chase it.
func TestSuppressFixedCells(t *testing.T) {
	// no practice is in decile 2: every decile 2 cell is 0 by the sums
	// alone. R1 = d1 + d2 + d3 with d1 withheld (7) needs a second term:
	// d3 (50), not d2 (0); the same for I2.
	cells := []Cell{
		pracR("r", "A", "S1", "I1", "R1", 3, 1), pracR("r", "C", "S2", "I2", "R1", 4, 1), pracR("r", "D", "S2", "I2", "R1", 50, 3),
		dec("r", "icb", "I1", 1, 3), dec("r", "icb", "I1", 2, 0), dec("r", "icb", "I1", 3, 0),
		dec("r", "icb", "I2", 1, 4), dec("r", "icb", "I2", 2, 0), dec("r", "icb", "I2", 3, 50),
		dec("r", "region", "R1", 1, 7), dec("r", "region", "R1", 2, 0), dec("r", "region", "R1", 3, 50),
		area("r", "icb", "I1", 3), area("r", "icb", "I2", 54), area("r", "region", "R1", 57),
	}
	gs := Groups(cells)
	got := withheld(cells, Suppress(cells, gs))
	for _, w := range got {
		if strings.Contains(w, "decile 2") {
			t.Errorf("withheld a cell fixed at 0 by the relations: %s (all: %v)", w, got)
		}
	}
	for _, w := range []string{"r/region/R1/decile 3=secondary", "r/icb/I2/decile 3=secondary"} {
		if !slices.Contains(got, w) {
			t.Errorf("withheld %v, want %s", got, w)
		}
	}
	if d := determinedBy(cells, gs, Suppress(cells, gs)); len(d) != 0 {
		t.Errorf("determined: %v", d)
	}
}

// On a small synthetic country (every relation of the England benchmark's
// shape) the audit leaves no withheld count determined, keeps every cell
// the per-relation rule withholds, and withholds the same cells whatever
// the input order.
func TestSuppressAuditCountry(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		cells := englandCells(seed, 240)
		gs := Groups(cells)
		per := SuppressOpts(cells, gs, Options{})
		var st Stats
		full := SuppressOpts(cells, gs, Options{Audit: true, Stats: &st})
		if d := determined(cells, gs, per); len(d) == 0 {
			t.Fatalf("seed %d: the per-relation rule leaves nothing determined: the test shows nothing", seed)
		}
		if d := determined(cells, gs, full); len(d) != 0 {
			t.Errorf("seed %d: audited, the relations still determine %d counts, e.g. %v", seed, len(d), d[0])
		}
		for i := range per {
			if per[i] != "" && full[i] == "" {
				t.Errorf("seed %d: %v withheld per relation, published after the audit", seed, cells[i])
			}
		}
		got := withheld(cells, full)
		r := rand.New(rand.NewSource(seed))
		shuffled := slices.Clone(cells)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if again := withheld(shuffled, Suppress(shuffled, Groups(shuffled))); !slices.Equal(again, got) {
			t.Errorf("seed %d: shuffled input withholds %d cells, want the same %d", seed, len(again), len(got))
		}
		t.Logf("seed %d: %d cells, %d withheld per relation, %d audited (%d rounds)", seed, len(cells), len(withheld(cells, per)), len(got), st.Rounds)
	}
}

// determined lists the withheld cells the active relations determine
// (Solve over the withheld counts, fixed cells included).
func determined(cells []Cell, gs []Group, state []string) []string {
	eqs := withheldEquations(cells, gs, state)
	var out []string
	for _, s := range Solve(len(cells), eqs) {
		out = append(out, cells[s.Var].String())
	}
	return out
}

// withheldEquations are the active relations restricted to the withheld
// cells (published counts moved to the right-hand side, not kept).
func withheldEquations(cells []Cell, gs []Group, state []string) []Equation {
	var eqs []Equation
	for _, g := range gs {
		if p := cells[g.Parent]; !p.Known || !p.Rule.Secondary {
			continue
		}
		var eq Equation
		if state[g.Parent] != "" {
			eq.Terms = append(eq.Terms, Term{Var: g.Parent, Coef: 1})
		}
		for _, ch := range g.Children {
			if cells[ch].Known && state[ch] != "" {
				eq.Terms = append(eq.Terms, Term{Var: ch, Coef: -1})
			}
		}
		if len(eq.Terms) > 0 {
			eqs = append(eqs, eq)
		}
	}
	return eqs
}

// TestFixedCacheFollowsStructure: findFixed's answers are kept by the
// structure of the relations; periods of one structure with other counts
// share it, in any order of the cells, and a changed structure (a missing count, a practice gone, an
// area with no practice in a decile) never gets another structure's answer.
func TestFixedCacheFollowsStructure(t *testing.T) {
	base := englandCells(5, 120)
	variants := map[string][]Cell{"same": base}
	other := slices.Clone(base)
	for i := range other {
		other[i].N += float64(i % 3)
	}
	variants["other counts"] = other
	// the same structure in another order (DuckDB's aggregate hands a
	// period's cells over in whatever order it meets them)
	shuffled := slices.Clone(other)
	rand.New(rand.NewSource(3)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	variants["other counts, shuffled"] = shuffled
	missing := slices.Clone(base)
	missing[11].Known = false
	variants["a missing count"] = missing
	variants["a practice gone"] = slices.DeleteFunc(slices.Clone(base), func(c Cell) bool { return c.Code == "P0007" })
	moved := slices.Clone(base)
	for i := range moved {
		if moved[i].Level == "practice" && moved[i].IMD == 4 {
			moved[i].IMD = 5 // decile 4 left with no practice: its cells are fixed at 0
		}
	}
	for i := range moved {
		if moved[i].Level == "icb" && moved[i].Decile == 4 {
			moved[i].N = 0
		}
	}
	variants["a decile emptied"] = moved
	saved := fixedCache
	defer func() { fixedCache = saved }()
	fixedCache = &structCache{max: 0}
	want := map[string][]string{}
	nfixed := map[string]int{}
	for name, cells := range variants {
		want[name] = SuppressOpts(cells, Groups(cells), Options{Audit: true})
		s := newSuppressor(cells, Groups(cells))
		s.chooseBasis()
		s.findFixed()
		nfixed[name] = len(slices.DeleteFunc(slices.Clone(s.fixed), func(f bool) bool { return !f }))
	}
	// some structures fix counts and others none, so a cache answering by
	// anything but the structure is caught
	if nfixed["same"] != 0 || nfixed["a missing count"] == 0 || nfixed["a decile emptied"] == 0 {
		t.Fatalf("fixed cells per variant: %v", nfixed)
	}
	fixedCache = &structCache{max: 8}
	hits := 0
	for _, name := range []string{"same", "other counts", "a missing count", "other counts, shuffled", "a practice gone", "a decile emptied", "same"} {
		cells := variants[name]
		before := len(fixedCache.keys)
		if got := SuppressOpts(cells, Groups(cells), Options{Audit: true}); !slices.Equal(got, want[name]) {
			t.Errorf("%s: with the cache %v, without %v", name, withheld(cells, got), withheld(cells, want[name]))
		}
		if len(fixedCache.keys) == before {
			hits++
		}
	}
	// "other counts", in either order, and the second "same" reuse the
	// first answer; each change of structure is solved anew
	if hits != 3 {
		t.Errorf("%d cache hits, want 3 (same structure only)", hits)
	}
}

// TestStopEndsTheAudit: a Stop that says stop before the first round
// leaves the per-relation answer (what a cancelled query throws away), and
// one that never does changes nothing.
func TestStopEndsTheAudit(t *testing.T) {
	cells := englandCells(2, 200)
	gs := Groups(cells)
	perRel := SuppressOpts(cells, gs, Options{})
	full := SuppressOpts(cells, gs, Options{Audit: true})
	if slices.Equal(perRel, full) {
		t.Fatal("the audit adds nothing here: the test checks nothing")
	}
	polls := 0
	if got := SuppressOpts(cells, gs, Options{Audit: true, Stop: func() bool { polls++; return true }}); !slices.Equal(got, perRel) || polls == 0 {
		t.Errorf("stopped at once: %d cells differ from the per-relation answer, %d polls", diff(got, perRel), polls)
	}
	if got := SuppressOpts(cells, gs, Options{Audit: true, Stop: func() bool { return false }}); !slices.Equal(got, full) {
		t.Errorf("never stopped: %d cells differ from the full answer", diff(got, full))
	}
}

func diff(a, b []string) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// TestSuppressSameOnEveryCore: the audit spreads a period's work over the
// cores (components, and the near combinations of a later round's counts);
// what it withholds is the same with one core as with several. (An England
// month of the pipeline, 271,000 cells in 12 rounds, withholds the same
// cells too: BenchmarkSuppressFile's checksum, README.)
func TestSuppressSameOnEveryCore(t *testing.T) {
	local := false
	for _, c := range []struct {
		seed      int64
		practices int
		scale     float64 // counts this many times larger: fewer withheld, so rounds stay local
	}{{1, 240, 1}, {2, 240, 1}, {3, 1200, 1}, {5, 1200, 4}} {
		cells := englandCells(c.seed, c.practices)
		for i := range cells {
			cells[i].N *= c.scale // every relation is a sum, so still adds up
		}
		gs := Groups(cells)
		var got [][]string
		for _, procs := range []int{1, 4} {
			prev := runtime.GOMAXPROCS(procs)
			var st Stats
			got = append(got, withheld(cells, SuppressOpts(cells, gs, Options{Audit: true, Stats: &st})))
			runtime.GOMAXPROCS(prev)
			local = local || st.Rounds > st.Global // a round decided without solving
			t.Logf("seed %d, %d practices, %d cores: %d withheld, %d rounds, %d solving whole components", c.seed, c.practices, procs, len(got[len(got)-1]), st.Rounds, st.Global)
		}
		if !slices.Equal(got[0], got[1]) {
			t.Errorf("seed %d: %d cells withheld on one core, %d on four", c.seed, len(got[0]), len(got[1]))
		}
	}
	if !local {
		t.Error("no fixture had a round decided without solving: the test shows nothing of it")
	}
}

// TestIncrementalMatchesSolve: after the first round's whole solve, rounds
// decide from the cells withheld since (incremental), never solving again.
// At every round, on countries of the benchmark's shape, what they find
// must be what solving the whole system from scratch finds: the same
// determined counts, a combination of relations isolating each (its
// coefficients over the withheld cells are exactly that cell's), and, for
// published cells, the same answer to "would it be determined once
// withheld" (the cover's cost). With a low incrLimit the rounds solve
// again every few rounds, and those after each solve must agree too.
func TestIncrementalMatchesSolve(t *testing.T) {
	defer func(l int) { incrLimit = l }(incrLimit)
	for _, c := range []struct {
		seed      int64
		practices int
		scale     float64
		limit     int // incrLimit: 100 solves again every few rounds
	}{{1, 300, 1, 4000}, {4, 300, 3, 4000}, {6, 600, 2, 4000}, {4, 300, 3, 100}} {
		incrLimit = c.limit
		cells := englandCells(c.seed, c.practices)
		for i := range cells {
			cells[i].N *= c.scale
		}
		gs := Groups(cells)
		s := newSuppressor(cells, gs)
		s.chooseBasis()
		s.findFixed()
		s.perRelation()
		cache := &nulls{comps: map[int][][]relCoef{}}
		global := 0
		r := rand.New(rand.NewSource(c.seed))
		var prev []int
		incremental := 0
		for round := 0; round < 6; round++ {
			det, _ := s.auditRound(cache, prev, &global)
			// from scratch: every active relation over the withheld cells
			var want []int
			for _, x := range Solve(len(cells), withheldEquations(cells, gs, s.state)) {
				if !s.fixed[x.Var] {
					want = append(want, x.Var)
				}
			}
			slices.Sort(want)
			if !slices.Equal(det, want) {
				t.Fatalf("seed %d round %d: determined %d cells, from scratch %d", c.seed, round, len(det), len(want))
			}
			hid := make([]bool, len(cells))
			for i := range hid {
				hid[i] = cells[i].Known && s.state[i] != ""
			}
			inc := cache.inc
			for _, x := range det {
				ok, why := s.decide(inc, x)
				if !ok {
					t.Fatalf("seed %d round %d: %v determined, decide says free", c.seed, round, cells[x])
				}
				near := s.localWhy(x, func(i int) bool { return hid[i] })
				for _, w := range [][]relCoef{why, near} {
					if w == nil {
						continue
					}
					acc := map[int]uint64{}
					for _, rc := range w {
						for tm := range gs[rc.g].Terms() {
							if hid[tm] {
								acc[tm] = addMod(acc[tm], mulMod(rc.v, s.coef(rc.g, tm)))
							}
						}
					}
					if acc[x] != 1 {
						t.Fatalf("seed %d round %d: the combination for %v has %d there, not 1", c.seed, round, cells[x], acc[x])
					}
					for tm, v := range acc {
						if tm != x && v != 0 {
							t.Fatalf("seed %d round %d: the combination for %v has %d at %v", c.seed, round, cells[x], v, cells[tm])
						}
					}
				}
			}
			// a published cell is held by a null combination iff withheld
			// it would be determined by the relations the audit solves that
			// already hold a withheld count (one holding none would
			// determine it alone: the cost counts those apart)
			var live []Group
			for gi, g := range gs {
				if s.solved(gi) && s.holdsHidden(gi, hid) {
					live = append(live, g)
				}
			}
			var pub []int
			for i := range cells {
				if cells[i].Known && s.state[i] == "" && !s.fixed[i] {
					pub = append(pub, i)
				}
			}
			r.Shuffle(len(pub), func(i, j int) { pub[i], pub[j] = pub[j], pub[i] })
			held := 0
			for _, p := range pub[:min(len(pub), 40)] {
				st := slices.Clone(s.state)
				st[p] = Secondary
				want := false
				for _, x := range Solve(len(cells), withheldEquations(cells, live, st)) {
					want = want || x.Var == p
				}
				if got := s.heldByNull(inc, p); got != want {
					t.Fatalf("seed %d round %d: %v held by a null combination: %v, from scratch %v", c.seed, round, cells[p], got, want)
				}
				if want {
					held++
				}
			}
			if held == 0 || held == min(len(pub), 40) {
				t.Errorf("seed %d round %d: all %d sampled cells alike (held %d): the sample shows one answer only", c.seed, round, min(len(pub), 40), held)
			}
			if round > 0 {
				incremental++
			}
			// withhold more: some published cells at random (and the
			// per-relation rule after them), as covers would be
			for _, p := range pub[:min(len(pub), 5+round*3)] {
				s.hide(p)
			}
			s.perRelation()
			prev = det
		}
		switch {
		case c.limit > 1000 && (global != 1 || incremental == 0):
			t.Errorf("seed %d: %d rounds solved whole systems, want only the first", c.seed, global)
		case c.limit < 1000 && (global < 2 || global > 5):
			t.Errorf("seed %d, limit %d: %d rounds solved whole systems, want some but not all", c.seed, c.limit, global)
		}
	}
}
