// Package snapshot publishes read-only copies of the warehouse and hands
// them out to readers. Readers (`gplens sql` on a live system, `gplens
// serve`) never open the live warehouse: the writer keeps working on
// warehouse.duckdb while readers use the snapshot named by
// <ws>/published/CURRENT, which is switched atomically.
package snapshot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gplens/gplens/duck"
)

// ErrNothingPublished is returned when the workspace has no CURRENT snapshot.
var ErrNothingPublished = errors.New("nothing published yet: run `gplens publish` or use --live")

const (
	publishedDir = "published"
	currentFile  = "CURRENT"
	openDir      = ".open"
	prefix       = "warehouse-"
	suffix       = ".duckdb"
	// timeLayout sorts lexically in time order and has no '-', so the last
	// '-' of a snapshot name separates the label from the time.
	timeLayout = "20060102T150405.000000000Z"
	// DefaultKeep is how many snapshots Publish keeps when Options.Keep is 0.
	DefaultKeep = 3
)

var labelRE = regexp.MustCompile(`^[A-Za-z0-9_.]+(-[A-Za-z0-9_.]+)*$`)

// Info describes one published snapshot.
type Info struct {
	Name    string    // file name, e.g. warehouse-2024-05-20261125T171300.000000000Z.duckdb
	Path    string    // full path
	Label   string    // label given to Publish
	Created time.Time // UTC time of publication, from the name
	Size    int64     // bytes
	// Copy says how the snapshot was made (set by Publish and Commit).
	Copy CopyReport
}

// Options tune Publish.
type Options struct {
	// Keep is how many snapshots to keep, newest first (the current one is
	// always kept). 0 means DefaultKeep; values below 2 are raised to 2 so
	// the previous snapshot survives for readers still using it.
	Keep int
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Scopes are built as scoped copies (see BuildScopes) before the
	// snapshot becomes current, so scoped readers never wait for them.
	Scopes []Scope
	// Remarks, when set, comments the columns of the marts and analyst
	// relations (COMMENT ON COLUMN) in the snapshot, and so in its scoped
	// copies, where the warehouse has no comment: the server's catalog
	// hands them to BI tools as column remarks.
	Remarks Remarks
	// MemoryLimit bounds the DuckDB that copies the warehouse into the
	// snapshot (publish passes [publish] memory_limit); "" keeps DuckDB's
	// default, 80% of RAM, which the copy of an England warehouse used.
	MemoryLimit string
}

// Dir is the folder holding the published snapshots of workspace ws.
func Dir(ws string) string { return filepath.Join(ws, publishedDir) }

// Publish copies the warehouse into a new snapshot, makes it current and
// prunes old snapshots. warehouse is the warehouse file ("" means
// <ws>/warehouse.duckdb); label names the run (for example the period).
func Publish(ws, warehouse, label string) (Info, error) {
	return PublishContext(context.Background(), ws, warehouse, label, Options{})
}

// PublishContext is Publish with a context and options.
func PublishContext(ctx context.Context, ws, warehouse, label string, o Options) (Info, error) {
	p, err := Prepare(ctx, ws, warehouse, label, o)
	if err != nil {
		return Info{}, err
	}
	return p.Commit(ctx)
}

// Pending is a snapshot copied and made durable under a hidden temporary
// name but not yet published: readers cannot see it until Commit, and
// Abort (or a killed process, whose leftover the next publish removes)
// leaves no trace. gplens publish prepares the snapshot while it renders
// the packs and commits it only once the packs are in place.
type Pending struct {
	dir, name, tmp string
	o              Options
	log            *slog.Logger
	done           bool
	state          *copyState // what it holds (nil: no release layer, or copied by a writer)
	report         CopyReport
}

// Prepare copies the warehouse ("" means <ws>/warehouse.duckdb) into a
// pending snapshot: PublishContext up to, not including, making it
// visible.
func Prepare(ctx context.Context, ws, warehouse, label string, o Options) (*Pending, error) {
	if warehouse == "" {
		warehouse = filepath.Join(ws, "warehouse.duckdb")
	}
	if _, err := os.Stat(warehouse); err != nil {
		return nil, fmt.Errorf("publish: warehouse: %w", err)
	}
	return prepare(ctx, ws, label, o, func(p *Pending) error {
		st, rep, err := copyDatabase(ctx, warehouse, p.tmp, Dir(ws), o.Remarks, o.MemoryLimit)
		if err != nil {
			return fmt.Errorf("publish %s: %w", warehouse, err)
		}
		p.state, p.report = st, rep
		return nil
	})
}

