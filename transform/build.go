package transform

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/period"
)

// Options configure a build.
type Options struct {
	// Warehouse is the DuckDB file to (re)build, e.g. "<workspace>/warehouse.duckdb".
	Warehouse string
	// Lake lists the external inputs, created as lake.<Name>.
	Lake []LakeTable
	// Full rebuilds every model instead of reusing the previous warehouse.
	Full bool
	// Logger receives progress; nil uses slog.Default().
	Logger *slog.Logger
	// MemoryLimit (e.g. "2GB") and Threads bound DuckDB; zero values keep its defaults.
	MemoryLimit string
	Threads     int
	// RefDir is the workspace whose data/ folder overrides the embedded
	// reference files (see package data); "" means the warehouse's folder.
	RefDir string
	// Vars are set with SET VARIABLE before the models run, so a model can
	// read one with getvariable('name'). Changing any var rebuilds every model.
	Vars map[string]string
	// Progress receives a line per finished model with an ETA (nil: none).
	Progress io.Writer
}

// Action says how a model was produced.
type Action string

// Actions.
const (
	Rebuilt   Action = "rebuilt"   // computed in full
	Copied    Action = "copied"    // taken unchanged from the previous warehouse
	Refreshed Action = "refreshed" // copied, then the changed periods recomputed
	Viewed    Action = "view"      // a view, (re)created from its SQL
)

// ModelResult reports one model.
type ModelResult struct {
	Name   string
	Action Action
	// Periods recomputed when Action is Refreshed.
	Periods []string
	// Changed says whether a rebuilt or refreshed table's rows differ from
	// the previous build's, and ChangedPeriods in which periods (empty when
	// it changed as a whole); downstream models see only these changes.
	Changed        bool
	ChangedPeriods []string
	// Rows in the table; -1 for views, which are not counted.
	Rows     int64
	Duration time.Duration
}

// Result reports a successful build.
type Result struct {
	Models []ModelResult
	// Tests is the number of data tests run (all passed).
	Tests int
	// TestsSkipped counts tests of copied tables, which passed on the same data before.
	TestsSkipped int
	// TestsScoped counts tests run only on the refreshed periods' rows.
	TestsScoped int
	// Full is true when nothing was reused from a previous warehouse.
	Full     bool
	Duration time.Duration
}

// Summary reads like "3 models rebuilt, 12 copied, 2 refreshed for period 2024-03, 4 views; 40 tests passed".
func (r Result) Summary() string {
	count := map[Action]int{}
	periods := map[string]bool{}
	for _, m := range r.Models {
		count[m.Action]++
		for _, p := range m.Periods {
			periods[p] = true
		}
	}
	parts := []string{fmt.Sprintf("%d models rebuilt", count[Rebuilt]), fmt.Sprintf("%d copied", count[Copied])}
	if n := count[Refreshed]; n > 0 {
		ps := sortedKeys(periods)
		word := "period"
		if len(ps) > 1 {
			word = "periods"
		}
		parts = append(parts, fmt.Sprintf("%d refreshed for %s %s", n, word, strings.Join(ps, ", ")))
	}
	parts = append(parts, fmt.Sprintf("%d views", count[Viewed]))
	s := strings.Join(parts, ", ") + fmt.Sprintf("; %d tests passed", r.Tests)
	if r.TestsSkipped > 0 {
		s += fmt.Sprintf(" (%d skipped on copied tables)", r.TestsSkipped)
	}
	return s
}

// TestFailure is returned (wrapped) when a data test finds offending rows.
type TestFailure struct {
	Model string
	Path  string
	Test  Test
	// Count of offending rows; Rows holds up to five of them, formatted.
	Count int64
	Rows  []string
}

func (e *TestFailure) Error() string {
	return fmt.Sprintf("model %s (%s): test %s (line %d) failed: %d offending rows, first %d:\n  %s\nwhat to do: %s",
		e.Model, e.Path, e.Test.Name, e.Test.Line, e.Count, len(e.Rows), strings.Join(e.Rows, "\n  "), e.hint())
}

// hint says what to do about a failed test: which input or model to look at.
// The last good warehouse is untouched, so it can be queried meanwhile.
func (e *TestFailure) hint() string {
	var what string
	switch e.Test.Kind {
	case TestRelationships:
		what = fmt.Sprintf("these rows name values %s does not have; usually one source covers a period or code the others do not: "+
			"ingest the source that covers them, or make %s (or the model it is built from) include them", e.Test.Ref, e.Test.Ref)
	case TestUnique:
		what = "two inputs give the same key: look for a restated or duplicated file in the lake (`gplens sql` on lake.<source>) or a join that fans out in the model"
	case TestNotNull:
		what = "a required column is missing for these rows: check the source files for blank values, or give the model a fallback for them"
	case TestAcceptedValues, TestRange:
		what = "a value is outside the rule declared in the model's header: check the source file for a new code or a bad value; if the value is real, widen the rule in the header"
	case TestRowCount:
		what = "the model has an unexpected number of rows: check that its sources are ingested (`gplens sources`, lake/_manifest.parquet)"
	default:
		what = "check the offending rows against the model's header rule"
	}
	return what + fmt.Sprintf("; the rule is line %d of %s; the last good warehouse is unchanged", e.Test.Line, e.Path)
}

const prevAlias = "_gplens_prev"

// buildMode is where a build writes.
type buildMode int

const (
	buildNew  buildMode = iota // a new file, renamed over the warehouse
	buildTx                    // the warehouse itself, in one transaction
	buildCopy                  // a file copy of the warehouse, renamed over it
)

var lakeNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// change is how a table's data may differ from the previous build.
type change struct {
	all     bool
	periods map[string]bool
	newCols bool // the output's columns differ from the previous table's
}

func (c change) none() bool { return !c.all && len(c.periods) == 0 }

type prevModel struct {
	hash, materialized string
}

