package snapshot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/gplens/gplens/duck"
)

// Catalog is the DuckDB catalog (database) name readers see for every
// snapshot, whatever its file is called, so BI tools keep working across
// publishes.
const Catalog = "warehouse"

// OpenOptions control how a snapshot is opened for readers.
type OpenOptions struct {
	MemoryLimit string // DuckDB memory_limit, e.g. "2GB"; "" keeps DuckDB's default
	Threads     int    // DuckDB threads; 0 keeps DuckDB's default
}

// OpenReadOnly opens a snapshot file read-only and confined: the metrics
// functions are registered, external access (files, ATTACH, COPY, INSTALL,
// LOAD) is disabled and the configuration is locked, so no client
// statement can undo either. The catalog is named Catalog. close releases
// the database and its helper files.
func OpenReadOnly(ctx context.Context, path string, o OpenOptions) (db *sql.DB, closeFn func() error, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	// DuckDB names the catalog after the file: a hard link called
	// warehouse.duckdb gives every snapshot the same catalog name. (A
	// symlink does not: DuckDB may resolve it.) The link lives beside the
	// snapshot because hard links cannot cross file systems.
	// On a read-only folder or a file system without hard links, fall back
	// to the file itself (the catalog is then named after the file).
	link, tmp := abs, ""
	if dir, err := makeOpenDir(filepath.Dir(abs)); err == nil {
		l := filepath.Join(dir, Catalog+".duckdb")
		if err := os.Link(abs, l); err == nil {
			link, tmp = l, dir
		} else {
			os.RemoveAll(dir)
		}
	}
	cleanup := func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}
	db, err = duck.Open(ctx, link, duck.Options{ReadOnly: true})
	if err == nil {
		err = confine(ctx, db, o)
		if err != nil {
			db.Close()
		}
	}
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	return db, func() error {
		err := db.Close()
		cleanup()
		return err
	}, nil
}

// makeOpenDir makes a private folder under <dir>/.open named after this
// process, so prune can clear folders left by processes that died.
func makeOpenDir(dir string) (string, error) {
	base := filepath.Join(dir, openDir)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(base, strconv.Itoa(os.Getpid())+"-")
}

// confine applies the limits and locks them. These settings are global to
// the database, so one connection sets them for every connection; they are
// not given to duck.Open as per-connection Init, which would fail on the
// second connection once the configuration is locked.
func confine(ctx context.Context, db *sql.DB, o OpenOptions) error {
	var steps []string
	if o.MemoryLimit != "" {
		steps = append(steps, "SET GLOBAL memory_limit = "+quote(o.MemoryLimit))
	}
	if o.Threads > 0 {
		steps = append(steps, fmt.Sprintf("SET GLOBAL threads = %d", o.Threads))
	}
	steps = append(steps,
		"SET GLOBAL enable_external_access = false",
		"SET GLOBAL autoinstall_known_extensions = false",
		"SET GLOBAL autoload_known_extensions = false",
		"SET GLOBAL lock_configuration = true", // last: nothing can be changed after it
	)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, s := range steps {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	OpenOptions
	// PollInterval between checks of CURRENT; 0 means one second, negative
	// disables polling (call Refresh).
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Manager hands out the current snapshot with reference counting. When
// CURRENT changes, new acquisitions get the new snapshot while handles
// already out keep the old one, which is closed when the last is released:
// a query runs entirely on one snapshot.
type Manager struct {
	ws   string
	o    ManagerOptions
	log  *slog.Logger
	stop context.CancelFunc
	done chan struct{}

	swapMu sync.Mutex // serialises Refresh

	mu     sync.Mutex
	cur    *generation
	closed bool
}

type generation struct {
	info    Info
	db      *sql.DB
	closeFn func() error
	refs    int
	retired bool

	derivedMu sync.Mutex
	derived   map[string]*derived
}

type derived struct {
	db      *sql.DB
	closeFn func() error
	err     error
	ready   chan struct{}
}

// NewManager opens the workspace's current snapshot (if any) and starts
// watching CURRENT. An empty workspace is not an error: Acquire fails with
// ErrNothingPublished until something is published.
func NewManager(ctx context.Context, ws string, o ManagerOptions) (*Manager, error) {
	m := &Manager{ws: ws, o: o, log: o.Logger, done: make(chan struct{})}
	if m.log == nil {
		m.log = slog.Default()
	}
	if err := m.Refresh(ctx); err != nil && !errors.Is(err, ErrNothingPublished) {
		return nil, err
	}
	interval := o.PollInterval
	if interval == 0 {
		interval = time.Second
	}
	pctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	if interval < 0 {
		close(m.done)
		return m, nil
	}
	go m.poll(pctx, interval)
	return m, nil
}

func (m *Manager) poll(ctx context.Context, every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := m.Refresh(ctx)
		if err != nil && !errors.Is(err, ErrNothingPublished) && err.Error() != lastErr {
			m.log.Warn("snapshot refresh", "err", err)
		}
		lastErr = ""
		if err != nil {
			lastErr = err.Error()
		}
	}
}

// Refresh switches to the snapshot named in CURRENT if it changed. On
// failure the manager keeps serving the snapshot it had.
func (m *Manager) Refresh(ctx context.Context) error {
	m.swapMu.Lock()
	defer m.swapMu.Unlock()
	dir := Dir(m.ws)
	name, err := readCurrent(dir)
	if err != nil {
		return err
	}
	m.mu.Lock()
	same := m.cur != nil && m.cur.info.Name == name
	closed := m.closed
	m.mu.Unlock()
	if same {
		return nil
	}
	if closed {
		return errors.New("snapshot manager closed")
	}
	info, err := infoFor(dir, name)
	if err != nil {
		return fmt.Errorf("refresh snapshot: %w", err)
	}
	db, closeFn, err := OpenReadOnly(ctx, info.Path, m.o.OpenOptions)
	if err != nil {
		return fmt.Errorf("refresh snapshot: %w", err)
	}
	markOpen(info.Path, 1)
	g := &generation{info: info, db: db, closeFn: closeFn, derived: map[string]*derived{}}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.closeGen(g)
		return errors.New("snapshot manager closed")
	}
	old := m.cur
	m.cur = g
	var closeOld bool
	if old != nil {
		old.retired = true
		closeOld = old.refs == 0
	}
	m.mu.Unlock()
	m.log.Info("snapshot opened", "name", info.Name)
	if closeOld {
		m.closeGen(old)
	}
	return nil
}

