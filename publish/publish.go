package publish

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Publish writes the packs of opts.Period for every area of opts.Levels (or
// only opts.Areas) and swaps them into place atomically.
func Publish(ctx context.Context, db *sql.DB, opts Options) (Result, error) {
	if err := opts.normalise(); err != nil {
		return Result{}, err
	}
	fail := func(err error) (Result, error) { return Result{}, fmt.Errorf("publish %s: %w", opts.Period, err) }
	pl, err := loadPlan(ctx, db, &opts)
	if err != nil {
		return fail(err)
	}
	if opts.Suppression.applied, err = appliedRule(ctx, db); err != nil {
		return fail(err)
	}
	if opts.need, err = loadNeedModel(ctx, db, opts.Workspace); err != nil {
		return fail(err)
	}
	levels, err := planLevels(ctx, db, pl, &opts)
	if err != nil {
		return fail(err)
	}
	key := opts.KeyIndicators
	if len(key) == 0 {
		key = defaultKey(pl.catalogue)
	}
	stage, err := opts.Dest.Begin(ctx, opts.Period)
	if err != nil {
		return Result{}, err
	}
	defer stage.Abort()

	total := 0
	for _, lv := range levels {
		total += len(lv.heads)
	}
	prog := newProgress(opts.Progress, total)
	res := Result{Period: opts.Period}
	// Each level's queries start while the level before it renders, so
	// DuckDB's sorts fill the cores the packs leave idle and no level waits
	// for its queries from scratch.
	levelCtx, stopLevels := context.WithCancel(ctx)
	defer stopLevels()
	next := openLevel(levelCtx, db, pl, levels, 0, &opts)
	for i, lv := range levels {
		cur := <-next
		next = openLevel(levelCtx, db, pl, levels, i+1, &opts)
		done, err := []packDone(nil), cur.err
		if err == nil {
			done, err = publishLevel(ctx, pl, cur.cursors, lv, key, stage, &opts, prog)
		}
		cur.close()
		if err != nil {
			stopLevels()
			(<-next).close()
			return fail(err)
		}
		for _, r := range done {
			res.Packs = append(res.Packs, r.info)
			res.Files += r.info.Files
			res.Bytes += r.info.Bytes
			res.Suppressed.plus(r.sdc)
		}
	}
	prog.finish()
	if len(opts.Areas) > 0 {
		if err := carryOver(ctx, stage, &opts, levels); err != nil {
			return fail(err)
		}
	}
	if err := stage.Commit(ctx); err != nil {
		return Result{}, err
	}
	opts.Logger.Info("published", "period", opts.Period, "packs", len(res.Packs), "files", res.Files, "bytes", res.Bytes, "dest", opts.Dest.String(),
		"suppressed_primary", res.Suppressed.Primary, "suppressed_secondary", res.Suppressed.Secondary)
	return res, nil
}

// carryOver keeps the period's other packs when only some areas are published.
func carryOver(ctx context.Context, stage Stage, opts *Options, levels []levelPlan) error {
	existing, err := opts.Dest.Existing(ctx, opts.Period)
	if err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, lv := range levels {
		for _, h := range lv.heads {
			mine[h.area.Code] = true
		}
	}
	for _, code := range existing {
		if mine[code] {
			continue
		}
		if err := stage.CarryOver(ctx, code); err != nil {
			return fmt.Errorf("carry over %s: %w", code, err)
		}
	}
	return nil
}

// packHead is one pack to write: its area and the areas above it.
type packHead struct {
	area      areaRef
	ancestors []areaRef
	practices int
}

type levelPlan struct {
	level string
	heads []packHead
}

// planLevels lists the packs of every level (only opts.Areas when given),
// refusing an area code found at two levels or at none.
func planLevels(ctx context.Context, db *sql.DB, pl *plan, opts *Options) ([]levelPlan, error) {
	var out []levelPlan
	found := map[string]string{}
	for _, level := range opts.Levels {
		heads, err := packHeads(ctx, db, pl, level, opts.Areas)
		if err != nil {
			return nil, err
		}
		for _, h := range heads {
			if prev, ok := found[h.area.Code]; ok {
				return nil, fmt.Errorf("area code %s is both %s and %s; publish one level at a time", h.area.Code, prev, level)
			}
			found[h.area.Code] = level
		}
		out = append(out, levelPlan{level: level, heads: heads})
	}
	var missing []string
	for _, code := range opts.Areas {
		if _, ok := found[code]; !ok {
			missing = append(missing, code)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no area %s at levels %v", strings.Join(missing, ", "), opts.Levels)
	}
	return out, nil
}

func (pl *plan) env(level string, areas []string) queryEnv {
	q := queryEnv{schema: pl.schema, level: level, period: pl.period, practicePeriod: pl.practicePeriod, chosen: pl.chosenSQL(),
		chosenPeriods: pl.chosenPeriodsSQL(), deepest: pl.listDownTo[level]}
	if len(areas) > 0 {
		quoted := make([]string, len(areas))
		for i, a := range areas {
			quoted[i] = sqlQuote(a)
		}
		q.areaFilter = "AND pack_area IN (" + strings.Join(quoted, ", ") + ")"
	}
	b, _ := sectionFS.ReadFile("sections/members.sql")
	q.members = string(b)
	return q
}

func packHeads(ctx context.Context, db *sql.DB, pl *plan, level string, areas []string) ([]packHead, error) {
	env := pl.env(level, areas)
	b, err := sectionFS.ReadFile("sections/packs.sql")
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, env.render(string(b)))
	if err != nil {
		return nil, fmt.Errorf("list %s packs: %w", level, err)
	}
	defer rows.Close()
	var out []packHead
	for rows.Next() {
		var code string
		var name, rc, rn, ic, in, sc, sn sql.NullString
		var n int64
		if err := rows.Scan(&code, &name, &rc, &rn, &ic, &in, &sc, &sn, &n); err != nil {
			return nil, fmt.Errorf("list %s packs: %w", level, err)
		}
		h := packHead{area: areaRef{Level: level, Code: code, Name: cmpOr(name.String, code)}, practices: int(n)}
		for _, a := range []areaRef{{"sub_icb", sc.String, sn.String}, {"icb", ic.String, in.String}, {"region", rc.String, rn.String}} {
			if a.Code != "" {
				a.Name = cmpOr(a.Name, a.Code)
				h.ancestors = append(h.ancestors, a)
			}
		}
		h.ancestors = append(h.ancestors, areaRef{Level: "england", Code: "E92000001", Name: "England"})
		out = append(out, h)
	}
	return out, rows.Err()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type packDone struct {
	info PackInfo
	sdc  SuppressionCounts
}

// publishLevel streams every section of one level (one query each, ordered
// by pack) and renders the packs on opts.Workers goroutines as their rows
// arrive, so memory holds a few packs, not the level.
func publishLevel(ctx context.Context, pl *plan, cursors []*cursor, lv levelPlan, key []string,
	stage Stage, opts *Options, prog *progress) ([]packDone, error) {
	if len(lv.heads) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pos := make(map[string]int, len(lv.heads))
	for i, h := range lv.heads {
		pos[h.area.Code] = i
	}
	type job struct {
		i      int
		tables map[string]*table
	}
	jobs := make(chan job)
	results := make([]packDone, len(lv.heads))
	errs := make([]error, len(lv.heads))
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					continue
				}
				h := lv.heads[j.i]
				p := assemble(pl, h, j.tables, key)
				results[j.i], errs[j.i] = writePack(ctx, p, pl, opts, stage)
				if errs[j.i] != nil {
					cancel()
				}
				prog.done(h.area.Code)
			}
		}()
	}
	var readErr error
	for i, h := range lv.heads {
		tables := map[string]*table{}
		for _, c := range cursors {
			t, err := c.take(h.area.Code, pos)
			if err != nil {
				readErr = err
				break
			}
			tables[c.sec.Name] = t
		}
		if readErr != nil || ctx.Err() != nil {
			break
		}
		select {
		case jobs <- job{i, tables}:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if readErr != nil {
		return nil, readErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// levelCursors are a level's open section queries (or why they failed).
type levelCursors struct {
	cursors []*cursor
	err     error
}

func (l levelCursors) close() {
	for _, c := range l.cursors {
		c.Close()
	}
}

// openLevel starts the section queries of levels[i] in the background;
// past the last level, or for a level without packs, it delivers nothing
// to close. The receiver closes the cursors.
func openLevel(ctx context.Context, db *sql.DB, pl *plan, levels []levelPlan, i int, opts *Options) <-chan levelCursors {
	ch := make(chan levelCursors, 1)
	if i >= len(levels) || len(levels[i].heads) == 0 {
		ch <- levelCursors{}
		return ch
	}
	go func() {
		c, err := openCursors(ctx, db, pl, levels[i], opts)
		ch <- levelCursors{c, err}
	}()
	return ch
}

// openCursors starts the level's section queries (levelQueries), all at
// once (each on its own connection: DuckDB runs a query's serial steps
// beside the others' parallel ones).
func openCursors(ctx context.Context, db *sql.DB, pl *plan, lv levelPlan, opts *Options) ([]*cursor, error) {
	secs, texts, err := levelQueries(ctx, db, pl, lv.level, opts.Areas)
	if err != nil {
		return nil, err
	}
	out := make([]*cursor, len(secs))
	errs := make([]error, len(secs))
	var wg sync.WaitGroup
	for i, s := range secs {
		wg.Go(func() {
			start := time.Now()
			out[i], errs[i] = openCursor(ctx, db, s, texts[i])
			// the query has run up to its first rows (its sort done): what a level waits for
			opts.Logger.Debug("section query", "level", lv.level, "section", s.Name, "seconds", time.Since(start).Seconds())
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, c := range out {
			if c != nil {
				c.Close()
			}
		}
		return nil, err
	}
	return out, nil
}

// levelQueries are the sections a level's packs show and their queries,
// filled for the level; sections whose table is missing from the schema
// are left out.
func levelQueries(ctx context.Context, db *sql.DB, pl *plan, level string, areas []string) ([]*Section, []string, error) {
	env := pl.env(level, areas)
	var secs []*Section
	var texts []string
	for _, s := range sections {
		present := true
		for _, name := range strings.Fields(s.Optional) {
			ok, err := tableExists(ctx, db, pl.schema, name)
			if err != nil {
				return nil, nil, err
			}
			present = present && ok
		}
		if !present {
			continue
		}
		text, err := s.sql()
		if err != nil {
			return nil, nil, err
		}
		secs, texts = append(secs, s), append(texts, env.render(text))
	}
	return secs, texts, nil
}

// writePack renders one pack and writes its files to the stage.
func writePack(ctx context.Context, p *pack, pl *plan, opts *Options, stage Stage) (packDone, error) {
	files, err := renderPack(ctx, p, pl, opts)
	if err != nil {
		return packDone{}, fmt.Errorf("render pack %s: %w", p.Area.Code, err)
	}
	r := packDone{sdc: p.Counts}
	for _, f := range files {
		if err := stage.WriteFile(ctx, p.Area.Code+"/"+f.path, f.data); err != nil {
			return packDone{}, err
		}
		r.info.Files++
		r.info.Bytes += int64(len(f.data))
	}
	r.info.Period, r.info.Area, r.info.AreaName, r.info.Level, r.info.Practices = opts.Period, p.Area.Code, p.Area.Name, p.Area.Level, p.Practices
	opts.Logger.Debug("pack rendered", "period", opts.Period, "area", p.Area.Code, "files", r.info.Files, "bytes", r.info.Bytes)
	return r, nil
}

type outFile struct {
	path string
	data []byte
	rows *int
}

// renderPack produces every file of one pack, manifest last.
func renderPack(ctx context.Context, p *pack, pl *plan, opts *Options) ([]outFile, error) {
	var files []outFile
	xl, xlRows, err := renderXLSX(ctx, p, pl, opts)
	if err != nil {
		return nil, err
	}
	files = append(files, outFile{path: "pack.xlsx", data: xl, rows: &xlRows})
	html, err := renderHTML(p, opts)
	if err != nil {
		return nil, err
	}
	files = append(files, outFile{path: "pack.html", data: html})
	feeds, err := packFeeds(p)
	if err != nil {
		return nil, err
	}
	for _, f := range feeds {
		n := f.rows
		files = append(files, outFile{path: "feeds/" + f.name + ".csv", data: f.csv, rows: &n},
			outFile{path: "feeds/" + f.name + ".parquet", data: f.parquet, rows: &n})
	}
	dict, n, err := dictionaryCSV(feeds)
	if err != nil {
		return nil, fmt.Errorf("data dictionary: %w", err)
	}
	files = append(files, outFile{path: "feeds/data_dictionary.csv", data: dict, rows: &n})
	slices.SortFunc(files, func(a, b outFile) int { return strings.Compare(a.path, b.path) })
	mb, err := encodeManifest(packManifest(p, opts, files))
	if err != nil {
		return nil, err
	}
	return append(files, outFile{path: "manifest.json", data: mb}), nil
}

func packManifest(p *pack, opts *Options, files []outFile) *Manifest {
	m := &Manifest{Gplens: opts.Version, Period: p.Period, Area: p.Area.Code, AreaName: p.Area.Name, Level: p.Area.Level,
		Parent: p.parent().Code, Practices: p.Practices, Sources: opts.Sources, Models: opts.Models, Seed: opts.Seed,
		Suppression: ManifestSDC{MinCount: opts.Suppression.MinCount, Secondary: opts.Suppression.Secondary,
			Rule: sdcRule(opts.Suppression), Cells: p.Counts}}
	if m.Sources == nil {
		m.Sources = []SourceFile{}
	}
	if m.Models == nil {
		m.Models = []ModelVersion{}
	}
	for _, in := range p.Indicators {
		m.Indicators = append(m.Indicators, IndicatorPeriod{ID: in.ID, Period: in.Period, Public: in.Public})
	}
	for _, f := range files {
		m.Files = append(m.Files, ManifestFile{Path: f.path, SHA256: sha(f.data), Bytes: int64(len(f.data)), Rows: f.rows})
	}
	return m
}

func sdcRule(c SuppressionConfig) string {
	if c.applied != "" {
		return c.applied
	}
	s := fmt.Sprintf("non-public indicators: counts 1 to %d withheld with every rate and interval built on them", c.MinCount-1)
	if c.MinCount <= 1 {
		s = "no primary suppression (min_count 1)"
	}
	if c.Secondary {
		s += "; secondary suppression: where a published total has exactly one withheld part, the next smallest part is withheld too"
	}
	return s + "; public data (QOF, payments, workforce) not suppressed"
}

// appliedRule describes the disclosure rules the release models applied, as
// disclosure.cells records them per indicator (ref.disclosure, from
// data/disclosure.csv, with the gplens.toml overrides), so the packs state
// the rule that was applied rather than the one configured for publish. ""
// when the warehouse has no disclosure.cells (nothing controlled).
func appliedRule(ctx context.Context, db *sql.DB) (string, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'disclosure' AND table_name = 'cells'`).Scan(&n); err != nil {
		return "", fmt.Errorf("disclosure rule: %w", err)
	}
	if n == 0 {
		return "", nil
	}
	rows, err := db.QueryContext(ctx, `SELECT CAST(min_count AS BIGINT), suppress_zero, secondary, CAST(round_to AS BIGINT),
			string_agg(DISTINCT indicator_id, ', ' ORDER BY indicator_id), count(DISTINCT indicator_id)
		FROM disclosure.cells GROUP BY ALL ORDER BY 1, 2, 3, 4`)
	if err != nil {
		return "", fmt.Errorf("disclosure rule: %w", err)
	}
	defer rows.Close()
	var parts, scopes []string
	for rows.Next() {
		var minCount, roundTo int64
		var zero, secondary bool
		var ids string
		var nInd int
		if err := rows.Scan(&minCount, &zero, &secondary, &roundTo, &ids, &nInd); err != nil {
			return "", fmt.Errorf("disclosure rule: %w", err)
		}
		parts = append(parts, ruleText(minCount, zero, secondary, roundTo))
		scopes = append(scopes, fmt.Sprintf("%d indicators (%s)", nInd, ids))
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("disclosure rule: %w", err)
	}
	if len(parts) == 0 {
		return "", nil
	}
	if len(parts) == 1 {
		// one rule for every non-public indicator: name none
		scopes[0] = "non-public indicators"
	}
	for i := range parts {
		parts[i] = scopes[i] + ": " + parts[i]
	}
	return strings.Join(parts, "; ") + "; public data (QOF, payments, workforce) not suppressed", nil
}

// ruleText is one applied rule, in words.
func ruleText(minCount int64, zero, secondary bool, roundTo int64) string {
	var w []string
	switch {
	case minCount > 1 && zero:
		w = append(w, fmt.Sprintf("counts 0 to %d withheld with every statistic built on them", minCount-1))
	case minCount > 1:
		w = append(w, fmt.Sprintf("counts 1 to %d withheld with every statistic built on them", minCount-1))
	case zero:
		w = append(w, "counts of 0 withheld with every statistic built on them")
	default:
		w = append(w, "no primary suppression")
	}
	if secondary {
		w = append(w, "further counts withheld so that no withheld count follows from any combination of published totals and parts (area hierarchy, deprivation deciles, priorities and specialties)")
	}
	if roundTo > 1 {
		w = append(w, fmt.Sprintf("published counts rounded to the nearest %d", roundTo))
	}
	return strings.Join(w, ", ")
}
