package ingest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Partition folders are named the Hive way so DuckDB, Spark, Trino and
// BigQuery all read the period from the path.
func partitionDir(lake, table, period string) string {
	return filepath.Join(lake, table, "period="+period)
}

// RejectsTable is the lake folder holding rejected rows.
const RejectsTable = "_rejects"

// writerOptions: zstd, row groups big enough for scans but bounded so the
// writer's buffers (and so ingest's memory) stay small whatever the file.
func writerOptions(s *parquet.Schema, version string) []parquet.WriterOption {
	return []parquet.WriterOption{
		s,
		parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(256 << 10),
		parquet.PageBufferSize(256 << 10),
		parquet.DataPageStatistics(true),
		parquet.CreatedBy("gplens", version, ""),
	}
}

// fileWriter writes one Parquet file under a temporary folder. Encoding
// and compression run in their own goroutine, fed batches of rows, so
// parsing and writing use both cores of a small machine.
type fileWriter struct {
	f    *os.File
	w    *parquet.GenericWriter[any]
	cur  *rowBatch
	full chan *rowBatch
	free chan *rowBatch
	done chan error
	rows int64
}

type rowBatch struct {
	rows []parquet.Row // rows[:n] are in use
	n    int
}

const batchRows = 4096

func newFileWriter(path string, s *parquet.Schema, version string) (*fileWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	// GenericWriter[any] with an explicit schema writes parquet.Rows of a
	// schema known only at run time.
	fw := &fileWriter{f: f, w: parquet.NewGenericWriter[any](f, writerOptions(s, version)...),
		full: make(chan *rowBatch, 3), free: make(chan *rowBatch, 4), done: make(chan error, 1)}
	for i := 0; i < 4; i++ {
		fw.free <- &rowBatch{rows: make([]parquet.Row, batchRows)}
	}
	go fw.loop()
	return fw, nil
}

func (fw *fileWriter) loop() {
	var err error
	for b := range fw.full {
		if err == nil {
			if _, werr := fw.w.WriteRows(b.rows[:b.n]); werr != nil {
				err = fmt.Errorf("write parquet %s: %w", fw.f.Name(), werr)
			}
		}
		b.n = 0
		fw.free <- b
	}
	fw.done <- err
}

// write copies r, so the caller may reuse it.
func (fw *fileWriter) write(r parquet.Row) error {
	if fw.cur == nil {
		fw.cur = <-fw.free
	}
	b := fw.cur
	b.rows[b.n] = append(b.rows[b.n][:0], r...)
	b.n++
	fw.rows++
	if b.n == batchRows {
		fw.full <- b
		fw.cur = nil
	}
	return nil
}

// close finishes the file and fsyncs it.
func (fw *fileWriter) close() error {
	if fw.cur != nil && fw.cur.n > 0 {
		fw.full <- fw.cur
		fw.cur = nil
	}
	close(fw.full)
	if err := <-fw.done; err != nil {
		fw.f.Close()
		return err
	}
	if err := fw.w.Close(); err != nil {
		fw.f.Close()
		return fmt.Errorf("finish parquet %s: %w", fw.f.Name(), err)
	}
	if err := fw.f.Sync(); err != nil {
		fw.f.Close()
		return fmt.Errorf("fsync %s: %w", fw.f.Name(), err)
	}
	return fw.f.Close()
}

// abort stops the writer goroutine after a failed parse; the temporary
// folder holding the file is removed by the caller.
func (fw *fileWriter) abort() {
	if fw.full == nil {
		return
	}
	close(fw.full)
	<-fw.done
	fw.full = nil
	fw.f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// swapDir puts the fully written folder tmp in place of final. A partition
// is replaced whole: the old one is renamed aside, the new one renamed in,
// then the old removed. A crash between the renames leaves the old one
// aside, and Recover puts it back, so readers see the old partition or the
// new one, never a mixture.
func swapDir(tmp, final string) error {
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	old := ""
	if _, err := os.Stat(final); err == nil {
		old = filepath.Join(parent, ".old-"+filepath.Base(final))
		os.RemoveAll(old)
		if err := os.Rename(final, old); err != nil {
			return fmt.Errorf("move old partition aside: %w", err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		if old != "" {
			os.Rename(old, final)
		}
		return fmt.Errorf("move new partition in place: %w", err)
	}
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("fsync %s: %w", parent, err)
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// Recover tidies a lake after a killed run: half-written temporary folders
// are removed and a partition moved aside but not replaced is put back.
func Recover(lake string) error {
	tables, err := os.ReadDir(lake)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recover lake: %w", err)
	}
	dirs := []string{lake}
	for _, t := range tables {
		if !t.IsDir() {
			continue
		}
		dirs = append(dirs, filepath.Join(lake, t.Name()))
		if t.Name() == RejectsTable {
			sub, _ := os.ReadDir(filepath.Join(lake, t.Name()))
			for _, s := range sub {
				if s.IsDir() {
					dirs = append(dirs, filepath.Join(lake, t.Name(), s.Name()))
				}
			}
		}
	}
	// Sources holding several datasets swap partitions one level down.
	for _, d := range append([]string(nil), dirs[1:]...) {
		sub, _ := os.ReadDir(d)
		for _, s := range sub {
			if s.IsDir() && strings.HasPrefix(s.Name(), datasetKey+"=") {
				dirs = append(dirs, filepath.Join(d, s.Name()))
			}
		}
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("recover lake: %w", err)
		}
		for _, e := range entries {
			n := e.Name()
			switch {
			case strings.HasPrefix(n, ".tmp-"):
				if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
					return fmt.Errorf("remove unfinished %s: %w", n, err)
				}
			case strings.HasPrefix(n, ".old-"):
				final := filepath.Join(dir, strings.TrimPrefix(n, ".old-"))
				var rerr error
				if _, serr := os.Stat(final); serr == nil {
					rerr = os.RemoveAll(filepath.Join(dir, n))
				} else {
					rerr = os.Rename(filepath.Join(dir, n), final)
				}
				if rerr != nil {
					return fmt.Errorf("restore %s: %w", n, rerr)
				}
			}
		}
	}
	return nil
}

// writeFileAtomic writes data to path via a temporary file, fsync and rename.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}
