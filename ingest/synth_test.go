package ingest_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/synth"
)

// The generator's extracts, in the real formats, ingest with no rejects and
// every source of the contract is recognised.
func TestSyntheticIngest(t *testing.T) {
	out := t.TempDir()
	cfg := synth.DefaultConfig()
	cfg.Out, cfg.Practices, cfg.Months, cfg.ReferralRows, cfg.EndMonth = out, 80, 4, 5000, "2024-04"
	sum, err := synth.Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	lake := filepath.Join(t.TempDir(), "lake")
	seen := map[string]int64{}
	for _, f := range sum.Files {
		if strings.HasPrefix(f.Path, "_truth/") {
			continue
		}
		res, err := ingest.File(context.Background(), filepath.Join(out, f.Path), ingest.Options{Lake: lake})
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if res.RowsRejected != 0 || res.RowsRead != f.Rows {
			t.Errorf("%s: read %d of %d rows, %d rejected: %v", f.Path, res.RowsRead, f.Rows, res.RowsRejected, res.Rejects)
		}
		seen[res.Source]++
	}
	for _, s := range []string{"qof_achievement", "qof_prevalence", "qof_indicators", "qof_geography", "payments", "workforce",
		"registrations", "registrations_age", "registrations_lsoa", "practice_map", "ods_practices", "imd_ranks", "imd_scores",
		"referrals", "referral_records"} {
		if seen[s] == 0 {
			t.Errorf("no synthetic file for source %s", s)
		}
	}
}
