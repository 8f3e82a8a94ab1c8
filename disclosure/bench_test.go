package disclosure

import (
	"crypto/sha256"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// englandCells is one period of a synthetic England shaped like the real
// one (7 regions, 42 ICBs, 106 sub-ICBs, 1,250 PCNs, 6,300 practices; some
// practices outside any PCN) for the referral indicators: all referrals, the
// three priorities and five specialties (parts of all referrals), and a
// ratio holding the same count as all referrals; every area total and the
// deprivation deciles of ICBs, regions and England.
// With practices below 6,300 it is a smaller country of the same shape.
func englandCells(seed int64, practices int) []Cell {
	r := rand.New(rand.NewSource(seed))
	type practice struct {
		code, pcn, sub, icb, reg string
		imd                      int
		list                     float64
	}
	var ps []practice
	for i := 0; i < practices; i++ {
		sub := i * 106 / 6300
		icb := sub * 42 / 106
		p := practice{code: fmt.Sprintf("P%04d", i), sub: fmt.Sprintf("S%03d", sub), icb: fmt.Sprintf("I%02d", icb),
			reg: fmt.Sprintf("R%d", icb*7/42), imd: 1 + r.Intn(10), list: 500 + r.Float64()*15000}
		if r.Intn(50) > 0 {
			p.pcn = fmt.Sprintf("N%04d", i*1250/6300)
		}
		ps = append(ps, p)
	}
	parts := map[string]float64{"2ww": 0.15, "urgent": 0.2, "routine": 0.65}
	specs := map[string]float64{"s100": 0.3, "s110": 0.25, "s120": 0.2, "s130": 0.15, "s140": 0.1}
	rule := Rule{MinCount: 8, Secondary: true}
	var cells []Cell
	type key struct {
		ind, level, code string
		d                int
	}
	sums := map[key]float64{}
	var order []key
	addSum := func(k key, n float64) {
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += n
	}
	meta := func(ind string) (partOf, family, sameAs string) {
		switch {
		case parts[ind] > 0:
			return "all", "priority", ""
		case specs[ind] > 0:
			return "all", "specialty", ""
		case ind == "isr":
			return "", "", "all"
		}
		return "", "", ""
	}
	for _, p := range ps {
		n := map[string]float64{}
		all := 0.0
		// fixed orders (not map order), so the same seed gives the same cells
		for _, ind := range []string{"2ww", "routine", "urgent"} {
			n[ind] = float64(r.Intn(int(p.list*0.004*parts[ind]) + 1))
			all += n[ind]
		}
		rest := all
		for _, ind := range []string{"s100", "s110", "s120", "s130"} {
			v := float64(r.Intn(int(rest*specs[ind]*2) + 1))
			v = min(v, rest)
			n[ind], rest = v, rest-v
		}
		n["s140"], n["all"], n["isr"] = rest, all, all
		for _, ind := range []string{"2ww", "all", "isr", "routine", "s100", "s110", "s120", "s130", "s140", "urgent"} {
			v := n[ind]
			po, fam, same := meta(ind)
			cells = append(cells, Cell{Indicator: ind, Level: "practice", Code: p.code, N: v, Known: true,
				PCN: p.pcn, SubICB: p.sub, ICB: p.icb, Region: p.reg, IMD: p.imd, PartOf: po, Family: fam, SameAs: same, Rule: rule})
			for _, a := range [][2]string{{"pcn", p.pcn}, {"sub_icb", p.sub}, {"icb", p.icb}, {"region", p.reg}, {"england", "E"}} {
				if a[1] == "" {
					continue
				}
				addSum(key{ind, a[0], a[1], 0}, v)
				if a[0] == "icb" || a[0] == "region" || a[0] == "england" {
					addSum(key{ind, a[0], a[1], p.imd}, v)
				}
			}
		}
	}
	for _, k := range order {
		po, fam, same := meta(k.ind)
		cells = append(cells, Cell{Indicator: k.ind, Level: k.level, Code: k.code, Decile: k.d, N: sums[k], Known: true,
			PartOf: po, Family: fam, SameAs: same, Rule: rule})
	}
	return cells
}

// go test -run '^$' -bench Suppress -benchtime 1x ./disclosure/
func BenchmarkSuppressEngland(b *testing.B) {
	cells := englandCells(1, 6300)
	gs := Groups(cells)
	for _, audit := range []bool{false, true} {
		b.Run(fmt.Sprintf("audit=%v", audit), func(b *testing.B) {
			benchSuppress(b, cells, gs, audit)
		})
	}
}

// BenchmarkSuppressFile decides one period's cells read from a file, in any
// order, one sdc_suppress line a cell (GPLENS_SDC_CELLS; skipped when unset): a real
// warehouse's month, which the generated fixture above does not represent
// (an England month of the pipeline has 271,000 cells and takes a dozen audit
// rounds). Write one with
//
//	gplens sql --live -c "COPY (...the lines of the per CTE of sql/disclosure/cells.sql for one period, unnested...) TO 'cells.txt' (HEADER false, QUOTE '', DELIMITER '\x01')"
//
// (README, Disclosure control, "Cost of the audit").
func BenchmarkSuppressFile(b *testing.B) {
	path := os.Getenv("GPLENS_SDC_CELLS")
	if path == "" {
		b.Skip("GPLENS_SDC_CELLS is not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var lines []any
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		lines = append(lines, l)
	}
	cells, err := toCells(lines)
	if err != nil {
		b.Fatal(err)
	}
	// as sdc_suppress decides them: sorted by key first, answered in file order
	state := benchDecide(b, cells, func(o Options) []string { return suppressInKeyOrder(cells, o) }, true)
	b.Logf("codes sha256 %x", sha256.Sum256([]byte(codes(state))))
}

// benchSuppress decides cells b.N times and reports the last answer's
// counts; it returns that answer.
func benchSuppress(b *testing.B, cells []Cell, gs []Group, audit bool) []string {
	return benchDecide(b, cells, func(o Options) []string { return SuppressOpts(cells, gs, o) }, audit)
}

// benchDecide times decide (one way of deciding cells) b.N times.
func benchDecide(b *testing.B, cells []Cell, decide func(Options) []string, audit bool) []string {
	var st Stats
	var state []string
	for i := 0; i < b.N; i++ {
		st = Stats{}
		state = decide(Options{Audit: audit, Stats: &st})
	}
	n := 0
	for _, s := range state {
		if s != "" {
			n++
		}
	}
	b.ReportMetric(float64(len(cells)), "cells")
	b.ReportMetric(float64(n), "withheld")
	b.ReportMetric(float64(st.Rounds), "rounds")
	b.ReportMetric(float64(st.Added), "added")
	b.ReportMetric(float64(st.Global), "global-rounds")
	return state
}
