package synth

import (
	"context"
	"testing"
)

// BenchmarkReferralRecords10M writes one month of 10 million record-level
// referrals (and their aggregate) for England-sized practices; b.SetBytes
// makes `go test -bench` report MB/s of CSV written.
func BenchmarkReferralRecords10M(b *testing.B) {
	const rows = 10_000_000
	cfg := DefaultConfig()
	cfg.Months = 1
	w, err := BuildWorld(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		cfg.Out = b.TempDir()
		g := &gen{ctx: context.Background(), cfg: cfg, w: w}
		if err := g.writeReferralMonth(w.End, rows); err != nil {
			b.Fatal(err)
		}
		var n int64
		for _, f := range g.sum.Files {
			n += f.Bytes
		}
		b.SetBytes(n)
		b.ReportMetric(float64(rows), "rows/op")
	}
}
