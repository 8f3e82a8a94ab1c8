//go:build duckdb_arrow

package duck

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	bindings "github.com/duckdb/duckdb-go-bindings"
	"github.com/duckdb/duckdb-go/v2"
)

// duckdb-go (v2.10506.0 and v2.20000.0 alike) executes every query with
// duckdb_pending_prepared, so DuckDB materialises the whole result before
// its Arrow reader hands out the first batch: a 2M-row result waited for
// in full and held in memory. QueryStream instead executes with
// duckdb_pending_prepared_streaming and converts each chunk to Arrow as
// DuckDB produces it, so a large result is sent while it is computed and
// memory stays bounded by DuckDB's streaming buffer. duckdb-go prepares and
// binds the statement (its parameter conversions); the C handles it keeps
// unexported are read by reflection, checked against their expected types
// so a changed driver fails loudly here rather than misbehaving.

var (
	connHandleType = reflect.TypeOf(bindings.Connection{})
	stmtHandleType = reflect.TypeOf((*bindings.PreparedStatement)(nil))
)

// rawConn returns the DuckDB C connection behind a duckdb-go connection.
func rawConn(dc *duckdb.Conn) (bindings.Connection, error) {
	f := reflect.ValueOf(dc).Elem().FieldByName("conn")
	if !f.IsValid() || f.Type() != connHandleType {
		return bindings.Connection{}, errors.New("duckdb-go connection layout changed: no C connection handle")
	}
	return bindings.Connection{Ptr: f.Field(0).UnsafePointer()}, nil
}

// rawStmt returns the DuckDB C prepared statement behind a duckdb-go one.
func rawStmt(st *duckdb.Stmt) (bindings.PreparedStatement, error) {
	f := reflect.ValueOf(st).Elem().FieldByName("preparedStmt")
	if !f.IsValid() || f.Type() != stmtHandleType || f.IsNil() {
		return bindings.PreparedStatement{}, errors.New("duckdb-go statement layout changed: no C prepared statement handle")
	}
	return *(*bindings.PreparedStatement)(f.UnsafePointer()), nil
}

// StreamReader is an array.RecordReader over a DuckDB streaming result:
// each Next fetches (and so lets DuckDB compute) one more chunk. ctx
// ending interrupts DuckDB, so a query timeout or a departed client
// stops a query mid-stream as it stops one mid-execution.
// Like other RecordReaders it is used from one goroutine at a time; only
// the interrupt comes from elsewhere.
type StreamReader struct {
	stmt   *duckdb.Stmt
	conn   bindings.Connection
	res    bindings.Result
	opts   bindings.ArrowOptions
	schema *arrow.Schema
	ctx    context.Context
	stop   func() bool

	refs    int64
	current arrow.RecordBatch
	err     error

	mu     sync.Mutex // keeps an interrupt off a closed connection
	closed bool
}

var _ array.RecordReader = (*StreamReader)(nil)

