package disclosure

import (
	"cmp"
	"math/bits"
	"slices"
)

// Exact sparse linear algebra for the whole-system audit (Suppress) and the
// linear-system attack (disclosure/attack).
//
// Arithmetic is modulo the Mersenne prime p = 2^61-1 rather than over the
// rationals (math/big.Rat): coefficients are small integers (±1), so
// elimination in the field Z/p is exact, every number fits one machine word
// and there is no growth of numerators and denominators on long pivot
// chains (which makes big.Rat elimination of a region's thousands of cells
// slow and memory-hungry). The ranks over Z/p and over Q agree unless p
// divides a minor of the coefficient matrix, which for 0/±1 matrices needs
// a minor of at least 2^61; the hierarchy's sums (nearly laminar sets) are
// far from that. A recovered value v is read as the integer in
// (-p/2, p/2) congruent to it: exact for any count below 2^60.
const modP = 1<<61 - 1

func mulMod(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	// a*b = hi*2^64 + lo; 2^61 = 1 (mod p)
	s := (lo & modP) + (lo>>61 | hi<<3)
	for s >= modP {
		s -= modP
	}
	return s
}

func addMod(a, b uint64) uint64 {
	s := a + b
	if s >= modP {
		s -= modP
	}
	return s
}

func negMod(a uint64) uint64 {
	if a == 0 {
		return 0
	}
	return modP - a
}

func invMod(a uint64) uint64 {
	// the relations' coefficients are ±1, and so are most pivots
	switch a {
	case 1:
		return 1
	case modP - 1:
		return modP - 1
	}
	// Fermat: a^(p-2)
	r, e := uint64(1), uint64(modP-2)
	for e > 0 {
		if e&1 == 1 {
			r = mulMod(r, a)
		}
		a = mulMod(a, a)
		e >>= 1
	}
	return r
}

func toMod(v int64) uint64 {
	m := v % modP
	if m < 0 {
		m += modP
	}
	return uint64(m)
}

func fromMod(v uint64) int64 {
	if v > modP/2 {
		return -int64(modP - v)
	}
	return int64(v)
}

// Term is one unknown of an equation with its coefficient.
type Term struct {
	Var  int
	Coef int64
}

// Equation is sum(Coef * x[Var]) = RHS over the unknowns x.
type Equation struct {
	Terms []Term
	RHS   int64
}

// Solved is an unknown whose value the equations fix.
type Solved struct {
	Var   int
	Value int64
}

// entry of a sparse row; col -1 is never stored (the right-hand side is kept
// apart).
type entry struct {
	col int32
	val uint64
}

type srow struct {
	e   []entry // sorted by col, no zeros
	rhs uint64
	// with tracking: id is the row's equation, cmb the combination of
	// equations it is (sorted sparse, by equation)
	id  int32
	cmb []entry
}

