package metrics

import (
	"fmt"
	"math"
	"strings"
)

// Polarity says which direction of an indicator is good.
type Polarity int

// Polarities. NoJudgement is the zero value, so an indicator without a
// declared polarity reads as higher/lower, never better/worse.
const (
	NoJudgement Polarity = iota
	HigherIsBetter
	LowerIsBetter
)

// ParsePolarity accepts "higher_is_better", "lower_is_better",
// "no_judgement" (also "", "neutral", "high", "low", "increase", "decrease").
func ParsePolarity(s string) (Polarity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "higher_is_better", "high", "increase", "higher":
		return HigherIsBetter, nil
	case "lower_is_better", "low", "decrease", "lower":
		return LowerIsBetter, nil
	case "", "no_judgement", "no_judgment", "neutral", "none":
		return NoJudgement, nil
	}
	return 0, invalid("polarity %q: want higher_is_better, lower_is_better or no_judgement", s)
}

// String returns the canonical name.
func (p Polarity) String() string {
	switch p {
	case HigherIsBetter:
		return "higher_is_better"
	case LowerIsBetter:
		return "lower_is_better"
	}
	return "no_judgement"
}

// Comparison labels. With a polarity the result reads better/worse; without
// one, higher/lower. "significantly" means outside the 99.8% interval too.
const (
	LabelSimilar             = "similar"
	LabelHigher              = "higher"
	LabelLower               = "lower"
	LabelSignificantlyHigher = "significantly higher"
	LabelSignificantlyLower  = "significantly lower"
	LabelBetter              = "better"
	LabelWorse               = "worse"
	LabelSignificantlyBetter = "significantly better"
	LabelSignificantlyWorse  = "significantly worse"
	LabelNotCompared         = "not compared"
)

// CompareLabel compares a benchmark with a practice's 95% and 99.8%
// intervals: the benchmark inside the 95% interval is similar; the practice
// is higher when its 95% interval lies above the benchmark (significantly
// higher when its 99.8% interval does too), and lower likewise. Polarity turns
// higher/lower into better/worse. A missing 95% limit on the side that
// matters, or a missing benchmark, gives "not compared" (a missing lower
// limit, as Byar's gives for tiny counts, reads as 0); a missing 99.8%
// limit never upgrades to "significantly".
func CompareLabel(benchmark, lower95, upper95, lower998, upper998 float64, p Polarity) string {
	if math.IsNaN(benchmark) {
		return LabelNotCompared
	}
	dir, sig := 0, false
	switch {
	case !math.IsNaN(lower95) && lower95 > benchmark:
		dir, sig = 1, !math.IsNaN(lower998) && lower998 > benchmark
	case !math.IsNaN(upper95) && upper95 < benchmark:
		dir, sig = -1, !math.IsNaN(upper998) && upper998 < benchmark
	case math.IsNaN(upper95):
		return LabelNotCompared
	}
	if dir == 0 {
		return LabelSimilar
	}
	word := LabelHigher
	if dir < 0 {
		word = LabelLower
	}
	switch {
	case p == HigherIsBetter && dir == 1, p == LowerIsBetter && dir == -1:
		word = LabelBetter
	case p == HigherIsBetter && dir == -1, p == LowerIsBetter && dir == 1:
		word = LabelWorse
	}
	if sig {
		return "significantly " + word
	}
	return word
}

// CompareProportion labels x/n against a benchmark proportion (0–1) using
// Wilson intervals at 95% and 99.8%.
func CompareProportion(x, n, benchmark float64, p Polarity) (string, error) {
	l95, u95, err := Wilson(x, n, 0.95)
	if err != nil {
		return "", fmt.Errorf("compare proportion: %w", err)
	}
	l998, u998, _ := Wilson(x, n, 0.998)
	return CompareLabel(benchmark, l95, u95, l998, u998, p), nil
}

// CompareRate labels x/n × multiplier against a benchmark on the same scale,
// using PHE's rate intervals (exact below 10 events, Byar's otherwise).
func CompareRate(x, n, multiplier, benchmark float64, p Polarity) (string, error) {
	r95, err := Rate(x, n, multiplier, 0.95)
	if err != nil {
		return "", fmt.Errorf("compare rate: %w", err)
	}
	r998, _ := Rate(x, n, multiplier, 0.998)
	return CompareLabel(benchmark, r95.Lower, r95.Upper, r998.Lower, r998.Upper, p), nil
}
