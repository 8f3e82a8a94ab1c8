package disclosure

import (
	"cmp"
	"slices"
)

// incremental is the audit between whole-system solves. After a solve of
// system A (the solved relations over the cells then withheld, H0), later
// rounds only withhold more cells: new columns B, one per cell. Every
// question the audit asks of [A | B] reduces to the few columns of B:
//
//   - The combinations of relations that cancel A (its left null space:
//     the null combinations the solve found, and each relation with no
//     term in H0) are the rows of M, where M[j][f] is combination j's
//     coefficient on new cell f. A combination w of them cancels A, and
//     w·B = α·M for the α that makes it.
//   - A cell x of H0 the solve found determined by combination y (y·A = e_x)
//     stays determined iff some such w cancels y·B =: v, i.e. -v lies in
//     M's row space: iff v is orthogonal to every vector u over the new
//     cells with M u = 0. Its combination is then y + w. A cell of H0 not
//     determined then never is (withholding more only takes terms away).
//   - A new cell f is determined iff e_f lies in M's row space (u[f] = 0
//     for every such u), by the w with w·B = e_f.
//   - A published cell c would be determined once withheld (the audit's
//     cost of withholding it) iff some combination cancelling [A | B]
//     holds it: iff its column m_c (its coefficient in each row of M) lies
//     outside M's column space.
//
// M's columns are reduced as the cells come (fully reduced column echelon
// form, pivots on the lowest row; each reduced column C_k = M T_k, and each
// column reducing to 0 gives one u), so a round costs the new cells' columns
// and the candidates' v, never the whole system: on an England month the
// later rounds had each solved the largest component again (0.5-0.9 s a
// round). Rows, pivots and new cells are numbered in canonical order (the
// solve's combinations by their relations' canonical ranks, relations
// relRank, cells key order), so every answer and every combination still
// depends only on the cells.
type incremental struct {
	h0    []bool // withheld at the solve
	rows  [][]relCoef
	byRel map[int][]resid // relation -> (row, its coefficient there)
	why0  map[int][]relCoef
	// the new cells, in the order taken (nidx: cell -> place, -1)
	newCells []int
	nidx     map[int]int32
	// the reduced columns: C over rows, T over new cells, pivot row p
	// (pivOf: row -> its column, -1)
	cs, ts [][]entry
	pivOf  []int32
	// us: the new cells' combinations with M u = 0
	us  [][]entry
	acc sparseAcc
	buf []entry
}

// resid is a relation's coefficient v in row r of M (incremental.byRel).
type resid struct {
	r int
	v uint64
}

// newIncremental starts from a solve: hid the cells withheld then, comps
// its null combinations (by component), why0 the combinations of the cells
// it found determined.
func (s *suppressor) newIncremental(hid []bool, comps map[int][][]relCoef, why0 map[int][]relCoef) *incremental {
	inc := &incremental{h0: hid, byRel: map[int][]resid{}, why0: why0, nidx: map[int]int32{}}
	rank := s.relRank()
	// components in the canonical order of their lowest relation, each
	// one's combinations in the order its solve found them
	type comp struct {
		low int
		ns  [][]relCoef
	}
	var cs []comp
	for _, ns := range comps {
		if len(ns) == 0 {
			continue
		}
		low := len(rank)
		for _, n := range ns {
			for _, rc := range n {
				low = min(low, rank[rc.g])
			}
		}
		cs = append(cs, comp{low, ns})
	}
	slices.SortFunc(cs, func(a, b comp) int { return cmp.Compare(a.low, b.low) })
	for _, c := range cs {
		for _, n := range c.ns {
			inc.addRow(n)
		}
	}
	return inc
}

func (inc *incremental) addRow(n []relCoef) {
	j := len(inc.rows)
	inc.rows = append(inc.rows, n)
	inc.pivOf = append(inc.pivOf, -1)
	for _, rc := range n {
		inc.byRel[rc.g] = append(inc.byRel[rc.g], resid{j, rc.v})
	}
}

// column is cell c's column of M: its coefficient in each row, through the
// solved relations holding it.
func (s *suppressor) column(inc *incremental, c int) []entry {
	a := &inc.acc
	a.reset(len(inc.rows))
	for _, gi := range s.touching[c] {
		if !s.solved(gi) {
			continue
		}
		cg := s.coef(gi, c)
		for _, x := range inc.byRel[gi] {
			a.add(int32(x.r), mulMod(cg, x.v))
		}
	}
	return a.sorted(nil)
}

// reduce takes the pivots out of column m (over rows), and the same
// multiples of their T out of t (over new cells); it returns both.
func (inc *incremental) reduce(m, t []entry) ([]entry, []entry) {
	type use struct {
		k int32
		f uint64
	}
	var uses []use
	for _, x := range m {
		if k := inc.pivOf[x.col]; k >= 0 {
			uses = append(uses, use{k, negMod(x.val)})
		}
	}
	for _, u := range uses {
		m = axpy(m, inc.cs[u.k], u.f, &inc.buf, nil)
		if t != nil {
			t = axpy(t, inc.ts[u.k], u.f, &inc.buf, nil)
		}
	}
	return m, t
}