// PublishFrom publishes the database that the writer's conn is using (its
// current catalog), for a writer that keeps the warehouse open: DuckDB
// copies a consistent state from the writer's own connection, so there is
// no second opener to be locked out.
func PublishFrom(ctx context.Context, ws string, conn *sql.Conn, label string, o Options) (Info, error) {
	p, err := prepare(ctx, ws, label, o, func(p *Pending) error {
		tmp := p.tmp
		var src string
		if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&src); err != nil {
			return fmt.Errorf("publish: current database: %w", err)
		}
		if _, err := conn.ExecContext(ctx, "ATTACH "+quote(tmp)+" AS gplens_publish"); err != nil {
			return fmt.Errorf("publish %s: ATTACH: %w", src, err)
		}
		if err := copyForReaders(ctx, conn, src, "gplens_publish", o.Remarks); err != nil {
			_, _ = conn.ExecContext(ctx, "DETACH DATABASE IF EXISTS gplens_publish")
			return fmt.Errorf("publish %s: copy: %w", src, err)
		}
		if _, err := conn.ExecContext(ctx, "DETACH gplens_publish"); err != nil {
			return fmt.Errorf("publish %s: DETACH: %w", src, err)
		}
		return nil
	})
	if err != nil {
		return Info{}, err
	}
	return p.Commit(ctx)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// prepare writes a snapshot with write (to p.tmp) and makes it durable.
func prepare(ctx context.Context, ws, label string, o Options, write func(p *Pending) error) (*Pending, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if label == "" {
		label = "snapshot"
	}
	if !labelRE.MatchString(label) {
		return nil, fmt.Errorf("publish: label %q: use letters, digits, '_', '.' and single '-'", label)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	dir := Dir(ws)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("publish: create %s: %w", dir, err)
	}
	created := time.Now().UTC()
	name := prefix + label + "-" + created.Format(timeLayout) + suffix
	removeOrphanTmps(dir, log)
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d.tmp", name, os.Getpid()))
	_ = os.Remove(tmp)
	p := &Pending{dir: dir, name: name, tmp: tmp, o: o, log: log}
	if err := write(p); err != nil {
		p.Abort()
		return nil, err
	}
	if err := syncFile(tmp); err != nil {
		p.Abort()
		return nil, fmt.Errorf("publish: %w", err)
	}
	os.Remove(tmp + ".wal") // checkpointed by DETACH; a stale one must not follow the file
	return p, nil
}

// Abort discards a pending snapshot; a no-op after Commit and on nil.
func (p *Pending) Abort() {
	if p == nil || p.done {
		return
	}
	p.done = true
	os.Remove(p.tmp)
	os.Remove(p.tmp + ".wal")
}

// Commit moves the pending snapshot to its final name, builds its scoped
// copies, makes it current and prunes old snapshots.
func (p *Pending) Commit(ctx context.Context) (Info, error) {
	if p.done {
		return Info{}, errors.New("publish: snapshot already committed or aborted")
	}
	p.done = true
	dir, name, log := p.dir, p.name, p.log
	final := filepath.Join(dir, name)
	if err := os.Rename(p.tmp, final); err != nil {
		os.Remove(p.tmp)
		return Info{}, fmt.Errorf("publish: %w", err)
	}
	if err := BuildScopes(ctx, dir, name, p.o.Scopes, log); err != nil {
		os.Remove(final)
		return Info{}, fmt.Errorf("publish: scoped copies: %w", err)
	}
	if p.state != nil {
		if err := writeState(dir, name, p.state); err != nil {
			log.Warn("snapshot state not written; the next publish copies in full", "err", err)
		}
	}
	if err := writeCurrent(dir, name); err != nil {
		return Info{}, fmt.Errorf("publish: %w", err)
	}
	info, err := infoFor(dir, name)
	if err != nil {
		return Info{}, fmt.Errorf("publish: %w", err)
	}
	info.Copy = p.report
	log.Info("snapshot published", "name", name, "bytes", info.Size, "copy", p.report.String())
	clearStaleOpenDirs(dir)
	if err := prune(dir, name, p.o.Keep, log); err != nil {
		// The new snapshot is live; a failed prune only wastes disk.
		log.Warn("prune snapshots", "err", err)
	}
	return info, nil
}

