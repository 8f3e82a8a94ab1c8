package publish

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// largeFixture: 7 regions, 42 ICBs, 126 sub-ICBs (175 packs) and 6,300
// practices, about England's size.
var largeFixture = fixture{regions: 7, icbsPerRegion: 6, subsPerICB: 3, practicesPerSub: 50, period: "2024-06"}

// BenchmarkPublishMonth publishes every area pack of one month.
func BenchmarkPublishMonth(b *testing.B) {
	dir := b.TempDir()
	db := openFixture(b, dir, largeFixture)
	ctx := context.Background()
	// splice: section rows written into the workbook's zip (the default);
	// setrow: through excelize's StreamWriter.SetRow, the same cells
	for _, mode := range []string{"splice", "setrow"} {
		b.Run(mode, func(b *testing.B) {
			old := spliceSections
			spliceSections = mode == "splice"
			defer func() { spliceSections = old }()
			b.ReportAllocs()
			var packs int
			start := time.Now()
			for b.Loop() {
				res, err := Publish(ctx, db, Options{Period: largeFixture.period, OutDir: filepath.Join(dir, "packs"), Version: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				packs += len(res.Packs)
			}
			if packs > 0 {
				b.ReportMetric(time.Since(start).Seconds()/float64(packs), "s/pack")
			}
		})
	}
}
