package disclosure

import (
	"cmp"
	"math/rand"
	"slices"
	"testing"
)

var rule = Rule{MinCount: 8, Secondary: true}

// practice p of PCN n, sub-ICB s, ICB i, region r with count c.
func prac(ind, p, n, s, i string, c float64, imd int) Cell {
	return Cell{Indicator: ind, Level: "practice", Code: p, N: c, Known: true, PCN: n, SubICB: s, ICB: i, Region: "R1", IMD: imd, Rule: rule}
}

func area(ind, level, code string, c float64) Cell {
	return Cell{Indicator: ind, Level: level, Code: code, N: c, Known: true, Rule: rule}
}

func withheld(cells []Cell, state []string) []string {
	var out []string
	for i, s := range state {
		if s != "" {
			out = append(out, cells[i].String()+"="+s)
		}
	}
	slices.Sort(out)
	return out
}

func TestSuppress(t *testing.T) {
	tests := []struct {
		name  string
		cells []Cell
		want  []string
	}{
		{
			name: "one small practice: the next smallest in its PCN goes too",
			cells: []Cell{
				prac("r", "P1", "N1", "S1", "I1", 3, 0), prac("r", "P2", "N1", "S1", "I1", 20, 0), prac("r", "P3", "N1", "S1", "I1", 30, 0),
				area("r", "pcn", "N1", 53),
			},
			want: []string{"r/practice/P1=primary", "r/practice/P2=secondary"},
		},
		{
			name: "two small practices protect each other",
			cells: []Cell{
				prac("r", "P1", "N1", "S1", "I1", 3, 0), prac("r", "P2", "N1", "S1", "I1", 5, 0), prac("r", "P3", "N1", "S1", "I1", 30, 0),
				area("r", "pcn", "N1", 38),
			},
			want: []string{"r/practice/P1=primary", "r/practice/P2=primary"},
		},
		{
			name: "a lone practice: its PCN total is withheld instead",
			cells: []Cell{
				prac("r", "P1", "N1", "S1", "I1", 4, 0), area("r", "pcn", "N1", 4),
			},
			want: []string{"r/pcn/N1=primary", "r/practice/P1=primary"},
		},
		{
			name: "a withheld total whose parts are all published gets a part withheld",
			cells: []Cell{
				prac("r", "P1", "N1", "S1", "I1", 4, 0), prac("r", "P2", "N2", "S1", "I1", 3, 0),
				prac("r", "P3", "N3", "S1", "I1", 50, 0), prac("r", "P4", "N3", "S1", "I1", 60, 0),
				area("r", "pcn", "N1", 4), area("r", "pcn", "N2", 3), area("r", "pcn", "N3", 110), area("r", "sub_icb", "S1", 117),
			},
			want: []string{"r/pcn/N1=primary", "r/pcn/N2=primary", "r/practice/P1=primary", "r/practice/P2=primary"},
		},
		{
			name: "zero is published unless the rule says so; missing counts take no part",
			cells: []Cell{
				prac("r", "P1", "N1", "S1", "I1", 0, 0), {Indicator: "r", Level: "practice", Code: "P2", PCN: "N1", Rule: rule},
				prac("r", "P3", "N1", "S1", "I1", 40, 0), area("r", "pcn", "N1", 40),
			},
			want: nil,
		},
		{
			name: "chained: the secondary cell's PCN then needs a second withheld PCN in the sub-ICB",
			cells: []Cell{
				prac("r", "P1", "N1", "S1", "I1", 2, 0), prac("r", "P2", "N1", "S1", "I1", 50, 0),
				prac("r", "P3", "N2", "S1", "I1", 60, 0), prac("r", "P4", "N2", "S1", "I1", 70, 0),
				area("r", "pcn", "N1", 52), area("r", "pcn", "N2", 130), area("r", "sub_icb", "S1", 182),
			},
			// P1 primary; N1 = P1 + P2 so P2; S1 = P1..P4 then has two withheld; S1 = N1 + N2 none
			want: []string{"r/practice/P1=primary", "r/practice/P2=secondary"},
		},
		{
			name: "a practice outside any PCN closes the sub-ICB sum over PCNs",
			cells: []Cell{
				prac("r", "P1", "N1", "S1", "I1", 40, 0), prac("r", "P2", "N1", "S1", "I1", 50, 0),
				prac("r", "P3", "", "S1", "I1", 5, 0), prac("r", "P4", "N2", "S1", "I1", 60, 0),
				area("r", "pcn", "N1", 90), area("r", "pcn", "N2", 60), area("r", "sub_icb", "S1", 155),
			},
			// S1 = P1..P4 with P3 alone withheld: P1 (40), then N1 = P1 + P2: P2;
			// S1 = N1 + N2 + P3 with P3 alone: N2, then N2 = P4: P4
			want: []string{"r/pcn/N2=secondary", "r/practice/P1=secondary", "r/practice/P2=secondary", "r/practice/P3=primary", "r/practice/P4=secondary"},
		},
		{
			name: "deciles: an ICB's decile of one small practice",
			cells: []Cell{
				prac("r", "P1", "N1", "S1", "I1", 40, 1), prac("r", "P2", "N1", "S1", "I1", 5, 2), prac("r", "P3", "N1", "S1", "I1", 9, 2),
				area("r", "icb", "I1", 54),
				{Indicator: "r", Level: "icb", Code: "I1", Decile: 1, N: 40, Known: true, Rule: rule},
				{Indicator: "r", Level: "icb", Code: "I1", Decile: 2, N: 14, Known: true, Rule: rule},
			},
			// P2 primary; decile 2 = P2 + P3 -> P3; icb = P1+P2+P3 has two; icb = d1 + d2 fine
			want: []string{"r/practice/P2=primary", "r/practice/P3=secondary"},
		},
		{
			name: "parts: a withheld priority needs a second one at the same area",
			cells: []Cell{
				area("all", "icb", "I1", 100),
				{Indicator: "2ww", Level: "icb", Code: "I1", N: 3, Known: true, PartOf: "all", Family: "priority", Rule: rule},
				{Indicator: "urgent", Level: "icb", Code: "I1", N: 17, Known: true, PartOf: "all", Family: "priority", Rule: rule},
				{Indicator: "routine", Level: "icb", Code: "I1", N: 80, Known: true, PartOf: "all", Family: "priority", Rule: rule},
			},
			want: []string{"2ww/icb/I1=primary", "urgent/icb/I1=secondary"},
		},
		{
			name: "same count: the ratio's observed count follows the rate's",
			cells: []Cell{
				prac("rate", "P1", "N1", "S1", "I1", 9, 0), prac("rate", "P2", "N1", "S1", "I1", 5, 0), prac("rate", "P3", "N1", "S1", "I1", 30, 0),
				area("rate", "pcn", "N1", 44),
				{Indicator: "isr", Level: "practice", Code: "P1", N: 9, Known: true, PCN: "N1", SameAs: "rate", Rule: rule},
				{Indicator: "isr", Level: "practice", Code: "P2", N: 5, Known: true, PCN: "N1", SameAs: "rate", Rule: rule},
				{Indicator: "isr", Level: "practice", Code: "P3", N: 30, Known: true, PCN: "N1", SameAs: "rate", Rule: rule},
				{Indicator: "isr", Level: "pcn", Code: "N1", N: 44, Known: true, SameAs: "rate", Rule: rule},
			},
			want: []string{"isr/practice/P1=secondary", "isr/practice/P2=primary", "rate/practice/P1=secondary", "rate/practice/P2=primary"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := Groups(tt.cells)
			state := Suppress(tt.cells, gs)
			got := withheld(tt.cells, state)
			// no relation is left with exactly one withheld term
			for _, g := range gs {
				n := 0
				for i := range g.Terms() {
					if state[i] != "" {
						n++
					}
				}
				if n == 1 {
					t.Errorf("relation %v has one withheld term", g)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("withheld %v, want %v", got, tt.want)
			}
			// the same cells in another order withhold the same cells
			rev := slices.Clone(tt.cells)
			slices.Reverse(rev)
			if again := withheld(rev, Suppress(rev, Groups(rev))); !slices.Equal(again, got) {
				t.Errorf("reversed input withholds %v, want %v", again, got)
			}
		})
	}
}

func TestSuppressRuleOptions(t *testing.T) {
	cells := []Cell{prac("r", "P1", "N1", "S1", "I1", 0, 0), prac("r", "P2", "N1", "S1", "I1", 3, 0), prac("r", "P3", "N1", "S1", "I1", 30, 0), area("r", "pcn", "N1", 33)}
	noSecondary := slices.Clone(cells)
	for i := range noSecondary {
		noSecondary[i].Rule.Secondary = false
	}
	if got := withheld(noSecondary, Suppress(noSecondary, Groups(noSecondary))); !slices.Equal(got, []string{"r/practice/P2=primary"}) {
		t.Errorf("without secondary: %v", got)
	}
	zero := slices.Clone(cells)
	for i := range zero {
		zero[i].Rule.Zero = true
	}
	if got := withheld(zero, Suppress(zero, Groups(zero))); !slices.Equal(got, []string{"r/practice/P1=primary", "r/practice/P2=primary"}) {
		t.Errorf("with zero: %v", got)
	}
	// with 0 published, 3 is still protected by a second cell
	if got := withheld(cells, Suppress(cells, Groups(cells))); !slices.Equal(got, []string{"r/practice/P1=secondary", "r/practice/P2=primary"}) {
		t.Errorf("default: %v", got)
	}
}

// TestKeyOrder: keyOrder sorts by ranked strings; the order must be the
// one comparing the strings gives (indicator, level rank, code, decile,
// then input order), levels not known first.
func TestKeyOrder(t *testing.T) {
	cells := englandCells(3, 120)
	cells = append(cells, Cell{Indicator: "all", Level: "ward", Code: "W1"}, Cell{Indicator: "all", Level: "ward", Code: "W1"},
		Cell{Indicator: "2ww", Level: "practice", Code: "P0001"}, Cell{Indicator: "", Level: "icb", Code: ""})
	rand.New(rand.NewSource(7)).Shuffle(len(cells), func(i, j int) { cells[i], cells[j] = cells[j], cells[i] })
	want := make([]int, len(cells))
	for i := range want {
		want[i] = i
	}
	slices.SortStableFunc(want, func(a, b int) int {
		x, y := &cells[a], &cells[b]
		return cmp.Or(cmp.Compare(x.Indicator, y.Indicator), cmp.Compare(rank(x.Level), rank(y.Level)),
			cmp.Compare(x.Code, y.Code), cmp.Compare(x.Decile, y.Decile))
	})
	got := keyOrder(cells)
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("place %d of %d: keyOrder has %v, the string order %v", k, len(cells), cells[got[k]], cells[want[k]])
		}
	}
}
