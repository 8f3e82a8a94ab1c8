package snapshot_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/snapshot"
	"github.com/gplens/gplens/snapshot/snapshottest"
)

func fixture(t testing.TB, version int) (ws, wh string) {
	t.Helper()
	ws = t.TempDir()
	wh = filepath.Join(ws, "warehouse.duckdb")
	if err := snapshottest.Warehouse(context.Background(), wh, version, 100); err != nil {
		t.Fatal(err)
	}
	return ws, wh
}

// rebuild replaces the warehouse with one of another version.
func rebuild(t testing.TB, wh string, version int) {
	t.Helper()
	os.Remove(wh)
	os.Remove(wh + ".wal")
	if err := snapshottest.Warehouse(context.Background(), wh, version, 100); err != nil {
		t.Fatal(err)
	}
}

func version(t testing.TB, h *snapshot.Handle) int {
	t.Helper()
	var v int
	if err := h.DB.QueryRow("SELECT version FROM _gplens.meta").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCurrentBeforePublish(t *testing.T) {
	_, err := snapshot.Current(t.TempDir())
	if !errors.Is(err, snapshot.ErrNothingPublished) {
		t.Fatalf("got %v, want ErrNothingPublished", err)
	}
	if !strings.Contains(err.Error(), "gplens publish") {
		t.Errorf("error should tell what to do: %v", err)
	}
}

func TestPublishCopiesAndSwitches(t *testing.T) {
	ws, wh := fixture(t, 1)
	info, err := snapshot.Publish(ws, wh, "2024-03")
	if err != nil {
		t.Fatal(err)
	}
	if info.Label != "2024-03" || info.Size == 0 {
		t.Errorf("info = %+v", info)
	}
	cur, err := snapshot.Current(ws)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Name != info.Name {
		t.Errorf("CURRENT = %s, want %s", cur.Name, info.Name)
	}
	db, _, closeFn, err := snapshot.OpenCurrent(context.Background(), ws, snapshot.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	// Same rows as the warehouse, including the view.
	for _, q := range []string{
		"SELECT count(*) FROM marts.indicator_values",
		"SELECT count(*) FROM marts.icb_values",
		"SELECT count(*) FROM core.practices",
		"SELECT sum(value)::BIGINT FROM marts.indicator_values",
	} {
		var want, got int64
		src, err := duck.Open(context.Background(), wh, duck.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := src.QueryRow(q).Scan(&want); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := db.QueryRow(q).Scan(&got); err != nil {
			t.Fatal(q, err)
		}
		if got != want || want == 0 {
			t.Errorf("%s: snapshot %d, warehouse %d", q, got, want)
		}
	}
	var cat string
	if err := db.QueryRow("SELECT current_database()").Scan(&cat); err != nil {
		t.Fatal(err)
	}
	if cat != snapshot.Catalog {
		t.Errorf("catalog = %q, want %q", cat, snapshot.Catalog)
	}
}

func TestPublishRejectsBadInput(t *testing.T) {
	ws, wh := fixture(t, 1)
	cases := []struct{ name, wh, label string }{
		{"missing warehouse", filepath.Join(ws, "nope.duckdb"), "x"},
		{"slash in label", wh, "a/b"},
		{"dotdot label", wh, "../x"},
		{"space in label", wh, "a b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := snapshot.Publish(ws, c.wh, c.label); err == nil {
				t.Fatal("want error")
			}
			if _, err := snapshot.Current(ws); !errors.Is(err, snapshot.ErrNothingPublished) {
				t.Errorf("a failed publish changed CURRENT: %v", err)
			}
		})
	}
}

func TestPublishPrunes(t *testing.T) {
	ws, wh := fixture(t, 1)
	var names []string
	for i := 0; i < 5; i++ {
		info, err := snapshot.PublishContext(context.Background(), ws, wh, "run", snapshot.Options{Keep: 2})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, info.Name)
	}
	list, err := snapshot.List(ws)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range list {
		got = append(got, s.Name)
	}
	want := names[3:]
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("kept %v, want %v", got, want)
	}
	leftovers, _ := filepath.Glob(filepath.Join(snapshot.Dir(ws), ".*tmp"))
	if len(leftovers) != 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
}

