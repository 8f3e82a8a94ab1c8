//go:build duckdb_arrow

package server

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gplens/gplens/duck"
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

// acquire returns a snapshot handle and the database the identity may read.
func (s *Server) acquire(ctx context.Context, id identity) (*snapshot.Handle, *sql.DB, error) {
	h, err := s.mgr.Acquire(ctx)
	if errors.Is(err, snapshot.ErrNothingPublished) {
		return nil, nil, status.Error(codes.Unavailable, "nothing published yet: the endpoint answers after the next `gplens publish`")
	}
	if err != nil {
		s.log.Error("acquire snapshot", "err", err)
		return nil, nil, status.Error(codes.Unavailable, "the snapshot is unavailable; try again shortly")
	}
	if id.level == "" {
		return h, h.DB, nil
	}
	sc := Scope{Level: id.level, Code: id.code}
	db, err := h.Derived(ctx, sc.Key(), func(ctx context.Context, snap snapshot.Info) (*sql.DB, func() error, error) {
		return openScoped(ctx, snap, sc, s.openOpts, s.log)
	})
	if err != nil {
		h.Release()
		s.log.Error("open scoped snapshot", "scope", sc.Key(), "err", err)
		return nil, nil, status.Error(codes.Unavailable, "the scoped view of the snapshot is unavailable; ask the administrator to check the server log")
	}
	return h, db, nil
}

// checkSQL admits query only if DuckDB's parse tree of it is one SELECT
// that calls nothing off the allow-list and reads only readable schemas.
// Parsing runs no part of the query.
func (s *Server) checkSQL(ctx context.Context, conn *sql.Conn, query string) error {
	if strings.TrimSpace(query) == "" {
		return status.Error(codes.InvalidArgument, "empty query")
	}
	if len(query) > s.lim.MaxQueryBytes {
		return status.Errorf(codes.InvalidArgument, "query text is %d bytes; the limit is %d", len(query), s.lim.MaxQueryBytes)
	}
	var tree string
	if err := conn.QueryRowContext(ctx, "SELECT json_serialize_sql($1::VARCHAR)::VARCHAR", query).Scan(&tree); err != nil {
		return s.duckStatus(err)
	}
	err := s.allow.checkTree(tree)
	var ref refusal
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ref):
		code := codes.PermissionDenied
		if strings.Contains(ref.msg, "multi-statement") || strings.Contains(ref.msg, "empty query") || strings.Contains(ref.msg, "rror") {
			code = codes.InvalidArgument // syntax errors and the like
		}
		return status.Error(code, ref.msg)
	}
	s.log.Error("check query", "err", err)
	return status.Error(codes.Internal, "could not check the query")
}

// paramTypes prepares an admitted query to learn its parameter types.
func paramTypes(dc *duckdb.Conn, query string) ([]duckdb.Type, error) {
	st, err := dc.Prepare(query)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ds := st.(*duckdb.Stmt)
	var out []duckdb.Type
	for i := 1; i <= ds.NumInput(); i++ {
		pt, err := ds.ParamType(i)
		if err != nil {
			pt = duckdb.TYPE_INVALID
		}
		out = append(out, pt)
	}
	return out, nil
}

// duckStatus maps a DuckDB error to a gRPC status a client can act on,
// with workspace paths removed.
func (s *Server) duckStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	msg := s.scrub(err.Error())
	switch {
	case errors.Is(err, errMemoryGuard):
		return status.Error(codes.ResourceExhausted, errMemoryGuard.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Errorf(codes.DeadlineExceeded, "query timed out after %s and was interrupted", s.timeout)
	case errors.Is(err, context.Canceled), strings.Contains(msg, "INTERRUPT"), strings.Contains(msg, "Interrupted"):
		return status.Error(codes.Canceled, "query cancelled")
	case strings.Contains(msg, "Permission Error"), strings.Contains(msg, "configuration has been locked"),
		strings.Contains(msg, "disabled by configuration"), strings.Contains(msg, "read-only"):
		return status.Error(codes.PermissionDenied, msg)
	case strings.Contains(msg, "Out of Memory"):
		return status.Error(codes.ResourceExhausted, msg)
	}
	return status.Error(codes.InvalidArgument, msg)
}

