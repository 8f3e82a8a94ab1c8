package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
)

// The parallel ingest pipeline: the reader cuts the decoded input into
// batches of whole records (a newline outside quotes ends a record), a
// worker per core parses each batch (CSV, conversion, checks, key hashes),
// and the merge, in file order, applies what depends on earlier rows (the
// file's period, duplicate keys, reject and skip counts) exactly as the
// sequential reader does, then hands rows to the Parquet writer. Memory is
// bounded by the batches in flight, whatever the file size.

// defaultBatchBytes is the size of the decoded input a batch holds.
const defaultBatchBytes = 256 << 10

type evKind uint8

const (
	evReject evKind = iota
	evRow
	evSkip
)

// event is one call a parser made on its Emitter, replayed by the merge.
type event struct {
	kind             evKind
	row              parquet.Row
	key              keyHash
	col, val, reason string
}

// parsedRec is one record of a batch.
type parsedRec struct {
	line     int
	nfields  int
	ev0, ev1 int      // its events: batch.events[ev0:ev1]
	st       recState // simple parsers: what the merge folds in
	rec      []string // other parsers: the record, parsed by the merge
}

type batch struct {
	data   []byte
	line   int   // line number of data's first line
	pos    int64 // raw bytes read when the batch was cut
	end    int64 // decoded bytes handed out up to the batch's end
	recs   []parsedRec
	events []event
	vals   []parquet.Value // the rows' values
	err    error           // after recs: a malformed file or a read error
	done   chan struct{}
}

func (b *batch) reset(batchBytes int) {
	if cap(b.recs) == 0 {
		b.recs = make([]parsedRec, 0, batchBytes/24)
		b.events = make([]event, 0, batchBytes/24)
	}
	b.recs = b.recs[:0]
	clear(b.events) // drop references to the rows' strings
	b.events = b.events[:0]
	clear(b.vals)
	b.vals = b.vals[:0]
	b.err = nil
}

func (b *batch) addEvent(ev event) { b.events = append(b.events, ev) }

// rowSlot is where the batch's next row of n values goes: a worker's
// Emitter builds its row there (Row), so adding it copies nothing.
func (b *batch) rowSlot(n int) []parquet.Value {
	if len(b.vals)+n > cap(b.vals) {
		// A new slab; rows already made keep the old one alive.
		b.vals = make([]parquet.Value, 0, max(2*cap(b.vals), 64*n))
	}
	start := len(b.vals)
	return b.vals[start : start+n : start+n]
}

// addRow adds the row being built to the batch: in place when it was built
// in the batch's next slot, else as a copy.
func (b *batch) addRow(r *Row, key keyHash) {
	slot := b.rowSlot(len(r.vals))
	if len(slot) > 0 && &slot[0] == &r.vals[0] {
		r.nulls(slot)
	} else {
		slot = r.parquetRow(slot)
	}
	b.vals = b.vals[:len(b.vals)+len(slot)]
	b.events = append(b.events, event{kind: evRow, row: slot, key: key})
}

// splitter cuts the decoded input into runs of whole records.
type splitter struct {
	src    io.Reader
	pend   []byte // read, not yet handed out
	scan   int    // pend[:scan] is scanned
	quoted bool   // inside a quoted field at scan
	cut    int    // pend[:cut] ends with a record's newline
	line   int    // line number of pend's first line
	eof    bool
}

// next returns at least target bytes of whole records, or the rest of the
// input; io.EOF when nothing is left. The bytes are handed out in place:
// buf (a batch's old data, free again) becomes the buffer for what follows.
func (s *splitter) next(buf []byte, target int) ([]byte, int, error) {
	for s.cut < target && !s.eof {
		if cap(s.pend)-len(s.pend) < target {
			s.pend = append(s.pend, make([]byte, max(cap(s.pend), 2*target))...)[:len(s.pend)]
		}
		// Reads of at most target bytes keep batches near target.
		n, err := s.src.Read(s.pend[len(s.pend) : len(s.pend)+target])
		s.pend = s.pend[:len(s.pend)+n]
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			return nil, 0, err
		}
		s.advance()
	}
	end := s.cut
	if s.eof {
		end = len(s.pend)
	}
	if end == 0 {
		return buf, 0, io.EOF
	}
	data := s.pend[:end] // its spare capacity comes back as buf, for a later batch
	line := s.line
	s.line += bytes.Count(data, []byte{'\n'})
	if cap(buf) < 2*target {
		buf = make([]byte, 0, 2*target)
	}
	s.pend = append(buf[:0], s.pend[end:]...)
	s.scan -= end
	s.cut = max(s.cut-end, 0)
	return data, line, nil
}