// Build materialises every model of p into o.Warehouse and runs the data
// tests, keeping the result only if all succeeded: an incremental build in
// one transaction on the warehouse (or on a copy, when another process holds
// it), a full one in a new file renamed over it. On any error the previous
// warehouse's contents are left as they were.
func Build(ctx context.Context, p *Project, o Options) (res Result, err error) {
	start := time.Now()
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	// phase logs how long each step around the models took (-vv).
	mark := start
	phase := func(name string) {
		now := time.Now()
		log.Debug("build step", "step", name, "duration", now.Sub(mark).Round(time.Millisecond))
		mark = now
	}
	target, refs, lake, err := checkInputs(p, o)
	if err != nil {
		return res, err
	}
	phase("check inputs")
	tmp := fmt.Sprintf("%s.building-%d", target, os.Getpid())
	removeDB(tmp)
	removeOrphanBuilds(target, log)

	// An incremental build changes the warehouse in place, inside one DuckDB
	// transaction: copied tables stay as they are, refreshed ones lose and
	// regain their changed periods' rows, rebuilt ones are dropped and
	// created, and nothing is visible, or kept, unless every model and test
	// succeeded and the transaction committed. A failed or killed build
	// leaves the previous warehouse's contents as they were (DuckDB never
	// links uncommitted blocks into the file; a WAL is replayed or ignored
	// whole). When another process holds the file open (`gplens sql
	// --live`), the build starts from a file copy of it instead, beside it,
	// and renames the copy over it. A full build starts from an empty file.
	mode := buildNew
	if !o.Full && exists(target) {
		mode = buildTx
	}
	var (
		db               *sql.DB
		conn             *sql.Conn
		b                *builder
		havePrev, closed bool
		prevLake         map[string]lakeState
		last             map[string]time.Duration
	)
	file := func() string {
		if mode == buildTx {
			return target
		}
		return tmp
	}
	defer func() {
		if !closed && conn != nil {
			if mode == buildTx {
				// Closing would roll back too; say so explicitly, whatever ctx.
				_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			}
			conn.Close()
		}
		if !closed && db != nil {
			db.Close()
		}
		if err != nil && mode != buildTx {
			removeDB(tmp)
		}
	}()
	for {
		if mode == buildCopy {
			if err := copyFile(target, tmp); err != nil {
				log.Warn("cannot copy the previous warehouse; building into a new file", "err", err)
				removeDB(tmp)
				mode = buildNew
			}
			phase("copy the warehouse")
		}
		// Models are tables built with CREATE TABLE AS: row order carries no
		// meaning, and not preserving it lets DuckDB stream big builds within
		// its memory limit instead of buffering them. Inside the build's
		// transaction a table just created is estimated at ~0 rows, and an
		// ASOF join whose left side is estimated under the loop threshold
		// becomes a nested loop over the right side (core.peer_features on
		// England: 2.6 s became 21 s); the ASOF operator suits every size.
		//
		// An incremental build appends each refreshed period in row groups of
		// its own and leaves them so: DuckDB's checkpoint would otherwise
		// merge them with their neighbours (its vacuum), compressing the
		// month's rows a second time at commit (an England month's commit:
		// 4.4–6.9 s, 1.4–3.0 s without). `transform --full` writes every
		// table compactly again.
		init := []string{"SET preserve_insertion_order = false", "SET asof_loop_join_threshold = 0"}
		if mode != buildNew {
			init = append(init, "SET max_vacuum_tasks = 0")
		}
		db, err = duck.Open(ctx, file(), duck.Options{MemoryLimit: o.MemoryLimit, Threads: o.Threads, Init: init})
		if err != nil && mode == buildTx {
			// Held open by a reader, or unreadable: a copy is read with a
			// shared lock, and an unreadable one falls back to a full build.
			log.Warn("cannot open the warehouse to change it in place; building on a copy", "warehouse", target, "err", err)
			db = nil
			mode = buildCopy
			if !copyable(target) {
				mode = buildNew
			}
			continue
		}
		if err != nil && mode == buildCopy {
			// An unreadable previous warehouse is rebuilt in full, as below.
			log.Warn("previous warehouse unreadable; building in full", "warehouse", target, "err", err)
			db = nil
			removeDB(tmp)
			mode = buildNew
			continue
		}
		if err != nil {
			return res, fmt.Errorf("build: %w", err)
		}
		db.SetMaxOpenConns(1)
		conn, err = db.Conn(ctx)
		if err != nil {
			return res, fmt.Errorf("build: connect: %w", err)
		}
		b = &builder{ctx: ctx, conn: conn, log: log, p: p, changes: map[string]change{}, content: map[string]contentState{},
			reads: map[string]map[string][]string{}, prev: prevAlias, memoryLimit: o.MemoryLimit}
		phase("open the warehouse")
		if mode == buildTx {
			if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&b.prev); err != nil {
				return res, fmt.Errorf("build: name of the warehouse's catalog: %w", err)
			}
			if err := b.exec("begin the build's transaction", "BEGIN TRANSACTION"); err != nil {
				return res, fmt.Errorf("build: %w", err)
			}
			havePrev, prevLake = true, b.readPrevious(o.Full)
			b.keepRuns()
		} else {
			havePrev, prevLake = b.attachPrevious(target, o.Full)
		}
		phase("read the previous state")
		if mode == buildNew || b.reuse {
			break
		}
		// Nothing can be reused after all: start again from an empty file.
		if mode == buildTx {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
		}
		conn.Close()
		db.Close()
		conn, db = nil, nil
		if mode == buildCopy {
			removeDB(tmp)
		}
		mode = buildNew
	}
	b.mode = mode
	res.Full = !b.reuse
	if havePrev && o.Progress != nil {
		last = lastDurations(ctx, conn, b.prev)
	}
	if mode != buildNew {
		if err := b.clearCopy(); err != nil {
			return res, fmt.Errorf("build: %w", err)
		}
		phase("clear the previous views and state")
	}
	if err := b.prepare(o, refs); err != nil {
		return res, fmt.Errorf("build: %w", err)
	}
	phase("prepare")
	curLake, err := b.createLake(lake, prevLake)
	if err != nil {
		return res, fmt.Errorf("build: %w", err)
	}
	phase("lake views")
	prog := newProgress(o.Progress, p.models, last)
	for _, m := range p.models {
		if err := b.model(m, &res); err != nil {
			prog.finish()
			return res, fmt.Errorf("build: %w", err)
		}
		prog.step(res.Models[len(res.Models)-1])
	}
	prog.finish()
	phase("models")

	res.Duration = time.Since(start)
	if err := writeState(ctx, conn, b.prevRuns, curLake, p, b.hashes, res, start); err != nil {
		return res, fmt.Errorf("build: record state: %w", err)
	}
	if err := writeContent(ctx, conn, p, b.content); err != nil {
		return res, fmt.Errorf("build: record table fingerprints: %w", err)
	}
	if err := writeReleaseState(ctx, conn, p, b.content, b.reads); err != nil {
		return res, fmt.Errorf("build: record the release layer's fingerprints: %w", err)
	}
	if havePrev && mode != buildTx {
		if err := b.exec("detach previous warehouse", "DETACH "+prevAlias); err != nil {
			return res, fmt.Errorf("build: %w", err)
		}
	}
	phase("record state")
	if mode == buildTx {
		if err := b.exec("commit", "COMMIT"); err != nil {
			return res, fmt.Errorf("build: %w", err)
		}
		phase("commit")
	}
	if err := b.exec("checkpoint", "CHECKPOINT"); err != nil {
		return res, fmt.Errorf("build: %w", err)
	}
	phase("checkpoint")
	closed = true
	conn.Close()
	if err := db.Close(); err != nil {
		return res, fmt.Errorf("build: close the warehouse: %w", err)
	}
	phase("close")
	if mode == buildTx {
		res.Duration = time.Since(start)
		log.Info("transform done", "warehouse", target, "summary", res.Summary(), "duration", res.Duration.Round(time.Millisecond))
		return res, nil
	}
	if err := publish(tmp, target); err != nil {
		return res, fmt.Errorf("build: %w", err)
	}
	phase("sync and rename")
	res.Duration = time.Since(start)
	log.Info("transform done", "warehouse", target, "summary", res.Summary(), "duration", res.Duration.Round(time.Millisecond))
	return res, nil
}

