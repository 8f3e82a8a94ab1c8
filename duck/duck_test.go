package duck

import (
	"context"
	"database/sql"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenRegistersOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "", Options{Threads: 2, Init: []string{"SET VARIABLE gplens_probe = 7"}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(6)
	const n = 6
	var wg, ready sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			// Hold a dedicated connection so the pool must open several.
			c, err := db.Conn(ctx)
			ready.Done()
			if err != nil {
				t.Errorf("conn %d: %v", i, err)
				return
			}
			defer c.Close()
			<-start
			var lo float64
			var probe int
			if err := c.QueryRowContext(ctx, "SELECT wilson_lower(5, 100), getvariable('gplens_probe')").Scan(&lo, &probe); err != nil {
				t.Errorf("conn %d: %v", i, err)
				return
			}
			if lo < 0.0215 || lo > 0.0216 {
				t.Errorf("conn %d: wilson_lower(5,100) = %v", i, lo)
			}
			if probe != 7 {
				t.Errorf("conn %d: init statement not applied, probe = %d", i, probe)
			}
		}()
	}
	ready.Wait()
	if s := db.Stats(); s.OpenConnections < n {
		t.Errorf("%d connection(s) open, want %d", s.OpenConnections, n)
	}
	close(start)
	wg.Wait()
	var threads int
	if err := db.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&threads); err != nil || threads != 2 {
		t.Errorf("threads = %d (%v), want 2", threads, err)
	}
}

func TestOpenReadOnlyFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.duckdb")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE t AS SELECT 3 AS x, 10 AS n"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := Open(ctx, path, Options{ReadOnly: true, MemoryLimit: "512MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var hi float64
	if err := ro.QueryRowContext(ctx, "SELECT wilson_upper(x, n, 95) FROM t").Scan(&hi); err != nil {
		t.Fatal(err)
	}
	if hi < 0.6 || hi > 0.61 {
		t.Errorf("wilson_upper(3,10) = %v, want about 0.6032", hi)
	}
	var mem string
	if err := ro.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&mem); err != nil || !strings.HasPrefix(mem, "488") {
		t.Errorf("memory_limit = %q (%v), want 512MB (488.2 MiB)", mem, err)
	}
	if _, err := ro.ExecContext(ctx, "CREATE TABLE u (x INT)"); err == nil {
		t.Error("read-only database accepted a write")
	}
}

func TestOpenBadInit(t *testing.T) {
	db, err := Open(context.Background(), "", Options{Init: []string{"SET no_such_setting = 1"}})
	if err == nil {
		db.Close()
		t.Fatal("want an error for a bad init statement")
	}
}

// A file opened again after queries on it were cancelled opens at once.
// Through duckdb-go's shared instance cache such a reopen spun for ever
// once a cancellation had left the previous instance alive (within a few
// dozen rounds here); each open now has a cache of its own.
func TestReopenAfterCancelledQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("many opens")
	}
	path := filepath.Join(t.TempDir(), "w.duckdb")
	ctx := context.Background()
	db, err := Open(ctx, path, Options{NoMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE t AS SELECT range AS i, range % 97 AS g FROM range(300000)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	rnd := rand.New(rand.NewSource(1))
	for round := 0; round < 150; round++ {
		opened := make(chan error, 1)
		var db *sql.DB
		go func() {
			var err error
			db, err = Open(ctx, path, Options{ReadOnly: true, Threads: 2, NoMetrics: true})
			opened <- err
		}()
		select {
		case err := <-opened:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: reopening the file did not return in 30 s", round)
		}
		qctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(time.Duration(rnd.Intn(3000))*time.Microsecond, cancel)
		var n int64
		for k := 0; k < 20 && qctx.Err() == nil; k++ {
			if err := db.QueryRowContext(qctx, "SELECT sum(i) FROM t WHERE g = 7").Scan(&n); err != nil && qctx.Err() == nil {
				t.Fatal(err)
			}
		}
		cancel()
		db.Close()
	}
}

func TestParseBytes(t *testing.T) {
	gib, mib := 2.7, 953.6 // as current_setting('memory_limit') shows 3GB and 1GB
	for in, want := range map[string]int64{"2GB": 2e9, "512MB": 512e6, "1GiB": 1 << 30, "100": 100, " 1.5 gb ": 1.5e9,
		"2.7 GiB": int64(gib * (1 << 30)), "953.6 MiB": int64(mib * (1 << 20)), "10B": 10} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"lots", "", "-1GB", "GB"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) succeeded", bad)
		}
	}
}

// TestStorageVersion: files Open creates, and files ATTACHed new through
// it, are written in StorageVersion's format; a file DuckDB created in its
// default format opens, takes writes and keeps its format.
func TestStorageVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	version := func(db *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(ctx, "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = ?", name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := StorageVersion + "+"

	db, err := Open(ctx, filepath.Join(dir, "new.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "ATTACH '"+filepath.Join(dir, "attached.duckdb")+"' AS att; CREATE TABLE att.t AS SELECT 1 AS x"); err != nil {
		t.Fatal(err)
	}
	if got := version(db, "new"); got != want {
		t.Errorf("new file: storage version %q, want %q", got, want)
	}
	if got := version(db, "att"); got != want {
		t.Errorf("attached new file: storage version %q, want %q", got, want)
	}
	db.Close()

	old := filepath.Join(dir, "old.duckdb")
	plain, err := sql.Open("duckdb", old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.ExecContext(ctx, "CREATE TABLE t AS SELECT range AS x FROM range(1000)"); err != nil {
		t.Fatal(err)
	}
	before := version(plain, "old")
	plain.Close()
	if before == want {
		t.Fatalf("DuckDB's default format is %q already: this test no longer tells the formats apart", before)
	}
	db, err = Open(ctx, old, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO t SELECT range FROM range(1000, 3000); CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, old, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, sum int64
	if err := db.QueryRowContext(ctx, "SELECT count(*), sum(x) FROM t").Scan(&n, &sum); err != nil || n != 3000 || sum != 2999*3000/2 {
		t.Errorf("old file after writes: %d rows summing to %d (%v), want 3000 and %d", n, sum, err, 2999*3000/2)
	}
	if got := version(db, "old"); got != before {
		t.Errorf("old file: storage version %q after writes, want its own %q", got, before)
	}
}
