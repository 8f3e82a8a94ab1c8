package synth

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

type gen struct {
	ctx context.Context
	cfg Config
	w   *World
	sum Summary
}

// Generate writes the synthetic extracts under cfg.Out and returns what it wrote.
// Files are written to temporary names and renamed into place when complete.
func Generate(ctx context.Context, cfg Config) (Summary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	w, err := BuildWorld(cfg)
	if err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return Summary{}, fmt.Errorf("synth: create %s: %w", cfg.Out, err)
	}
	if err := removeStaleTemps(cfg.Out); err != nil {
		return Summary{}, err
	}
	g := &gen{ctx: ctx, cfg: cfg, w: w}
	for m := w.Start; m <= w.End; m++ {
		g.sum.Months = append(g.sum.Months, m.String())
	}
	for _, fy := range w.financialYears() {
		g.sum.FinancialYears = append(g.sum.FinancialYears, fyLabel(fy))
	}
	for i := range w.Practices {
		p := &w.Practices[i]
		if p.Open <= w.End && (p.Close == 0 || p.Close >= w.Start) {
			g.sum.Practices++
		}
		if p.Outlier != "" {
			g.sum.Outliers = append(g.sum.Outliers, Outlier{Practice: p.Code, Kind: p.Outlier, Factor: p.OutFactor})
		}
	}
	sort.Slice(g.sum.Outliers, func(a, b int) bool { return g.sum.Outliers[a].Practice < g.sum.Outliers[b].Practice })
	slog.Info("synth: generating", "out", cfg.Out, "practices", len(w.Practices), "months", cfg.Months,
		"end", cfg.EndMonth, "referral_rows", cfg.ReferralRows, "seed", cfg.Seed)

	steps := []func() error{g.writeODS, g.writeDeprivation}
	for _, fy := range w.financialYears() {
		steps = append(steps, func() error { return g.writeQOF(fy) }, func() error { return g.writePayments(fy) })
	}
	for m := w.Start; m <= w.End; m++ {
		steps = append(steps, func() error { return g.writeRegistrations(m) }, func() error { return g.writeWorkforce(m) })
	}
	steps = append(steps, g.writeReferrals)
	if !cfg.SkipTruth {
		steps = append(steps, g.writeTruth)
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return g.sum, fmt.Errorf("synth: %w", err)
		}
		if err := step(); err != nil {
			return g.sum, err
		}
	}
	slog.Info("synth: done", "files", len(g.sum.Files), "rows", g.sum.TotalRows(), "bytes", g.sum.TotalBytes())
	return g.sum, nil
}

// financialYears are the April starts of every financial year with a month in the window.
func (w *World) financialYears() []month {
	var out []month
	for fy := w.Start.fyStart(); fy <= w.End; fy += 12 {
		out = append(out, fy)
	}
	return out
}

// file writes one extract: header, then body's rows; on any error the temp file is removed.
func (g *gen) file(rel string, o fileOpts, header string, body func(f *csvFile) error) error {
	if err := g.ctx.Err(); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	f, err := createCSV(g.cfg.Out, rel, o)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if header != "" {
		f.header(header)
	}
	if err := body(f); err != nil {
		f.abort()
		return fmt.Errorf("synth: write %s: %w", rel, err)
	}
	info, err := f.close()
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	g.sum.Files = append(g.sum.Files, info)
	if g.cfg.Progress != nil {
		g.cfg.Progress(info.Path, info.Rows)
	}
	return nil
}

// every returns ctx.Err() every 1024 calls, so long loops stop promptly when cancelled.
type ticker struct {
	ctx context.Context
	n   int
}

func (t *ticker) tick() error {
	t.n++
	if t.n&1023 == 0 {
		return t.ctx.Err()
	}
	return nil
}

var (
	optsNHS   = fileOpts{crlf: true}            // registrations, workforce, epraccur
	optsBOM   = fileOpts{bom: true, crlf: true} // payments, IMD
	optsQOF   = fileOpts{}                      // QOF csv files are LF, no BOM
	optsPlain = fileOpts{}                      // gplens's own contracts (referrals, truth)
)

func upper(s string) string { return strings.ToUpper(s) }

// staleTemp matches the temporary names createCSV uses (".<name>.csv.<random>.tmp").
var staleTemp = regexp.MustCompile(`^\..+\.csv\.\d+\.tmp$`)

// removeStaleTemps deletes temporary files a killed earlier run left behind.
func removeStaleTemps(out string) error {
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && staleTemp.MatchString(d.Name()) {
			if err := os.Remove(path); err != nil {
				return err
			}
			slog.Info("synth: removed a temporary file left by an interrupted run", "file", path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("synth: clean temporary files in %s: %w", out, err)
	}
	return nil
}
