package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/publish"
)

// TestMain lets the crash-torture test run this binary as `gplens ARGS...`
// in a subprocess it can kill.
func TestMain(m *testing.M) {
	if raw := os.Getenv("GPLENS_TORTURE_ARGS"); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// torture drives gplens subprocesses in one workspace.
type torture struct {
	t  *testing.T
	ws string
}

func (tt *torture) command(args ...string) *exec.Cmd {
	raw, _ := json.Marshal(append([]string{"--workspace", tt.ws}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GPLENS_TORTURE_ARGS="+string(raw))
	return cmd
}

// run runs gplens to completion and fails the test unless it exits 0.
func (tt *torture) run(what string, args ...string) (string, time.Duration) {
	tt.t.Helper()
	start := time.Now()
	out, err := tt.command(args...).CombinedOutput()
	if err != nil {
		tt.t.Fatalf("%s: gplens %v: %v\n%s", what, args, err, out)
	}
	return string(out), time.Since(start)
}

// kill starts gplens and SIGKILLs it after d; it reports whether the kill
// came before the command finished.
func (tt *torture) kill(d time.Duration, args ...string) bool {
	tt.t.Helper()
	cmd := tt.command(args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tt.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			tt.t.Fatalf("gplens %v failed before the kill: %v\n%s", args, err, out.String())
		}
		return false
	case <-time.After(d):
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err := <-done
	ws, ok := err.(*exec.ExitError)
	return ok && ws.Sys().(syscall.WaitStatus).Signaled()
}

// leftovers lists what a killed command may leave: hidden files in the lake,
// half-built warehouses, half-copied snapshots, pack staging folders.
func (tt *torture) leftovers() []string {
	var out []string
	filepath.Walk(filepath.Join(tt.ws, "lake"), func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), ".") {
			out = append(out, p)
		}
		return nil
	})
	for _, g := range []string{"warehouse.duckdb.building-*", "published/.warehouse-*", "packs/.*", "lake/" + ingest.IntentFile} {
		m, _ := filepath.Glob(filepath.Join(tt.ws, g))
		out = append(out, m...)
	}
	return out
}

// packs verifies every pack of period against its manifest.json (each
// file's sha256 and size) and returns "area/path sha256" lines, sorted.
func (tt *torture) packs(period string) []string {
	tt.t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(tt.ws, "packs", period, "*", "manifest.json"))
	if len(dirs) == 0 {
		tt.t.Fatalf("no packs for %s", period)
	}
	var out []string
	for _, mf := range dirs {
		raw, err := os.ReadFile(mf)
		if err != nil {
			tt.t.Fatal(err)
		}
		var m publish.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			tt.t.Fatalf("%s: %v", mf, err)
		}
		for _, f := range m.Files {
			b, err := os.ReadFile(filepath.Join(filepath.Dir(mf), filepath.FromSlash(f.Path)))
			h := sha256.Sum256(b)
			if err != nil || hex.EncodeToString(h[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
				tt.t.Fatalf("pack %s: %s does not match its manifest (%v)", m.Area, f.Path, err)
			}
			out = append(out, m.Area+"/"+f.Path+" "+f.SHA256)
		}
	}
	slices.Sort(out)
	return out
}

