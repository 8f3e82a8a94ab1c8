package disclosure

import (
	"math/big"
	"math/rand"
	"slices"
	"testing"
)

func eq(rhs int64, terms ...int64) Equation {
	// terms: var, coef pairs
	e := Equation{RHS: rhs}
	for i := 0; i+1 < len(terms); i += 2 {
		e.Terms = append(e.Terms, Term{Var: int(terms[i]), Coef: terms[i+1]})
	}
	return e
}

func TestSolve(t *testing.T) {
	tests := []struct {
		name  string
		nvars int
		eqs   []Equation
		want  []Solved
	}{
		{"one unknown", 1, []Equation{eq(5, 0, 1)}, []Solved{{0, 5}}},
		{"two unknowns in one sum: nothing", 2, []Equation{eq(9, 0, 1, 1, 1)}, nil},
		{"chain: a+b=9, b=4", 2, []Equation{eq(9, 0, 1, 1, 1), eq(4, 1, 1)}, []Solved{{0, 5}, {1, 4}}},
		// x0+x1=7, x1+x2=9, x0+x2=10: each sum has two unknowns, the three
		// together fix all (x0 = (7-9+10)/2 = 4): division, exact mod p
		{"odd cycle", 3, []Equation{eq(7, 0, 1, 1, 1), eq(9, 1, 1, 2, 1), eq(10, 0, 1, 2, 1)}, []Solved{{0, 4}, {1, 3}, {2, 6}}},
		// a 2x2 table with all four cells unknown and its margins known:
		// rank 3 of 4, nothing determined
		{"2x2 interior", 4, []Equation{eq(10, 0, 1, 1, 1), eq(20, 2, 1, 3, 1), eq(12, 0, 1, 2, 1), eq(18, 1, 1, 3, 1)}, nil},
		// total - parts with the total unknown too: T - a - b = 0, T - c = 8
		// (another level), a + b unknown
		{"total at two levels", 3, []Equation{eq(0, 0, 1, 1, -1, 2, -1), eq(8, 0, 1)}, []Solved{{0, 8}}},
		{"negative values", 2, []Equation{eq(-3, 0, 1, 1, -1), eq(2, 1, 1)}, []Solved{{0, -1}, {1, 2}}},
		{"repeated unknown in one equation merges", 2, []Equation{eq(6, 0, 1, 0, 1, 1, 1, 1, -1)}, []Solved{{0, 3}}},
		{"two components, one determined", 4, []Equation{eq(3, 0, 1, 1, 1), eq(4, 2, 1), eq(7, 2, 1, 3, 1)}, []Solved{{2, 4}, {3, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Solve(tt.nvars, tt.eqs)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Solve = %v, want %v", got, tt.want)
			}
			rev := slices.Clone(tt.eqs)
			slices.Reverse(rev)
			if again := Solve(tt.nvars, rev); !slices.Equal(again, got) {
				t.Errorf("reversed equations: %v, want %v", again, got)
			}
		})
	}
}

// determinedRat is the textbook answer over the rationals: dense RREF with
// math/big, x_i determined iff adding e_i does not raise the rank. Slow, for
// small random systems only.
func determinedRat(nvars int, eqs []Equation) []Solved {
	m := make([][]*big.Rat, len(eqs))
	for i, e := range eqs {
		m[i] = make([]*big.Rat, nvars+1)
		for j := range m[i] {
			m[i][j] = new(big.Rat)
		}
		for _, t := range e.Terms {
			m[i][t.Var].Add(m[i][t.Var], big.NewRat(t.Coef, 1))
		}
		m[i][nvars].SetInt64(e.RHS)
	}
	pivotRow := make([]int, nvars)
	for i := range pivotRow {
		pivotRow[i] = -1
	}
	r := 0
	for c := 0; c < nvars && r < len(m); c++ {
		p := -1
		for i := r; i < len(m); i++ {
			if m[i][c].Sign() != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		m[r], m[p] = m[p], m[r]
		inv := new(big.Rat).Inv(m[r][c])
		for j := range m[r] {
			m[r][j].Mul(m[r][j], inv)
		}
		for i := range m {
			if i == r || m[i][c].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Set(m[i][c])
			for j := range m[i] {
				m[i][j].Sub(m[i][j], new(big.Rat).Mul(f, m[r][j]))
			}
		}
		pivotRow[c] = r
		r++
	}
	var out []Solved
	for c, pr := range pivotRow {
		if pr < 0 {
			continue
		}
		alone := true
		for j := 0; j < nvars; j++ {
			if j != c && m[pr][j].Sign() != 0 {
				alone = false
				break
			}
		}
		if alone && m[pr][nvars].IsInt() {
			out = append(out, Solved{Var: c, Value: m[pr][nvars].Num().Int64()})
		}
	}
	return out
}

// Random sparse sums (the shape of totals and parts) with a consistent
// right-hand side: the modular solver finds exactly what rational
// elimination finds, with the true values.
func TestSolveMatchesRationalElimination(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for it := 0; it < 400; it++ {
		nvars := 2 + r.Intn(9)
		x := make([]int64, nvars)
		for i := range x {
			x[i] = int64(r.Intn(20))
		}
		var eqs []Equation
		for k := r.Intn(nvars + 3); k >= 0; k-- {
			var e Equation
			for _, v := range r.Perm(nvars)[:1+r.Intn(min(4, nvars))] {
				c := int64(-1)
				if r.Intn(4) == 0 {
					c = 1
				}
				e.Terms = append(e.Terms, Term{Var: v, Coef: c})
				e.RHS += c * x[v]
			}
			eqs = append(eqs, e)
		}
		got, want := Solve(nvars, eqs), determinedRat(nvars, eqs)
		if !slices.Equal(got, want) {
			t.Fatalf("system %v: Solve %v, rational %v", eqs, got, want)
		}
		for _, s := range got {
			if x[s.Var] != s.Value {
				t.Fatalf("system %v: x%d = %d, solved %d", eqs, s.Var, x[s.Var], s.Value)
			}
		}
	}
}
