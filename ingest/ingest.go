// Package ingest validates published NHS extracts and writes them to the
// Parquet lake: one file per source, a shared CSV reader (encodings, BOM,
// header variants, suppressed values), row rejects with reasons, whole-file
// quarantine, atomic partition swaps and a lineage manifest.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/parquet-go/parquet-go"
)

// DefaultMaxRejectShare refuses a file when more than 1% of its rows are bad.
const DefaultMaxRejectShare = 0.01

// Options for ingesting or checking files.
type Options struct {
	Lake           string      // lake folder
	Workspace      string      // for data/ overrides (header_aliases.csv); "" = the embedded files
	Aliases        *AliasTable // nil: loaded from Workspace
	Quarantine     string      // where refused files go
	MaxRejectShare float64     // 0 means DefaultMaxRejectShare
	Period         string      // force the period (else from the file)
	Version        string      // gplens version, recorded in the manifest
	Check          bool        // validate only: write nothing
	Move           bool        // move refused files to quarantine (inbox); else copy
	Logger         *slog.Logger
	Progress       func(Progress)
	Now            func() time.Time
	// Workers parse a file's records in parallel: 0 means one per CPU
	// (GOMAXPROCS, at most 8). Output is the same for any number.
	Workers int

	sequential bool // the one-goroutine reader, kept as the reference for tests
	batchBytes int  // the pipeline's batch size (0: defaultBatchBytes)
}

// Progress of one file, reported every few thousand rows.
type Progress struct {
	File    string
	Bytes   int64
	Size    int64
	Rows    int64
	Elapsed time.Duration
	Done    bool
}

// Result of one file.
type Result struct {
	File         string           `json:"file"`
	Source       string           `json:"source,omitempty"`
	Dataset      string           `json:"dataset,omitempty"`
	Period       string           `json:"period,omitempty"`
	Era          string           `json:"era,omitempty"` // naming era of the headings matched
	SHA256       string           `json:"sha256"`
	Encoding     string           `json:"encoding,omitempty"`
	Bytes        int64            `json:"bytes"`
	RowsRead     int64            `json:"rows_read"`
	RowsWritten  int64            `json:"rows_written"`
	RowsRejected int64            `json:"rows_rejected"`
	RowsSkipped  int64            `json:"rows_skipped"`
	SkipReasons  map[string]int64 `json:"skip_reasons,omitempty"`
	Rejects      []Reject         `json:"rejects,omitempty"` // the first few
	Status       string           `json:"status"`            // loaded, restated, unchanged, checked, refused
	Replaces     string           `json:"replaces_sha256,omitempty"`
	Quarantined  string           `json:"quarantined,omitempty"`
	Duration     time.Duration    `json:"duration_ns"`
}

// RefusedError means the file was refused whole (bad input): exit status 2.
type RefusedError struct {
	Result Result
	Err    error
}

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

