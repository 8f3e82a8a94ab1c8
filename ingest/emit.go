package ingest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Reject is one row kept aside, with where and why.
type Reject struct {
	File   string `parquet:"file" json:"file"`
	Line   int64  `parquet:"line" json:"line"`
	Column string `parquet:"column" json:"column"`
	Value  string `parquet:"value" json:"value"`
	Reason string `parquet:"reason" json:"reason"`
}

func (r Reject) String() string {
	s := fmt.Sprintf("line %d", r.Line)
	if r.Column != "" {
		s += fmt.Sprintf(" column %q", r.Column)
	}
	if r.Value != "" {
		s += fmt.Sprintf(" value %q", r.Value)
	}
	return s + ": " + r.Reason
}

// Emitter receives a parser's rows and rejects. Rows of one record are held
// until the record ends, so a record with any problem is rejected whole and
// never half-loaded.
type Emitter struct {
	file    string
	schema  *Schema
	row     *Row
	pending []parquet.Row
	spare   []parquet.Row
	keyIdx  []int
	seen    *keySet
	out     *fileWriter // nil when only checking
	rejOut  *parquet.GenericWriter[Reject]
	rejBuf  []Reject

	keyBuf     []byte
	line       int64
	claimed    []keyHash
	recRejects []Reject
	skipped    bool
	// wk, in a parse worker, records the record's rows, rejects and skips
	// for the ordered merge instead of applying them.
	wk *batch
	// replay: rows come from the workers' batches (not recycled here).
	replay bool

	RowsWritten     int64
	RecordsRejected int64
	RecordsSkipped  int64
	FirstRejects    []Reject
	SkipReasons     map[string]int64
}

const keepRejects = 20

func newEmitter(file string, s *Schema, key []string) *Emitter {
	e := &Emitter{file: file, schema: s, row: newRow(s), seen: newKeySet(0), SkipReasons: map[string]int64{}}
	e.row.key = make([]bool, len(s.Columns))
	for _, k := range key {
		i := s.Index(k)
		if i < 0 {
			panic("ingest: key column " + k + " is not a column") // programming error in a source definition
		}
		e.keyIdx = append(e.keyIdx, i)
		e.row.key[i] = true
	}
	return e
}

// resize re-makes the duplicate-key set for the number of records the file
// will hold, judged from the first ones, so a big file's set never grows by
// doubling (which briefly holds the old and the new set).
func (e *Emitter) resize(size, read, records int64) {
	if len(e.keyIdx) == 0 || read <= 0 {
		return
	}
	est := size * records / read * 21 / 20
	if est > 1<<28 {
		return
	}
	e.seen.reserve(int(est))
}

// Row starts a new output row of the current record.
func (e *Emitter) Row() *Row {
	e.row.reset()
	if e.wk != nil {
		// A parse worker builds the row in place in its batch.
		e.row.vals = e.wk.rowSlot(len(e.row.own))
	} else {
		e.row.vals = e.row.own
	}
	return e.row
}

// Emit adds the row being built to the current record's output.
func (e *Emitter) Emit() {
	if e.wk != nil {
		e.wk.addRow(e.row, e.rowKey())
		return
	}
	var pr parquet.Row
	if n := len(e.spare); n > 0 {
		pr, e.spare = e.spare[n-1], e.spare[:n-1]
	}
	e.add(e.row.parquetRow(pr), e.rowKey())
}

// rowKey hashes the key columns of the row being built.
func (e *Emitter) rowKey() keyHash {
	switch len(e.keyIdx) {
	case 0:
		return keyHash{}
	case 1:
		return hashKeyString(e.row.keys[e.keyIdx[0]])
	}
	e.keyBuf = e.keyBuf[:0]
	for _, i := range e.keyIdx {
		e.keyBuf = append(append(e.keyBuf, e.row.keys[i]...), 0)
	}
	return hashKey(e.keyBuf)
}

