package ingest_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crypto/sha256"
	"encoding/hex"

	"github.com/gplens/gplens/ingest"
)

// copyTree copies a lake as it is on disk at one instant.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

func imageName(point string) string { return strings.NewReplacer("/", "_", " ", "_").Replace(point) }

// hidden lists the dot-folders and dot-files left anywhere in a lake.
func hidden(lake string) []string {
	var out []string
	filepath.Walk(lake, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), ".") && p != lake {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// A crash at any step of swapping partitions and recording them leaves a
// lake that the next process recovers to exactly the old state or exactly
// the new one, agreeing with the manifest. Each crash image is the lake
// copied at that step; a fresh process recovers it, as after a kill.
func TestCommitCrashAtEveryStep(t *testing.T) {
	cases := []struct {
		name       string
		first      string // ingested before (one period); "" for a new partition
		second     string // the load that "crashes"
		rejectsOld bool
	}{
		{"restated, rejects appear", prevalence(1000), prevalence(1000, "A9999X,DM,1,TOTAL,10"), false},
		{"restated, rejects go", prevalence(1000, "A9999X,DM,1,TOTAL,10"), prevalence(1001), true},
		{"new partition", "", prevalence(1000, "A9999X,DM,1,TOTAL,10"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			lake := filepath.Join(ws, "lake")
			os.MkdirAll(lake, 0o755)
			var oldSHA string
			if tc.first != "" {
				res, err := ingest.File(context.Background(), write(t, ws, "a/PREVALENCE_2223.csv", tc.first), ingest.Options{Lake: lake})
				if err != nil {
					t.Fatal(err)
				}
				oldSHA = res.SHA256
			}
			// The load runs in a subprocess that copies the lake at each
			// step; its pid is gone when the images are recovered, as after a kill.
			images := filepath.Join(ws, "images")
			os.MkdirAll(images, 0o755)
			second := write(t, ws, "b/PREVALENCE_2223.csv", tc.second)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "GPLENS_TEST_INGEST="+second, "GPLENS_TEST_LAKE="+lake, "GPLENS_TEST_IMAGES="+images)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ingest: %v\n%s", err, out)
			}
			raw, _ := os.ReadFile(filepath.Join(images, "points"))
			points := strings.Fields(strings.ReplaceAll(string(raw), " ", "_"))
			if len(points) < 5 {
				t.Fatalf("only %d crash points seen: %v", len(points), points)
			}
			res := struct{ SHA256 string }{fileSum(t, second)}
			for _, point := range points {
				img := filepath.Join(images, imageName(point))
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), "GPLENS_TEST_RECOVER="+img)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: recovery failed: %v\n%s", point, err, out)
				}
				rep, err := ingest.VerifyLake(img)
				if err != nil || len(rep.Problems) > 0 {
					t.Errorf("%s: lake and manifest disagree after recovery: %v %v", point, rep.Problems, err)
				}
				if h := hidden(img); len(h) > 0 {
					t.Errorf("%s: leftovers after recovery: %v", point, h)
				}
				m, _ := ingest.ReadManifest(img)
				latest := ingest.Latest(m)
				want := res.SHA256 // from the intent on, the change is finished
				if point == "before-intent" {
					want = oldSHA
				}
				switch {
				case want == "" && len(latest) != 0:
					t.Errorf("%s: rolled back a new partition but the manifest has %+v", point, latest)
				case want != "" && (len(latest) != 1 || latest[0].SHA256 != want):
					t.Errorf("%s: manifest names %+v, want the load %s", point, latest, want[:12])
				}
			}
		})
	}
}