func (o *Options) defaults() {
	if o.MaxRejectShare <= 0 {
		o.MaxRejectShare = DefaultMaxRejectShare
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func fileSHA256(path string) (string, error) {
	f, err := openRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// File ingests (or, with Check, validates) one file. A file refused whole
// returns a *RefusedError and leaves the lake as it was.
func File(ctx context.Context, path string, o Options) (Result, error) {
	return file(ctx, path, o, false)
}

// file is File; force loads the file even when the manifest says its
// partition holds it already (a repair of a damaged partition).
func file(ctx context.Context, path string, o Options, force bool) (Result, error) {
	o.defaults()
	start := o.Now()
	res := Result{File: path}
	defer func() { res.Duration = o.Now().Sub(start) }()
	if desc := notRegular(path, o.Move); desc != "" {
		// Never followed or read: a link could point anywhere (/etc/passwd)
		// and a FIFO would block. The quarantine keeps a note of what it was.
		h := sha256.Sum256([]byte(desc + "\n"))
		res.SHA256, res.Status = hex.EncodeToString(h[:]), "refused"
		ferr := &FileError{File: path, Err: errors.New(desc), Hint: "copy the file itself into the inbox"}
		if !o.Check {
			q, qerr := quarantine(path, res, ferr, o)
			if qerr != nil {
				return res, fmt.Errorf("%v; and quarantining it failed: %w", ferr, qerr)
			}
			res.Quarantined = q
		}
		return res, &RefusedError{Result: res, Err: ferr}
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return res, err
	}
	res.SHA256 = sum
	if st, err := os.Stat(path); err == nil {
		res.Bytes = st.Size()
	}
	var manifest []Entry
	if !o.Check {
		if err := Recover(o.Lake); err != nil {
			return res, err
		}
		if manifest, err = ReadManifest(o.Lake); err != nil {
			return res, err
		}
	}
	if !o.Check && !force {
		// The same bytes again: a no-op, as long as that load is still the
		// current one for its dataset and period.
		for _, e := range manifest {
			if e.SHA256 != sum || e.Status == StatusDropped || (o.Period != "" && e.Period != o.Period) {
				continue
			}
			// The partition must hold that load's files: if it does not (a
			// lake damaged by hand or by an older gplens), loading again repairs it.
			if cur, ok := current(manifest, e.Source, e.Dataset, e.Period); ok && cur.SHA256 == sum {
				if inPlace(o.Lake, cur) {
					res.Source, res.Dataset, res.Period, res.Status, res.Encoding = e.Source, e.Dataset, e.Period, "unchanged", e.Encoding
					res.RowsRead, res.RowsWritten, res.RowsRejected, res.RowsSkipped = e.RowsRead, e.RowsWritten, e.RowsRejected, e.RowsSkipped
					return res, nil
				}
			}
		}
	}
	if o.Aliases == nil {
		if o.Aliases, err = LoadAliases(o.Workspace); err != nil {
			return res, err
		}
	}
	res, perr := parseFile(ctx, path, sum, res, manifest, o)
	res.Duration = o.Now().Sub(start)
	if perr == nil {
		return res, nil
	}
	var fe *FileError
	var re *RefusedError
	if errors.As(perr, &re) {
		res = re.Result
	} else if !errors.As(perr, &fe) {
		return res, perr // not the file's fault (disk, cancelled): nothing to quarantine
	}
	res.Status = "refused"
	if !o.Check {
		q, qerr := quarantine(path, res, perr, o)
		if qerr != nil {
			return res, fmt.Errorf("%v; and quarantining it failed: %w", perr, qerr)
		}
		res.Quarantined = q
	}
	return res, &RefusedError{Result: res, Err: perr}
}

func parseFile(ctx context.Context, path, sum string, res Result, manifest []Entry, o Options) (Result, error) {
	base := filepath.Base(path)
	// The first row is read as a header; Detect also matches headerless
	// sources (ODS files) by their name and that row's field count.
	r, err := OpenCSV(path, false)
	if err != nil {
		return res, err
	}
	src, hm, derr := Detect(base, r.Keys, len(r.Keys), o.Aliases)
	if derr != nil {
		r.Close()
		return res, &FileError{File: path, Line: 1, Err: derr}
	}
	info := src.Info()
	if info.Headerless > 0 {
		r.Close()
		if r, err = OpenCSV(path, true); err != nil {
			return res, err
		}
	}
	defer r.Close()
	res.Source, res.Era = info.Name, hm.era
	fc := &FileContext{Path: path, Name: base, Header: r.Header, Keys: r.Keys, Cols: hm.cols, Era: hm.era, Aliases: o.Aliases, Period: o.Period}
	p, err := src.Begin(fc)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.File = path
			return res, fe
		}
		return res, &FileError{File: path, Line: 1, Err: err}
	}
	schema := NewSchema(info.Name, info.Columns)
	em := newEmitter(base, schema, info.Key)

	var tmp string
	var rejFile *os.File
	committed := false
	if !o.Check {
		tmp = filepath.Join(o.Lake, info.Name, tmpPrefix()+sum[:12])
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return res, fmt.Errorf("create %s: %w", tmp, err)
		}
		defer os.RemoveAll(tmp) // gone after a successful swap; removes leftovers otherwise
		fw, err := newFileWriter(filepath.Join(tmp, "part-"+sum[:12]+".parquet"), schema, info.Name, o.Version)
		if err != nil {
			return res, err
		}
		em.out = fw
		defer func() {
			if !committed {
				fw.abort()
			}
		}()
		rf, err := os.Create(filepath.Join(tmp, "rejects.parquet"))
		if err != nil {
			return res, fmt.Errorf("create rejects file: %w", err)
		}
		em.rejOut = parquet.NewGenericWriter[Reject](rf, parquet.Compression(&parquet.Zstd))
		rejFile = rf
		defer rf.Close()
	}

	want := len(r.Keys)
	if info.Headerless > 0 {
		want = info.Headerless
	}
	started := time.Now()
	var loop pipelineResult
	if o.sequential {
		loop, err = readSequential(ctx, r, p, em, want, o)
	} else {
		loop, err = runPipeline(ctx, r, p, em, want, o.Workers, o.batchBytes, o)
	}
	if err != nil {
		return res, err
	}
	rows := loop.rows
	if o.Progress != nil {
		o.Progress(Progress{File: path, Bytes: r.Size(), Size: r.Size(), Rows: rows, Elapsed: time.Since(started), Done: true})
	}
	res.Encoding = r.Encoding
	if r.Fallback() {
		res.Encoding = EncCP1252
	}
	res.RowsRead = rows
	res.RowsWritten = em.RowsWritten
	res.RowsRejected = em.RecordsRejected
	res.RowsSkipped = em.RecordsSkipped
	res.Rejects = em.FirstRejects
	if len(em.SkipReasons) > 0 {
		res.SkipReasons = em.SkipReasons
	}
	// A last row cut short with no line end is a truncated download, not a bad row.
	if loop.last >= 0 && loop.last != want && !r.EndsWithNewline() {
		return res, &FileError{File: path, Line: loop.lastLine, Err: fmt.Errorf("file is truncated: the last row has %d of %d fields and no line end", loop.last, want), Hint: "fetch the file again"}
	}
	if rows == 0 {
		return res, &FileError{File: path, Err: errors.New("file has a header but no rows"), Hint: "the download may have failed; fetch it again"}
	}
	if share := float64(res.RowsRejected) / float64(rows); share > o.MaxRejectShare {
		return res, &RefusedError{Result: res, Err: &FileError{File: path, Err: fmt.Errorf("%d of %d rows (%.1f%%) rejected, more than the %.1f%% allowed; first: %s",
			res.RowsRejected, rows, 100*share, 100*o.MaxRejectShare, firstReject(res.Rejects)), Hint: "see the quarantine reason file; raise ingest.max_reject_share in gplens.toml only if these rows are expected"}}
	}
	period, err := p.Period()
	if o.Period != "" {
		period, err = o.Period, nil
	}
	if err != nil || period == "" {
		if pp, ok := periodFromPath(path, info.Cadence); ok {
			period, err = pp, nil
		}
	}
	if err != nil || period == "" {
		why := "no period found in the file, its name or its folder"
		if err != nil {
			why = err.Error()
		}
		return res, &FileError{File: path, Err: fmt.Errorf("cannot tell the period: %s", why), Hint: "pass --period (YYYY-MM, or YYYY-YY for annual data)"}
	}
	res.Period = period
	if dp, ok := p.(DatasetParser); ok && info.Datasets {
		res.Dataset = dp.Dataset()
	}
	if o.Check {
		res.Status = "checked"
		return res, nil
	}
	committed = true // close (below) stops the writer goroutine, success or not
	if err := em.out.close(); err != nil {
		return res, err
	}
	if err := em.flushRejects(); err != nil {
		return res, fmt.Errorf("write rejects: %w", err)
	}
	if err := em.rejOut.Close(); err != nil {
		return res, fmt.Errorf("finish rejects: %w", err)
	}
	if err := rejFile.Sync(); err != nil {
		return res, fmt.Errorf("fsync rejects: %w", err)
	}
	entry := Entry{File: filepath.Base(path), Path: path, SHA256: sum, Source: info.Name, Dataset: res.Dataset, Period: period, Encoding: res.Encoding,
		Bytes: res.Bytes, RowsRead: res.RowsRead, RowsWritten: res.RowsWritten, RowsRejected: res.RowsRejected, RowsSkipped: res.RowsSkipped,
		Status: "loaded", IngestedAt: o.Now().UTC(), GplensVersion: o.Version, PartSHA256: em.out.sha256()}
	// Rejects have their own partition, replaced (or removed) with the data's.
	dataDir := PartitionPath("", info.Name, res.Dataset, period)
	rejDir := PartitionPath(RejectsTable, info.Name, res.Dataset, period)
	if res.Dataset != "" {
		// The dataset is known only now: the new folder moves beside its partition.
		beside := filepath.Join(o.Lake, filepath.Dir(dataDir), filepath.Base(tmp))
		if err := os.MkdirAll(filepath.Dir(beside), 0o755); err != nil {
			return res, err
		}
		if err := os.Rename(tmp, beside); err != nil {
			return res, fmt.Errorf("move %s beside its dataset: %w", tmp, err)
		}
		tmp = beside
		defer os.RemoveAll(tmp)
	}
	changes := []Change{{Dir: dataDir, Tmp: filepath.Join(filepath.Dir(dataDir), filepath.Base(tmp))}, {Dir: rejDir}}
	if res.RowsRejected > 0 {
		rejTmp := filepath.Join(o.Lake, filepath.Dir(rejDir), tmpPrefix()+sum[:12])
		if err := os.MkdirAll(rejTmp, 0o755); err != nil {
			return res, err
		}
		defer os.RemoveAll(rejTmp)
		rejPath := filepath.Join(rejTmp, "rejects-"+sum[:12]+".parquet")
		if err := os.Rename(filepath.Join(tmp, "rejects.parquet"), rejPath); err != nil {
			return res, fmt.Errorf("move rejects: %w", err)
		}
		if entry.RejectsSHA256, err = fileSHA256(rejPath); err != nil {
			return res, err
		}
		changes[1].Tmp = filepath.Join(filepath.Dir(rejDir), filepath.Base(rejTmp))
	} else {
		os.Remove(filepath.Join(tmp, "rejects.parquet"))
	}
	res.Status = "loaded"
	if prev, ok := current(manifest, info.Name, res.Dataset, period); ok {
		entry.Status, entry.ReplacesSHA = "restated", prev.SHA256
		res.Status, res.Replaces = "restated", prev.SHA256
	}
	if err := Commit(o.Lake, changes, []Entry{entry}); err != nil {
		return res, fmt.Errorf("publish partition %s: %w", partName(info.Name, res.Dataset, period), err)
	}
	o.Logger.Info("ingested", "file", path, "source", info.Name, "dataset", res.Dataset, "period", period, "rows", res.RowsRead, "written", res.RowsWritten, "rejected", res.RowsRejected, "status", res.Status)
	return res, nil
}

