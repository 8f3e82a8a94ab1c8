package ingest

import (
	"errors"
	"fmt"
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
// without it and the same file ingested again is loaded afresh. It is one
// Commit: the folders are moved aside, the manifest row appended, then the
// folders deleted, and a run killed in between is finished or rolled back
// by the next one (readers see the partition whole or not at all).
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
	// The manifest's latest row for a partition wins by time: a drop must
	// come after the load it removes even if the clock went back.
	when := o.Now().UTC()
	if !when.After(cur.IngestedAt) {
		when = cur.IngestedAt.Add(time.Millisecond)
	}
	e := Entry{File: cur.File, Path: cur.Path, Source: source, Dataset: cur.Dataset, Period: period, Encoding: cur.Encoding,
		Status: StatusDropped, ReplacesSHA: cur.SHA256, IngestedAt: when, GplensVersion: o.Version}
	// One recoverable step: the folders go and the manifest says so, or neither.
	changes := []Change{{Dir: PartitionPath("", source, cur.Dataset, period)}, {Dir: PartitionPath(RejectsTable, source, cur.Dataset, period)}}
	if err := Commit(lake, changes, []Entry{e}); err != nil {
		return Entry{}, fmt.Errorf("drop %s: %w", partName(source, cur.Dataset, period), err)
	}
	return e, nil
}
