package ingest_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/synth"
)

// benchFiles returns one file of each kind the ingest benchmark measures: a
// QOF achievement year, a month of registrations by LSOA and record-level
// referrals. GPLENS_BENCH_DIR points at England-scale extracts made by
// scripts/bench-england.sh; without it a smaller set is generated.
func benchFiles(b *testing.B) map[string]string {
	dir := os.Getenv("GPLENS_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
		cfg := synth.DefaultConfig()
		cfg.Out, cfg.Practices, cfg.Months, cfg.EndMonth, cfg.ReferralRows, cfg.SkipTruth = dir, 1000, 1, "2024-01", 1_000_000, true
		if _, err := synth.Generate(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
	out := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		n := info.Name()
		switch {
		case strings.HasPrefix(n, "ACHIEVEMENT_"):
			out["qof_achievement"] = p
		case strings.HasPrefix(n, "gp-reg-pat-prac-lsoa"):
			out["registrations_lsoa"] = p
		case strings.HasPrefix(n, "referrals_records_"):
			out["referral_records"] = p
		}
		return nil
	})
	if len(out) != 3 {
		b.Fatalf("bench files missing in %s: %v", dir, out)
	}
	return out
}

// BenchmarkIngestVsDuckDB ingests each file (validating every row) and, in
// the same run, has DuckDB do read_csv -> COPY ... (FORMAT parquet) on it,
// the two taking turns; it reports MB/s, rows/s and gplens/DuckDB
// throughput as a ratio of the means (ratio_vs_duckdb), of each side's
// fastest run (ratio_best) and of the CPU time each side spent (ratio_cpu,
// the least moved by whatever else the machine runs). Take -benchtime 5x or
// more: on a shared machine one run says little.
func BenchmarkIngestVsDuckDB(b *testing.B) {
	files := benchFiles(b)
	db, err := duck.Open(context.Background(), "", duck.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, kind := range []string{"qof_achievement", "registrations_lsoa", "referral_records"} {
		f := files[kind]
		st, _ := os.Stat(f)
		mb := float64(st.Size()) / 1e6
		b.Run(kind, func(b *testing.B) {
			var gp, dd, gpBest, ddBest, gpCPU, ddCPU time.Duration
			var rows int64
			for i := 0; i < b.N; i++ {
				lake := b.TempDir()
				// Each side starts with no garbage of the other's to
				// collect: DuckDB's COPY otherwise shares the cores with
				// the collector finishing ingest's heap.
				runtime.GC()
				start, cpu := time.Now(), cpuTime()
				res, err := ingest.File(context.Background(), f, ingest.Options{Lake: lake})
				if err != nil {
					b.Fatal(err)
				}
				t := time.Since(start)
				gpCPU += cpuTime() - cpu
				gp += t
				if gpBest == 0 || t < gpBest {
					gpBest = t
				}
				rows = res.RowsRead
				runtime.GC()
				start, cpu = time.Now(), cpuTime()
				if err := duckCopy(db, f, filepath.Join(lake, "duck.parquet")); err != nil {
					b.Fatal(err)
				}
				t = time.Since(start)
				ddCPU += cpuTime() - cpu
				dd += t
				if ddBest == 0 || t < ddBest {
					ddBest = t
				}
			}
			n := float64(b.N)
			b.ReportMetric(mb/(gp.Seconds()/n), "MB/s")
			b.ReportMetric(float64(rows)/(gp.Seconds()/n), "rows/s")
			b.ReportMetric(mb/(dd.Seconds()/n), "duckdb_MB/s")
			b.ReportMetric(dd.Seconds()/gp.Seconds(), "ratio_vs_duckdb")
			b.ReportMetric(ddBest.Seconds()/gpBest.Seconds(), "ratio_best")
			b.ReportMetric(ddCPU.Seconds()/gpCPU.Seconds(), "ratio_cpu")
			fmt.Fprintf(os.Stderr, "%s: %.0f MB, %d rows: gplens %.1f MB/s (%.0f rows/s), duckdb %.1f MB/s, ratio %.2f (mean of %d; best runs %.1f and %.1f MB/s, ratio %.2f; CPU %.2f and %.2f s a run, ratio %.2f)\n",
				kind, mb, rows, mb/(gp.Seconds()/n), float64(rows)/(gp.Seconds()/n), mb/(dd.Seconds()/n), dd.Seconds()/gp.Seconds(),
				b.N, mb/gpBest.Seconds(), mb/ddBest.Seconds(), ddBest.Seconds()/gpBest.Seconds(), gpCPU.Seconds()/n, ddCPU.Seconds()/n, ddCPU.Seconds()/gpCPU.Seconds())
		})
	}
}

// cpuTime is the process's CPU time so far (user and system, all threads):
// the two sides take turns, so its differences are each side's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func duckCopy(db *sql.DB, in, out string) error {
	_, err := db.Exec(fmt.Sprintf("COPY (SELECT * FROM read_csv('%s', header=true)) TO '%s' (FORMAT parquet, COMPRESSION zstd)", in, out))
	return err
}