// readSequential reads every record in one goroutine: the reference the
// parallel pipeline must match byte for byte.
func readSequential(ctx context.Context, r *Reader, p Parser, em *Emitter, want int, o Options) (pipelineResult, error) {
	res := pipelineResult{last: -1}
	path := r.Path
	started := time.Now()
	for {
		rec, line, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		res.rows++
		if res.rows == 4096 {
			em.resize(r.Size(), r.BytesRead(), res.rows)
		}
		if res.rows&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return res, fmt.Errorf("ingest %s: %w", path, err)
			}
			if o.Progress != nil {
				o.Progress(Progress{File: path, Bytes: r.BytesRead(), Size: r.Size(), Rows: res.rows, Elapsed: time.Since(started)})
			}
		}
		em.begin(line)
		if len(rec) != want {
			em.Reject("", "", fmt.Sprintf("wrong field count: %d fields, the header has %d", len(rec), want))
		} else if err := p.Record(rec, line, em); err != nil {
			return res, fmt.Errorf("ingest %s line %d: %w", path, line, err)
		}
		if err := em.end(); err != nil {
			return res, err
		}
		res.last, res.lastLine = len(rec), line
	}
	return res, nil
}

func firstReject(r []Reject) string {
	if len(r) == 0 {
		return "none"
	}
	return r[0].String()
}

