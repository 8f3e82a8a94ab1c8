package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"

	kzstd "github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
	"github.com/zeebo/xxh3"
)

// Partition folders are named the Hive way so DuckDB, Spark, Trino and
// BigQuery all read the period from the path.
func partitionDir(lake, table, period string) string {
	return filepath.Join(lake, table, "period="+period)
}

// RejectsTable is the lake folder holding rejected rows.
const RejectsTable = "_rejects"

// pageZstd compresses the lake's pages: zstd at its fastest level, as
// parquet-go's codec, but with a window of 1 MiB, no smaller than a page
// (PageBufferSize, below), where the default 8 MiB made each new encoder
// allocate and clear a 16 MiB history it never filled; and one pool of
// encoders for every file of the process, where a codec per file made a
// new encoder for each. (Each page is compressed on its own, so the window
// cannot reach further than the page anyway.)
var pageZstd = &zstdCodec{}

type zstdCodec struct {
	encoders sync.Pool
	decoder  zstd.Codec
}

func (c *zstdCodec) String() string                            { return "ZSTD" }
func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	e, _ := c.encoders.Get().(*kzstd.Encoder)
	if e == nil {
		var err error
		e, err = kzstd.NewWriter(nil, kzstd.WithEncoderConcurrency(1), kzstd.WithEncoderLevel(kzstd.SpeedFastest),
			kzstd.WithZeroFrames(true), kzstd.WithEncoderCRC(false), kzstd.WithWindowSize(1<<20))
		if err != nil {
			return nil, fmt.Errorf("zstd encoder: %w", err)
		}
	}
	defer c.encoders.Put(e)
	return e.EncodeAll(src, dst[:0]), nil
}

func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) { return c.decoder.Decode(dst, src) }

// writerOptions: zstd, row groups big enough for scans but bounded so the
// writer's buffers (and so ingest's memory) stay small whatever the file.
// zstd at its fastest level: the default level took a fifth of ingest's CPU
// on record-level referrals for files 1-8% smaller. Each row group's min/max
// and the page index (per-page bounds) are written, which is what readers
// prune by; the same bounds again in every page header are not (they cost
// a second pass over each page, 8% of the CPU, and DuckDB ignores them).
func writerOptions(s *parquet.Schema, version string) []parquet.WriterOption {
	return []parquet.WriterOption{
		s,
		parquet.Compression(pageZstd),
		parquet.MaxRowsPerRowGroup(256 << 10),
		parquet.PageBufferSize(256 << 10),
		parquet.DataPageStatistics(false),
		parquet.CreatedBy("gplens", version, ""),
	}
}

// fileWriter writes one Parquet file under a temporary folder. Encoding
// and compression run in their own goroutine, fed batches of rows, so
// parsing and writing use both cores of a small machine.
type fileWriter struct {
	f       *os.File
	sum     hash.Hash // sha256 of the bytes written, for the manifest
	schema  *Schema
	name    string
	version string
	w       *parquet.GenericWriter[any] // made once the sample is in
	cur     *rowBatch
	full    chan *rowBatch
	free    chan *rowBatch
	done    chan error
	rows    int64
}

type rowBatch struct {
	rows []parquet.Row // rows[:n] are in use
	n    int
}

const batchRows = 4096

// sampleRows is how many first rows decide each column's encoding.
const sampleRows = 16 * batchRows

func newFileWriter(path string, s *Schema, name, version string) (*fileWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	fw := &fileWriter{f: f, sum: sha256.New(), schema: s, name: name, version: version,
		full: make(chan *rowBatch, 3), free: make(chan *rowBatch, 4), done: make(chan error, 1)}
	for i := 0; i < 4; i++ {
		fw.free <- &rowBatch{rows: make([]parquet.Row, batchRows)}
	}
	go fw.loop()
	return fw, nil
}

// start makes the Parquet writer: a column whose sampled values repeat
// (at most one distinct value in eight: codes, dates, counts) in no long
// runs is dictionary-encoded, as DuckDB does; identifiers, and columns in
// runs (a sorted practice code), stay plain, which zstd compresses better.
// That brings the files near DuckDB's size. The sample is the first rows
// written, so the choice depends on the data alone, never on timing.
func (fw *fileWriter) start(sample []*rowBatch) {
	n := len(fw.schema.Columns)
	// Distinct values are counted by their 64-bit hashes: no string per
	// value (the counting was a tenth of ingesting a month of registrations
	// by LSOA), and a collision, vanishingly rare below 8,192 values, could
	// only tip the choice of encoding, never the data, and the same way
	// for the same file.
	distinct := make([]map[uint64]struct{}, n)
	for i := range distinct {
		distinct[i] = map[uint64]struct{}{}
	}
	rows := 0
	changes := make([]int, n)
	var key []byte
	var prev parquet.Row
	for _, b := range sample {
		for _, r := range b.rows[:b.n] {
			rows++
			for i := 0; i < n; i++ {
				v := r[fw.schema.leaf[i]]
				if len(distinct[i]) <= sampleRows/8 { // past that the column is plain anyway
					key = key[:0]
					if v.IsNull() {
						key = append(key, 0)
					} else {
						key = append(key, 1)
						key = v.AppendBytes(key)
					}
					distinct[i][xxh3.Hash(key)] = struct{}{}
				}
				if prev != nil && !parquet.Equal(v, prev[fw.schema.leaf[i]]) {
					changes[i]++
				}
			}
			prev = r
		}
	}
	dict := make([]bool, n)
	for i := range dict {
		dict[i] = rows > 0 && len(distinct[i])*8 <= rows && changes[i]*4 > rows
	}
	// GenericWriter[any] with an explicit schema writes parquet.Rows of a
	// schema known only at run time.
	fw.w = parquet.NewGenericWriter[any](io.MultiWriter(fw.f, fw.sum), writerOptions(fw.schema.writeSchema(fw.name, dict), fw.version)...)
}

func (fw *fileWriter) loop() {
	var err error
	var sample []*rowBatch
	sampled := 0
	put := func(b *rowBatch) {
		if err == nil {
			if _, werr := fw.w.WriteRows(b.rows[:b.n]); werr != nil {
				err = fmt.Errorf("write parquet %s: %w", fw.f.Name(), werr)
			}
		}
	}
	for b := range fw.full {
		if fw.w == nil {
			// Held until the sample is complete; a new batch takes its place.
			sample = append(sample, b)
			sampled += b.n
			fw.free <- &rowBatch{rows: make([]parquet.Row, batchRows)}
			if sampled < sampleRows {
				continue
			}
			fw.start(sample)
			for _, s := range sample {
				put(s)
			}
			sample = nil
			continue
		}
		put(b)
		b.n = 0
		fw.free <- b
	}
	if fw.w == nil {
		fw.start(sample)
		for _, s := range sample {
			put(s)
		}
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

// sha256 of the finished file.
func (fw *fileWriter) sha256() string { return hex.EncodeToString(fw.sum.Sum(nil)) }

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

// writeFileAtomic writes data to path via a temporary file, fsync and rename.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), tmpPrefix()+filepath.Base(path)+"-*")
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
