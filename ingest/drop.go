package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// NotFoundError: `lake drop` was asked for a source, dataset or period the
// lake does not hold (the caller's mistake: exit status 2).
type NotFoundError struct{ Msg string }

func (e *NotFoundError) Error() string { return e.Msg }

// IsNotFound reports whether err is a NotFoundError.
func IsNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

// DropOptions for Drop.
type DropOptions struct {
	Dataset string // for sources holding several datasets; "" when the period has one
	Version string
	Now     func() time.Time
}

// Drop removes one partition (and its rejects) from the lake and records
// it in the manifest with status "dropped", so the next transform rebuilds
// without it and the same file ingested again is loaded afresh. The
// folder is renamed out of place in one step (readers see it whole or not
// at all), the drop recorded, then the folder deleted; a run killed in
// between leaves a temporary folder the next run removes.
func Drop(lake, source, period string, o DropOptions) (Entry, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if _, ok := Lookup(source); !ok {
		var names []string
		for _, s := range Sources() {
			names = append(names, s.Info().Name)
		}
		return Entry{}, &NotFoundError{fmt.Sprintf("no source named %q (sources: %s)", source, strings.Join(names, ", "))}
	}
	if err := Recover(lake); err != nil {
		return Entry{}, err
	}
	rows, err := ReadManifest(lake)
	if err != nil {
		return Entry{}, err
	}
	var periods []string
	var hits []Entry
	for _, e := range Latest(rows) {
		if e.Source != source {
			continue
		}
		periods = append(periods, partName("", e.Dataset, e.Period)[1:])
		if e.Period == period && (o.Dataset == "" || e.Dataset == o.Dataset) {
			hits = append(hits, e)
		}
	}
	switch {
	case len(hits) == 0:
		held := "nothing"
		if len(periods) > 0 {
			sort.Strings(periods)
			held = strings.Join(periods, ", ")
		}
		what := period
		if o.Dataset != "" {
			what = o.Dataset + "/" + period
		}
		return Entry{}, &NotFoundError{fmt.Sprintf("the lake holds no %s %s (it holds %s for %s; see `gplens status`)", source, what, held, source)}
	case len(hits) > 1:
		var ds []string
		for _, h := range hits {
			ds = append(ds, h.Dataset)
		}
		return Entry{}, &NotFoundError{fmt.Sprintf("%s %s holds %d datasets (%s): say which with --dataset", source, period, len(hits), strings.Join(ds, ", "))}
	}
	cur := hits[0]
	tmps := []string{}
	for _, dir := range []string{PartitionPath(lake, source, cur.Dataset, period), PartitionPath(filepath.Join(lake, RejectsTable), source, cur.Dataset, period)} {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			continue
		}
		tmp := filepath.Join(filepath.Dir(dir), fmt.Sprintf(".tmp-drop-%s-%d", filepath.Base(dir), os.Getpid()))
		if err := os.Rename(dir, tmp); err != nil {
			return Entry{}, fmt.Errorf("drop %s: %w", partName(source, cur.Dataset, period), err)
		}
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return Entry{}, fmt.Errorf("fsync %s: %w", filepath.Dir(dir), err)
		}
		tmps = append(tmps, tmp)
	}
	e := Entry{File: cur.File, Path: cur.Path, Source: source, Dataset: cur.Dataset, Period: period, Encoding: cur.Encoding,
		Status: StatusDropped, ReplacesSHA: cur.SHA256, IngestedAt: o.Now().UTC(), GplensVersion: o.Version}
	if err := appendManifest(lake, e); err != nil {
		return Entry{}, fmt.Errorf("record the drop of %s in the manifest: %w", partName(source, cur.Dataset, period), err)
	}
	for _, t := range tmps {
		if err := os.RemoveAll(t); err != nil {
			return e, fmt.Errorf("remove dropped %s: %w", t, err)
		}
	}
	return e, nil
}