// quotaStatus maps a quota refusal (or the caller giving up while
// waiting) to a status.
func (s *Server) quotaStatus(err error) error {
	var q quotaError
	if errors.As(err, &q) {
		return status.Error(codes.ResourceExhausted, q.msg)
	}
	return s.duckStatus(err)
}

// scrub removes file system paths from a message meant for a client.
func (s *Server) scrub(msg string) string {
	for _, p := range s.paths {
		if p != "" {
			msg = strings.ReplaceAll(msg, p, "<workspace>")
		}
	}
	return pathRE.ReplaceAllString(msg, "<path>")
}

// pathRE matches absolute paths of two or more components.
var pathRE = regexp.MustCompile(`(?:[A-Za-z]:)?(?:/[\w.+-]+){2,}`)

// execute checks and runs query on the identity's view of the current
// snapshot and returns the pending result. The query timeout runs from
// here to the end of the stream; the memory guard may cut it short.
func (s *Server) execute(ctx context.Context, query string, args []any) (*result, error) {
	id, ok := identityFrom(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no identity")
	}
	done, err := s.running.begin(ctx, id.name)
	if err != nil {
		return nil, s.quotaStatus(err)
	}
	h, db, err := s.acquire(ctx, id)
	if err != nil {
		done()
		return nil, err
	}
	tctx, cancelT := context.WithTimeout(s.baseCtx, s.timeout)
	qctx, cancel := context.WithCancelCause(tctx)
	untrack := s.guard.track(cancel)
	// Cancel the query if the client goes away before the result is handed on.
	stopWatch := context.AfterFunc(ctx, func() { cancel(context.Canceled) })
	finish := func() {
		untrack()
		cancel(nil)
		cancelT()
		h.Release()
		done()
	}
	conn, err := db.Conn(qctx)
	if err != nil {
		stopWatch()
		finish()
		return nil, s.duckStatus(err)
	}
	var rdr array.RecordReader
	err = s.checkSQL(qctx, conn, query)
	if err == nil {
		err = conn.Raw(func(dcAny any) error {
			dc, ok := dcAny.(*duckdb.Conn)
			if !ok {
				return status.Error(codes.Internal, "not a DuckDB connection")
			}
			// Prepare, execute and every fetch run under qctx: DuckDB is
			// interrupted when it ends (timeout, memory guard or client
			// gone). The result streams: see duck.StreamReader.
			sr, err := duck.QueryStream(qctx, dc, query, args)
			if err == nil {
				rdr = sr
			}
			return err
		})
	}
	stopWatch()
	if err != nil {
		if c := context.Cause(qctx); c != nil && !errors.Is(err, c) {
			err = errors.Join(err, c)
		}
		conn.Close()
		finish()
		s.log.Info("query refused or failed", "user", id.name, "err", err)
		return nil, s.duckStatus(err)
	}
	var once sync.Once
	r := &result{rdr: rdr, owner: id.name, ctx: qctx}
	r.release = func() {
		once.Do(func() {
			rdr.Release()
			conn.Close()
			finish()
		})
	}
	s.log.Debug("query", "user", id.name, "snapshot", h.Info.Name, "query", query)
	return r, nil
}

// pending holds executed results between GetFlightInfo and DoGet, with a
// cap per token and in all.
type pending struct {
	mu       sync.Mutex
	m        map[string]*result
	max      int
	perOwner int
}

func (p *pending) put(r *result) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepLocked()
	n := 0
	for _, x := range p.m {
		if x.owner == r.owner {
			n++
		}
	}
	if n >= p.perOwner {
		return "", status.Errorf(codes.ResourceExhausted, "this token has %d results waiting to be fetched (the limit): fetch them first", n)
	}
	if len(p.m) >= p.max {
		return "", status.Error(codes.ResourceExhausted, "too many results waiting to be fetched; retry shortly")
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

// sweeper releases forgotten results and idle prepared statements.
func (s *Server) sweeper(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.results.sweep()
			s.prepared.sweep()
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
