//go:build duckdb_arrow

package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gplens/gplens/snapshot"
)

// result is an executed query whose rows wait to be streamed. It holds its
// snapshot handle, so a publish meanwhile does not disturb it.
type result struct {
	rdr     array.RecordReader
	owner   string
	release func()
	ctx     context.Context
}

// stmtInfo is what a prepared statement check learns.
type stmtInfo struct {
	params []duckdb.Type
}

// acquire returns a snapshot handle and the database the identity may read.
func (s *Server) acquire(ctx context.Context, id identity) (*snapshot.Handle, *sql.DB, error) {
	h, err := s.mgr.Acquire(ctx)
	if errors.Is(err, snapshot.ErrNothingPublished) {
		return nil, nil, status.Error(codes.Unavailable, err.Error())
	}
	if err != nil {
		return nil, nil, status.Errorf(codes.Unavailable, "snapshot: %v", err)
	}
	if id.level == "" {
		return h, h.DB, nil
	}
	db, err := h.Derived(ctx, id.scopeKey(), func(ctx context.Context, snap snapshot.Info) (*sql.DB, func() error, error) {
		return buildScoped(ctx, snap, id, s.openOpts, s.log)
	})
	if err != nil {
		h.Release()
		s.log.Error("build scoped snapshot", "scope", id.scopeKey(), "err", err)
		return nil, nil, status.Errorf(codes.Unavailable, "scoped view of the snapshot unavailable: %v", err)
	}
	return h, db, nil
}

// check prepares query and refuses anything but one SELECT. The driver's
// Prepare (unlike PrepareContext) refuses a multi-statement string before
// running any of it.
func check(dc *duckdb.Conn, query string) (stmtInfo, error) {
	if strings.TrimSpace(query) == "" {
		return stmtInfo{}, status.Error(codes.InvalidArgument, "empty query")
	}
	st, err := dc.Prepare(query)
	if err != nil {
		if strings.Contains(err.Error(), "multi-statement") {
			return stmtInfo{}, status.Error(codes.InvalidArgument, "one statement per request: multi-statement text is refused")
		}
		return stmtInfo{}, duckStatus(err)
	}
	defer st.Close()
	ds := st.(*duckdb.Stmt)
	t, err := ds.StatementType()
	if err != nil {
		return stmtInfo{}, duckStatus(err)
	}
	if t != duckdb.STATEMENT_TYPE_SELECT {
		return stmtInfo{}, status.Errorf(codes.PermissionDenied, "read-only endpoint: only SELECT queries are allowed (got a %s statement)", stmtTypeName(t))
	}
	info := stmtInfo{}
	for i := 1; i <= ds.NumInput(); i++ {
		pt, err := ds.ParamType(i)
		if err != nil {
			pt = duckdb.TYPE_INVALID
		}
		info.params = append(info.params, pt)
	}
	return info, nil
}

func stmtTypeName(t duckdb.StmtType) string {
	names := map[duckdb.StmtType]string{
		duckdb.STATEMENT_TYPE_INSERT: "INSERT", duckdb.STATEMENT_TYPE_UPDATE: "UPDATE",
		duckdb.STATEMENT_TYPE_EXPLAIN: "EXPLAIN", duckdb.STATEMENT_TYPE_DELETE: "DELETE",
		duckdb.STATEMENT_TYPE_PREPARE: "PREPARE", duckdb.STATEMENT_TYPE_CREATE: "CREATE",
		duckdb.STATEMENT_TYPE_EXECUTE: "EXECUTE", duckdb.STATEMENT_TYPE_ALTER: "ALTER",
		duckdb.STATEMENT_TYPE_TRANSACTION: "transaction", duckdb.STATEMENT_TYPE_COPY: "COPY",
		duckdb.STATEMENT_TYPE_ANALYZE: "ANALYZE", duckdb.STATEMENT_TYPE_VARIABLE_SET: "SET VARIABLE",
		duckdb.STATEMENT_TYPE_CREATE_FUNC: "CREATE FUNCTION", duckdb.STATEMENT_TYPE_DROP: "DROP",
		duckdb.STATEMENT_TYPE_EXPORT: "EXPORT", duckdb.STATEMENT_TYPE_PRAGMA: "PRAGMA",
		duckdb.STATEMENT_TYPE_VACUUM: "VACUUM", duckdb.STATEMENT_TYPE_CALL: "CALL",
		duckdb.STATEMENT_TYPE_SET: "SET", duckdb.STATEMENT_TYPE_LOAD: "LOAD/INSTALL",
		duckdb.STATEMENT_TYPE_ATTACH: "ATTACH", duckdb.STATEMENT_TYPE_DETACH: "DETACH",
		duckdb.STATEMENT_TYPE_EXTENSION: "extension", duckdb.STATEMENT_TYPE_MULTI: "multi",
	}
	if n, ok := names[t]; ok {
		return n
	}
	return fmt.Sprintf("type-%d", t)
}