// copyDatabase copies what readers may see of src (copyForReaders) into a
// new database file dst, starting from the current snapshot of dir where
// its state allows (delta.go); it returns what dst holds (nil without a
// release layer). Going through DuckDB rather than copying the warehouse's
// bytes replays any WAL and yields a compact file; it fails cleanly while
// a writer in another process holds the warehouse lock.
func copyDatabase(ctx context.Context, src, dst, dir string, remarks Remarks, memoryLimit string) (*copyState, CopyReport, error) {
	// duck.Open so views calling the metrics functions still bind.
	db, err := duck.Open(ctx, "", duck.Options{MemoryLimit: memoryLimit})
	if err != nil {
		return nil, CopyReport{}, fmt.Errorf("open copier: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, CopyReport{}, fmt.Errorf("open copier: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "ATTACH "+quote(src)+" AS gplens_src (READ_ONLY)"); err != nil {
		return nil, CopyReport{}, fmt.Errorf("ATTACH: %w", err)
	}
	st, err := releaseState(ctx, conn, "gplens_src")
	if err != nil {
		return nil, CopyReport{}, err
	}
	var rep CopyReport
	prevPath, prev := previous(dir, st)
	if prev != nil {
		rep, err = copyFromPrevious(ctx, conn, prevPath, dst, prev, st, remarks)
		if errors.Is(err, errNotReaderCopy) {
			prev = nil
		} else if err != nil {
			return nil, CopyReport{}, err
		}
	}
	if prev == nil {
		rep = CopyReport{}
		if _, err := conn.ExecContext(ctx, "ATTACH "+quote(dst)+" AS gplens_dst"); err != nil {
			return nil, CopyReport{}, fmt.Errorf("ATTACH: %w", err)
		}
		// only what readers may see (release.go)
		if err := copyForReaders(ctx, conn, "gplens_src", "gplens_dst", remarks); err != nil {
			return nil, CopyReport{}, fmt.Errorf("copy: %w", err)
		}
	}
	for _, s := range []string{"DETACH gplens_dst", "DETACH gplens_src"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return nil, CopyReport{}, fmt.Errorf("DETACH: %w", err)
		}
	}
	if st != nil {
		if prev != nil {
			st.FullBytes = prev.FullBytes
		} else if fi, err := os.Stat(dst); err == nil {
			st.FullBytes = fi.Size()
		}
	}
	return st, rep, nil
}

// copyFromPrevious makes dst a copy of the previous snapshot prevPath and
// brings it up to date (updateFromPrevious); on errNotReaderCopy dst is
// gone and nothing is attached, for a full copy to follow.
func copyFromPrevious(ctx context.Context, conn *sql.Conn, prevPath, dst string, prev, cur *copyState, remarks Remarks) (CopyReport, error) {
	if err := copyFile(prevPath, dst); err != nil {
		return CopyReport{}, fmt.Errorf("copy the previous snapshot: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "ATTACH "+quote(dst)+" AS gplens_dst"); err != nil {
		return CopyReport{}, fmt.Errorf("ATTACH: %w", err)
	}
	rep, err := updateFromPrevious(ctx, conn, "gplens_src", "gplens_dst", prev, cur)
	if err == nil {
		err = describeColumns(ctx, conn, "gplens_dst", remarks)
	}
	if errors.Is(err, errNotReaderCopy) {
		if _, derr := conn.ExecContext(ctx, "DETACH gplens_dst"); derr != nil {
			return rep, fmt.Errorf("DETACH: %w", derr)
		}
		os.Remove(dst)
		os.Remove(dst + ".wal")
	}
	return rep, err
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename durable. Some platforms cannot fsync a folder;
// that only weakens durability, so it is not an error.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

func writeCurrent(dir, name string) error {
	f, err := os.CreateTemp(dir, ".CURRENT-*.tmp")
	if err != nil {
		return fmt.Errorf("write CURRENT: %w", err)
	}
	tmp := f.Name()
	_, werr := f.WriteString(name + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, filepath.Join(dir, currentFile))
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("write CURRENT: %w", werr)
	}
	syncDir(dir)
	return nil
}

// readCurrent returns the snapshot name in CURRENT.
func readCurrent(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrNothingPublished
	}
	if err != nil {
		return "", fmt.Errorf("read CURRENT: %w", err)
	}
	name := strings.TrimSpace(string(b))
	if _, _, ok := parseName(name); !ok || filepath.Base(name) != name {
		return "", fmt.Errorf("read CURRENT: %q is not a snapshot name", name)
	}
	return name, nil
}

// Current describes the snapshot readers should use now.
func Current(ws string) (Info, error) {
	dir := Dir(ws)
	name, err := readCurrent(dir)
	if err != nil {
		return Info{}, err
	}
	info, err := infoFor(dir, name)
	if err != nil {
		return Info{}, fmt.Errorf("current snapshot: %w", err)
	}
	return info, nil
}

