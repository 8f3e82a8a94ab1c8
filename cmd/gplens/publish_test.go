package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// gplens publish copies the snapshot while it renders the packs, and is
// all or nothing: a failed snapshot copy leaves no packs, failed packs
// leave the snapshot readers use as it was, and neither leaves a
// half-written file behind.
func TestPublishAllOrNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a small warehouse")
	}
	ws := filepath.Join(t.TempDir(), "ws")
	if code, out, errs := gplens(t, "--workspace", ws, "demo", "--practices", "40", "--months", "3"); code != 0 {
		t.Fatalf("demo = %d\n%s\n%s", code, out, errs)
	}
	packs, published := filepath.Join(ws, "packs"), filepath.Join(ws, "published")
	leftovers := func() []string {
		var out []string
		for _, g := range []string{"packs/.*", "published/.warehouse-*", "published/.CURRENT-*"} {
			m, _ := filepath.Glob(filepath.Join(ws, g))
			out = append(out, m...)
		}
		return out
	}
	snapshots := func() []string {
		m, _ := filepath.Glob(filepath.Join(published, "warehouse-*.duckdb"))
		slices.Sort(m)
		return m
	}
	current := func() string {
		b, err := os.ReadFile(filepath.Join(published, "CURRENT"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// The snapshot cannot be written (its folder is a file): no packs.
	if err := os.RemoveAll(packs); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(published, published+".aside"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(published, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := gplens(t, "--workspace", ws, "publish", "--period", "2024-03")
	if code == 0 || !strings.Contains(errs, "snapshot for sql/serve") {
		t.Errorf("publish with the snapshot failing = %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(packs, "2024-03")); err == nil {
		t.Error("packs published although the snapshot failed")
	}
	if l := leftovers(); len(l) > 0 {
		t.Errorf("snapshot failure left %v", l)
	}
	os.Remove(published)
	if err := os.Rename(published+".aside", published); err != nil {
		t.Fatal(err)
	}

	// The packs fail (an unknown area): the snapshot is not published.
	snaps, cur := snapshots(), current()
	code, out, errs = gplens(t, "--workspace", ws, "publish", "--period", "2024-03", "--area", "NOPE")
	if code == 0 || !strings.Contains(errs, "no area NOPE") {
		t.Errorf("publish --area NOPE = %d\n%s\n%s", code, out, errs)
	}
	if got := snapshots(); !slices.Equal(got, snaps) || current() != cur {
		t.Errorf("failed packs changed the snapshots: %v (CURRENT %q), was %v (%q)", got, current(), snaps, cur)
	}
	if l := leftovers(); len(l) > 0 {
		t.Errorf("packs failure left %v", l)
	}

	// [publish] memory_limit reaches DuckDB: a value it refuses stops
	// publish before anything is written, naming the setting.
	toml := filepath.Join(ws, "gplens.toml")
	conf, err := os.ReadFile(toml)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conf), `memory_limit = "1GB"`) {
		t.Fatalf("gplens.toml has no [publish] memory_limit of 1GB:\n%s", conf)
	}
	if err := os.WriteFile(toml, []byte(strings.Replace(string(conf), `memory_limit = "1GB"`, `memory_limit = "lots"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = gplens(t, "--workspace", ws, "publish", "--period", "2024-03")
	if code == 0 || !strings.Contains(errs, `[publish] memory_limit "lots"`) {
		t.Errorf("publish with memory_limit lots = %d\n%s\n%s", code, out, errs)
	}
	if got := snapshots(); !slices.Equal(got, snaps) || current() != cur {
		t.Errorf("a refused memory_limit changed the snapshots: %v, was %v", got, snaps)
	}
	// [publish.list_down_to] reaches publish too: a level above the pack's
	// own is refused, naming the setting.
	if !strings.Contains(string(conf), `icb = "practice"`) {
		t.Fatalf("gplens.toml has no [publish.list_down_to] icb:\n%s", conf)
	}
	if err := os.WriteFile(toml, []byte(strings.Replace(string(conf), `icb = "practice"`, `icb = "region"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = gplens(t, "--workspace", ws, "publish", "--period", "2024-03")
	if code == 0 || !strings.Contains(errs, "list_down_to") {
		t.Errorf("publish with list_down_to icb = region: %d\n%s\n%s", code, out, errs)
	}
	if err := os.WriteFile(toml, conf, 0o644); err != nil {
		t.Fatal(err)
	}

	// Both succeed: packs and a new current snapshot, nothing left over.
	code, out, errs = gplens(t, "--workspace", ws, "publish", "--period", "2024-03")
	if code != 0 || !strings.Contains(out, "snapshot for sql/serve") {
		t.Fatalf("publish = %d\n%s\n%s", code, out, errs)
	}
	ms, _ := filepath.Glob(filepath.Join(packs, "2024-03", "*", "manifest.json"))
	if len(ms) == 0 {
		t.Error("no packs")
	}
	// as configured by default: region packs list no practices, the others do
	for _, m := range ms {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		region := strings.Contains(string(b), `"level": "region"`)
		_, err = os.Stat(filepath.Join(filepath.Dir(m), "feeds", "practices.csv"))
		if region == (err == nil) {
			t.Errorf("%s: region pack %v, practices feed present %v", filepath.Dir(m), region, err == nil)
		}
	}
	if current() == cur {
		t.Error("CURRENT did not move to the new snapshot")
	}
	if l := leftovers(); len(l) > 0 {
		t.Errorf("publish left %v", l)
	}
}

// publish raises the collector's target and sets the heap's soft limit
// while it runs, unless GOGC or GOMEMLIMIT is set, and puts the previous
// ones back.
func TestPublishGC(t *testing.T) {
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOMEMLIMIT")
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	beforeLim := debug.SetMemoryLimit(3 << 30)
	defer debug.SetMemoryLimit(beforeLim)
	restore := publishGC("1GB")
	if got := debug.SetGCPercent(publishGCPercent); got != publishGCPercent {
		t.Errorf("during publish: GC percent %d, want %d", got, publishGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != 512<<20 {
		t.Errorf("during publish at 1GB: heap limit %d, want %d", got, 512<<20)
	}
	restore()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("after publish: GC percent %d, want 150 back", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 3<<30 {
		t.Errorf("after publish: heap limit %d, want %d back", got, 3<<30)
	}
	restore = publishGC("4GB")
	if got := debug.SetMemoryLimit(-1); got != 2e9 {
		t.Errorf("during publish at 4GB: heap limit %d, want half of it", got)
	}
	restore()
	restore = publishGC("")
	if got := debug.SetMemoryLimit(-1); got != 3<<30 {
		t.Errorf("without a memory_limit: heap limit %d, want it left alone", got)
	}
	restore()
	t.Setenv("GOGC", "50")
	t.Setenv("GOMEMLIMIT", "1GiB")
	restore = publishGC("1GB")
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("with GOGC set: GC percent %d, want it left alone (150)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 3<<30 {
		t.Errorf("with GOMEMLIMIT set: heap limit %d, want it left alone", got)
	}
	restore()
}

// TestCopierMemory: the snapshot copier takes a quarter of [publish]
// memory_limit, at least 128 MB and never more than the limit.
func TestCopierMemory(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1GB", "250MB"},
		{"4GiB", "1073MB"},
		{"2.5GB", "625MB"},
		{"256MB", "128MB"},
		{"100MB", "100MB"},
		{"", ""},
		{"lots", "lots"},
	} {
		if got := copierMemory(c.in); got != c.want {
			t.Errorf("copierMemory(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