func TestPublishKeepsOpenSnapshots(t *testing.T) {
	ws, wh := fixture(t, 1)
	first, err := snapshot.Publish(ws, wh, "a")
	if err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.NewManager(context.Background(), ws, snapshot.ManagerOptions{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h, err := m.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := snapshot.PublishContext(context.Background(), ws, wh, "b", snapshot.Options{Keep: 2}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(first.Path); err != nil {
		t.Errorf("open snapshot was pruned: %v", err)
	}
	h.Release()
}

func TestManagerSwapsWithoutDisturbingHolders(t *testing.T) {
	ctx := context.Background()
	ws, wh := fixture(t, 1)
	if _, err := snapshot.Publish(ws, wh, "v1"); err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.NewManager(ctx, ws, snapshot.ManagerOptions{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	old, err := m.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A query in flight on the old snapshot.
	rows, err := old.DB.QueryContext(ctx, "SELECT value FROM marts.trends ORDER BY value")
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()

	rebuild(t, wh, 2)
	if _, err := snapshot.Publish(ws, wh, "v2"); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	n := 1
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query on old snapshot broke: %v", err)
	}
	rows.Close()
	if n != 100 {
		t.Errorf("old query read %d rows, want 100", n)
	}
	if v := version(t, old); v != 1 {
		t.Errorf("old handle sees version %d, want 1", v)
	}
	cur, err := m.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v := version(t, cur); v != 2 {
		t.Errorf("new handle sees version %d, want 2", v)
	}
	old.Release()
	old.Release() // idempotent
	if err := old.DB.Ping(); err == nil {
		t.Error("old snapshot still open after its last release")
	}
	if v := version(t, cur); v != 2 {
		t.Errorf("current handle broken by closing the old one: %d", v)
	}
	cur.Release()
}

func TestManagerPollsCurrent(t *testing.T) {
	ctx := context.Background()
	ws, wh := fixture(t, 1)
	m, err := snapshot.NewManager(ctx, ws, snapshot.ManagerOptions{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Acquire(ctx); !errors.Is(err, snapshot.ErrNothingPublished) {
		t.Fatalf("empty workspace: %v", err)
	}
	info, err := snapshot.Publish(ws, wh, "v1")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if cur, ok := m.Current(); ok && cur.Name == info.Name {
			break
		}
		// The poll interval is 10ms; the test's own timeout bounds this.
		time.Sleep(5 * time.Millisecond)
	}
	h, err := m.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	if v := version(t, h); v != 1 {
		t.Errorf("version %d", v)
	}
}

func TestConfinement(t *testing.T) {
	ws, wh := fixture(t, 1)
	if _, err := snapshot.Publish(ws, wh, "a"); err != nil {
		t.Fatal(err)
	}
	db, _, closeFn, err := snapshot.OpenCurrent(context.Background(), ws, snapshot.OpenOptions{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	for _, q := range []string{
		"SELECT * FROM read_csv('/etc/passwd')",
		"SET enable_external_access=true",
		"SET memory_limit='10GB'",
		"CREATE TABLE marts.x AS SELECT 1",
		"ATTACH '" + wh + "' AS w",
	} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("%s: not refused", q)
		}
	}
	// Settings are global: every connection of the pool has them.
	ctx := context.Background()
	c1, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	for _, c := range []*sql.Conn{c1, c2} {
		var threads, access string
		if err := c.QueryRowContext(ctx, "SELECT current_setting('threads')::VARCHAR, current_setting('enable_external_access')::VARCHAR").Scan(&threads, &access); err != nil {
			t.Fatal(err)
		}
		if threads != "1" || access != "false" {
			t.Errorf("threads %s, external access %s", threads, access)
		}
		if _, err := c.ExecContext(ctx, "SELECT * FROM read_csv('/etc/passwd')"); err == nil {
			t.Error("file read not refused on a second connection")
		}
	}
}

func TestDerivedSharedAndClosed(t *testing.T) {
	ctx := context.Background()
	ws, wh := fixture(t, 1)
	if _, err := snapshot.Publish(ws, wh, "a"); err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.NewManager(ctx, ws, snapshot.ManagerOptions{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	h, err := m.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	builds, closes := 0, 0
	build := func(ctx context.Context, snap snapshot.Info) (*sql.DB, func() error, error) {
		mu.Lock()
		builds++
		mu.Unlock()
		db, err := duck.Open(ctx, "", duck.Options{})
		return db, func() error { mu.Lock(); closes++; mu.Unlock(); return db.Close() }, err
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Derived(ctx, "k", build); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	h.Release()
	m.Close()
	if builds != 1 || closes != 1 {
		t.Errorf("builds %d closes %d, want 1 and 1", builds, closes)
	}
}

func TestPublishFromOpenWriter(t *testing.T) {
	ctx := context.Background()
	ws := t.TempDir()
	wh := filepath.Join(ws, "warehouse.duckdb")
	// The writer keeps the warehouse open, with uncheckpointed changes.
	db, err := duck.Open(ctx, wh, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := snapshottest.Build(ctx, db, 7, 50); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	info, err := snapshot.PublishFrom(ctx, ws, conn, "live", snapshot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The writer goes on writing; the snapshot does not change.
	if _, err := conn.ExecContext(ctx, "UPDATE _gplens.meta SET version = 8"); err != nil {
		t.Fatal(err)
	}
	sdb, _, closeFn, err := snapshot.OpenCurrent(ctx, ws, snapshot.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var v, n int
	if err := sdb.QueryRow("SELECT version, (SELECT count(*) FROM marts.trends) FROM _gplens.meta").Scan(&v, &n); err != nil {
		t.Fatal(err)
	}
	if v != 7 || n != 50 {
		t.Errorf("snapshot %s: version %d trends %d, want 7 and 50", info.Name, v, n)
	}
}

// A publish removes the half-written copies of publishes killed before
// (their process gone, or named by an older gplens without a pid), and
// leaves a live process's alone.
func TestPublishRemovesOrphanTmps(t *testing.T) {
	ws, wh := fixture(t, 1)
	dir := snapshot.Dir(ws)
	os.MkdirAll(dir, 0o755)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	orphans := []string{
		filepath.Join(dir, fmt.Sprintf(".warehouse-2024-01-20240101T000000.000000000Z.duckdb.%d.tmp", dead.Process.Pid)),
		filepath.Join(dir, fmt.Sprintf(".warehouse-2024-01-20240101T000000.000000000Z.duckdb.%d.tmp.wal", dead.Process.Pid)),
		filepath.Join(dir, ".warehouse-2023-12-20231201T000000.000000000Z.duckdb.tmp"),
	}
	live := filepath.Join(dir, fmt.Sprintf(".warehouse-2024-02-20240201T000000.000000000Z.duckdb.%d.tmp", os.Getppid()))
	for _, f := range append(orphans, live) {
		os.WriteFile(f, []byte("half a copy"), 0o644)
	}
	if _, err := snapshot.Publish(ws, wh, "2024-03"); err != nil {
		t.Fatal(err)
	}
	for _, f := range orphans {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("orphan %s survived a publish", filepath.Base(f))
		}
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live publisher's copy was removed: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*"+strconv.Itoa(os.Getpid())+".tmp*")); len(left) > 0 {
		t.Errorf("the publish left its own temporary files: %v", left)
	}
}

// A prepared snapshot is invisible until Commit: no CURRENT, nothing
// listed, only the hidden temporary copy; Abort removes that; Commit
// publishes it like PublishContext, and a second Commit is refused.
func TestPrepareCommitAbort(t *testing.T) {
	ws, wh := fixture(t, 1)
	ctx := context.Background()
	dir := snapshot.Dir(ws)
	hidden := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, ".warehouse-*"))
		return m
	}
	invisible := func(when string) {
		t.Helper()
		if _, err := snapshot.Current(ws); !errors.Is(err, snapshot.ErrNothingPublished) {
			t.Errorf("%s: CURRENT = %v, want nothing published", when, err)
		}
		if l, _ := snapshot.List(ws); len(l) != 0 {
			t.Errorf("%s: listed %v", when, l)
		}
	}

	// the copier runs within Options.MemoryLimit: a bad one stops it
	if _, err := snapshot.Prepare(ctx, ws, wh, "2024-03", snapshot.Options{MemoryLimit: "lots"}); err == nil || !strings.Contains(err.Error(), "memory") {
		t.Errorf("Prepare with memory limit %q: err = %v, want DuckDB's memory limit error", "lots", err)
	}
	invisible("refused memory limit")
	p, err := snapshot.Prepare(ctx, ws, wh, "2024-03", snapshot.Options{MemoryLimit: "256MB"})
	if err != nil {
		t.Fatal(err)
	}
	invisible("prepared")
	if h := hidden(); len(h) != 1 {
		t.Errorf("prepared: hidden copies %v, want one", h)
	}
	p.Abort()
	invisible("aborted")
	if h := hidden(); len(h) != 0 {
		t.Errorf("aborted: left %v", h)
	}
	if _, err := p.Commit(ctx); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	invisible("commit after abort")

	p, err = snapshot.Prepare(ctx, ws, wh, "2024-03", snapshot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := p.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Abort() // a no-op once committed
	cur, err := snapshot.Current(ws)
	if err != nil || cur.Name != info.Name {
		t.Fatalf("CURRENT = %+v, %v; want %s", cur, err, info.Name)
	}
	if h := hidden(); len(h) != 0 {
		t.Errorf("committed: left %v", h)
	}
	if _, err := p.Commit(ctx); err == nil {
		t.Error("a second Commit succeeded")
	}
	db, _, closeFn, err := snapshot.OpenCurrent(ctx, ws, snapshot.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM marts.indicator_values").Scan(&n); err != nil || n == 0 {
		t.Errorf("committed snapshot: %d rows, %v", n, err)
	}
}

// Prepare stops when its context is cancelled, leaving nothing behind.
func TestPrepareCancelled(t *testing.T) {
	ws, wh := fixture(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if p, err := snapshot.Prepare(ctx, ws, wh, "2024-03", snapshot.Options{}); err == nil {
		p.Abort()
		t.Fatal("Prepare with a cancelled context succeeded")
	}
	if m, _ := filepath.Glob(filepath.Join(snapshot.Dir(ws), ".warehouse-*")); len(m) != 0 {
		t.Errorf("left %v", m)
	}
	if _, err := snapshot.Current(ws); !errors.Is(err, snapshot.ErrNothingPublished) {
		t.Errorf("CURRENT = %v", err)
	}
}