// duckStatus maps a DuckDB error to a gRPC status a client can act on.
func duckStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	msg := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "query timed out")
	case errors.Is(err, context.Canceled), strings.Contains(msg, "INTERRUPT"), strings.Contains(msg, "Interrupted"):
		return status.Error(codes.Canceled, "query cancelled or timed out: "+msg)
	case strings.Contains(msg, "Permission Error"), strings.Contains(msg, "configuration has been locked"),
		strings.Contains(msg, "disabled by configuration"), strings.Contains(msg, "read-only"):
		return status.Error(codes.PermissionDenied, msg)
	case strings.Contains(msg, "Out of Memory"):
		return status.Error(codes.ResourceExhausted, msg)
	}
	return status.Error(codes.InvalidArgument, msg)
}

// execute checks and runs query on the identity's view of the current
// snapshot and returns the pending result. The query timeout runs from
// here to the end of the stream.
func (s *Server) execute(ctx context.Context, query string, args []any) (*result, error) {
	id, ok := identityFrom(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no identity")
	}
	h, db, err := s.acquire(ctx, id)
	if err != nil {
		return nil, err
	}
	qctx, cancel := context.WithTimeout(s.baseCtx, s.timeout)
	// Cancel the query if the client goes away before the result is handed on.
	stopWatch := context.AfterFunc(ctx, cancel)
	conn, err := db.Conn(qctx)
	if err != nil {
		stopWatch()
		cancel()
		h.Release()
		return nil, duckStatus(err)
	}
	var rdr array.RecordReader
	err = conn.Raw(func(dcAny any) error {
		dc, ok := dcAny.(*duckdb.Conn)
		if !ok {
			return status.Error(codes.Internal, "not a DuckDB connection")
		}
		info, err := check(dc, query)
		if err != nil {
			return err
		}
		if len(args) != len(info.params) {
			return status.Errorf(codes.InvalidArgument, "query has %d parameters, %d bound", len(info.params), len(args))
		}
		ar, err := duckdb.NewArrowFromConn(dc)
		if err != nil {
			return err
		}
		rdr, err = ar.QueryContext(qctx, query, args...)
		return err
	})
	stopWatch()
	if err != nil {
		conn.Close()
		cancel()
		h.Release()
		s.log.Info("query refused or failed", "user", id.name, "err", err)
		return nil, duckStatus(err)
	}
	var once sync.Once
	r := &result{rdr: rdr, owner: id.name, ctx: qctx}
	r.release = func() {
		once.Do(func() {
			rdr.Release()
			conn.Close()
			cancel()
			h.Release()
		})
	}
	s.log.Debug("query", "user", id.name, "snapshot", h.Info.Name, "query", query)
	return r, nil
}

// pending holds executed results between GetFlightInfo and DoGet.
type pending struct {
	mu  sync.Mutex
	m   map[string]*result
	max int
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return string(b)
}

func (p *pending) put(r *result) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepLocked()
	if len(p.m) >= p.max {
		return "", status.Error(codes.ResourceExhausted, "too many results waiting to be fetched; fetch or retry later")
	}
	id := newID()
	p.m[id] = r
	return id, nil
}

func (p *pending) take(id, owner string) (*result, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.m[id]
	if !ok || r.owner != owner {
		return nil, false
	}
	delete(p.m, id)
	return r, true
}

// sweepLocked drops results whose timeout has passed.
func (p *pending) sweepLocked() {
	for id, r := range p.m {
		if r.ctx.Err() != nil {
			delete(p.m, id)
			r.release()
		}
	}
}

func (p *pending) sweep() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepLocked()
}

func (p *pending) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, r := range p.m {
		delete(p.m, id)
		r.release()
	}
}

// sweeper releases forgotten results.
func (s *Server) sweeper(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.results.sweep()
		}
	}
}

// paramType maps a DuckDB parameter type to the Arrow type clients should
// bind; unknown types are left to the client (null type).
func paramType(t duckdb.Type) arrow.DataType {
	switch t {
	case duckdb.TYPE_BOOLEAN:
		return arrow.FixedWidthTypes.Boolean
	case duckdb.TYPE_TINYINT:
		return arrow.PrimitiveTypes.Int8
	case duckdb.TYPE_SMALLINT:
		return arrow.PrimitiveTypes.Int16
	case duckdb.TYPE_INTEGER:
		return arrow.PrimitiveTypes.Int32
	case duckdb.TYPE_BIGINT:
		return arrow.PrimitiveTypes.Int64
	case duckdb.TYPE_UTINYINT:
		return arrow.PrimitiveTypes.Uint8
	case duckdb.TYPE_USMALLINT:
		return arrow.PrimitiveTypes.Uint16
	case duckdb.TYPE_UINTEGER:
		return arrow.PrimitiveTypes.Uint32
	case duckdb.TYPE_UBIGINT:
		return arrow.PrimitiveTypes.Uint64
	case duckdb.TYPE_FLOAT:
		return arrow.PrimitiveTypes.Float32
	case duckdb.TYPE_DOUBLE, duckdb.TYPE_DECIMAL:
		return arrow.PrimitiveTypes.Float64
	case duckdb.TYPE_VARCHAR:
		return arrow.BinaryTypes.String
	case duckdb.TYPE_DATE:
		return arrow.FixedWidthTypes.Date32
	case duckdb.TYPE_TIMESTAMP:
		return arrow.FixedWidthTypes.Timestamp_us
	}
	return arrow.Null
}
