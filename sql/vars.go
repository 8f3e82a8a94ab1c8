package sqlmodels

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gplens/gplens/data"
)

// Vars returns the variables the models read with getvariable(), from the
// workspace's reference files (data/peer_weights.csv and
// data/investment_settings.csv, or the embedded ones): peer_weights
// ("name=w;..."), peer_k, need_gradient, need_gradient_low and
// need_gradient_high. workspace may be "" for the embedded files only.
func Vars(workspace string) (map[string]string, error) {
	out := map[string]string{}
	pw, err := data.ReadCSV(workspace, "peer_weights.csv")
	if err != nil {
		return nil, err
	}
	var spec []string
	seen := map[string]bool{}
	for i, r := range pw.Rows {
		name, w := r["variable"], r["weight"]
		f, err := strconv.ParseFloat(w, 64)
		if name == "" || strings.ContainsAny(name, "=;") || err != nil || !(f >= 0) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("reference file peer_weights.csv line %d: want a variable and a non-negative weight, got %q, %q", pw.Lines[i], name, w)
		}
		if seen[name] {
			return nil, fmt.Errorf("reference file peer_weights.csv line %d: %s given twice", pw.Lines[i], name)
		}
		seen[name] = true
		spec = append(spec, name+"="+strconv.FormatFloat(f, 'g', -1, 64))
	}
	out["peer_weights"] = strings.Join(spec, ";")

	st, err := data.ReadCSV(workspace, "investment_settings.csv")
	if err != nil {
		return nil, err
	}
	num := map[string]float64{}
	for i, r := range st.Rows {
		name, v := r["setting"], r["value"]
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("reference file investment_settings.csv line %d: %s = %q is not a number", st.Lines[i], name, v)
		}
		switch name {
		case "peer_k":
			if f != math.Trunc(f) || f < 1 || f > 100 {
				return nil, fmt.Errorf("reference file investment_settings.csv line %d: peer_k = %s, want a whole number from 1 to 100", st.Lines[i], v)
			}
		case "need_gradient", "need_gradient_low", "need_gradient_high":
			if f < 0 || f > 10 {
				return nil, fmt.Errorf("reference file investment_settings.csv line %d: %s = %s, want 0 to 10", st.Lines[i], name, v)
			}
		default:
			return nil, fmt.Errorf("reference file investment_settings.csv line %d: unknown setting %q", st.Lines[i], name)
		}
		if _, dup := num[name]; dup {
			return nil, fmt.Errorf("reference file investment_settings.csv line %d: %s given twice", st.Lines[i], name)
		}
		num[name] = f
		out[name] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	for _, k := range []string{"peer_k", "need_gradient", "need_gradient_low", "need_gradient_high"} {
		if _, ok := num[k]; !ok {
			return nil, fmt.Errorf("reference file investment_settings.csv: no %s", k)
		}
	}
	if !(num["need_gradient_low"] <= num["need_gradient"] && num["need_gradient"] <= num["need_gradient_high"]) {
		return nil, fmt.Errorf("reference file investment_settings.csv: want need_gradient_low <= need_gradient <= need_gradient_high")
	}
	return out, nil
}