// QuarantineName is a refused file's name in the quarantine folder:
// <source>-<period>-<sha256 prefix>-<name>, "unknown" standing in for what
// could not be told. Two files of one name but different bytes never share
// a path, and the same bytes refused again land on the same one.
func QuarantineName(res Result) string {
	src, period := res.Source, res.Period
	if src == "" {
		src = "unknown"
	}
	if period == "" {
		cad := Monthly
		for _, s := range Sources() {
			if s.Info().Name == res.Source {
				cad = s.Info().Cadence
			}
		}
		if p, ok := periodFromPath(res.File, cad); ok {
			period = p
		} else {
			period = "unknown"
		}
	}
	return src + "-" + period + "-" + res.SHA256[:min(12, len(res.SHA256))] + "-" + filepath.Base(res.File)
}

// quarantine copies (or, from the inbox, moves) a refused file beside a
// .reason.json saying why. The copy is durable (fsync, rename, fsync of the
// folder) before the inbox file is removed, so a crash keeps one or the
// other; the same bytes already quarantined are not copied again.
func quarantine(path string, res Result, cause error, o Options) (string, error) {
	if o.Quarantine == "" {
		return "", nil
	}
	dst := filepath.Join(o.Quarantine, QuarantineName(res))
	desc := notRegular(path, o.Move)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	reason := map[string]any{
		"file": path, "sha256": res.SHA256, "source": res.Source, "period": res.Period, "when": o.Now().UTC().Format(time.RFC3339),
		"error": cause.Error(), "rows_read": res.RowsRead, "rows_rejected": res.RowsRejected, "rejects": res.Rejects,
		"gplens_version": o.Version,
	}
	var fe *FileError
	if errors.As(cause, &fe) {
		reason["line"], reason["column"], reason["hint"] = fe.Line, fe.Column, fe.Hint
	}
	if err := writeFileAtomic(dst+".reason.json", func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(reason)
	}); err != nil {
		return "", fmt.Errorf("write quarantine reason: %w", err)
	}
	if have, err := fileSHA256(dst); err == nil && have == res.SHA256 {
		// Kept already (the same refused bytes again).
	} else if o.Move && desc == "" && os.Rename(path, dst) == nil {
		// A rename within one file system is atomic and keeps the bytes
		// durable once both folders are synced.
		if err := syncDir(filepath.Dir(dst)); err != nil {
			return dst, fmt.Errorf("fsync %s: %w", filepath.Dir(dst), err)
		}
		return dst, syncDir(filepath.Dir(path))
	} else if err := writeFileAtomic(dst, func(w io.Writer) error {
		if desc != "" {
			// A symlink or special file is described, never followed or read.
			_, err := io.WriteString(w, desc+"\n")
			return err
		}
		f, err := openRegular(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	}); err != nil {
		return dst, err
	}
	if o.Move {
		if err := os.Remove(path); err != nil {
			return dst, err
		}
		return dst, syncDir(filepath.Dir(path))
	}
	return dst, nil
}