// Solve returns every unknown of vars 0..nvars-1 that the equations
// determine (its unit vector lies in the row space of the coefficient
// matrix), with its value, in Var order. Unknowns are split into connected
// components (linked by sharing an equation) and each component is reduced
// to reduced row echelon form sparsely: equations are taken shortest
// first, each new pivot is the column of the reduced equation held by the
// fewest pivot rows so far (ties: the lowest), which keeps fill-in down on
// the hierarchy's nested sums. An unknown is determined iff it is a pivot
// whose row has no other column. The result does not depend on the order of
// the equations.
func Solve(nvars int, eqs []Equation) []Solved {
	parent := make([]int32, nvars)
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	rows := make([]srow, 0, len(eqs))
	for _, eq := range eqs {
		r := srow{rhs: toMod(eq.RHS), e: make([]entry, 0, len(eq.Terms))}
		for _, t := range eq.Terms {
			if c := toMod(t.Coef); c != 0 {
				r.e = append(r.e, entry{int32(t.Var), c})
			}
		}
		slices.SortFunc(r.e, func(a, b entry) int { return cmp.Compare(a.col, b.col) })
		// merge repeated unknowns
		out := r.e[:0]
		for _, x := range r.e {
			if n := len(out); n > 0 && out[n-1].col == x.col {
				out[n-1].val = addMod(out[n-1].val, x.val)
				if out[n-1].val == 0 {
					out = out[:n-1]
				}
				continue
			}
			out = append(out, x)
		}
		r.e = out
		if len(r.e) == 0 {
			continue
		}
		for _, x := range r.e[1:] {
			if a, b := find(r.e[0].col), find(x.col); a != b {
				parent[max(a, b)] = min(a, b)
			}
		}
		rows = append(rows, r)
	}
	comp := map[int32][]srow{}
	var roots []int32
	for _, r := range rows {
		root := find(r.e[0].col)
		if _, ok := comp[root]; !ok {
			roots = append(roots, root)
		}
		comp[root] = append(comp[root], r)
	}
	slices.Sort(roots)
	// components are independent: solved on every core, the largest first
	res := make([][]Solved, len(roots))
	order := make([]int, len(roots))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(comp[roots[b]]), len(comp[roots[a]])) })
	forEach(len(order), func(k int) {
		i := order[k]
		res[i], _ = solveComponent(comp[roots[i]], false, nil)
	})
	var out []Solved
	for _, solved := range res {
		out = append(out, solved...)
	}
	slices.SortFunc(out, func(a, b Solved) int { return cmp.Compare(a.Var, b.Var) })
	return out
}

// reduction is what solveComponent found: the determined unknowns and, with
// tracking, for each the combination of equations that isolates it (why,
// by srow.id) and a basis of the combinations that cancel every unknown
// (null: the dependent equations).
type reduction struct {
	solved []Solved
	why    [][]entry
	null   [][]entry
}

// permute reorders c in place so that c[k] becomes the old c[perm[k]],
// following each cycle of the permutation once (no copy of c: the rows of
// a system, or a period's cells, are wide). perm is used up: each entry is
// left holding its own index.
func permute[T any, I int | int32](c []T, perm []I) {
	for k := range perm {
		if perm[k] == I(k) {
			continue
		}
		tmp, j := c[k], I(k)
		for {
			next := perm[j]
			perm[j] = j
			if next == I(k) {
				c[j] = tmp
				break
			}
			c[j] = c[next]
			j = next
		}
	}
}

