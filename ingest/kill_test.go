package ingest_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gplens/gplens/ingest"
)

// TestMain lets the kill test re-run this binary as an ingest subprocess.
func TestMain(m *testing.M) {
	if lake := os.Getenv("GPLENS_TEST_RECOVER"); lake != "" {
		// Recovery as the next process after a crash would run it.
		if err := ingest.Recover(lake); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if dir := os.Getenv("GPLENS_TEST_IMAGES"); dir != "" {
		// Copy the lake at every commit step: the images a kill would leave.
		ingest.SetCrashHook(func(point string) {
			if err := copyTree(os.Getenv("GPLENS_TEST_LAKE"), filepath.Join(dir, imageName(point))); err != nil {
				panic(err)
			}
			f, _ := os.OpenFile(filepath.Join(dir, "points"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			fmt.Fprintln(f, point)
			f.Close()
		})
	}
	if f := os.Getenv("GPLENS_TEST_INGEST"); f != "" {
		_, err := ingest.File(context.Background(), f, ingest.Options{Lake: os.Getenv("GPLENS_TEST_LAKE")})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func bigPrevalence(t *testing.T, path string, rows, offset int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(prevHeader)
	groups := []string{"AF", "AST", "CAN", "CHD", "CKD", "COPD", "DEM", "DEP", "DM", "EP", "HF", "HYP", "LD", "MH", "OB", "OST", "PAD", "PC", "RA", "SMOK", "STIA"}
	for i := 0; i < rows; i++ {
		fmt.Fprintf(w, "A%05d,%s%d,%d.0,TOTAL,%d\n", i/len(groups)%100000, groups[i%len(groups)], i/(len(groups)*100000), offset+i%500, 9000)
	}
	w.Flush()
	f.Close()
}

// A subprocess killed (SIGKILL) during ingest leaves no partial partition:
// the previous partition stays whole, and a re-run completes.
func TestKillDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large file")
	}
	ws := t.TempDir()
	lake := filepath.Join(ws, "lake")
	old := filepath.Join(ws, "old", "PREVALENCE_2223.csv")
	os.MkdirAll(filepath.Dir(old), 0o755)
	bigPrevalence(t, old, 1000, 0)
	if _, err := ingest.File(context.Background(), old, ingest.Options{Lake: lake}); err != nil {
		t.Fatal(err)
	}
	partDir := filepath.Join(lake, "qof_prevalence", "period=2022-23")
	oldParts, _ := filepath.Glob(filepath.Join(partDir, "*.parquet"))

	restated := filepath.Join(ws, "new", "PREVALENCE_2223.csv")
	os.MkdirAll(filepath.Dir(restated), 0o755)
	bigPrevalence(t, restated, 1_000_000, 7)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GPLENS_TEST_INGEST="+restated, "GPLENS_TEST_LAKE="+lake)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until it is writing its temporary partition, then kill it.
	deadline := time.Now().Add(60 * time.Second)
	for {
		tmps, _ := filepath.Glob(filepath.Join(lake, "qof_prevalence", ".tmp-*", "part-*.parquet"))
		if len(tmps) > 0 {
			if st, err := os.Stat(tmps[0]); err == nil && st.Size() > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("subprocess never started writing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	parts, _ := filepath.Glob(filepath.Join(partDir, "*.parquet"))
	if len(parts) != 1 || parts[0] != oldParts[0] {
		t.Fatalf("after kill the partition holds %v, want the old %v", parts, oldParts)
	}
	m, _ := ingest.ReadManifest(lake)
	if len(m) != 1 {
		t.Fatalf("manifest after kill: %d rows", len(m))
	}
	res, err := ingest.File(context.Background(), restated, ingest.Options{Lake: lake})
	if err != nil || res.Status != "restated" || res.RowsWritten != 1_000_000 {
		t.Fatalf("re-run: %+v %v", res, err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(lake, "qof_prevalence", ".*")); len(tmps) != 0 {
		t.Errorf("leftovers after re-run: %v", tmps)
	}
}