func (m *Manager) closeGen(g *generation) {
	g.derivedMu.Lock()
	var errs []error
	for _, d := range g.derived {
		<-d.ready
		if d.closeFn != nil {
			errs = append(errs, d.closeFn())
		}
	}
	g.derived = nil
	g.derivedMu.Unlock()
	errs = append(errs, g.closeFn())
	markOpen(g.info.Path, -1)
	if err := errors.Join(errs...); err != nil {
		m.log.Warn("close snapshot", "name", g.info.Name, "err", err)
		return
	}
	m.log.Info("snapshot closed", "name", g.info.Name)
}

// Current reports the snapshot new acquisitions get.
func (m *Manager) Current() (Info, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return Info{}, false
	}
	return m.cur.info, true
}

// Handle is one reader's hold on a snapshot. Release it when done.
type Handle struct {
	DB   *sql.DB
	Info Info
	m    *Manager
	g    *generation
	once sync.Once
}

// Acquire returns a handle on the current snapshot.
func (m *Manager) Acquire(ctx context.Context) (*Handle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("snapshot manager closed")
	}
	if m.cur == nil {
		return nil, ErrNothingPublished
	}
	m.cur.refs++
	return &Handle{DB: m.cur.db, Info: m.cur.info, m: m, g: m.cur}, nil
}

// Release gives the handle back; extra calls do nothing.
func (h *Handle) Release() {
	h.once.Do(func() {
		m := h.m
		m.mu.Lock()
		h.g.refs--
		closeNow := h.g.retired && h.g.refs == 0
		m.mu.Unlock()
		if closeNow {
			m.closeGen(h.g)
		}
	})
}

// Derived returns a database built from this handle's snapshot by build,
// cached under key for the snapshot's lifetime and closed (closeFn) with
// it. Concurrent callers for one key share one build. A failed build is
// not cached.
func (h *Handle) Derived(ctx context.Context, key string, build func(ctx context.Context, snap Info) (db *sql.DB, closeFn func() error, err error)) (*sql.DB, error) {
	g := h.g
	g.derivedMu.Lock()
	if g.derived == nil {
		g.derivedMu.Unlock()
		return nil, errors.New("snapshot closed")
	}
	d, ok := g.derived[key]
	if !ok {
		d = &derived{ready: make(chan struct{})}
		g.derived[key] = d
		g.derivedMu.Unlock()
		d.db, d.closeFn, d.err = build(ctx, g.info)
		close(d.ready)
		if d.err != nil {
			g.derivedMu.Lock()
			if g.derived != nil && g.derived[key] == d {
				delete(g.derived, key)
			}
			g.derivedMu.Unlock()
		}
	} else {
		g.derivedMu.Unlock()
	}
	select {
	case <-d.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if d.err != nil {
		return nil, d.err
	}
	return d.db, nil
}

// Close stops watching CURRENT. The current snapshot closes once every
// handle is released.
func (m *Manager) Close() error {
	m.stop()
	<-m.done
	m.swapMu.Lock()
	defer m.swapMu.Unlock()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	g := m.cur
	m.cur = nil
	closeNow := false
	if g != nil {
		g.retired = true
		closeNow = g.refs == 0
	}
	m.mu.Unlock()
	if closeNow {
		m.closeGen(g)
	}
	return nil
}

// OpenCurrent opens the workspace's current snapshot read-only, for one-off
// readers such as `gplens sql`.
func OpenCurrent(ctx context.Context, ws string, o OpenOptions) (*sql.DB, Info, func() error, error) {
	info, err := Current(ws)
	if err != nil {
		return nil, Info{}, nil, err
	}
	db, closeFn, err := OpenReadOnly(ctx, info.Path, o)
	if err != nil {
		return nil, Info{}, nil, err
	}
	return db, info, closeFn, nil
}