// solveComponent reduces one component's rows (columns are global ids).
// With track, each row's id must be below len(rows) and distinct. colIdx,
// if not nil, is scratch for numbering the columns: longer than any column
// id, every entry -1, and so again on return.
func solveComponent(rows []srow, track bool, colIdx []int32) ([]Solved, reduction) {
	// local column numbering, by global id: a dense index when the ids are
	// not much sparser than the entries (a whole component) or scratch is
	// given, else sorted
	var cols []int32
	var local func(int32) int32
	if colIdx != nil {
		cols = scratchCols(rows, colIdx)
		defer func() {
			for _, c := range cols {
				colIdx[c] = -1
			}
		}()
		local = func(c int32) int32 { return colIdx[c] }
	} else {
		cols, local = localCols(rows)
	}
	entries := 0
	for _, r := range rows {
		entries += len(r.e)
	}
	// blocks about the size of the input, so that the many small systems
	// of localWhy take a small block and a whole component a few
	ar := arena{block: 2*entries + len(rows) + 16}
	for i := range rows {
		e := ar.take(len(rows[i].e))
		for j, x := range rows[i].e {
			e[j] = entry{local(x.col), x.val}
		}
		rows[i].e = e
		if track {
			rows[i].cmb = append(ar.take(1)[:0], entry{rows[i].id, 1})
		}
	}
	// shortest rows first; ties by content so the order of the input does
	// not matter (the result never does, only the work), then by id: with
	// tracking the ids are distinct and follow the input's (canonical)
	// order, without it equal rows are interchangeable
	// (an index sort: the rows are wide structs)
	idx := make([]int32, len(rows))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(i, j int32) int {
		a, b := &rows[i], &rows[j]
		if c := cmp.Compare(len(a.e), len(b.e)); c != 0 {
			return c
		}
		for k := range a.e {
			if c := cmp.Or(cmp.Compare(a.e[k].col, b.e[k].col), cmp.Compare(a.e[k].val, b.e[k].val)); c != 0 {
				return c
			}
		}
		return cmp.Or(cmp.Compare(a.rhs, b.rhs), cmp.Compare(a.id, b.id))
	})
	permute(rows, idx) // rows[k] = old rows[idx[k]]
	n := len(cols)
	pivotOf := make([]int32, n) // column -> pivot row, -1
	for i := range pivotOf {
		pivotOf[i] = -1
	}
	occ := make([][]int32, n) // column -> pivot rows that may hold it
	piv := make([]srow, 0, min(n, len(rows)))
	pivCol := make([]int32, 0, min(n, len(rows)))
	acc := make([]uint64, n) // dense scratch for reducing one row
	inAcc := make([]bool, n)
	var touched []int32
	var cacc []uint64 // the same for its combination of equations
	var inC []bool
	var ctouched []int32
	var sum []entry   // axpy's scratch
	var added []int32 // the columns axpy added to a pivot row
	if track {
		cacc = make([]uint64, len(rows))
		inC = make([]bool, len(rows))
	}
	var red reduction
	for _, r := range rows {
		// reduce r by the pivot rows (kept fully reduced, so one pass)
		touched = touched[:0]
		ctouched = ctouched[:0]
		rhs := r.rhs
		addTo := func(col int32, v uint64) {
			if !inAcc[col] {
				inAcc[col] = true
				touched = append(touched, col)
			}
			acc[col] = addMod(acc[col], v)
		}
		addC := func(id int32, v uint64) {
			if !inC[id] {
				inC[id] = true
				ctouched = append(ctouched, id)
			}
			cacc[id] = addMod(cacc[id], v)
		}
		for _, x := range r.e {
			if p := pivotOf[x.col]; p < 0 {
				addTo(x.col, x.val)
			}
		}
		if track {
			addC(r.id, 1)
		}
		for _, x := range r.e {
			p := pivotOf[x.col]
			if p < 0 {
				continue
			}
			f := negMod(x.val)
			for _, y := range piv[p].e {
				if y.col != x.col {
					addTo(y.col, mulMod(f, y.val))
				}
			}
			rhs = addMod(rhs, mulMod(f, piv[p].rhs))
			if track {
				for _, y := range piv[p].cmb {
					addC(y.col, mulMod(f, y.val))
				}
			}
		}
		slices.Sort(touched)
		nz := 0
		for _, c := range touched {
			if acc[c] != 0 {
				nz++
			}
		}
		e := ar.take(nz)[:0]
		for _, c := range touched {
			if acc[c] != 0 {
				e = append(e, entry{c, acc[c]})
			}
			acc[c], inAcc[c] = 0, false
		}
		var cmbr []entry
		if track {
			slices.Sort(ctouched)
			nz := 0
			for _, c := range ctouched {
				if cacc[c] != 0 {
					nz++
				}
			}
			cmbr = ar.take(nz)[:0]
			for _, c := range ctouched {
				if cacc[c] != 0 {
					cmbr = append(cmbr, entry{c, cacc[c]})
				}
				cacc[c], inC[c] = 0, false
			}
		}
		if len(e) == 0 {
			// dependent (or, with rhs != 0, inconsistent: not ours to judge)
			if track {
				red.null = append(red.null, cmbr)
			}
			continue
		}
		// pivot: the column in the fewest pivot rows
		best := 0
		for k := 1; k < len(e); k++ {
			if len(occ[e[k].col]) < len(occ[e[best].col]) {
				best = k
			}
		}
		pc := e[best].col
		inv := invMod(e[best].val)
		for k := range e {
			e[k].val = mulMod(e[k].val, inv)
		}
		for k := range cmbr {
			cmbr[k].val = mulMod(cmbr[k].val, inv)
		}
		nr := srow{e: e, rhs: mulMod(rhs, inv), cmb: cmbr}
		id := int32(len(piv))
		// clear pc from every pivot row holding it
		for _, q := range occ[pc] {
			qr := &piv[q]
			k, ok := slices.BinarySearchFunc(qr.e, pc, func(a entry, c int32) int { return cmp.Compare(a.col, c) })
			if !ok {
				continue // stale
			}
			f := negMod(qr.e[k].val)
			qr.e = axpy(qr.e, nr.e, f, &sum, &added)
			qr.rhs = addMod(qr.rhs, mulMod(f, nr.rhs))
			if track {
				qr.cmb = axpy(qr.cmb, nr.cmb, f, &sum, nil)
			}
			for _, c := range added {
				occ[c] = append(occ[c], q)
			}
		}
		occ[pc] = occ[pc][:0]
		for _, x := range nr.e {
			occ[x.col] = append(occ[x.col], id)
		}
		piv = append(piv, nr)
		pivCol = append(pivCol, pc)
		pivotOf[pc] = id
	}
	var out []Solved
	for i, r := range piv {
		if len(r.e) == 1 {
			out = append(out, Solved{Var: int(cols[pivCol[i]]), Value: fromMod(r.rhs)})
			if track {
				red.why = append(red.why, r.cmb)
			}
		}
	}
	red.solved = out
	return out, red
}

