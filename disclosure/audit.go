package disclosure

// audit is the whole-system step of SuppressOpts: while the published
// relations determine a withheld count, withhold one more cell per such
// count and apply the per-relation rule again.
func (s *suppressor) audit(st *Stats) {
	if st == nil {
		st = &Stats{}
	}
	for {
		det := s.determined()
		st.Rounds++
		st.Determined += len(det)
		if len(det) == 0 {
			return
		}
		before := s.withheld()
		// every choice against the same state, so the order of det (the
		// input order) does not matter
		covers := make([]int, 0, len(det))
		for _, x := range det {
			if c := s.cover(x); c >= 0 {
				covers = append(covers, c)
			}
		}
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
// determine, with every known count an unknown.
func (s *suppressor) findFixed() {
	var eqs []Equation
	for gi, g := range s.groups {
		if !s.active(gi) {
			continue
		}
		eq := Equation{Terms: []Term{{Var: g.Parent, Coef: 1}}}
		for _, ch := range g.Children {
			if s.cells[ch].Known {
				eq.Terms = append(eq.Terms, Term{Var: ch, Coef: -1})
			}
		}
		eqs = append(eqs, eq)
	}
	for _, x := range Solve(len(s.cells), eqs) {
		s.fixed[x.Var] = true
	}
}

// determined returns the withheld cells, in components holding a cell
// withheld since the last call, whose count the active relations
// determine, in index order.
func (s *suppressor) determined() []int {
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
	var eqs []Equation
	for gi, g := range s.groups {
		if !s.active(gi) {
			continue
		}
		var eq Equation
		if s.state[g.Parent] != "" {
			eq.Terms = append(eq.Terms, Term{Var: g.Parent, Coef: 1})
		}
		for _, ch := range g.Children {
			if s.cells[ch].Known && s.state[ch] != "" {
				eq.Terms = append(eq.Terms, Term{Var: ch, Coef: -1})
			}
		}
		if len(eq.Terms) == 0 {
			continue
		}
		for _, t := range eq.Terms[1:] {
			if a, b := find(eq.Terms[0].Var), find(t.Var); a != b {
				parent[max(a, b)] = min(a, b)
			}
		}
		eqs = append(eqs, eq)
	}
	dirtyRoot := map[int]bool{}
	for i, d := range s.dirty {
		if d {
			dirtyRoot[find(i)] = true
			s.dirty[i] = false
		}
	}
	keep := eqs[:0]
	for _, eq := range eqs {
		if dirtyRoot[find(eq.Terms[0].Var)] {
			keep = append(keep, eq)
		}
	}
	var out []int
	for _, x := range Solve(len(s.cells), keep) {
		if !s.fixed[x.Var] {
			out = append(out, x.Var)
		}
	}
	return out
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
				g := s.groups[gi]
				consider(g.Parent)
				for _, ch := range g.Children {
					consider(ch)
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