// advance scans new bytes, tracking quotes: a doubled quote inside a quoted
// field closes and reopens it, so parity alone tells whether a newline ends
// a record. (A stray quote in an unquoted field is an error the CSV parser
// reports at that record, before any cut it may have misplaced.)
func (s *splitter) advance() {
	p := s.pend
	i := s.scan
	for i < len(p) {
		if s.quoted {
			j := bytes.IndexByte(p[i:], '"')
			if j < 0 {
				i = len(p)
				break
			}
			i += j + 1
			s.quoted = false
			continue
		}
		q := bytes.IndexByte(p[i:], '"')
		end := len(p)
		if q >= 0 {
			end = i + q
		}
		if nl := bytes.LastIndexByte(p[i:end], '\n'); nl >= 0 {
			s.cut = i + nl + 1
		}
		if q < 0 {
			i = len(p)
			break
		}
		i = end + 1
		s.quoted = true
	}
	s.scan = i
}

// recordParser is what a worker does with one record.
type recordParser struct {
	want   int
	simple *simpleParser // nil: the merge calls the parser itself
	em     *Emitter      // the worker's, recording events
	rec    []string      // parseLines' record, reused for simple parsers
}

// parse fills b from b.data: line by line while the lines are simple (see
// splitLine), and from the first that is not, through encoding/csv.
func (rp *recordParser) parse(b *batch, file string) {
	rp.em.wk = b
	defer func() { rp.em.wk = nil }()
	off, line := rp.parseLines(b)
	if off == len(b.data) {
		return
	}
	cr := csv.NewReader(bytes.NewReader(b.data[off:]))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = rp.simple != nil // other parsers get the record itself later
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				b.err = &FileError{File: file, Line: pe.StartLine + line - 1, Err: pe.Err,
					Hint: "the file is malformed or truncated (an unclosed quote); fetch it again"}
				return
			}
			b.err = err
			return
		}
		l, _ := cr.FieldPos(0)
		rp.record(b, rec, l+line-1)
	}
}

// parseLines reads b's records one line at a time, as encoding/csv would
// ("\r\n" read as "\n", empty lines skipped) but without its per-record
// copies: the batch becomes one string and the fields are slices of it
// (encoding/csv was a fifth of ingest's CPU on record-level referrals). It
// stops at the first line splitLine cannot read alone and returns that
// line's offset in b.data and its line number (len(b.data) when done).
func (rp *recordParser) parseLines(b *batch) (int, int) {
	data := string(b.data)
	off, line := 0, b.line
	for off < len(data) {
		l := data[off:]
		next := len(data)
		if i := strings.IndexByte(l, '\n'); i >= 0 {
			l, next = l[:i], off+i+1
		}
		// "\r\n" ends a line as "\n" does; so does a last "\r" at the
		// end of the input.
		l = strings.TrimSuffix(l, "\r")
		if len(l) > 0 {
			var rec []string
			if rp.simple != nil {
				rec = rp.rec[:0]
			}
			rec, ok := splitLine(l, rec)
			if !ok {
				return off, line
			}
			if rp.simple != nil {
				rp.rec = rec
			}
			rp.record(b, rec, line)
		}
		off = next
		line++
	}
	return off, line
}

// splitLine splits one line into fields as encoding/csv does, appending to
// rec (nil: a new record, kept by the merge), when the line is simple:
// quotes only around whole fields that close on the same line, a quote
// inside one doubled. Otherwise (a quoted newline, a stray or extraneous
// quote: the last two are errors encoding/csv reports) it returns false.
func splitLine(l string, rec []string) ([]string, bool) {
	for {
		if len(l) == 0 || l[0] != '"' {
			j := strings.IndexByte(l, ',')
			f := l
			if j >= 0 {
				f = l[:j]
			}
			if strings.IndexByte(f, '"') >= 0 {
				return rec, false
			}
			rec = append(rec, f)
			if j < 0 {
				return rec, true
			}
			l = l[j+1:]
			continue
		}
		// A quoted field: up to the quote not followed by another.
		i, doubled := 1, false
		for {
			q := strings.IndexByte(l[i:], '"')
			if q < 0 {
				return rec, false // it goes on past the line
			}
			i += q + 1
			if i < len(l) && l[i] == '"' {
				i++
				doubled = true
				continue
			}
			break
		}
		f := l[1 : i-1]
		if doubled {
			f = strings.ReplaceAll(f, `""`, `"`)
		}
		rec = append(rec, f)
		if i == len(l) {
			return rec, true
		}
		if l[i] != ',' {
			return rec, false
		}
		l = l[i+1:]
	}
}

// record adds one record, read at line, to b.
func (rp *recordParser) record(b *batch, rec []string, line int) {
	if blankRecord(rec) {
		return
	}
	pr := parsedRec{line: line, nfields: len(rec), ev0: len(b.events)}
	switch {
	case len(rec) != rp.want:
		rp.em.Reject("", "", fmt.Sprintf("wrong field count: %d fields, the header has %d", len(rec), rp.want))
	case rp.simple != nil:
		pr.st = rp.simple.convert(rec, rp.em)
	default:
		pr.rec = rec
	}
	pr.ev1 = len(b.events)
	b.recs = append(b.recs, pr)
}

