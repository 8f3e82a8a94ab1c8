package ingest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/parquet-go/parquet-go"
)

// ManifestFile is the lake's lineage table, one row per ingested file.
const ManifestFile = "_manifest.parquet"

// Entry is one manifest row.
type Entry struct {
	File          string    `parquet:"file" json:"file"`
	Path          string    `parquet:"path" json:"path"`
	SHA256        string    `parquet:"sha256" json:"sha256"`
	Source        string    `parquet:"source" json:"source"`
	Period        string    `parquet:"period" json:"period"`
	Encoding      string    `parquet:"encoding" json:"encoding"`
	Bytes         int64     `parquet:"bytes" json:"bytes"`
	RowsRead      int64     `parquet:"rows_read" json:"rows_read"`
	RowsWritten   int64     `parquet:"rows_written" json:"rows_written"`
	RowsRejected  int64     `parquet:"rows_rejected" json:"rows_rejected"`
	RowsSkipped   int64     `parquet:"rows_skipped" json:"rows_skipped"`
	Status        string    `parquet:"status" json:"status"` // loaded or restated
	ReplacesSHA   string    `parquet:"replaces_sha256,optional" json:"replaces_sha256,omitempty"`
	IngestedAt    time.Time `parquet:"ingested_at,timestamp(millisecond)" json:"ingested_at"`
	GplensVersion string    `parquet:"gplens_version" json:"gplens_version"`
	// PartSHA256 and RejectsSHA256 are the sha256 of the partition's Parquet
	// files, so `gplens check --lake` can verify the lake against the
	// manifest (empty in rows written before they were recorded).
	PartSHA256    string `parquet:"part_sha256,optional" json:"part_sha256,omitempty"`
	RejectsSHA256 string `parquet:"rejects_sha256,optional" json:"rejects_sha256,omitempty"`
}

// ReadManifest returns every manifest row (none for a new lake).
func ReadManifest(lake string) ([]Entry, error) {
	path := filepath.Join(lake, ManifestFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	r := parquet.NewGenericReader[Entry](pf)
	defer r.Close()
	out := make([]Entry, pf.NumRows())
	n, err := r.Read(out)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	return out[:n], nil
}

// writeManifest replaces the manifest with rows, atomically. Only Commit
// (under the intent record) calls it.
func writeManifest(lake string, rows []Entry) error {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].IngestedAt.Before(rows[j].IngestedAt) })
	return writeFileAtomic(filepath.Join(lake, ManifestFile), func(w io.Writer) error {
		pw := parquet.NewGenericWriter[Entry](w, parquet.Compression(&parquet.Zstd))
		if _, err := pw.Write(rows); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
		return pw.Close()
	})
}

// Latest returns, for every source and period, the manifest entry whose
// data is in the lake now (the last one loaded), sorted by source, period.
func Latest(rows []Entry) []Entry {
	by := map[[2]string]Entry{}
	for _, r := range rows {
		k := [2]string{r.Source, r.Period}
		if cur, ok := by[k]; !ok || !r.IngestedAt.Before(cur.IngestedAt) {
			by[k] = r
		}
	}
	out := make([]Entry, 0, len(by))
	for _, e := range by {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Period < out[j].Period
	})
	return out
}

// current returns the entry in the lake now for a source and period.
func current(rows []Entry, source, period string) (Entry, bool) {
	for _, e := range Latest(rows) {
		if e.Source == source && e.Period == period {
			return e, true
		}
	}
	return Entry{}, false
}