// The bug this design removes: a partition holding a load the manifest does
// not name as current (an older gplens killed between swap and manifest).
// check --lake finds it, re-ingesting the named file is no longer a silent
// UNCHANGED, and repair re-points or re-ingests.
func TestVerifyAndRepairLake(t *testing.T) {
	ws := t.TempDir()
	lake := filepath.Join(ws, "lake")
	older := write(t, ws, "a/PREVALENCE_2223.csv", prevalence(100))
	newer := write(t, ws, "b/PREVALENCE_2223.csv", prevalence(120))
	ctx := context.Background()
	if _, err := ingest.File(ctx, older, ingest.Options{Lake: lake}); err != nil {
		t.Fatal(err)
	}
	before, _ := ingest.ReadManifest(lake)
	if _, err := ingest.File(ctx, newer, ingest.Options{Lake: lake}); err != nil {
		t.Fatal(err)
	}
	rep, err := ingest.VerifyLake(lake)
	if err != nil || len(rep.Problems) != 0 || rep.Partitions != 1 || rep.Files != 1 {
		t.Fatalf("healthy lake: %+v %v", rep, err)
	}
	// Damage 1: the manifest loses the newer row (the old crash).
	rewriteManifest(t, lake, before)
	rep, _ = ingest.VerifyLake(lake)
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].What, "the manifest names") {
		t.Fatalf("want one mismatch, got %+v", rep.Problems)
	}
	fixed, rep, err := ingest.RepairLake(ctx, lake, ingest.RepairOptions{Quarantine: filepath.Join(ws, "q")})
	if err != nil || len(rep.Problems) != 0 || len(fixed) != 1 {
		t.Fatalf("repair: fixed %v, left %+v, %v", fixed, rep.Problems, err)
	}
	// Damage 2: the partition's file is replaced by other bytes; the
	// extract is still where the manifest says, so repair re-ingests it.
	m, _ := ingest.ReadManifest(lake)
	cur := ingest.Latest(m)[0]
	part := filepath.Join(lake, "qof_prevalence", "period=2022-23", "part-"+cur.SHA256[:12]+".parquet")
	b, _ := os.ReadFile(part)
	b[len(b)/2] ^= 0xff
	os.WriteFile(part, b, 0o644)
	rep, _ = ingest.VerifyLake(lake)
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].What, "sha256") {
		t.Fatalf("want a sha256 mismatch, got %+v", rep.Problems)
	}
	fixed, rep, err = ingest.RepairLake(ctx, lake, ingest.RepairOptions{})
	if err != nil || len(rep.Problems) != 0 || len(fixed) != 1 || !strings.Contains(fixed[0], "re-ingested") {
		t.Fatalf("repair: fixed %v, left %+v, %v", fixed, rep.Problems, err)
	}
	// Damage 3: a partition nobody recorded; repair moves it to quarantine.
	stray := filepath.Join(lake, "qof_prevalence", "period=2021-22")
	os.MkdirAll(stray, 0o755)
	os.WriteFile(filepath.Join(stray, "part-x.parquet"), []byte("stray"), 0o644)
	rep, _ = ingest.VerifyLake(lake)
	if len(rep.Problems) != 1 || rep.Problems[0].What != "not in the manifest" {
		t.Fatalf("want a stray partition, got %+v", rep.Problems)
	}
	fixed, rep, err = ingest.RepairLake(ctx, lake, ingest.RepairOptions{Quarantine: filepath.Join(ws, "q"), Now: func() time.Time { return time.Unix(0, 0) }})
	if err != nil || len(rep.Problems) != 0 || len(fixed) != 1 {
		t.Fatalf("repair: fixed %v, left %+v, %v", fixed, rep.Problems, err)
	}
	if q, _ := filepath.Glob(filepath.Join(ws, "q", "lake-*", "part-x.parquet")); len(q) != 1 {
		t.Errorf("stray partition not kept in quarantine: %v", q)
	}
	// Damage 4: the manifest names a file that is gone and the partition
	// lost its data: reported, not repairable, the file named.
	os.RemoveAll(filepath.Join(lake, "qof_prevalence", "period=2022-23"))
	os.Remove(newer)
	os.Remove(older)
	_, rep, err = ingest.RepairLake(ctx, lake, ingest.RepairOptions{})
	if err != nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].String(), "missing") || rep.Problems[0].File == "" {
		t.Fatalf("unrepairable: %+v %v", rep.Problems, err)
	}
}

func rewriteManifest(t *testing.T, lake string, rows []ingest.Entry) {
	t.Helper()
	if err := ingest.WriteManifest(lake, rows); err != nil {
		t.Fatal(err)
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