// notRegular describes path when it is not a file ingest may read: a
// symlink in the inbox (fromInbox), or anything but a regular file. "" means
// a regular file.
func notRegular(path string, fromInbox bool) string {
	st, err := os.Lstat(path)
	if err != nil {
		return ""
	}
	if st.Mode()&os.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		if fromInbox {
			return fmt.Sprintf("is a symbolic link (to %q); the inbox takes regular files only", target)
		}
		if st, err = os.Stat(path); err != nil {
			return ""
		}
	}
	if !st.Mode().IsRegular() {
		return fmt.Sprintf("is not a regular file (%s)", st.Mode().Type())
	}
	return ""
}

// openRegular opens path for reading only if it is a regular file, without
// blocking on a FIFO.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &FileError{File: path, Err: fmt.Errorf("is not a regular file (%s)", st.Mode().Type()), Hint: "only regular files are read"}
	}
	return f, nil
}

// IsRefused reports whether err means bad input (exit status 2).
func IsRefused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}

// Tables returns, for each source with data in the lake or not, its lake
// table name and DuckDB column list (for empty stand-ins).
func Tables() map[string]string {
	out := map[string]string{}
	for _, s := range Sources() {
		info := s.Info()
		cols := NewSchema(info.Name, info.Columns).DuckDBColumns()
		if info.Datasets {
			cols += ", dataset VARCHAR"
		}
		out[info.Name] = cols + ", period VARCHAR"
	}
	return out
}