// parseSafely turns a parser's panic into the batch's error: in a worker
// goroutine it would otherwise end the process, where the sequential
// reader's reached the scheduler's recover.
func parseSafely(rp *recordParser, b *batch, path string) {
	defer func() {
		if p := recover(); p != nil {
			b.err = fmt.Errorf("ingest %s: parser panicked: %v", path, p)
		}
	}()
	rp.parse(b, path)
}

func blankRecord(rec []string) bool {
	for _, f := range rec {
		if len(f) > 0 && !isSpace(f) {
			return false
		}
	}
	return true
}

// pipelineResult is what the loop over records tells parseFile.
type pipelineResult struct {
	rows     int64
	last     int // fields in the last record (-1: none)
	lastLine int
}

// runPipeline reads every record of r through workers and the merge.
func runPipeline(ctx context.Context, r *Reader, p Parser, em *Emitter, want, workers, batchBytes int, o Options) (pipelineResult, error) {
	res := pipelineResult{last: -1}
	if workers <= 0 {
		// One per core, up to 8: the merge and the writer are one each, so
		// more would only hold more batches in memory.
		workers = min(runtime.GOMAXPROCS(0), 8)
	}
	if batchBytes <= 0 {
		batchBytes = defaultBatchBytes
	}
	sp, _ := p.(*simpleParser)
	inFlight := 2*workers + 2
	free := make(chan *batch, inFlight)
	for i := 0; i < inFlight; i++ {
		free <- &batch{}
	}
	work := make(chan *batch, inFlight)
	order := make(chan *batch, inFlight)
	stop := make(chan struct{})
	var wg sync.WaitGroup

	split := &splitter{src: r.br, line: r.nextLine}
	var handed int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(order)
		for {
			var b *batch
			select {
			case b = <-free:
			case <-stop:
				return
			}
			b.reset(batchBytes)
			b.done = make(chan struct{})
			var err error
			b.data, b.line, err = split.next(b.data, batchBytes)
			b.pos = r.dec.n
			handed += int64(len(b.data))
			b.end = handed
			if err == io.EOF {
				return
			}
			if err != nil {
				b.err = err
				close(b.done)
				select {
				case order <- b:
				case <-stop:
				}
				return
			}
			select {
			case order <- b:
			case <-stop:
				return
			}
			work <- b // never blocks: work holds as many as there are batches
		}
	}()
	for i := 0; i < workers; i++ {
		wem := newEmitter(em.file, em.schema, nil)
		wem.keyIdx, wem.row.key = em.keyIdx, em.row.key
		rp := &recordParser{want: want, simple: sp, em: wem}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				parseSafely(rp, b, r.Path)
				close(b.done)
			}
		}()
	}
	defer func() {
		close(stop)
		for b := range order { // unblock the reader; wait for workers
			<-b.done
		}
		wg.Wait()
	}()

	// Rows of simple parsers live in the batches; others' come from Emit.
	em.replay = sp != nil
	resized := false
	started := time.Now()
	for b := range order {
		<-b.done
		keyed := len(em.keyIdx) > 0
		touched := 0
		for i := range b.recs {
			rec := &b.recs[i]
			if keyed && touched < len(b.events) && touched < rec.ev1+touchAhead/2 {
				next := min(len(b.events), rec.ev1+touchAhead)
				em.seen.touch(b.events[touched:next])
				touched = next
			}
			res.rows++
			if res.rows&4095 == 0 {
				if err := ctx.Err(); err != nil {
					return res, fmt.Errorf("ingest %s: %w", r.Path, err)
				}
				if o.Progress != nil {
					o.Progress(Progress{File: r.Path, Bytes: b.pos, Size: r.Size(), Rows: res.rows, Elapsed: time.Since(started)})
				}
			}
			em.begin(rec.line)
			switch {
			case rec.nfields != want || sp != nil:
				if sp != nil && rec.nfields == want {
					if val, why := sp.apply(&rec.st); why != "" {
						em.Reject("", val, why)
						break
					}
				}
				for _, ev := range b.events[rec.ev0:rec.ev1] {
					switch ev.kind {
					case evReject:
						em.Reject(ev.col, ev.val, ev.reason)
					case evSkip:
						em.Skip(ev.reason)
					case evRow:
						em.add(ev.row, ev.key)
					}
				}
			default:
				if err := p.Record(rec.rec, rec.line, em); err != nil {
					return res, fmt.Errorf("ingest %s line %d: %w", r.Path, rec.line, err)
				}
			}
			if err := em.end(); err != nil {
				return res, err
			}
			res.last, res.lastLine = rec.nfields, rec.line
		}
		if b.err != nil {
			return res, b.err
		}
		if !resized && res.rows >= 4096 {
			em.resize(r.Size(), b.end, res.rows)
			resized = true
		}
		free <- b
	}
	return res, nil
}