// take adds withheld cell f as a new column.
func (s *suppressor) take(inc *incremental, f int) {
	nf := int32(len(inc.newCells))
	inc.newCells = append(inc.newCells, f)
	inc.nidx[f] = nf
	// a relation holding no cell of H0 is a row of its own (it cancels A)
	// from the first new cell it holds on, in canonical order
	rank := s.relRank()
	gis := slices.Clone(s.touching[f])
	slices.SortFunc(gis, func(a, b int) int { return cmp.Compare(rank[a], rank[b]) })
	for _, gi := range gis {
		if !s.solved(gi) || inc.byRel[gi] != nil {
			continue
		}
		held := false
		for t := range s.groups[gi].Terms() {
			held = held || inc.h0[t]
		}
		if !held {
			inc.addRow([]relCoef{{gi, 1}})
		}
	}
	m, t := inc.reduce(s.column(inc, f), []entry{{nf, 1}})
	if len(m) == 0 {
		inc.us = append(inc.us, t)
		return
	}
	// pivot on the lowest row; every other column cleared there
	p := m[0].col
	inv := invMod(m[0].val)
	for i := range m {
		m[i].val = mulMod(m[i].val, inv)
	}
	for i := range t {
		t[i].val = mulMod(t[i].val, inv)
	}
	for k := range inc.cs {
		if v, ok := at(inc.cs[k], p); ok {
			f := negMod(v)
			inc.cs[k] = axpy(inc.cs[k], m, f, &inc.buf, nil)
			inc.ts[k] = axpy(inc.ts[k], t, f, &inc.buf, nil)
		}
	}
	inc.pivOf[p] = int32(len(inc.cs))
	inc.cs = append(inc.cs, m)
	inc.ts = append(inc.ts, t)
}

// at is sparse row e's value in column c.
func at(e []entry, c int32) (uint64, bool) {
	k, ok := slices.BinarySearchFunc(e, c, func(a entry, c int32) int { return cmp.Compare(a.col, c) })
	if !ok {
		return 0, false
	}
	return e[k].val, true
}

// dot of two sparse rows.
func dot(a, b []entry) uint64 {
	var s uint64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].col < b[j].col:
			i++
		case a[i].col > b[j].col:
			j++
		default:
			s = addMod(s, mulMod(a[i].val, b[j].val))
			i++
			j++
		}
	}
	return s
}

// decide: is withheld cell x determined now, and by which combination of
// relations.
func (s *suppressor) decide(inc *incremental, x int) (bool, []relCoef) {
	var alpha func(k int) uint64 // the multiple of pivot k's row in w
	var y []relCoef
	if nx, ok := inc.nidx[x]; ok {
		for _, u := range inc.us {
			if _, ok := at(u, nx); ok {
				return false, nil
			}
		}
		alpha = func(k int) uint64 { v, _ := at(inc.ts[k], nx); return v }
	} else {
		y, ok = inc.why0[x]
		if !ok {
			return false, nil // free at the solve, so free now
		}
		// v = y·B over the new cells
		a := &inc.acc
		a.reset(len(inc.newCells))
		for _, rc := range y {
			for t := range s.groups[rc.g].Terms() {
				if nt, ok := inc.nidx[t]; ok {
					a.add(nt, mulMod(rc.v, s.coef(rc.g, t)))
				}
			}
		}
		v := a.sorted(nil)
		for _, u := range inc.us {
			if dot(v, u) != 0 {
				return false, nil
			}
		}
		alpha = func(k int) uint64 { return negMod(dot(v, inc.ts[k])) }
	}
	sum := map[int]uint64{}
	var order []int
	addRel := func(g int, v uint64) {
		if _, ok := sum[g]; !ok {
			order = append(order, g)
		}
		sum[g] = addMod(sum[g], v)
	}
	for _, rc := range y {
		addRel(rc.g, rc.v)
	}
	for k := range inc.cs {
		a := alpha(k)
		if a == 0 {
			continue
		}
		p := inc.cs[k][0].col // fully reduced: the pivot is a column's lowest row
		for _, rc := range inc.rows[p] {
			addRel(rc.g, mulMod(a, rc.v))
		}
	}
	why := make([]relCoef, 0, len(order))
	for _, g := range order {
		if v := sum[g]; v != 0 {
			why = append(why, relCoef{g, v})
		}
	}
	return true, why
}

// heldByNull: published cell c would be determined once withheld (a
// combination cancelling every withheld count holds it).
func (s *suppressor) heldByNull(inc *incremental, c int) bool {
	m, _ := inc.reduce(s.column(inc, c), nil)
	return len(m) > 0
}

// coef is cell c's coefficient in relation gi (total = sum of parts, as
// total - parts = 0).
func (s *suppressor) coef(gi, c int) uint64 {
	if s.groups[gi].Parent == c {
		return 1
	}
	return modP - 1
}

// sparseAcc sums sparse terms densely: values by column, with the columns
// touched, cleared as they are read out.
type sparseAcc struct {
	v       []uint64
	in      []bool
	touched []int32
}

func (a *sparseAcc) reset(n int) {
	if len(a.v) < n {
		a.v = make([]uint64, n)
		a.in = make([]bool, n)
	}
	a.touched = a.touched[:0]
}

func (a *sparseAcc) add(c int32, v uint64) {
	if !a.in[c] {
		a.in[c] = true
		a.touched = append(a.touched, c)
	}
	a.v[c] = addMod(a.v[c], v)
}

// sorted appends the non-zero sums to out in column order and clears them.
func (a *sparseAcc) sorted(out []entry) []entry {
	slices.Sort(a.touched)
	for _, c := range a.touched {
		if a.v[c] != 0 {
			out = append(out, entry{c, a.v[c]})
		}
		a.v[c], a.in[c] = 0, false
	}
	return out
}
