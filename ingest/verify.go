package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

// Problem is one disagreement between the lake and its manifest.
type Problem struct {
	Source string `json:"source"`
	Period string `json:"period"`
	// Dir is the partition folder relative to the lake.
	Dir  string `json:"dir"`
	What string `json:"problem"`
	// File is the extract the manifest names for the partition ("" when it
	// names none); re-ingesting it repairs the partition.
	File string `json:"file,omitempty"`
}

func (p Problem) String() string {
	s := fmt.Sprintf("%s: %s", p.Dir, p.What)
	if p.File != "" {
		s += fmt.Sprintf(" (manifest: %q)", p.File)
	}
	return s
}

// LakeReport is what VerifyLake found.
type LakeReport struct {
	Partitions int       `json:"partitions"` // partitions the manifest names as current
	Files      int       `json:"files"`      // Parquet files hashed
	Bytes      int64     `json:"bytes"`      // bytes hashed
	Problems   []Problem `json:"problems,omitempty"`
}

func dataFile(e Entry) string    { return "part-" + e.SHA256[:min(12, len(e.SHA256))] + ".parquet" }
func rejectsFile(e Entry) string { return "rejects-" + e.SHA256[:min(12, len(e.SHA256))] + ".parquet" }

// visible lists the names in dir that readers see (not hidden).
func visible(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// inPlace is the cheap check that e's files are the ones in its partition
// (names only), used before calling a re-ingest unchanged.
func inPlace(lake string, e Entry) bool {
	got, err := visible(filepath.Join(lake, e.Source, "period="+e.Period))
	if err != nil || len(got) != 1 || got[0] != dataFile(e) {
		return false
	}
	rej, err := visible(partitionDir(filepath.Join(lake, RejectsTable), e.Source, e.Period))
	if e.RowsRejected > 0 {
		return err == nil && len(rej) == 1 && rej[0] == rejectsFile(e)
	}
	return len(rej) == 0
}

// checkFile hashes path and counts its rows against what the manifest says.
func checkFile(path, wantSHA string, wantRows int64, rep *LakeReport) string {
	sum, err := fileSHA256(path)
	if err != nil {
		return err.Error()
	}
	st, _ := os.Stat(path)
	rep.Files++
	if st != nil {
		rep.Bytes += st.Size()
	}
	if wantSHA != "" && sum != wantSHA {
		return fmt.Sprintf("%s has sha256 %s, the manifest says %s", filepath.Base(path), sum[:12], wantSHA[:min(12, len(wantSHA))])
	}
	if wantRows >= 0 {
		n, err := parquetRows(path)
		if err != nil {
			return err.Error()
		}
		if n != wantRows {
			return fmt.Sprintf("%s has %d rows, the manifest says %d", filepath.Base(path), n, wantRows)
		}
	}
	return ""
}

func parquetRows(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return pf.NumRows(), nil
}

// VerifyLake recovers the lake, then checks every partition against the
// manifest: the partition the manifest names as current holds exactly that
// load's file, with its sha256 and row count, its rejects likewise, and no
// partition exists that the manifest does not name.
func VerifyLake(lake string) (LakeReport, error) {
	var rep LakeReport
	if err := Recover(lake); err != nil {
		return rep, err
	}
	rows, err := ReadManifest(lake)
	if err != nil {
		return rep, err
	}
	known := map[string]bool{}
	for _, e := range Latest(rows) {
		dir := filepath.Join(e.Source, "period="+e.Period)
		rejDir := filepath.Join(RejectsTable, e.Source, "period="+e.Period)
		known[dir] = true
		if e.RowsRejected > 0 {
			known[rejDir] = true
		}
		rep.Partitions++
		bad := func(what string) {
			rep.Problems = append(rep.Problems, Problem{Source: e.Source, Period: e.Period, Dir: dir, What: what, File: e.Path})
		}
		got, err := visible(filepath.Join(lake, dir))
		switch {
		case errors.Is(err, os.ErrNotExist):
			bad("missing: the manifest names " + dataFile(e))
			continue
		case err != nil:
			return rep, fmt.Errorf("verify lake: %w", err)
		case len(got) != 1 || got[0] != dataFile(e):
			bad(fmt.Sprintf("holds %s, the manifest names %s", strings.Join(got, ", "), dataFile(e)))
			continue
		}
		if msg := checkFile(filepath.Join(lake, dir, got[0]), e.PartSHA256, e.RowsWritten, &rep); msg != "" {
			bad(msg)
			continue
		}
		rej, err := visible(filepath.Join(lake, rejDir))
		switch {
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return rep, fmt.Errorf("verify lake: %w", err)
		case e.RowsRejected == 0 && len(rej) > 0:
			bad(fmt.Sprintf("%s holds %s, the manifest has no rejects", rejDir, strings.Join(rej, ", ")))
		case e.RowsRejected > 0 && (len(rej) != 1 || rej[0] != rejectsFile(e)):
			bad(fmt.Sprintf("%s holds %q, the manifest names %s", rejDir, rej, rejectsFile(e)))
		case e.RowsRejected > 0:
			if msg := checkFile(filepath.Join(lake, rejDir, rej[0]), e.RejectsSHA256, -1, &rep); msg != "" {
				bad(msg)
			}
		}
	}
	// Partitions on disk the manifest does not name.
	tables, err := os.ReadDir(lake)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return rep, fmt.Errorf("verify lake: %w", err)
	}
	var dirs []string
	for _, t := range tables {
		switch {
		case !t.IsDir() || strings.HasPrefix(t.Name(), "."):
		case t.Name() == RejectsTable:
			subs, _ := os.ReadDir(filepath.Join(lake, t.Name()))
			for _, s := range subs {
				if s.IsDir() && !strings.HasPrefix(s.Name(), ".") {
					dirs = append(dirs, filepath.Join(t.Name(), s.Name()))
				}
			}
		default:
			dirs = append(dirs, t.Name())
		}
	}
	for _, d := range dirs {
		parts, _ := os.ReadDir(filepath.Join(lake, d))
		for _, p := range parts {
			period, ok := strings.CutPrefix(p.Name(), "period=")
			rel := filepath.Join(d, p.Name())
			if !ok || known[rel] {
				continue
			}
			src := filepath.Base(d)
			if known[filepath.Join(src, p.Name())] && strings.HasPrefix(d, RejectsTable) {
				continue // reported above with its data partition
			}
			rep.Problems = append(rep.Problems, Problem{Source: src, Period: period, Dir: rel, What: "not in the manifest"})
		}
	}
	return rep, nil
}