// checkInputs checks a build's project and options, reads the reference
// files and the lake tables, and makes the warehouse's folder.
func checkInputs(p *Project, o Options) (target string, refs map[string]refTable, lake []LakeTable, err error) {
	if p == nil {
		return "", nil, nil, errors.New("build: no project")
	}
	if o.Warehouse == "" {
		return "", nil, nil, errors.New("build: no warehouse path")
	}
	target, err = filepath.Abs(o.Warehouse)
	if err != nil {
		return "", nil, nil, fmt.Errorf("build: warehouse path: %w", err)
	}
	refs, err = loadRefs(o)
	if err != nil {
		return "", nil, nil, fmt.Errorf("build: %w", err)
	}
	lake, err = checkLake(p, o.Lake, refs)
	if err != nil {
		return "", nil, nil, err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return "", nil, nil, fmt.Errorf("build: %w", err)
	}
	return target, refs, lake, nil
}

// builder holds what the steps of one build share: the new warehouse's
// connection, whether the previous warehouse is reused, and what changed.
type builder struct {
	ctx        context.Context
	conn       *sql.Conn
	log        *slog.Logger
	p          *Project
	reuse      bool                 // copy and refresh from the previous warehouse
	mode       buildMode            // where the build writes; all but buildNew change the previous tables in place
	prev       string               // the catalog holding the previous build: attached, or the warehouse itself
	prevRuns   string               // the previous build's run history, to carry over ("" if none)
	prevModels map[string]prevModel // the previous build's models, when reused
	// prevContent and content fingerprint table models' rows (previous build, this one).
	prevContent, content map[string]contentState
	hashes               map[string]string // each model's hash, as recorded for the next build
	changes              map[string]change // per lake table and model: what changed
	noOptimizers         string            // DuckDB optimizers off while planning for columnsRead
	// reads records, per model, the columns it reads of each table
	// (columnsRead), for the release fingerprints (writeReleaseState).
	reads map[string]map[string][]string
	// memoryLimit is Options.MemoryLimit, restored after a model's
	// duckdb_memory: directive ("" for DuckDB's default)
	memoryLimit string
}