// axpy sets a to a + f*b (sorted sparse rows), reusing a's array when the
// sum fits it, and returns it with the columns new to a in *added. buf is
// scratch for the sum.
func axpy(a, b []entry, f uint64, buf *[]entry, added *[]int32) []entry {
	out := (*buf)[:0]
	if added != nil {
		*added = (*added)[:0]
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].col < b[j].col:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].col < a[i].col:
			out = append(out, entry{b[j].col, mulMod(f, b[j].val)})
			if added != nil {
				*added = append(*added, b[j].col)
			}
			j++
		default:
			if v := addMod(a[i].val, mulMod(f, b[j].val)); v != 0 {
				out = append(out, entry{a[i].col, v})
			}
			i++
			j++
		}
	}
	*buf = out
	return append(a[:0], out...)
}

// arena hands out the rows' entry slices from shared blocks: a component
// builds hundreds of thousands of short rows. Each slice is capped at its
// length, so growing one (axpy) moves it out instead of into its neighbour.
type arena struct {
	free  []entry
	block int
}

func (a *arena) take(n int) []entry {
	if len(a.free) < n {
		a.free = make([]entry, max(n, a.block))
	}
	s := a.free[:n:n]
	a.free = a.free[n:]
	return s
}

// scratchCols returns the distinct columns of rows, sorted, with each one's
// index there in idx (whose entries are -1 before).
func scratchCols(rows []srow, idx []int32) []int32 {
	var cols []int32
	for _, r := range rows {
		for _, x := range r.e {
			if idx[x.col] < 0 {
				idx[x.col] = 0
				cols = append(cols, x.col)
			}
		}
	}
	slices.Sort(cols)
	for i, c := range cols {
		idx[c] = int32(i)
	}
	return cols
}

// localCols returns the distinct columns of rows, sorted, and a function
// from a column to its index there.
func localCols(rows []srow) ([]int32, func(int32) int32) {
	entries, maxc := 0, int32(-1)
	for _, r := range rows {
		entries += len(r.e)
		for _, x := range r.e {
			maxc = max(maxc, x.col)
		}
	}
	if int(maxc) < 4*entries+64 {
		idx := make([]int32, maxc+1)
		for _, r := range rows {
			for _, x := range r.e {
				idx[x.col] = 1
			}
		}
		var cols []int32
		for c, seen := range idx {
			if seen != 0 {
				idx[c] = int32(len(cols))
				cols = append(cols, int32(c))
			}
		}
		return cols, func(c int32) int32 { return idx[c] }
	}
	cols := make([]int32, 0, entries)
	for _, r := range rows {
		for _, x := range r.e {
			cols = append(cols, x.col)
		}
	}
	slices.Sort(cols)
	cols = slices.Compact(cols)
	local := make(map[int32]int32, len(cols))
	for i, c := range cols {
		local[c] = int32(i)
	}
	return cols, func(c int32) int32 { return local[c] }
}