// add checks a finished row's key and holds it until the record ends.
func (e *Emitter) add(pr parquet.Row, h keyHash) {
	if len(e.keyIdx) > 0 {
		if first, dup := e.seen.claim(h, e.line); dup {
			e.Reject(strings.Join(e.keyNames(), "+"), e.keyValue(pr), fmt.Sprintf("duplicate key (first seen at line %d)", first))
			e.recycle(pr)
			return
		}
		e.claimed = append(e.claimed, h)
	}
	e.pending = append(e.pending, pr)
}

func (e *Emitter) recycle(pr parquet.Row) {
	if !e.replay {
		e.spare = append(e.spare, pr)
	}
}

// keyValue renders a row's key as the reject reports it: the key columns'
// text joined by '|' (blank for NULL).
func (e *Emitter) keyValue(pr parquet.Row) string {
	parts := make([]string, len(e.keyIdx))
	for k, i := range e.keyIdx {
		v := pr[e.schema.leaf[i]]
		if v.IsNull() {
			continue
		}
		switch e.schema.Columns[i].Type {
		case String:
			parts[k] = string(v.ByteArray())
		case Int64:
			parts[k] = strconv.FormatInt(v.Int64(), 10)
		case Date:
			parts[k] = epoch.AddDate(0, 0, int(v.Int32())).Format("2006-01-02")
		}
	}
	return strings.Join(parts, "|")
}

func (e *Emitter) keyNames() []string {
	var n []string
	for _, i := range e.keyIdx {
		n = append(n, e.schema.Columns[i].Name)
	}
	return n
}

// Reject sets the current record aside: column is the published heading.
func (e *Emitter) Reject(column, value, reason string) {
	if e.wk != nil {
		e.wk.addEvent(event{kind: evReject, col: column, val: value, reason: reason})
		return
	}
	e.recRejects = append(e.recRejects, Reject{File: e.file, Line: e.line, Column: column, Value: value, Reason: reason})
}

// Skip marks the current record as deliberately not loaded (a total row, a
// row for another organisation type), with the reason counted in the result.
func (e *Emitter) Skip(reason string) {
	if e.wk != nil {
		e.wk.addEvent(event{kind: evSkip, reason: reason})
		return
	}
	e.skipped = true
	e.SkipReasons[reason]++
}

func (e *Emitter) begin(line int) {
	e.line = int64(line)
	e.recRejects = e.recRejects[:0]
	e.skipped = false
	e.pending = e.pending[:0]
	e.claimed = e.claimed[:0]
}

// end commits or drops the record's rows.
func (e *Emitter) end() error {
	if len(e.recRejects) > 0 {
		e.RecordsRejected++
		// The record's keys were claimed before its problem was found; a
		// record that is put right later in the file must not look duplicate.
		for _, k := range e.claimed {
			e.seen.release(k, e.line)
		}
		e.recycleAll()
		for _, r := range e.recRejects {
			if len(e.FirstRejects) < keepRejects {
				e.FirstRejects = append(e.FirstRejects, r)
			}
			if e.rejOut != nil {
				e.rejBuf = append(e.rejBuf, r)
			}
		}
		if len(e.rejBuf) >= 1024 {
			if _, err := e.rejOut.Write(e.rejBuf); err != nil {
				return fmt.Errorf("write rejects: %w", err)
			}
			e.rejBuf = e.rejBuf[:0]
		}
		return nil
	}
	if e.skipped {
		e.RecordsSkipped++
		e.recycleAll()
		return nil
	}
	for _, pr := range e.pending {
		if e.out != nil {
			if err := e.out.write(pr); err != nil {
				return err
			}
		}
		e.RowsWritten++
	}
	e.recycleAll()
	return nil
}

func (e *Emitter) recycleAll() {
	if !e.replay {
		e.spare = append(e.spare, e.pending...)
	}
}

func (e *Emitter) flushRejects() error {
	if e.rejOut == nil || len(e.rejBuf) == 0 {
		return nil
	}
	_, err := e.rejOut.Write(e.rejBuf)
	e.rejBuf = e.rejBuf[:0]
	return err
}
