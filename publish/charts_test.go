package publish

import (
	"math"
	"strings"
	"testing"
)

func TestFunnelLimit(t *testing.T) {
	cases := []struct {
		name               string
		stat               string
		target, mult, n, z float64
		upper              bool
		want               float64
	}{
		// p = 0.8, n = 100: 0.8 -/+ 1.96 * 0.04
		{"proportion lower 95", "proportion", 80, 100, 100, z95, false, (0.8 - z95*0.04) * 100},
		{"proportion upper 95", "proportion", 80, 100, 100, z95, true, (0.8 + z95*0.04) * 100},
		{"proportion clamps at 1", "proportion", 99, 100, 10, z998, true, 100},
		{"proportion clamps at 0", "proportion", 1, 100, 10, z998, false, 0},
		// rate 20 per 1,000 on 5,000: expected 100; Byar's limits around 100
		{"rate lower 95", "rate", 20, 1000, 5000, z95, false, 100 * math.Pow(1-1/900.0-z95/30, 3) / 5000 * 1000},
		{"rate upper 95", "rate", 20, 1000, 5000, z95, true, 101 * math.Pow(1-1/(9*101.0)+z95/(3*math.Sqrt(101)), 3) / 5000 * 1000},
		{"rate lower never negative", "rate", 1, 1000, 100, z998, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := funnelLimit(c.stat, c.target, c.mult, c.n, c.z, c.upper)
			if math.Abs(got-c.want) > 1e-9 {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	// limits narrow as the denominator grows
	if funnelLimit("proportion", 80, 100, 1000, z95, true) >= funnelLimit("proportion", 80, 100, 100, z95, true) {
		t.Error("upper limit does not narrow with n")
	}
}

func TestNiceTicks(t *testing.T) {
	cases := []struct {
		lo, hi float64
		n      int
		want   []float64
	}{
		{0, 100, 5, []float64{0, 20, 40, 60, 80, 100}},
		{0.3, 0.9, 3, []float64{0.4, 0.6, 0.8}},
		{5, 5, 4, []float64{5}},
		{150, 150.00000001, 6, nil}, // must terminate
		{0, math.Inf(1), 5, []float64{0}},
	}
	for _, c := range cases {
		got := niceTicks(c.lo, c.hi, c.n)
		if c.want == nil {
			if len(got) > 4*c.n+1 {
				t.Errorf("niceTicks(%v, %v): %d ticks", c.lo, c.hi, len(got))
			}
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("niceTicks(%v, %v, %d) = %v, want %v", c.lo, c.hi, c.n, got, c.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-9 {
				t.Errorf("niceTicks(%v, %v, %d) = %v, want %v", c.lo, c.hi, c.n, got, c.want)
				break
			}
		}
	}
}

func TestFmtNum(t *testing.T) {
	cases := map[float64]string{5: "5", 1234567: "1,234,567", -2500: "-2,500", 81.046: "81.05", 171.53: "171.5", 0.7746: "0.775", 0: "0"}
	for v, want := range cases {
		if got := fmtNum(v); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestChartsAccessible(t *testing.T) {
	in := &indicator{ID: "x", Name: "Foot <checks>", Unit: "%", Statistic: "proportion", Multiplier: 100}
	rows := []*ivRow{
		{AreaCode: "A1", AreaName: `Dr "A" & B`, Value: num(70), Denominator: num(100), Lower95: num(60), Upper95: num(78), Funnel: "Low (0.025)", Comparison: "worse"},
		{AreaCode: "A2", AreaName: "C", Value: num(85), Denominator: num(400), Lower95: num(81), Upper95: num(88), Funnel: "Not significant", Comparison: "similar"},
		{AreaCode: "A3", AreaName: "D", Value: num(95), Denominator: num(300), Funnel: "High (0.001)", Comparison: "significantly better"},
	}
	f, ok := funnelChart("f", in, rows, 82, practiceNoun)
	if !ok {
		t.Fatal("no funnel chart")
	}
	c, ok := caterpillarChart("c", in, rows, 82, 84, "Area", practiceNoun)
	if !ok {
		t.Fatal("no caterpillar chart")
	}
	for name, svg := range map[string]string{"funnel": string(f), "caterpillar": string(c)} {
		for _, want := range []string{`role="img"`, `aria-labelledby=`, `<title id=`, `<desc id=`, "Foot &lt;checks&gt;", "Dr &#34;A&#34; &amp; B"} {
			if !strings.Contains(svg, want) {
				t.Errorf("%s chart lacks %q", name, want)
			}
		}
		if strings.Contains(svg, "<checks>") {
			t.Errorf("%s chart does not escape names", name)
		}
	}
	// shapes carry the meaning as well as colour
	if !strings.Contains(string(f), `class="sig-lo1" d=`) || !strings.Contains(string(f), `class="sig-hi2" d=`) || !strings.Contains(string(f), `<circle class="sig-no"`) {
		t.Error("funnel markers are not shaped by significance")
	}
	// too few points: no chart
	if _, ok := funnelChart("g", in, rows[:1], 82, practiceNoun); ok {
		t.Error("funnel drawn with one point")
	}
}

func TestVariationIcon(t *testing.T) {
	cases := []struct {
		icon        string
		above       bool
		cls, letter string
	}{
		{"common_cause", false, "spc-common", ""},
		{"special_cause_improvement", true, "spc-imp", "H"},
		{"improvement_low", true, "spc-imp", "L"},
		{"special_cause_concern", false, "spc-con", "L"},
		{"special_cause_neutral_high", false, "spc-neu", "H"},
	}
	for _, c := range cases {
		cls, letter, text := variationIcon(c.icon, c.above)
		if cls != c.cls || letter != c.letter || text == "" {
			t.Errorf("variationIcon(%q) = %q %q %q", c.icon, cls, letter, text)
		}
	}
}