// List returns the snapshots present in the workspace, oldest first.
func List(ws string) ([]Info, error) {
	dir := Dir(ws)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var out []Info
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if _, _, ok := parseName(e.Name()); !ok {
			continue
		}
		info, err := infoFor(dir, e.Name())
		if err != nil {
			continue // pruned meanwhile
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func parseName(name string) (label string, created time.Time, ok bool) {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
		return "", time.Time{}, false
	}
	mid := strings.TrimSuffix(strings.TrimPrefix(name, prefix), suffix)
	i := strings.LastIndexByte(mid, '-')
	if i <= 0 {
		return "", time.Time{}, false
	}
	t, err := time.Parse(timeLayout, mid[i+1:])
	if err != nil {
		return "", time.Time{}, false
	}
	return mid[:i], t, true
}

func infoFor(dir, name string) (Info, error) {
	label, created, ok := parseName(name)
	if !ok {
		return Info{}, fmt.Errorf("%q is not a snapshot name", name)
	}
	p := filepath.Join(dir, name)
	st, err := os.Stat(p)
	if err != nil {
		return Info{}, fmt.Errorf("snapshot %s: %w", name, err)
	}
	return Info{Name: name, Path: p, Label: label, Created: created, Size: st.Size()}, nil
}

// openPaths counts snapshots opened by Managers in this process, so that a
// Publish in the same process never prunes them. (Across processes, Unix
// keeps an unlinked file readable for whoever has it open.)
var openPaths = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

func markOpen(path string, delta int) {
	openPaths.Lock()
	defer openPaths.Unlock()
	openPaths.n[path] += delta
	if openPaths.n[path] <= 0 {
		delete(openPaths.n, path)
	}
}

func isOpen(path string) bool {
	openPaths.Lock()
	defer openPaths.Unlock()
	return openPaths.n[path] > 0
}

// prune removes snapshots beyond the newest keep, never the current one
// nor one open in this process.
func prune(dir, current string, keep int, log *slog.Logger) error {
	if keep == 0 {
		keep = DefaultKeep
	}
	keep = max(keep, 2)
	all, err := List(filepath.Dir(dir))
	if err != nil {
		return err
	}
	var errs []error
	for i := 0; i < len(all)-keep; i++ {
		s := all[i]
		if s.Name == current || isOpen(s.Path) {
			continue
		}
		if err := os.Remove(s.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", s.Name, err))
			continue
		}
		os.RemoveAll(scopedDir(dir, s.Name))
		os.Remove(statePath(dir, s.Name))
		log.Info("snapshot pruned", "name", s.Name)
	}
	return errors.Join(errs...)
}

// removeOrphanTmps deletes the half-written copies (.<name>.<pid>.tmp and
// its .wal) and state files of publishes whose process is gone, and the
// copies of older gplens versions, which had no pid in the name. Publishing runs under the
// workspace lock, so no other live publisher can own one.
func removeOrphanTmps(dir string, log *slog.Logger) {
	files, _ := filepath.Glob(filepath.Join(dir, "."+prefix+"*.tmp*"))
	for _, f := range files {
		n := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".wal"), ".tmp")
		if i := strings.LastIndexByte(n, '.'); i >= 0 {
			if pid, err := strconv.Atoi(n[i+1:]); err == nil && (pid == os.Getpid() || processAlive(pid)) {
				continue
			}
		}
		if err := os.Remove(f); err == nil {
			log.Info("removed the leftover of a killed publish", "file", f)
		}
	}
	states, _ := filepath.Glob(filepath.Join(dir, statePrefix+"*.tmp"))
	for _, f := range states {
		pidStr, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(f), statePrefix), "-")
		if pid, err := strconv.Atoi(pidStr); err == nil && processAlive(pid) {
			continue
		}
		os.Remove(f)
	}
}

// clearStaleOpenDirs removes the link folders of readers that are no
// longer running; their hard links would otherwise keep pruned snapshots
// on disk.
func clearStaleOpenDirs(dir string) {
	entries, err := os.ReadDir(filepath.Join(dir, openDir))
	if err != nil {
		return
	}
	for _, e := range entries {
		pidStr, _, ok := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || processAlive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(dir, openDir, e.Name()))
	}
}

func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	// Signal 0 checks existence without touching the process (Unix); where
	// that is unsupported, err is non-nil and a live reader is assumed only
	// on permission errors.
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM)
}