// QueryStream prepares, binds and starts query on dc as a streaming
// result. The caller must Release the reader; dc must stay reserved for it
// until then (DuckDB invalidates a streaming result when its connection
// runs another query).
func QueryStream(ctx context.Context, dc *duckdb.Conn, query string, args []any) (_ *StreamReader, err error) {
	conn, err := rawConn(dc)
	if err != nil {
		return nil, err
	}
	ds, err := dc.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(*duckdb.Stmt)
	if !ok {
		ds.Close()
		return nil, errors.New("not a DuckDB statement")
	}
	r := &StreamReader{stmt: st, conn: conn, ctx: ctx, refs: 1}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if len(args) > 0 {
		named := make([]driver.NamedValue, len(args))
		for i, a := range args {
			named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		if err := st.BindWithCtx(ctx, named); err != nil {
			return nil, err
		}
	}
	ps, err := rawStmt(st)
	if err != nil {
		return nil, err
	}
	// Interrupt from here on; r.mu keeps it from touching a closed
	// connection.
	r.stop = context.AfterFunc(ctx, r.interrupt)
	var pending bindings.PendingResult
	if bindings.PendingPreparedStreaming(ps, &pending) == bindings.StateError {
		msg := bindings.PendingError(pending)
		bindings.DestroyPending(&pending)
		return nil, r.withCause(errors.New(msg))
	}
	state := bindings.ExecutePending(pending, &r.res)
	bindings.DestroyPending(&pending)
	if state == bindings.StateError {
		return nil, r.withCause(errors.New(bindings.ResultError(&r.res)))
	}
	r.opts = bindings.ResultGetArrowOptions(&r.res)
	n := bindings.ColumnCount(&r.res)
	names := make([]string, n)
	types := make([]bindings.LogicalType, n)
	for i := range n {
		names[i] = bindings.ColumnName(&r.res, i)
		types[i] = bindings.ColumnLogicalType(&r.res, i)
	}
	schema, ed := bindings.NewArrowSchema(r.opts, types, names)
	for i := range types {
		bindings.DestroyLogicalType(&types[i])
	}
	if err := errorData(ed); err != nil {
		return nil, fmt.Errorf("arrow schema of the result: %w", err)
	}
	r.schema = schema
	return r, nil
}

// interrupt asks DuckDB to stop the running query, unless the reader has
// already let go of the connection.
func (r *StreamReader) interrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		bindings.Interrupt(r.conn)
	}
}

// withCause adds why ctx ended (timeout, memory guard) to DuckDB's
// "interrupted" message.
func (r *StreamReader) withCause(err error) error {
	if c := context.Cause(r.ctx); c != nil {
		return errors.Join(err, c)
	}
	return err
}

func errorData(ed bindings.ErrorData) error {
	defer bindings.DestroyErrorData(&ed)
	if !bindings.ErrorDataHasError(ed) {
		return nil
	}
	return errors.New(bindings.ErrorDataMessage(ed))
}

func (r *StreamReader) Schema() *arrow.Schema { return r.schema }

func (r *StreamReader) Next() bool {
	if r.current != nil {
		r.current.Release()
		r.current = nil
	}
	if r.closed || r.err != nil {
		return false
	}
	if err := r.ctx.Err(); err != nil {
		r.err = r.withCause(err)
		return false
	}
	chunk := bindings.FetchChunk(r.res)
	if chunk.Ptr == nil {
		if msg := bindings.ResultError(&r.res); msg != "" {
			r.err = r.withCause(errors.New(msg))
		}
		return false
	}
	defer bindings.DestroyDataChunk(&chunk)
	if bindings.DataChunkGetSize(chunk) == 0 {
		return false
	}
	rec, ed := bindings.DataChunkToArrowArray(r.opts, r.schema, chunk)
	if err := errorData(ed); err != nil {
		r.err = fmt.Errorf("convert a result chunk to arrow: %w", err)
		return false
	}
	r.current = rec
	return true
}

func (r *StreamReader) RecordBatch() arrow.RecordBatch { return r.current }

// Record is the deprecated name of RecordBatch.
func (r *StreamReader) Record() arrow.RecordBatch { return r.RecordBatch() }

func (r *StreamReader) Err() error { return r.err }

func (r *StreamReader) Retain() { r.refs++ }

func (r *StreamReader) Release() {
	if r.refs--; r.refs == 0 {
		r.close()
	}
}

// close frees the result and the statement; the interrupt is disarmed
// first so it cannot reach the connection once it is reused.
func (r *StreamReader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	if r.stop != nil {
		r.stop()
	}
	if r.current != nil {
		r.current.Release()
		r.current = nil
	}
	bindings.DestroyResult(&r.res)
	if r.opts.Ptr != nil {
		bindings.DestroyArrowOptions(&r.opts)
	}
	r.stmt.Close()
}