// The crash-torture test: ingest, transform and publish are each killed
// (SIGKILL) at seeded random moments, and each kill is followed by a
// verifying re-run: the lake agrees with its manifest (`check --lake`), the
// warehouse opens with the same content, the packs verify against their
// manifests and come out byte-identical, and no leftover survives the next
// successful run. GPLENS_TORTURE_SEED and GPLENS_TORTURE_KILLS (per command,
// default 10) reproduce or widen a run; GPLENS_TORTURE_BUDGET (default 60s
// of kills per command, at least 2 kills) bounds it on a loaded machine.
func TestCrashTorture(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and re-runs gplens dozens of times")
	}
	seed, kills := int64(13), 10
	if s, err := strconv.ParseInt(os.Getenv("GPLENS_TORTURE_SEED"), 10, 64); err == nil {
		seed = s
	}
	if k, err := strconv.Atoi(os.Getenv("GPLENS_TORTURE_KILLS")); err == nil {
		kills = k
	}
	// Each command's kills stop early (after at least 2) once its share of
	// the budget is spent, so a loaded machine cannot stretch `make test`.
	budget := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("GPLENS_TORTURE_BUDGET")); err == nil {
		budget = d
	}
	spent := func(phase time.Time, i int) bool {
		if i >= 2 && time.Since(phase) > budget {
			t.Logf("budget of %s per command spent after %d kills", budget, i)
			return true
		}
		return false
	}
	rng := rand.New(rand.NewSource(seed))
	tt := &torture{t: t, ws: filepath.Join(t.TempDir(), "ws")}
	const period = "2024-03"
	setupStart := time.Now()
	// The demo's workspace without its publish of every level: generate,
	// ingest, build.
	tt.run("init", "init", tt.ws)
	tt.run("generate", "generate", "--out", filepath.Join(tt.ws, "extracts"), "--practices", "8", "--months", "1")
	var all []string
	filepath.Walk(filepath.Join(tt.ws, "extracts"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !strings.Contains(p, "_truth") {
			all = append(all, p)
		}
		return nil
	})
	tt.run("ingest", append([]string{"ingest"}, all...)...)
	tt.run("transform", "transform")
	t.Logf("setup took %s", time.Since(setupStart).Round(time.Millisecond))
	wh := filepath.Join(tt.ws, "warehouse.duckdb")
	practices := func() string {
		t.Helper()
		// In this process: the warehouse must open, read-only, as any reader would.
		db, err := duck.Open(context.Background(), wh, duck.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("the warehouse does not open: %v", err)
		}
		defer db.Close()
		var n, icbs int
		if err := db.QueryRow("SELECT count(*), count(DISTINCT icb_code) FROM core.practices").Scan(&n, &icbs); err != nil {
			t.Fatalf("the warehouse does not read: %v", err)
		}
		return fmt.Sprintf("%d practices in %d ICBs", n, icbs)
	}
	wantPractices := practices()
	t.Logf("seed %d, %d kills per command; core.practices: %s", seed, kills, wantPractices)

	var extracts []string
	filepath.Walk(filepath.Join(tt.ws, "extracts"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".csv") && !strings.Contains(p, "_truth") {
			extracts = append(extracts, p)
		}
		return nil
	})
	if len(extracts) == 0 {
		t.Fatal("no extracts")
	}

	type tally struct{ killed, finished int }
	outcomes := map[string]*tally{}
	note := func(step string, killed bool) {
		if outcomes[step] == nil {
			outcomes[step] = &tally{}
		}
		if killed {
			outcomes[step].killed++
		} else {
			outcomes[step].finished++
		}
	}
	verifyLake := func(when string) {
		t.Helper()
		if out, err := tt.command("check", "--lake").CombinedOutput(); err != nil {
			t.Fatalf("%s: lake and manifest disagree: %v\n%s", when, err, out)
		}
	}
	noLeftovers := func(when string) {
		t.Helper()
		if l := tt.leftovers(); len(l) > 0 {
			t.Fatalf("%s: leftovers survived a successful run: %v", when, l)
		}
	}

	// Ingest: a restated extract (new bytes: extra line ends) dropped in
	// the inbox, the ingest killed part-way.
	_, ingestTook := tt.run("calibrate ingest", "check", "--lake")
	phase := time.Now()
	for i := 0; i < kills && !spent(phase, i); i++ {
		src := extracts[rng.Intn(len(extracts))]
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(tt.ws, "inbox", filepath.Base(filepath.Dir(src))+"-"+strconv.Itoa(i), filepath.Base(src))
		os.MkdirAll(filepath.Dir(in), 0o755)
		os.WriteFile(in, append(data, bytes.Repeat([]byte("\r\n"), i+1)...), 0o644)
		before, _ := ingest.ReadManifest(filepath.Join(tt.ws, "lake"))
		at := time.Duration(rng.Int63n(int64(ingestTook*2) + 1))
		killed := tt.kill(at, "ingest", "--inbox")
		verifyLake(fmt.Sprintf("ingest kill %d at %s", i, at))
		after, _ := ingest.ReadManifest(filepath.Join(tt.ws, "lake"))
		step := "ingest"
		if killed {
			step = "ingest, rolled back"
			if len(after) > len(before) {
				step = "ingest, finished by recovery or before the kill"
			}
		}
		note(step, killed)
		out, took := tt.run("re-run ingest", "ingest", "--inbox")
		ingestTook = (ingestTook + took) / 2
		if left, _ := filepath.Glob(filepath.Join(tt.ws, "inbox", "*", "*")); len(left) > 0 {
			t.Fatalf("inbox not emptied after the re-run: %v\n%s", left, out)
		}
		verifyLake("after the re-run")
		noLeftovers("ingest re-run")
	}
	t.Logf("ingest phase done at %s", time.Since(setupStart).Round(time.Millisecond))
	tt.run("transform after the ingests", "transform")
	wantPractices = practices()

	// Transform: a full rebuild killed part-way; the warehouse must open
	// with the same content, and the next build clears the half-built file.
	// Every other kill hits an incremental build, which changes the
	// warehouse itself inside one transaction: each changes the disclosure
	// threshold (a var, so every model is rebuilt in place), and the
	// warehouse must hold either the whole previous build or the whole new
	// one (its run history one row longer).
	toml := filepath.Join(tt.ws, "gplens.toml")
	conf, err := os.ReadFile(toml)
	if err != nil || !bytes.Contains(conf, []byte("\nmin_count = 8\n")) {
		t.Fatalf("gplens.toml has no min_count = 8 to vary (%v)", err)
	}
	minCount := func(n int) {
		t.Helper()
		c := bytes.Replace(conf, []byte("\nmin_count = 8\n"), []byte(fmt.Sprintf("\nmin_count = %d\n", n)), 1)
		if err := os.WriteFile(toml, c, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runs := func() (n int) {
		t.Helper()
		db, err := duck.Open(context.Background(), wh, duck.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("the warehouse does not open: %v", err)
		}
		defer db.Close()
		if err := db.QueryRow("SELECT count(*) FROM _gplens.runs").Scan(&n); err != nil {
			t.Fatalf("the warehouse's run history does not read: %v", err)
		}
		return n
	}
	_, took := tt.run("calibrate transform", "transform", "--full")
	minCount(9)
	_, tookInc := tt.run("calibrate incremental transform", "transform")
	phase = time.Now()
	for i := 0; i < kills && !spent(phase, i); i++ {
		args, within := []string{"transform", "--full"}, took
		runsBefore := runs()
		if i%2 == 1 {
			args, within = []string{"transform"}, tookInc
			minCount(8 + (i/2)%2)
		}
		at := time.Duration(rng.Int63n(int64(within)))
		killed := tt.kill(at, args...)
		note("transform", killed)
		if got := practices(); got != wantPractices {
			t.Fatalf("transform kill %d at %s: warehouse reads %q, want %q", i, at, got, wantPractices)
		}
		if n := runs(); n != runsBefore+1 && (!killed || n != runsBefore) {
			t.Fatalf("transform kill %d at %s (killed %v): %d runs recorded, want %d or %d", i, at, killed, n, runsBefore, runsBefore+1)
		}
		tt.run("re-run transform", "transform")
		noLeftovers("transform re-run")
	}
	minCount(8)
	tt.run("transform with the first threshold", "transform")

	// Publish: killed part-way; the packs present must verify, and the
	// re-run gives byte-identical packs.
	t.Logf("ingest and transform phases done at %s", time.Since(setupStart).Round(time.Millisecond))
	publishArgs := []string{"publish", "--period", period, "--level", "region"}
	_, took = tt.run("calibrate publish", publishArgs...)
	wantPacks := tt.packs(period)
	phase = time.Now()
	for i := 0; i < kills && !spent(phase, i); i++ {
		at := time.Duration(rng.Int63n(int64(took)))
		note("publish", tt.kill(at, publishArgs...))
		if _, err := os.Stat(filepath.Join(tt.ws, "packs", period)); err == nil {
			tt.packs(period)
		}
		tt.run("re-run publish", publishArgs...)
		if got := tt.packs(period); !slices.Equal(got, wantPacks) {
			t.Fatalf("publish kill %d at %s: re-published packs differ", i, at)
		}
		snaps, _ := filepath.Glob(filepath.Join(tt.ws, "published", "warehouse-*.duckdb"))
		cur, _ := os.ReadFile(filepath.Join(tt.ws, "published", "CURRENT"))
		if !slices.Contains(snaps, filepath.Join(tt.ws, "published", strings.TrimSpace(string(cur)))) {
			t.Fatalf("publish kill %d: CURRENT names %q, not one of %v", i, cur, snaps)
		}
		noLeftovers("publish re-run")
	}
	verifyLake("at the end")
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	t.Logf("all done at %s; CPU time of the gplens processes %s user + %s sys", time.Since(setupStart).Round(time.Millisecond),
		time.Duration(ru.Utime.Nano()).Round(time.Millisecond), time.Duration(ru.Stime.Nano()).Round(time.Millisecond))
	for _, step := range []string{"ingest, rolled back", "ingest, finished by recovery or before the kill", "ingest", "transform", "publish"} {
		if o := outcomes[step]; o != nil {
			t.Logf("%-50s killed %2d, finished before the kill %2d", step, o.killed, o.finished)
		}
	}
}