// RepairOptions say where a repair may put what it cannot explain.
type RepairOptions struct {
	// Quarantine receives partitions the manifest does not name (moved,
	// never deleted); "" leaves them in place, reported.
	Quarantine string
	Version    string
	Now        func() time.Time
}

// RepairLake verifies the lake and fixes what it can: a partition holding
// another load the manifest knows (the crash the intent record prevents,
// left by an older gplens) gets a manifest row saying so ("repaired"); a
// partition whose extract is still where the manifest says is re-ingested
// from it; a partition the manifest does not name is moved to quarantine.
// It returns what it did and the problems left.
func RepairLake(ctx context.Context, lake string, o RepairOptions) (fixed []string, rep LakeReport, err error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	rep, err = VerifyLake(lake)
	if err != nil || len(rep.Problems) == 0 {
		return nil, rep, err
	}
	rows, err := ReadManifest(lake)
	if err != nil {
		return nil, rep, err
	}
	cur := map[string]Entry{}
	for _, e := range Latest(rows) {
		cur[filepath.Join(e.Source, "period="+e.Period)] = e
	}
	done := map[string]bool{}
	for _, p := range rep.Problems {
		key := filepath.Join(p.Source, "period="+p.Period)
		if done[key] {
			continue
		}
		e, named := cur[key]
		if !named {
			if o.Quarantine == "" {
				continue
			}
			dst := filepath.Join(o.Quarantine, fmt.Sprintf("lake-%s-%s-%d", strings.ReplaceAll(p.Dir, string(filepath.Separator), "_"), o.Now().UTC().Format("20060102T150405Z"), os.Getpid()))
			if err := os.MkdirAll(o.Quarantine, 0o755); err != nil {
				return fixed, rep, err
			}
			if err := os.Rename(filepath.Join(lake, p.Dir), dst); err != nil {
				return fixed, rep, fmt.Errorf("move %s to quarantine: %w", p.Dir, err)
			}
			_ = syncDir(filepath.Dir(filepath.Join(lake, p.Dir)))
			fixed = append(fixed, fmt.Sprintf("%s: not in the manifest; moved to %s", p.Dir, dst))
			continue
		}
		done[key] = true
		// The partition may hold another load of the manifest's: say so.
		if f, ok := heldLoad(lake, rows, e); ok {
			f.Status, f.ReplacesSHA, f.IngestedAt, f.GplensVersion = "repaired", e.SHA256, o.Now().UTC(), o.Version
			if err := Commit(lake, nil, []Entry{f}); err != nil {
				return fixed, rep, err
			}
			fixed = append(fixed, fmt.Sprintf("%s: holds %q (loaded %s); manifest updated to say so", key, f.File, f.IngestedAt.Format(time.RFC3339)))
			continue
		}
		if e.Path != "" {
			if sum, err := fileSHA256(e.Path); err == nil && sum == e.SHA256 {
				res, err := file(ctx, e.Path, Options{Lake: lake, Period: e.Period, Version: o.Version}, true)
				if err == nil {
					fixed = append(fixed, fmt.Sprintf("%s: re-ingested %q (%d rows)", key, e.Path, res.RowsWritten))
					continue
				}
			}
		}
	}
	if len(fixed) == 0 {
		return nil, rep, nil
	}
	rep, err = VerifyLake(lake)
	return fixed, rep, err
}

// heldLoad finds the manifest row, other than the current one, whose files
// are the ones in the partition (and its rejects) now.
func heldLoad(lake string, rows []Entry, cur Entry) (Entry, bool) {
	for i := len(rows) - 1; i >= 0; i-- {
		f := rows[i]
		if f.Source != cur.Source || f.Period != cur.Period || f.SHA256 == cur.SHA256 || f.Status == "dropped" || !inPlace(lake, f) {
			continue
		}
		var rep LakeReport
		dir := filepath.Join(lake, f.Source, "period="+f.Period)
		if checkFile(filepath.Join(dir, dataFile(f)), f.PartSHA256, f.RowsWritten, &rep) != "" {
			continue
		}
		return f, true
	}
	return Entry{}, false
}
