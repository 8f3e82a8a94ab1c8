package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// small runs are shared between tests: generating is deterministic.
var (
	smallOnce sync.Once
	smallDir  string
	smallSum  Summary
	smallErr  error
)

func smallConfig(out string) Config {
	return Config{Out: out, Practices: 300, Months: 6, Seed: 7, EndMonth: "2024-03", ReferralRows: 20000}
}

// smallRun generates the shared small data set once per test binary.
func smallRun(t *testing.T) (string, Summary) {
	t.Helper()
	smallOnce.Do(func() {
		dir, err := os.MkdirTemp("", "synth-small-")
		if err != nil {
			smallErr = err
			return
		}
		smallDir = dir
		smallSum, smallErr = Generate(context.Background(), smallConfig(dir))
	})
	if smallErr != nil {
		t.Fatalf("generate: %v", smallErr)
	}
	return smallDir, smallSum
}

func TestMain(m *testing.M) {
	code := m.Run()
	if smallDir != "" {
		_ = os.RemoveAll(smallDir)
	}
	os.Exit(code)
}

// readCSV reads a whole file, dropping a BOM; returns header and rows.
func readCSV(t *testing.T, path string, header bool) ([]string, [][]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if !header {
		return nil, recs
	}
	if len(recs) == 0 {
		t.Fatalf("%s: empty", path)
	}
	return recs[0], recs[1:]
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	s = strings.ReplaceAll(s, ",", "")
	if s == "" || s == "ND" {
		return math.NaN()
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return x
}

// corr is Pearson's correlation over pairs with both values finite.
func corr(x, y []float64) float64 {
	var n, sx, sy, sxx, syy, sxy float64
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) || math.IsInf(x[i], 0) || math.IsInf(y[i], 0) {
			continue
		}
		n++
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		syy += y[i] * y[i]
		sxy += x[i] * y[i]
	}
	cov := sxy/n - sx/n*sy/n
	return cov / math.Sqrt((sxx/n-sx/n*sx/n)*(syy/n-sy/n*sy/n))
}

// practiceIMD computes each practice's IMD score from the generated LSOA
// registrations and IoD scores, as the pipeline would (not from _truth).
func practiceIMD(t *testing.T, dir, month string) map[string]float64 {
	t.Helper()
	_, scores := readCSV(t, filepath.Join(dir, "deprivation/File_5_-_IoD2019_Scores.csv"), true)
	score := map[string]float64{}
	for _, r := range scores {
		score[r[0]] = num(t, r[4])
	}
	_, regs := readCSV(t, filepath.Join(dir, "registrations", month, "gp-reg-pat-prac-lsoa-all.csv"), true)
	ws, ns := map[string]float64{}, map[string]float64{}
	for _, r := range regs {
		s, ok := score[r[6]]
		if !ok {
			continue // NO2011
		}
		n := num(t, r[7])
		ws[r[3]] += s * n
		ns[r[3]] += n
	}
	out := map[string]float64{}
	for p, n := range ns {
		out[p] = ws[p] / n
	}
	return out
}