func (b *builder) exec(what, q string) error {
	if _, err := b.conn.ExecContext(b.ctx, q); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// attachPrevious attaches the previous warehouse (if any) read-only and,
// unless full, reads its build state so unchanged work can be reused.
func (b *builder) attachPrevious(target string, full bool) (havePrev bool, prevLake map[string]lakeState) {
	if _, statErr := os.Stat(target); statErr == nil {
		if err := b.exec("attach previous warehouse", fmt.Sprintf("ATTACH %s AS %s (READ_ONLY)", quoteString(target), prevAlias)); err != nil {
			b.log.Warn("previous warehouse unreadable; building in full", "warehouse", target, "err", err)
		} else {
			b.prevRuns = prevAlias + "._gplens.runs"
			return true, b.readPrevious(full)
		}
	}
	return false, b.readPrevious(true) // nothing to read: no reuse
}

// readPrevious reads the previous build's state from b.prev, deciding
// whether its tables can be reused (b.reuse); with full, it reads nothing.
func (b *builder) readPrevious(full bool) (prevLake map[string]lakeState) {
	prevLake, b.prevModels, b.prevContent = map[string]lakeState{}, map[string]prevModel{}, map[string]contentState{}
	b.reuse = !full
	if b.reuse {
		pl, pm, stateErr := readState(b.ctx, b.conn, b.prev)
		if stateErr != nil {
			b.log.Warn("previous warehouse has no usable build state; building in full", "err", stateErr)
			b.reuse = false
		} else {
			prevLake, b.prevModels = pl, pm
			b.prevContent = readContent(b.ctx, b.conn, b.prev)
		}
	}
	return prevLake
}

// keepRuns copies the run history aside before clearCopy drops the state
// tables of a warehouse changed in place; an older warehouse may not have it.
func (b *builder) keepRuns() {
	if _, err := b.conn.ExecContext(b.ctx, "CREATE TEMP TABLE _gplens_prev_runs AS SELECT * FROM _gplens.runs"); err == nil {
		b.prevRuns = "temp.main._gplens_prev_runs"
	}
}

// prepare creates the schemas, runs the functions, sets the vars, works
// out every model's hash and creates the reference tables.
func (b *builder) prepare(o Options, refs map[string]refTable) error {
	schemas := map[string]bool{LakeSchema: true, RefSchema: true, stateSchema: true}
	for _, m := range b.p.models {
		schemas[m.Schema] = true
	}
	for _, s := range sortedKeys(schemas) {
		if err := b.exec("create schema "+s, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(s)); err != nil {
			return err
		}
	}
	for _, f := range b.p.functions {
		if err := b.exec("run "+f.Path, f.SQL); err != nil {
			return err
		}
	}
	varNames := make([]string, 0, len(o.Vars))
	for k := range o.Vars {
		varNames = append(varNames, k)
	}
	sort.Strings(varNames)
	vh := sha256.New()
	for _, k := range varNames {
		if !lakeNameRe.MatchString(k) {
			return fmt.Errorf("var name %q: want letters, digits and _", k)
		}
		if strings.EqualFold(k, PeriodsVar) {
			return fmt.Errorf("var name %q is reserved for incremental refreshes", k)
		}
		if err := b.exec("set var "+k, fmt.Sprintf("SET VARIABLE %s = %s", quoteIdent(k), quoteString(o.Vars[k]))); err != nil {
			return err
		}
		fmt.Fprintf(vh, "%s=%s\x00", k, o.Vars[k])
	}
	// A model's recorded hash covers its SQL, the functions, the vars and
	// the reference files it reads, so editing a data/ file rebuilds its readers.
	b.hashes = map[string]string{}
	for _, m := range b.p.models {
		b.hashes[m.Name] = m.hash
		extra := ""
		if len(varNames) > 0 {
			extra = hex.EncodeToString(vh.Sum(nil))
		}
		for _, in := range m.Inputs {
			if r, ok := refs[in]; ok {
				extra += r.hash
			}
		}
		if extra != "" {
			sum := sha256.Sum256([]byte(m.hash + extra))
			b.hashes[m.Name] = hex.EncodeToString(sum[:])
		}
	}
	return createRefs(b.ctx, b.conn, refs)
}

// createLake makes the lake: views over the Parquet files, or empty tables
// until there are some; and notes which periods of each changed.
func (b *builder) createLake(lake []LakeTable, prevLake map[string]lakeState) (map[string]lakeState, error) {
	curLake := map[string]lakeState{}
	root := lakeRoot(lake)
	for _, t := range lake {
		st, files, err := fingerprint(b.ctx, b.conn, t, root)
		if err != nil {
			return nil, err
		}
		curLake[t.Name] = st
		name := LakeSchema + "." + quoteIdent(t.Name)
		if len(files) > 0 {
			err = b.exec("create lake view "+t.Name, fmt.Sprintf(
				"CREATE VIEW %s AS SELECT * FROM read_parquet(%s, hive_partitioning = true, union_by_name = true, hive_types_autocast = false)",
				name, quoteString(t.Glob)))
		} else {
			if t.Columns == "" {
				return nil, fmt.Errorf("lake table %s: no files match %s and no Columns to create it empty", t.Name, t.Glob)
			}
			err = b.exec("create empty lake table "+t.Name, fmt.Sprintf("CREATE TABLE %s (%s)", name, t.Columns))
		}
		if err != nil {
			return nil, err
		}
		ps, all := changedPeriods(prevLake[t.Name], b.reuse && prevLake[t.Name].def != "", st)
		c := change{all: all, periods: map[string]bool{}}
		for _, p := range ps {
			c.periods[p] = true
		}
		b.changes[LakeSchema+"."+strings.ToLower(t.Name)] = c
		b.log.Debug("lake table", "table", t.Name, "files", len(files), "changed_periods", ps, "all_changed", all)
	}
	return curLake, nil
}

// model builds one model (rebuilt, copied, refreshed or a view), counts
// its rows and runs its tests, adding to res.
func (b *builder) model(m *Model, res *Result) error {
	t0 := time.Now()
	c, err := b.modelChange(m)
	if err != nil {
		return err
	}
	b.changes[m.Name] = c
	mr := ModelResult{Name: m.Name, Rows: -1}
	var q []string
	refill, err := b.refillable(m, c)
	if err != nil {
		return err
	}
	mr.Action, mr.Periods, q = modelStatements(m, c, b.mode != buildNew, refill)
	if m.Batch > 0 && mr.Action == Rebuilt {
		periods, err := b.batchPeriods(m)
		if err != nil {
			return err
		}
		q = batchStatements(m, periods, b.mode != buildNew, refill)
	}
	var settings []setting
	if len(q) > 0 {
		if settings, err = b.modelSettings(m); err != nil {
			return fmt.Errorf("model %s (%s): %w", m.Name, m.Path, err)
		}
	}
	if err := b.withSettings(settings, func() error {
		for _, s := range q {
			if err := b.exec(fmt.Sprintf("model %s (%s)", m.Name, m.Path), s); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	releaseGoHeap()
	trimCHeap()
	tBuilt := time.Now()
	self := quoteTable(m.Name)
	if m.Incremental != "" {
		// Catch a wrong declaration on the first build, not on the first refresh.
		if err := b.exec("check", fmt.Sprintf("SELECT %s FROM %s LIMIT 0", quoteIdent(m.Incremental), self)); err != nil {
			return fmt.Errorf("model %s (%s) declares incremental: %s but has no such column: %w", m.Name, m.Path, m.Incremental, err)
		}
	}
	if m.Materialized == Table {
		if err := b.conn.QueryRowContext(b.ctx, "SELECT count(*) FROM "+self).Scan(&mr.Rows); err != nil {
			return fmt.Errorf("count rows of %s: %w", m.Name, err)
		}
		if err := b.settle(m, &mr); err != nil {
			return err
		}
	}
	tSettled := time.Now()
	if err := b.tests(m, mr, res); err != nil {
		return err
	}
	mr.Duration = time.Since(t0)
	b.log.Debug("model timings", "name", m.Name, "build", tBuilt.Sub(t0).Round(time.Millisecond),
		"count_and_fingerprint", tSettled.Sub(tBuilt).Round(time.Millisecond), "tests", time.Since(tSettled).Round(time.Millisecond))
	res.Models = append(res.Models, mr)
	attrs := []any{"name", m.Name, "action", mr.Action, "periods", mr.Periods, "rows", mr.Rows, "tests", len(m.Tests), "duration", mr.Duration.Round(time.Millisecond)}
	if !res.Full && m.Materialized == Table && mr.Action != Copied {
		attrs = append(attrs, "changed", mr.Changed, "changed_periods", mr.ChangedPeriods)
	}
	b.log.Info("model", attrs...)
	return nil
}

// releaseGoHeap gives Go's free heap back to the OS when it holds more
// than goHeapKeep: Go functions called from a model's SQL (the disclosure
// audit, 1-2 GB on England) leave a heap that is garbage once the model is
// built, which Go would return only slowly while the next model's DuckDB
// buffers grow beside it (England at memory_limit 3GB: 5.2 GB peak RSS in
// disclosure.indicator_values, after disclosure.cells). A model that called
// no Go leaves Go's heap at a few MB, and this costs a ReadMemStats.
func releaseGoHeap() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapSys-ms.HeapReleased > goHeapKeep {
		debug.FreeOSMemory()
	}
}

const goHeapKeep = 256 << 20

// refillable says whether a table model rebuilt whole inside the build's
// transaction can be emptied and refilled rather than dropped and created:
// a table created in the transaction is estimated at ~0 rows, and its
// readers' joins are planned for that (England: release.trends 2.3 s became
// 4.1-4.6 s); refilled, it keeps the committed row count as its estimate.
// Only when its columns are those of the previous table.
func (b *builder) refillable(m *Model, c change) (bool, error) {
	if b.mode != buildTx || !c.all || c.newCols || m.Materialized != Table {
		return false, nil
	}
	if pm, ok := b.prevModels[m.Name]; !ok || pm.materialized != Table {
		return false, nil
	}
	return sameColumns(b.ctx, b.conn, b.prev, m)
}

// A setting is a DuckDB session setting a model's header changes while
// the model's statements run (its tests run with the build's): the
// statement giving the model's value and the one putting the build's back.
type setting struct {
	name, set, restore string
	// apply and undo, when set, change something on the Go side with it
	// (after set, before restore)
	apply, undo func()
}

// modelSettings lists the settings m's directives change: threads: caps
// DuckDB's threads (not raised above the build's), duckdb_memory: lowers
// its memory_limit (and gives Go's heap the rest), build_side: right turns
// off the optimizer that picks each join's build side.
func (b *builder) modelSettings(m *Model) ([]setting, error) {
	var ss []setting
	if m.DuckDBMemory > 0 && m.DuckDBMemory < 100 {
		s, err := b.memorySetting(m.DuckDBMemory)
		if err != nil {
			return nil, err
		}
		ss = append(ss, s)
	}
	if m.Threads > 0 {
		// DuckDB's client thread polls for work while the pipeline's last
		// task runs (it does not wait for one), so when that task is one
		// long Go call fanning out over the cores (sdc_suppress), the
		// polling thread takes a core from it; with one thread the client
		// thread runs the call itself.
		cur, err := b.currentSetting("threads")
		if err != nil {
			return nil, err
		}
		prev, err := strconv.Atoi(cur)
		if err != nil {
			return nil, fmt.Errorf("DuckDB threads %q: %w", cur, err)
		}
		if m.Threads < prev {
			ss = append(ss, setting{name: "threads", set: fmt.Sprintf("SET threads = %d", m.Threads), restore: fmt.Sprintf("SET threads = %d", prev)})
		}
	}
	if m.BuildRight {
		// DuckDB's build_side_probe_side optimizer swaps a join's sides
		// when its estimates say the left is cheaper to hash; without it,
		// a LEFT JOIN hashes its right-hand side, as written.
		const opt = "build_side_probe_side"
		prev, err := b.currentSetting("disabled_optimizers")
		if err != nil {
			return nil, err
		}
		if !slices.Contains(strings.Split(prev, ","), opt) {
			next := opt
			if prev != "" {
				next = prev + "," + opt
			}
			ss = append(ss, setting{name: "disabled_optimizers", set: "SET disabled_optimizers = " + quoteString(next), restore: "SET disabled_optimizers = " + quoteString(prev)})
		}
	}
	return ss, nil
}

// memorySetting is DuckDB's memory_limit at pct percent of the build's (a
// model's duckdb_memory: directive), and Go's soft memory limit at the
// rest. DuckDB keeps its buffers up to its limit, and a Go function the
// model calls (sdc_suppress) allocates beside them on Go's heap, which the
// limit does not count: England at memory_limit 3GB peaked at 4.5-5.1 GB
// inside disclosure.cells, DuckDB's cached blocks and a gigabyte or two of
// Go's. Lowering the limit makes DuckDB give back what it holds above it;
// the model's own DuckDB work (four months' lists) needs far less. Go's
// heap, left to itself, grows to twice what it holds live before it
// collects: its limit makes it collect sooner instead (GOMEMLIMIT, when
// set, is left as it is).
func (b *builder) memorySetting(pct int) (setting, error) {
	// The limit as configured, not as it reads back ("2.7 GiB" for 3GB),
	// and restored so; DuckDB's default (or a setting in a form other than
	// a size) read back, and the default restored by RESET.
	restore := "RESET memory_limit"
	if b.memoryLimit != "" {
		restore = "SET memory_limit = " + quoteString(b.memoryLimit)
	}
	n, err := duck.ParseBytes(b.memoryLimit)
	if err != nil {
		cur, err := b.currentSetting("memory_limit")
		if err != nil {
			return setting{}, err
		}
		if n, err = duck.ParseBytes(cur); err != nil {
			return setting{}, fmt.Errorf("DuckDB memory_limit %q: %w", cur, err)
		}
	}
	lim := max(n/100*int64(pct), 64<<20)
	s := setting{name: "memory_limit", set: fmt.Sprintf("SET memory_limit = '%dMiB'", lim>>20), restore: restore}
	goLim := max(n-lim, 64<<20)
	if os.Getenv("GOMEMLIMIT") == "" {
		var prev int64
		s.apply = func() { prev = debug.SetMemoryLimit(goLim) }
		s.undo = func() { debug.SetMemoryLimit(prev) }
	}
	b.log.Debug("memory_limit split for the model", "from_mib", n>>20, "duckdb_mib", lim>>20, "go_mib", goLim>>20)
	return s, nil
}

// currentSetting reads a DuckDB setting as the build's connection has it.
func (b *builder) currentSetting(name string) (string, error) {
	var v string
	if err := b.conn.QueryRowContext(b.ctx, "SELECT CAST(current_setting("+quoteString(name)+") AS VARCHAR)").Scan(&v); err != nil {
		return "", fmt.Errorf("read DuckDB %s: %w", name, err)
	}
	return v, nil
}

// withSettings runs f with ss set and sets them back after, in reverse
// order, whatever f returns: even when the build was cancelled, since the
// connection lives on. f's error wins over a failed restore.
func (b *builder) withSettings(ss []setting, f func() error) error {
	for i, s := range ss {
		if err := b.exec(s.name, s.set); err != nil {
			if rerr := b.restoreSettings(ss[:i]); rerr != nil {
				b.log.Warn("cannot restore DuckDB settings", "err", rerr)
			}
			return err
		}
		if s.apply != nil {
			s.apply()
		}
	}
	err := f()
	if rerr := b.restoreSettings(ss); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// restoreSettings puts back the build's values of ss, the last set first;
// the first failure is returned, the others still restored.
func (b *builder) restoreSettings(ss []setting) error {
	var first error
	for i := len(ss) - 1; i >= 0; i-- {
		if ss[i].undo != nil {
			ss[i].undo()
		}
		if _, err := b.conn.ExecContext(context.WithoutCancel(b.ctx), ss[i].restore); err != nil && first == nil {
			first = fmt.Errorf("restore DuckDB %s (%s): %w", ss[i].name, ss[i].restore, err)
		}
	}
	return first
}

// modelChange works out what changed for a model: everything (its SQL,
// hash or materialisation, an input changed in full, or a non-incremental
// model whose inputs changed), some periods, or nothing.
func (b *builder) modelChange(m *Model) (change, error) {
	c := change{periods: map[string]bool{}}
	pm, ok := b.prevModels[m.Name]
	if !b.reuse || !ok || pm.hash != b.hashes[m.Name] || pm.materialized != m.Materialized {
		c.all = true
	}
	reads, err := b.columnsRead(m)
	if err != nil {
		return c, err
	}
	b.reads[m.Name] = reads
	for _, d := range append(append([]string(nil), m.Inputs...), m.Deps...) {
		dc := b.changes[d]
		if cols, ok := reads[d]; ok {
			// Also fingerprints the projection for the next build, so it
			// runs whatever else changed.
			if dc, err = b.projectedChange(d, cols, dc); err != nil {
				return c, err
			}
		}
		c.all = c.all || dc.all
		for p := range dc.periods {
			c.periods[p] = true
		}
	}
	if !c.all && len(c.periods) > 0 && m.Incremental == "" {
		c.all = true
	}
	if !c.all && m.YearOfMonth {
		// a year's rows rest on its months (refresh_year_of_month)
		for _, p := range sortedKeys(c.periods) {
			if fy, ok := period.YearOf(p); ok {
				c.periods[fy] = true
			}
		}
	}
	if !c.all && m.LaterPeriods && len(c.periods) > 0 {
		// a month's rows rest on the latest figures available by it
		// (refresh_later_periods): every month from the earliest change on
		months, ok := laterMonths(c.periods)
		if !ok {
			c.all = true
		} else {
			from := slices.Min(months)
			for _, mo := range months {
				c.periods[mo] = true
			}
			for p := range b.prevContent[m.Name].parts {
				if p != nullPeriod && p != wholeTable && p >= from {
					c.periods[p] = true
				}
			}
		}
	}
	if !c.all && len(c.periods) > 0 && coversEvery(b.prevContent[m.Name].parts, c.periods) {
		// Every period the table holds changed (a renamed area carries its
		// new name into all of them): building the table afresh is cheaper
		// than deleting and re-inserting every row (England, 24 months:
		// release.indicator_values 48.8 s built, 62.4 s refreshed). The
		// fingerprints still say which periods' rows differ.
		b.log.Debug("every period changed; rebuilding in full", "name", m.Name)
		c.all = true
	}
	if c.all {
		c.periods = nil
	}
	if m.Materialized == Table && !c.all && !c.none() {
		same, err := sameColumns(b.ctx, b.conn, b.prev, m)
		if err != nil {
			return c, err
		}
		if !same {
			b.log.Info("model output columns changed; rebuilding in full", "name", m.Name)
			c = change{all: true, newCols: true}
		}
	}
	return c, nil
}

// laterMonths maps each period of a change in a model declared
// refresh_later_periods to the first month it reaches: a month ('YYYY-MM')
// itself, a financial year ('YYYY-YY') its last month (March), from which
// its figures count as available (and where a year new to the lake adds a
// month row); false for any other period, which the caller answers with a
// full rebuild.
func laterMonths(periods map[string]bool) ([]string, bool) {
	var out []string
	for _, p := range sortedKeys(periods) {
		m, ok := period.LastMonth(p)
		if !ok {
			return nil, false
		}
		out = append(out, m)
	}
	return out, len(out) > 0
}

// coversEvery says whether periods include every period of a previous
// table's fingerprint (rows without a period are always recomputed).
func coversEvery(parts map[string]string, periods map[string]bool) bool {
	n := 0
	for p := range parts {
		if p == nullPeriod || p == wholeTable {
			continue
		}
		if !periods[p] {
			return false
		}
		n++
	}
	return n > 0
}

// modelStatements is the SQL that produces a model given what changed;
// inPlace when the build changes the previous warehouse (or a copy), which
// already holds the previous tables (and no views: clearCopy dropped them);
// refill when a table rebuilt whole is emptied and refilled (refillable).
func modelStatements(m *Model, c change, inPlace, refill bool) (Action, []string, []string) {
	self := quoteTable(m.Name)
	switch {
	case m.Materialized == View:
		return Viewed, nil, []string{fmt.Sprintf("CREATE VIEW %s AS\n%s\n", self, m.body)}
	case c.all && refill:
		return Rebuilt, nil, []string{"DELETE FROM " + self, fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM (\n%s\n)", self, m.body)}
	case c.all:
		create := fmt.Sprintf("CREATE TABLE %s AS\n%s\n", self, m.body)
		if inPlace {
			return Rebuilt, nil, []string{"DROP TABLE IF EXISTS " + self, create}
		}
		return Rebuilt, nil, []string{create}
	case c.none():
		if inPlace {
			return Copied, nil, nil
		}
		return Copied, nil, []string{fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM %s.%s", self, prevAlias, self)}
	}
	periods := sortedKeys(c.periods)
	col := quoteIdent(m.Incremental)
	in := periodList(periods)
	// The rows kept are those of the other periods; NULL-period rows are
	// always recomputed.
	keep := fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM %s.%s WHERE %s NOT IN (%s)", self, prevAlias, self, col, in)
	if inPlace {
		keep = fmt.Sprintf("DELETE FROM %s WHERE %s IN (%s) OR %s IS NULL", self, col, in, col)
	}
	// in_build(period) in the model reads PeriodsVar, so its big inputs can
	// be cut to these periods before any join or window, which a filter on
	// the outer query does not always reach.
	q := []string{keep}
	if m.Batch > 0 {
		q = append(q, batchInserts(m, periods)...)
	} else {
		q = append(q, fmt.Sprintf("SET VARIABLE %s = CAST([%s] AS VARCHAR[])", PeriodsVar, in),
			fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM (\n%s\n) AS _model WHERE _model.%s IN (%s) OR _model.%s IS NULL",
				self, m.body, col, in, col))
	}
	return Refreshed, periods, append(q, fmt.Sprintf("SET VARIABLE %s = CAST(NULL AS VARCHAR[])", PeriodsVar))
}

// batchPeriods lists the periods a batched model is built for: those of
// the table its batch directive names.
func (b *builder) batchPeriods(m *Model) ([]string, error) {
	col := quoteIdent(m.Incremental)
	rows, err := b.conn.QueryContext(b.ctx, fmt.Sprintf("SELECT DISTINCT CAST(%s AS VARCHAR) FROM %s WHERE %s IS NOT NULL ORDER BY 1",
		col, quoteTable(m.BatchFrom), col))
	if err != nil {
		return nil, fmt.Errorf("model %s (%s): list the periods of %s to build in batches: %w", m.Name, m.Path, m.BatchFrom, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("model %s: read the periods of %s: %w", m.Name, m.BatchFrom, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("model %s: read the periods of %s: %w", m.Name, m.BatchFrom, err)
	}
	return out, nil
}

// batchStatements build a batched model in full: the empty table (its
// columns from the query run for no period), then each batch of periods as
// a refresh of those periods inserts them. Only the rows of a batch's
// periods are kept from its run, so no row is built twice.
func batchStatements(m *Model, periods []string, inPlace, refill bool) []string {
	self := quoteTable(m.Name)
	var q []string
	switch {
	case refill:
		q = append(q, "DELETE FROM "+self)
	case inPlace:
		q = append(q, "DROP TABLE IF EXISTS "+self)
	}
	if !refill {
		q = append(q, fmt.Sprintf("SET VARIABLE %s = CAST([] AS VARCHAR[])", PeriodsVar),
			fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM (\n%s\n) AS _model LIMIT 0", self, m.body))
	}
	q = append(q, batchInserts(m, periods)...)
	return append(q, fmt.Sprintf("SET VARIABLE %s = CAST(NULL AS VARCHAR[])", PeriodsVar))
}

// batchInserts insert a batched model's rows of periods, a batch at a time
// (it has no NULL periods: its header says not_null).
func batchInserts(m *Model, periods []string) []string {
	self, col := quoteTable(m.Name), quoteIdent(m.Incremental)
	var q []string
	for len(periods) > 0 {
		n := min(m.Batch, len(periods))
		in := periodList(periods[:n])
		periods = periods[n:]
		q = append(q, fmt.Sprintf("SET VARIABLE %s = CAST([%s] AS VARCHAR[])", PeriodsVar, in),
			fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM (\n%s\n) AS _model WHERE _model.%s IN (%s)", self, m.body, col, in))
	}
	return q
}

// tests runs a model's data tests, skipping or scoping those whose outcome
// the previous build already settled.
func (b *builder) tests(m *Model, mr ModelResult, res *Result) error {
	self := quoteTable(m.Name)
	same, scope := mr.Action == Copied, mr.Periods
	if mr.Action == Viewed && b.reuse {
		// A view whose SQL and inputs did not change shows the rows it passed
		// with last time; one declared incremental whose inputs changed in
		// some periods shows new rows in those periods only.
		c := b.changes[m.Name]
		same = c.none()
		if !c.all && m.Incremental != "" {
			scope = sortedKeys(c.periods)
		}
	}
	for _, t := range m.Tests {
		// A copied table holds the data it passed this very test with last
		// time; only a changed lookup target could make the outcome differ.
		if same && (t.Ref == "" || b.changes[t.Ref].none()) {
			res.TestsSkipped++
			continue
		}
		q := t.SQL
		if len(scope) > 0 && periodWise(t, m.Incremental, b.changes) {
			// The other periods' rows are those that passed last time.
			col := quoteIdent(m.Incremental)
			in := periodList(scope)
			q = t.on(fmt.Sprintf("(SELECT * FROM %s WHERE %s IN (%s) OR %s IS NULL)", self, col, in, col))
			res.TestsScoped++
		}
		if err := runTest(b.ctx, b.conn, m, t, q); err != nil {
			return err
		}
		res.Tests++
	}
	return nil
}

// checkLake validates the lake tables and that every input a model reads is among them.
func checkLake(p *Project, lake []LakeTable, refs map[string]refTable) ([]LakeTable, error) {
	var errs []error
	seen := map[string]bool{}
	out := make([]LakeTable, 0, len(lake))
	for _, t := range lake {
		if !lakeNameRe.MatchString(t.Name) {
			errs = append(errs, fmt.Errorf("lake table name %q: want letters, digits and _", t.Name))
			continue
		}
		if seen[strings.ToLower(t.Name)] {
			errs = append(errs, fmt.Errorf("lake table %s listed twice", t.Name))
			continue
		}
		seen[strings.ToLower(t.Name)] = true
		if t.Glob == "" {
			errs = append(errs, fmt.Errorf("lake table %s: no glob", t.Name))
			continue
		}
		abs, err := filepath.Abs(t.Glob)
		if err != nil {
			errs = append(errs, fmt.Errorf("lake table %s: %w", t.Name, err))
			continue
		}
		t.Glob = filepath.ToSlash(abs)
		out = append(out, t)
	}
	for _, m := range p.models {
		for _, in := range m.Inputs {
			if strings.HasPrefix(in, RefSchema+".") {
				if _, ok := refs[in]; !ok {
					errs = append(errs, fmt.Errorf("%s: reads %s, but there is no data/%s.csv", m.Path, in, strings.TrimPrefix(in, RefSchema+".")))
				}
				continue
			}
			if !seen[strings.TrimPrefix(in, LakeSchema+".")] {
				errs = append(errs, fmt.Errorf("%s: reads %s, which is not a configured lake table", m.Path, in))
			}
		}
		for _, t := range m.Tests {
			if strings.HasPrefix(t.Ref, LakeSchema+".") && !seen[strings.TrimPrefix(t.Ref, LakeSchema+".")] {
				errs = append(errs, fmt.Errorf("%s:%d: %s looks up %s, which is not a configured lake table", m.Path, t.Line, t.Name, t.Ref))
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("build: %w", errors.Join(errs...))
	}
	return out, nil
}

// runTest runs one data test and returns a *TestFailure when rows come back.
func runTest(ctx context.Context, conn *sql.Conn, m *Model, t Test, query string) error {
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM (\n"+query+"\n)").Scan(&n); err != nil {
		return fmt.Errorf("model %s (%s): test %s (line %d): %w", m.Name, m.Path, t.Name, t.Line, err)
	}
	if n == 0 {
		return nil
	}
	f := &TestFailure{Model: m.Name, Path: m.Path, Test: t, Count: n}
	rows, err := conn.QueryContext(ctx, "SELECT * FROM (\n"+query+"\n) LIMIT 5")
	if err != nil {
		return fmt.Errorf("model %s (%s): test %s: fetch offending rows: %w", m.Name, m.Path, t.Name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("model %s: test %s: %w", m.Name, t.Name, err)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("model %s: test %s: %w", m.Name, t.Name, err)
		}
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = fmt.Sprintf("%s=%s", c, formatValue(vals[i]))
		}
		f.Rows = append(f.Rows, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("model %s: test %s: %w", m.Name, t.Name, err)
	}
	return f
}

func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return fmt.Sprintf("%q", x)
	case []byte:
		return fmt.Sprintf("%q", x)
	case time.Time:
		return x.Format(time.RFC3339)
	default:
		return fmt.Sprint(x)
	}
}

// readState loads the previous build's lake fingerprints and model hashes.
func readState(ctx context.Context, conn *sql.Conn, prev string) (map[string]lakeState, map[string]prevModel, error) {
	lake := map[string]lakeState{}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(
		"SELECT lake_table, def, period, fingerprint FROM %s.%s.lake_state", quoteIdent(prev), stateSchema))
	if err != nil {
		return nil, nil, fmt.Errorf("read lake state: %w", err)
	}
	for rows.Next() {
		var name, def string
		var period, fp sql.NullString
		if err := rows.Scan(&name, &def, &period, &fp); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read lake state: %w", err)
		}
		st, ok := lake[name]
		if !ok {
			st = lakeState{def: def, parts: map[string]string{}}
		}
		if fp.Valid {
			st.parts[period.String] = fp.String
		}
		lake[name] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read lake state: %w", err)
	}
	models := map[string]prevModel{}
	// Only models whose table is still there can be copied.
	rows, err = conn.QueryContext(ctx, fmt.Sprintf(`SELECT m.name, m.hash, m.materialized FROM %s.%s.models AS m
		WHERE m.materialized = 'view' OR m.name IN (
			SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = %s)`,
		quoteIdent(prev), stateSchema, quoteString(prev)))
	if err != nil {
		return nil, nil, fmt.Errorf("read model state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var pm prevModel
		if err := rows.Scan(&name, &pm.hash, &pm.materialized); err != nil {
			return nil, nil, fmt.Errorf("read model state: %w", err)
		}
		models[name] = pm
	}
	return lake, models, rows.Err()
}

// writeState records what this build read and made, for the next one.
func writeState(ctx context.Context, conn *sql.Conn, prevRuns string, lake map[string]lakeState, p *Project, hashes map[string]string, res Result, start time.Time) error {
	stmts := []string{
		`CREATE TABLE _gplens.lake_state (lake_table VARCHAR, def VARCHAR, period VARCHAR, fingerprint VARCHAR)`,
		`CREATE TABLE _gplens.models (name VARCHAR, path VARCHAR, hash VARCHAR, materialized VARCHAR, incremental VARCHAR,
			description VARCHAR, action VARCHAR, periods VARCHAR[], row_count BIGINT, built_at TIMESTAMPTZ, duration_ms BIGINT)`,
		`CREATE TABLE _gplens.runs (started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, full_build BOOLEAN,
			rebuilt INTEGER, copied INTEGER, refreshed INTEGER, views INTEGER, tests INTEGER, summary VARCHAR)`,
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	if prevRuns != "" {
		// Keep the run history; an older warehouse may not have it.
		_, _ = conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO _gplens.runs BY NAME SELECT * FROM %s", prevRuns))
	}
	names := make([]string, 0, len(lake))
	for n := range lake {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := lake[n]
		if len(st.parts) == 0 {
			if _, err := conn.ExecContext(ctx, `INSERT INTO _gplens.lake_state VALUES (?, ?, NULL, NULL)`, n, st.def); err != nil {
				return err
			}
		}
		for _, period := range sortedMapKeys(st.parts) {
			if _, err := conn.ExecContext(ctx, `INSERT INTO _gplens.lake_state VALUES (?, ?, ?, ?)`, n, st.def, period, st.parts[period]); err != nil {
				return err
			}
		}
	}
	now := time.Now()
	byName := map[string]ModelResult{}
	count := map[Action]int{}
	for _, mr := range res.Models {
		byName[mr.Name] = mr
		count[mr.Action]++
	}
	for _, m := range p.models {
		mr := byName[m.Name]
		var rows any
		if mr.Rows >= 0 {
			rows = mr.Rows
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO _gplens.models VALUES (?, ?, ?, ?, ?, ?, ?, string_split(?, ','), ?, ?, ?)`,
			m.Name, m.Path, hashes[m.Name], m.Materialized, m.Incremental, m.Description, string(mr.Action),
			strings.Join(mr.Periods, ","), rows, now, mr.Duration.Milliseconds()); err != nil {
			return err
		}
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO _gplens.runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		start, now, res.Full, count[Rebuilt], count[Copied], count[Refreshed], count[Viewed], res.Tests, res.Summary())
	return err
}

func sortedMapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// publish fsyncs the new file and renames it over the warehouse.
func publish(tmp, target string) error {
	f, err := os.Open(tmp)
	if err != nil {
		return fmt.Errorf("open new warehouse: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync new warehouse: %w", err)
	}
	f.Close()
	// A WAL left by the old file must not be replayed onto the new one.
	if err := os.Remove(target + ".wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove old wal: %w", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("replace warehouse: %w", err)
	}
	if d, err := os.Open(filepath.Dir(target)); err == nil {
		_ = d.Sync() // best effort: not every platform syncs directories
		d.Close()
	}
	return nil
}

// removeOrphanBuilds deletes the half-built files of killed builds
// (<target>.building-<pid> and its .wal) whose process is gone. Builds run
// under the workspace lock, so a live owner is only ever this process.
func removeOrphanBuilds(target string, log *slog.Logger) {
	files, _ := filepath.Glob(target + ".building-*")
	for _, f := range files {
		pidStr := strings.TrimSuffix(strings.TrimPrefix(f, target+".building-"), ".wal")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		if err := os.Remove(f); err == nil {
			log.Info("removed the leftover of a killed build", "file", f)
		}
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func removeDB(path string) {
	os.Remove(path)
	os.Remove(path + ".wal")
}

func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func periodList(ps []string) string {
	q := make([]string, len(ps))
	for i, p := range ps {
		q[i] = quoteString(p)
	}
	return strings.Join(q, ", ")
}

// sameColumns reports whether the model's output has the names and types of
// the previous table, so rows can be replaced period by period.
func sameColumns(ctx context.Context, conn *sql.Conn, prevDB string, m *Model) (bool, error) {
	prev, err := describe(ctx, conn, fmt.Sprintf("SELECT * FROM %s.%s", quoteIdent(prevDB), quoteTable(m.Name)))
	if err != nil {
		return false, fmt.Errorf("model %s: columns of the previous table: %w", m.Name, err)
	}
	cur, err := describe(ctx, conn, "SELECT * FROM (\n"+m.body+"\n)")
	if err != nil {
		return false, fmt.Errorf("model %s (%s): %w", m.Name, m.Path, err)
	}
	return strings.Join(prev, ",") == strings.Join(cur, ","), nil
}

func describe(ctx context.Context, conn *sql.Conn, query string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, "DESCRIBE "+query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprint(vals[0], " ", vals[1]))
	}
	return out, rows.Err()
}

// periodWise reports whether a test of a refreshed table can look at the
// refreshed periods alone: a test of single rows, a unique key that includes
// the period, or a lookup into an unchanged table. Row counts see everything.
func periodWise(t Test, period string, changes map[string]change) bool {
	switch t.Kind {
	case TestNotNull, TestAcceptedValues, TestRange:
		return true
	case TestUnique:
		for _, c := range t.cols {
			if strings.EqualFold(c, period) {
				return true
			}
		}
	case TestRelationships:
		return changes[t.Ref].none()
	}
	return false
}
