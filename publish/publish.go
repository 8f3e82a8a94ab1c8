package publish

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Publish writes the packs of opts.Period for every area of opts.Levels (or
// only opts.Areas) and swaps them into place atomically.
func Publish(ctx context.Context, db *sql.DB, opts Options) (Result, error) {
	if err := opts.normalise(); err != nil {
		return Result{}, err
	}
	log := opts.Logger
	w, err := loadWarehouse(ctx, db, opts.Period)
	if err != nil {
		return Result{}, fmt.Errorf("publish %s: %w", opts.Period, err)
	}
	if len(w.practices) == 0 {
		return Result{}, fmt.Errorf("publish %s: core.practices has no practices for the period or before it", opts.Period)
	}
	w.applySuppression(opts.Suppression)

	areas, ancestors := areasOf(w.practices, opts.Levels)
	var keys []string
	if len(opts.Areas) > 0 {
		var missing []string
		for _, code := range opts.Areas {
			found := false
			for _, l := range opts.Levels {
				if _, ok := areas[areaKey(l, code)]; ok {
					keys = append(keys, areaKey(l, code))
					found = true
				}
			}
			if !found {
				missing = append(missing, code)
			}
		}
		if len(missing) > 0 {
			return Result{}, fmt.Errorf("publish %s: no area %s at levels %v", opts.Period, strings.Join(missing, ", "), opts.Levels)
		}
	} else {
		for k := range areas {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		x, y := areas[a], areas[b]
		if levelRank(x.Level) != levelRank(y.Level) {
			return levelRank(x.Level) - levelRank(y.Level)
		}
		return strings.Compare(x.Code, y.Code)
	})
	keys = slices.Compact(keys)
	seen := map[string]string{}
	for _, k := range keys {
		a := areas[k]
		if prev, ok := seen[a.Code]; ok {
			return Result{}, fmt.Errorf("publish %s: area code %s is both %s and %s; publish one level at a time", opts.Period, a.Code, prev, a.Level)
		}
		seen[a.Code] = a.Level
	}

	key := opts.KeyIndicators
	if len(key) == 0 {
		key = defaultKey(w.catalogue)
	}
	pk := newPacker(w, key)

	stage, err := opts.Dest.Begin(ctx, opts.Period)
	if err != nil {
		return Result{}, err
	}
	defer stage.Abort()

	// Render in parallel; each pack's files are written by its own worker.
	type done struct {
		info  PackInfo
		files int
		bytes int64
		sdc   SuppressionCounts
		err   error
	}
	results := make([]done, len(keys))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				a := areas[keys[i]]
				r := &results[i]
				p, err := pk.build(a, ancestors[keys[i]])
				if err != nil {
					r.err = err
					continue
				}
				files, err := renderPack(p, w, &opts)
				if err != nil {
					r.err = fmt.Errorf("render pack %s: %w", a.Code, err)
					continue
				}
				for _, f := range files {
					if err := stage.WriteFile(ctx, a.Code+"/"+f.path, f.data); err != nil {
						r.err = err
						break
					}
					r.files++
					r.bytes += int64(len(f.data))
				}
				r.sdc = p.Counts
				r.info = PackInfo{Period: opts.Period, Area: a.Code, AreaName: a.Name, Level: a.Level, Practices: len(p.Practices), Files: r.files, Bytes: r.bytes}
				log.Debug("pack rendered", "period", opts.Period, "area", a.Code, "files", r.files, "bytes", r.bytes)
			}
		}()
	}
feed:
	for i := range keys {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("publish %s: %w", opts.Period, err)
	}
	res := Result{Period: opts.Period}
	for _, r := range results {
		if r.err != nil {
			return Result{}, fmt.Errorf("publish %s: %w", opts.Period, r.err)
		}
		res.Packs = append(res.Packs, r.info)
		res.Files += r.files
		res.Bytes += r.bytes
		res.Suppressed.plus(r.sdc)
	}
	if len(opts.Areas) > 0 {
		// A partial publication keeps the period's other packs.
		existing, err := opts.Dest.Existing(ctx, opts.Period)
		if err != nil {
			return Result{}, err
		}
		for _, code := range existing {
			if _, ok := seen[code]; ok {
				continue
			}
			if err := stage.CarryOver(ctx, code); err != nil {
				return Result{}, fmt.Errorf("publish %s: carry over %s: %w", opts.Period, code, err)
			}
		}
	}
	if err := stage.Commit(ctx); err != nil {
		return Result{}, err
	}
	log.Info("published", "period", opts.Period, "packs", len(res.Packs), "files", res.Files, "bytes", res.Bytes, "dest", opts.Dest.String(),
		"suppressed_primary", res.Suppressed.Primary, "suppressed_secondary", res.Suppressed.Secondary)
	return res, nil
}

type outFile struct {
	path string
	data []byte
	rows *int
}

// renderPack produces every file of one pack, manifest last.
func renderPack(p *pack, w *warehouse, opts *Options) ([]outFile, error) {
	var files []outFile
	xl, xlRows, err := renderXLSX(p, w, opts)
	if err != nil {
		return nil, err
	}
	files = append(files, outFile{path: "pack.xlsx", data: xl, rows: &xlRows})
	html, err := renderHTML(p, w, opts)
	if err != nil {
		return nil, err
	}
	files = append(files, outFile{path: "pack.html", data: html})
	feeds, err := p.feeds(w.byID)
	if err != nil {
		return nil, err
	}
	for _, f := range feeds {
		n := f.rows
		files = append(files, outFile{path: "feeds/" + f.name + ".csv", data: f.csv, rows: &n})
		files = append(files, outFile{path: "feeds/" + f.name + ".parquet", data: f.parquet, rows: &n})
	}
	dict, n, err := dictionaryCSV(feeds)
	if err != nil {
		return nil, fmt.Errorf("data dictionary: %w", err)
	}
	files = append(files, outFile{path: "feeds/data_dictionary.csv", data: dict, rows: &n})
	slices.SortFunc(files, func(a, b outFile) int { return strings.Compare(a.path, b.path) })

	m := &Manifest{Gplens: opts.Version, Period: p.Period, Area: p.Area.Code, AreaName: p.Area.Name, Level: p.Area.Level,
		Parent: p.parent().Code, Practices: len(p.Practices), Sources: opts.Sources, Models: opts.Models, Seed: opts.Seed,
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
	mb, err := encodeManifest(m)
	if err != nil {
		return nil, err
	}
	return append(files, outFile{path: "manifest.json", data: mb}), nil
}

func sdcRule(c SuppressionConfig) string {
	s := fmt.Sprintf("non-public indicators: counts 1 to %d withheld with every rate and interval built on them", c.MinCount-1)
	if c.MinCount <= 1 {
		s = "no primary suppression (min_count 1)"
	}
	if c.Secondary {
		s += "; secondary suppression: where a published total has exactly one withheld part, the next smallest part is withheld too"
	}
	return s + "; public data (QOF, payments, workforce) not suppressed"
}
