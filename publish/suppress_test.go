package publish

import (
	"fmt"
	"testing"
)

func TestSuppress(t *testing.T) {
	// cells: index 0 is the total; the rest are its parts
	cases := []struct {
		name      string
		counts    []float64 // total first
		unknown   []int     // indexes with no count
		minCount  int
		secondary bool
		want      []string // state per cell
	}{
		{"nothing small", []float64{60, 20, 15, 25}, nil, 8, true, []string{"", "", "", ""}},
		{"zero is not suppressed", []float64{40, 0, 15, 25}, nil, 8, true, []string{"", "", "", ""}},
		{"one small: next smallest goes too", []float64{48, 3, 20, 25}, nil, 8, true, []string{"", "primary", "secondary", ""}},
		{"one small, secondary off", []float64{48, 3, 20, 25}, nil, 8, false, []string{"", "primary", "", ""}},
		{"two small: no secondary needed", []float64{35, 3, 7, 25}, nil, 8, true, []string{"", "primary", "primary", ""}},
		{"boundary: 7 withheld, 8 shown", []float64{40, 7, 8, 25}, nil, 8, true, []string{"", "primary", "secondary", ""}},
		{"threshold configurable", []float64{40, 9, 11, 20}, nil, 12, true, []string{"", "primary", "primary", ""}},
		{"tie broken by key", []float64{72, 2, 20, 20, 30}, nil, 8, true, []string{"", "primary", "secondary", "", ""}},
		{"only part of a group of one: total withheld", []float64{30, 3}, nil, 8, true, []string{"secondary", "primary"}},
		{"only part: total withheld", []float64{5, 5}, nil, 8, true, []string{"primary", "primary"}},
		{"big only part beside small total", []float64{30, 30}, nil, 8, true, []string{"", ""}},
		{"missing count counts as hidden", []float64{48, 3, 0, 25}, []int{2}, 8, true, []string{"", "primary", "", ""}},
		{"hidden total needs nothing more", []float64{0, 3, 20}, []int{0}, 8, true, []string{"", "primary", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			states := make([]string, len(c.counts))
			cells := make([]cell, len(c.counts))
			g := group{parent: 0}
			for i, n := range c.counts {
				cells[i] = cell{count: n, known: true, key: fmt.Sprintf("k%02d", i), state: &states[i]}
				if i > 0 {
					g.children = append(g.children, i)
				}
			}
			for _, u := range c.unknown {
				cells[u].known = false
			}
			suppress(cells, []group{g}, c.minCount, c.secondary)
			for i := range states {
				if states[i] != c.want[i] {
					t.Errorf("cell %d (count %v): %q, want %q", i, c.counts[i], states[i], c.want[i])
				}
			}
		})
	}
}

// Suppression must hold through the hierarchy: a practice withheld inside a
// PCN must not be recoverable from the PCN total, nor the PCN from its
// sub-ICB's.
func TestSuppressHierarchy(t *testing.T) {
	ps := []practice{
		{Code: "A1", PCN: "U1", SubICB: "S1", ICB: "Q1", Region: "Y1"},
		{Code: "A2", PCN: "U1", SubICB: "S1", ICB: "Q1", Region: "Y1"},
		{Code: "A3", PCN: "U2", SubICB: "S1", ICB: "Q1", Region: "Y1"},
		{Code: "A4", PCN: "U2", SubICB: "S1", ICB: "Q1", Region: "Y1"},
	}
	h := newHierarchy(ps)
	rows := []struct {
		level, code string
		n           float64
	}{
		{"england", "E", 100}, {"sub_icb", "S1", 100}, {"pcn", "U1", 40}, {"pcn", "U2", 60},
		{"practice", "A1", 2}, {"practice", "A2", 38}, {"practice", "A3", 30}, {"practice", "A4", 30},
	}
	states := make([]string, len(rows))
	items := make([]areaKeyed, len(rows))
	for i, r := range rows {
		items[i] = areaKeyed{level: r.level, code: r.code, c: cell{count: r.n, known: true, key: r.level + r.code, state: &states[i]}}
	}
	runSuppression(items, h, SuppressionConfig{MinCount: 8, Secondary: true})
	hidden := map[string]string{}
	for i, r := range rows {
		hidden[r.code] = states[i]
	}
	if hidden["A1"] != "primary" {
		t.Fatalf("A1 = %q, want primary", hidden["A1"])
	}
	// within U1 exactly one other part exists: A2 must go
	if hidden["A2"] != "secondary" {
		t.Errorf("A2 = %q, want secondary (else A1 = U1 - A2)", hidden["A2"])
	}
	// every published total now has zero or at least two hidden parts
	for _, g := range groupsFor(items, h) {
		if *items[g.parent].c.state != "" {
			continue
		}
		n := 0
		for _, ch := range g.children {
			if *items[ch].c.state != "" {
				n++
			}
		}
		if n == 1 {
			t.Errorf("total %s has exactly one hidden part", items[g.parent].code)
		}
	}
}
