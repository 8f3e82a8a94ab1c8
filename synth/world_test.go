package synth

import (
	"math"
	"regexp"
	"sort"
	"testing"
)

func TestHierarchyShape(t *testing.T) {
	cases := []struct {
		name            string
		practices       int
		icbs, subs      [2]int
		pcns            [2]int
		lsoas           [2]int
		minICBPerRegion int
		imdMean         [2]float64
		medianList      [2]float64
	}{
		{"England", 6300, [2]int{42, 42}, [2]int{106, 106}, [2]int{1150, 1350}, [2]int{32700, 33000}, 3, [2]float64{19.5, 24}, [2]float64{7300, 8800}},
		{"demo", 300, [2]int{14, 14}, [2]int{21, 21}, [2]int{45, 80}, [2]int{1300, 1800}, 2, [2]float64{15, 29}, [2]float64{6500, 9500}},
		{"tiny", 10, [2]int{7, 7}, [2]int{7, 10}, [2]int{7, 10}, [2]int{30, 60}, 1, [2]float64{5, 50}, [2]float64{2000, 30000}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := BuildWorld(Config{Out: "unused", Practices: tc.practices, Months: 60, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			in := func(n int, r [2]int) bool { return n >= r[0] && n <= r[1] }
			if len(w.Practices) != tc.practices {
				t.Errorf("%d practices", len(w.Practices))
			}
			if !in(len(w.ICBs), tc.icbs) || !in(len(w.SubICBs), tc.subs) || !in(len(w.PCNs), tc.pcns) || !in(len(w.LSOAs), tc.lsoas) {
				t.Errorf("ICBs %d, sub-ICBs %d, PCNs %d, LSOAs %d", len(w.ICBs), len(w.SubICBs), len(w.PCNs), len(w.LSOAs))
			}
			perRegion := make([]int, len(Regions))
			for _, icb := range w.ICBs {
				perRegion[icb.Region]++
			}
			for i, n := range perRegion {
				if n < tc.minICBPerRegion {
					t.Errorf("region %s has %d ICBs", Regions[i].Code, n)
				}
			}
			if tc.practices == englandPractices {
				for i, rg := range Regions {
					if perRegion[i] != rg.ICBs {
						t.Errorf("region %s: %d ICBs, England has %d", rg.Code, perRegion[i], rg.ICBs)
					}
				}
			}
			// every unit has members
			subUsed := make([]int, len(w.SubICBs))
			pcnUsed := make([]int, len(w.PCNs))
			for _, p := range w.Practices {
				subUsed[p.SubICB]++
				if p.PCN >= 0 {
					pcnUsed[p.PCN]++
					if w.PCNs[p.PCN].SubICB != p.SubICB {
						t.Errorf("%s: PCN in another sub-ICB", p.Code)
					}
				}
			}
			for i, n := range subUsed {
				if n == 0 {
					t.Errorf("sub-ICB %s has no practices", w.SubICBs[i].Code)
				}
			}
			icbUsed := make([]int, len(w.ICBs))
			for _, s := range w.SubICBs {
				icbUsed[s.ICB]++
			}
			for i, n := range icbUsed {
				if n == 0 {
					t.Errorf("ICB %s has no sub-ICBs", w.ICBs[i].Code)
				}
			}
			// codes well-formed and unique
			codeRes := []struct {
				re    *regexp.Regexp
				codes []string
			}{
				{regexp.MustCompile(`^[A-Z]\d{5}$`), nil},
				{regexp.MustCompile(`^U\d{5}$`), nil},
				{regexp.MustCompile(`^\d\d[A-Z]$`), nil},
				{regexp.MustCompile(`^Q[A-Z0-9]{2}$`), nil},
				{regexp.MustCompile(`^E01\d{6}$`), nil},
			}
			for _, p := range w.Practices {
				codeRes[0].codes = append(codeRes[0].codes, p.Code)
			}
			for _, p := range w.PCNs {
				codeRes[1].codes = append(codeRes[1].codes, p.Code)
			}
			for _, s := range w.SubICBs {
				codeRes[2].codes = append(codeRes[2].codes, s.Code)
			}
			for _, s := range w.ICBs {
				codeRes[3].codes = append(codeRes[3].codes, s.Code)
			}
			for _, l := range w.LSOAs {
				codeRes[4].codes = append(codeRes[4].codes, l.Code)
			}
			for _, c := range codeRes {
				seen := map[string]bool{}
				for _, code := range c.codes {
					if !c.re.MatchString(code) || seen[code] {
						t.Errorf("bad or repeated code %q", code)
					}
					seen[code] = true
				}
			}
			// IMD: skewed, 0.5-93, mean near 21.7
			var s float64
			scores := make([]float64, len(w.LSOAs))
			for i, l := range w.LSOAs {
				s += l.Score
				scores[i] = l.Score
				if l.Score < 0.5 || l.Score > 93 {
					t.Errorf("LSOA score %v", l.Score)
				}
			}
			sort.Float64s(scores)
			mean := s / float64(len(w.LSOAs))
			if mean < tc.imdMean[0] || mean > tc.imdMean[1] {
				t.Errorf("mean IMD %.2f", mean)
			}
			if med := scores[len(scores)/2]; med >= mean {
				t.Errorf("IMD not right-skewed: median %.2f, mean %.2f", med, mean)
			}
			// list sizes: log-normal, median ~8,000, 1,000-60,000
			lists := make([]float64, len(w.Practices))
			for i := range w.Practices {
				lists[i] = w.Practices[i].BaseList
				if lists[i] < 1000 || lists[i] > 60000 {
					t.Errorf("list %v", lists[i])
				}
			}
			sort.Float64s(lists)
			if med := lists[len(lists)/2]; med < tc.medianList[0] || med > tc.medianList[1] {
				t.Errorf("median list %.0f", med)
			}
		})
	}
}

func TestEnglandDetails(t *testing.T) {
	w, err := BuildWorld(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var closed, opened, moved, noPCN, outliers, specialist int
	var young, old []float64
	for i := range w.Practices {
		p := &w.Practices[i]
		if p.Close != 0 {
			closed++
		}
		if p.Open > w.Start {
			opened++
		}
		if p.PCNMove != 0 {
			moved++
		}
		if p.PCN < 0 {
			noPCN++
		}
		if p.Outlier != "" {
			outliers++
		}
		if p.Specialist {
			specialist++
		}
		// deprived practices are younger
		var u15, o65 float64
		for b := 0; b < nBands; b++ {
			s := p.AgeShare[b] + p.AgeShare[nBands+b]
			if b < 3 {
				u15 += s
			}
			if b >= 13 {
				o65 += s
			}
		}
		young = append(young, u15)
		old = append(old, o65)
	}
	imd := make([]float64, len(w.Practices))
	for i := range w.Practices {
		imd[i] = w.Practices[i].IMD
	}
	if r := corr(imd, young); r < 0.3 {
		t.Errorf("corr(IMD, share under 15) = %.2f", r)
	}
	if r := corr(imd, old); r > -0.3 {
		t.Errorf("corr(IMD, share 65+) = %.2f", r)
	}
	// five years: about 5% close, 2.5% open, 1% move PCN, 1% without a PCN, 0.5% outliers
	checks := []struct {
		name     string
		n        int
		min, max int
	}{
		{"closed", closed, 200, 450},
		{"opened", opened, 80, 260},
		{"moved PCN", moved, 30, 110},
		{"no PCN", noPCN, 30, 110},
		{"outliers", outliers, 30, 33},
		{"specialist", specialist, 0, 8},
	}
	for _, c := range checks {
		if c.n < c.min || c.n > c.max {
			t.Errorf("%s: %d, want %d..%d", c.name, c.n, c.min, c.max)
		}
	}
	var sum float64
	for _, p := range w.Practices {
		sum += p.IMD
	}
	if m := sum / float64(len(w.Practices)); math.Abs(m-englandIMDMean) > 3 {
		t.Errorf("mean practice IMD %.1f", m)
	}
}

func TestReferralSeasonsAndCovid(t *testing.T) {
	w, err := BuildWorld(Config{Out: "unused", Practices: 50, Months: 60, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	total := func(s string) float64 {
		m, err := parseMonth(s)
		if err != nil {
			t.Fatal(err)
		}
		var x float64
		for i := range w.Practices {
			x += w.referralExpected(&w.Practices[i], m)
		}
		return x
	}
	cases := []struct {
		a, b     string
		min, max float64 // bounds on a/b
	}{
		{"2020-04", "2019-04", 0.2, 0.45},  // first COVID-19 wave
		{"2021-04", "2019-04", 0.9, 1.1},   // recovered
		{"2023-09", "2023-03", 0.75, 0.92}, // seasonal low vs high
		{"2023-12", "2023-11", 0.8, 0.95},  // December dip
	}
	for _, c := range cases {
		if r := total(c.a) / total(c.b); r < c.min || r > c.max {
			t.Errorf("referrals %s / %s = %.2f, want %.2f..%.2f", c.a, c.b, r, c.min, c.max)
		}
	}
}
