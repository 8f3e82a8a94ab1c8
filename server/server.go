//go:build duckdb_arrow

package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/duckdb/duckdb-go/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/snapshot"
)

// Server is a running-or-ready Flight SQL endpoint.
type Server struct {
	flightsql.BaseServer

	cfg      Config
	log      *slog.Logger
	timeout  time.Duration
	openOpts snapshot.OpenOptions
	mgr      *snapshot.Manager
	lis      net.Listener
	grpc     *grpc.Server
	results  *pending
	baseCtx  context.Context
	stopBase context.CancelFunc

	lim      Limits
	allow    *allowList
	prepared *preparedStore
	running  *running
	guard    *memGuard
	paths    []string // workspace paths scrubbed from messages
}

// check validates cfg and fills in its defaults (address, timeout, limits,
// version), returning the parsed tokens and the effective limits.
func (cfg *Config) check() ([]Token, Limits, error) {
	if cfg.Workspace == "" {
		return nil, Limits{}, errors.New("serve: workspace is not set")
	}
	toks, err := cfg.tokens()
	if err != nil {
		return nil, Limits{}, fmt.Errorf("serve: %w", err)
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, Limits{}, errors.New("serve: set both tls_cert and tls_key, or neither")
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.TLSCert == "" && !isLoopback(cfg.Addr) && !cfg.Insecure {
		return nil, Limits{}, fmt.Errorf("serve: %s is reachable from other machines but TLS is off: set tls_cert and tls_key (--tls-cert/--tls-key), or pass --insecure to serve tokens and data in clear text", cfg.Addr)
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 5 * time.Minute
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	lim := cfg.Limits.withDefaults()
	if cfg.MaxPending > 0 {
		lim.PendingTotal = cfg.MaxPending
	}
	if lim.MemoryGuard == 0 {
		lim.MemoryGuard = 5 << 29 // 2.5 GiB
		if cfg.MemoryLimit != "" {
			b, err := duck.ParseBytes(cfg.MemoryLimit)
			if err != nil {
				return nil, Limits{}, fmt.Errorf("serve: memory_limit %q: %w", cfg.MemoryLimit, err)
			}
			lim.MemoryGuard = 2*b + 512<<20
		}
	}
	return toks, lim, nil
}

// New checks the configuration, opens the current snapshot (an empty
// workspace is allowed: queries fail with Unavailable until a publish) and
// binds the listen address.
func New(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	toks, lim, err := cfg.check()
	if err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	allow, err := loadAllowList(cfg.Workspace)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		timeout:  cfg.QueryTimeout,
		openOpts: snapshot.OpenOptions{MemoryLimit: cfg.MemoryLimit, Threads: cfg.Threads},
		results:  &pending{m: map[string]*result{}, max: lim.PendingTotal, perOwner: lim.PendingPerToken},
		lim:      lim,
		allow:    allow,
		prepared: newPreparedStore(lim, clock),
		running:  newRunning(lim.ConcurrentPerToken, lim.QueueWait),
		guard:    newMemGuard(lim.MemoryGuard, log),
	}
	if abs, err := filepath.Abs(cfg.Workspace); err == nil {
		s.paths = append(s.paths, abs)
	}
	s.paths = append(s.paths, cfg.Workspace)
	s.baseCtx, s.stopBase = context.WithCancel(context.Background())

	var opts []grpc.ServerOption
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("serve: load TLS key pair: %w", err)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})))
	}
	auth := &authenticator{tokens: toks}
	opts = append(opts, grpc.ChainUnaryInterceptor(auth.unary), grpc.ChainStreamInterceptor(auth.stream))

	if err := s.registerSQLInfo(); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	s.mgr, err = snapshot.NewManager(context.Background(), cfg.Workspace, snapshot.ManagerOptions{
		OpenOptions: s.openOpts, PollInterval: cfg.PollInterval, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if cur, ok := s.mgr.Current(); !ok {
		log.Warn("nothing published yet: queries fail until `gplens publish` runs; token scopes are checked then", "workspace", cfg.Workspace)
	} else if err := checkScopes(context.Background(), cur, toks); err != nil {
		s.mgr.Close()
		return nil, fmt.Errorf("serve: %w", err)
	}
	s.lis, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.mgr.Close()
		return nil, fmt.Errorf("serve: listen %s: %w", cfg.Addr, err)
	}
	s.grpc = grpc.NewServer(opts...)
	flight.RegisterFlightServiceServer(s.grpc, flightsql.NewFlightServer(s))
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// Serve answers requests until ctx is cancelled, then stops gracefully:
// no new calls, streams in progress finish (for at most the query
// timeout), snapshots close.
func (s *Server) Serve(ctx context.Context) error {
	go s.sweeper(s.baseCtx)
	go s.guard.run(s.baseCtx, 100*time.Millisecond)
	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(s.lis) }()
	s.log.Info("flight sql server listening", "addr", s.lis.Addr().String(), "tls", s.cfg.TLSCert != "")
	var err error
	select {
	case <-ctx.Done():
		stopped := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(s.timeout):
			s.grpc.Stop()
		}
		<-errc
	case err = <-errc:
	}
	s.stopBase()
	s.results.closeAll()
	s.mgr.Close()
	s.log.Info("flight sql server stopped")
	if errors.Is(err, grpc.ErrServerStopped) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Refresh makes the server pick up a new CURRENT now rather than at the
// next poll.
func (s *Server) Refresh(ctx context.Context) error { return s.mgr.Refresh(ctx) }

func (s *Server) caller(ctx context.Context) (identity, error) {
	id, ok := identityFrom(ctx)
	if !ok {
		return identity{}, status.Error(codes.Unauthenticated, "no identity")
	}
	return id, nil
}

// statement handles are 16 random bytes: a key into s.results.
func (s *Server) flightInfo(ctx context.Context, r *result, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	id, err := s.results.put(r)
	if err != nil {
		r.release()
		return nil, err
	}
	ticket, err := flightsql.CreateStatementQueryTicket([]byte(id))
	if err != nil {
		s.results.take(id, r.owner)
		r.release()
		return nil, status.Errorf(codes.Internal, "ticket: %v", err)
	}
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(r.rdr.Schema(), memory.DefaultAllocator),
		FlightDescriptor: desc,
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: ticket}}},
		TotalRecords:     -1,
		TotalBytes:       -1,
	}, nil
}

// GetFlightInfoStatement executes the query now (so the schema is exact and
// the whole result comes from one snapshot) and returns a ticket for it.
func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if len(cmd.GetTransactionId()) > 0 {
		return nil, status.Error(codes.InvalidArgument, "transactions are not supported")
	}
	r, err := s.execute(ctx, cmd.GetQuery(), nil)
	if err != nil {
		return nil, err
	}
	return s.flightInfo(ctx, r, desc)
}

// GetSchemaStatement returns a query's result schema.
func (s *Server) GetSchemaStatement(ctx context.Context, cmd flightsql.StatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	r, err := s.execute(ctx, cmd.GetQuery(), nil)
	if err != nil {
		return nil, err
	}
	defer r.release()
	return &flight.SchemaResult{Schema: flight.SerializeSchema(r.rdr.Schema(), memory.DefaultAllocator)}, nil
}

// DoGetStatement streams a result executed by GetFlightInfo.
func (s *Server) DoGetStatement(ctx context.Context, t flightsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	id, err := s.caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, ok := s.results.take(string(t.GetStatementHandle()), id.name)
	if !ok {
		return nil, nil, status.Error(codes.NotFound, "unknown or expired ticket: call GetFlightInfo again")
	}
	return s.stream(ctx, r)
}

// streamErr maps an error met while streaming (the query runs as it
// streams, so timeouts and DuckDB errors arrive here) to a status.
func (s *Server) streamErr(err error) error {
	s.log.Info("query failed while streaming", "err", err)
	return s.duckStatus(err)
}

func (s *Server) stream(ctx context.Context, r *result) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	ch := make(chan flight.StreamChunk, 2)
	go func() {
		defer r.release()
		defer close(ch)
		coalesce(ctx, r.rdr, ch, s.streamErr)
	}()
	return r.rdr.Schema(), ch, nil
}

// Batch sizes sent to clients. DuckDB hands out 2,048-row chunks; for a
// narrow result each is a few KiB, and sending each as its own message
// makes per-message costs (IPC framing, gRPC flow control, goroutine
// hand-offs) dominate, so chunks are joined as they arrive until a batch
// reaches batchRows rows or batchBytes bytes. Joining copies every byte
// once more, so the byte bound is low: a wide result's chunks (over 128
// KiB) go out as they come. Measured on the 2M-row bench with streaming:
// 128 KiB gave 0.74-1.17 M rows/s, 2 MiB 0.75-0.99 M rows/s (machine
// shared and loaded).
const (
	batchRows  = 64 << 10
	batchBytes = 128 << 10
)

// coalesce sends rdr's batches on ch, joined up to batchRows/batchBytes,
// stopping early when ctx ends; errf maps an error for the client. It does
// not close ch.
func coalesce(ctx context.Context, rdr array.RecordReader, ch chan<- flight.StreamChunk, errf func(error) error) {
	var held []arrow.RecordBatch
	var rows, size int64
	send := func() bool {
		if len(held) == 0 {
			return true
		}
		var rec arrow.RecordBatch
		if len(held) == 1 {
			rec = held[0]
		} else {
			var err error
			rec, err = concatBatches(rdr.Schema(), held)
			for _, h := range held {
				h.Release()
			}
			if err != nil {
				held = nil
				ch <- flight.StreamChunk{Err: errf(err)}
				return false
			}
		}
		held, rows, size = held[:0], 0, 0
		select {
		case ch <- flight.StreamChunk{Data: rec}:
			return true
		case <-ctx.Done():
			rec.Release()
			return false
		}
	}
	defer func() {
		for _, h := range held {
			h.Release()
		}
	}()
	for rdr.Next() {
		rec := rdr.RecordBatch()
		rec.Retain()
		held = append(held, rec)
		rows += rec.NumRows()
		size += batchSize(rec)
		if rows >= batchRows || size >= batchBytes {
			if !send() {
				return
			}
		}
	}
	if !send() {
		return
	}
	if err := rdr.Err(); err != nil {
		ch <- flight.StreamChunk{Err: errf(err)}
	}
}

func batchSize(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		for _, b := range c.Data().Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
	}
	return n
}

// concatBatches joins batches of one schema into one.
func concatBatches(schema *arrow.Schema, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, schema.NumFields())
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	for i := range cols {
		parts := make([]arrow.Array, len(recs))
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		c, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			for _, x := range cols[:i] {
				x.Release()
			}
			return nil, fmt.Errorf("join batches: %w", err)
		}
		cols[i] = c
	}
	rec := array.NewRecordBatch(schema, cols, n)
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

// CreatePreparedStatement checks the query on the current snapshot and
// keeps its text; each execution runs on the snapshot current then.
// Statements count against the token's quota and close after
// Limits.PreparedIdle without use.
func (s *Server) CreatePreparedStatement(ctx context.Context, req flightsql.ActionCreatePreparedStatementRequest) (flightsql.ActionCreatePreparedStatementResult, error) {
	var res flightsql.ActionCreatePreparedStatementResult
	if len(req.GetTransactionId()) > 0 {
		return res, status.Error(codes.InvalidArgument, "transactions are not supported")
	}
	id, err := s.caller(ctx)
	if err != nil {
		return res, err
	}
	if n := s.prepared.openCount(id.name); n >= s.lim.PreparedPerToken {
		return res, status.Errorf(codes.ResourceExhausted, "this token has %d open prepared statements (the limit): close some", n)
	}
	params, err := s.checkOnly(ctx, id, req.GetQuery())
	if err != nil {
		return res, err
	}
	p := &prepared{query: req.GetQuery(), owner: id.name}
	fields := make([]arrow.Field, len(params))
	for i, t := range params {
		p.params = append(p.params, paramType(t))
		fields[i] = arrow.Field{Name: fmt.Sprintf("$%d", i+1), Type: paramType(t), Nullable: true}
	}
	res.ParameterSchema = arrow.NewSchema(fields, nil)
	if len(params) == 0 {
		// Without parameters the result schema is cheap to learn exactly.
		if r, err := s.execute(ctx, "SELECT * FROM (\n"+req.GetQuery()+"\n) AS gplens_q LIMIT 0", nil); err == nil {
			res.DatasetSchema = r.rdr.Schema()
			r.release()
		}
	}
	isUpdate := false
	res.IsUpdate = &isUpdate
	h, err := s.prepared.add(p)
	if err != nil {
		return res, status.Error(codes.ResourceExhausted, err.Error())
	}
	res.Handle = []byte(h)
	return res, nil
}

// checkOnly validates a query and learns its parameter types without
// running it, under the query timeout.
func (s *Server) checkOnly(ctx context.Context, id identity, query string) ([]duckdb.Type, error) {
	done, err := s.running.begin(ctx, id.name)
	if err != nil {
		return nil, s.quotaStatus(err)
	}
	defer done()
	h, db, err := s.acquire(ctx, id)
	if err != nil {
		return nil, err
	}
	defer h.Release()
	qctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := db.Conn(qctx)
	if err != nil {
		return nil, s.duckStatus(err)
	}
	defer conn.Close()
	if err := s.checkSQL(qctx, conn, query); err != nil {
		return nil, err
	}
	var params []duckdb.Type
	err = conn.Raw(func(dc any) error {
		var err error
		params, err = paramTypes(dc.(*duckdb.Conn), query)
		return err
	})
	return params, s.duckStatus(err)
}

func (s *Server) getPrepared(ctx context.Context, handle []byte) (*prepared, error) {
	id, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	p, ok := s.prepared.get(string(handle), id.name)
	if !ok {
		return nil, status.Error(codes.NotFound, "unknown, closed or expired prepared statement: prepare it again")
	}
	return p, nil
}

// ClosePreparedStatement forgets a prepared statement.
func (s *Server) ClosePreparedStatement(ctx context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	id, err := s.caller(ctx)
	if err != nil {
		return err
	}
	if !s.prepared.remove(string(req.GetPreparedStatementHandle()), id.name) {
		return status.Error(codes.NotFound, "unknown, closed or expired prepared statement")
	}
	return nil
}

// DoPutPreparedStatementQuery binds parameter values (one row) to a
// prepared statement.
func (s *Server) DoPutPreparedStatementQuery(ctx context.Context, cmd flightsql.PreparedStatementQuery, rdr flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	p, err := s.getPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	var sets [][]any
	for rdr.Next() {
		rec := rdr.RecordBatch()
		if len(sets)+int(rec.NumRows()) > 1 {
			return nil, status.Error(codes.InvalidArgument, "bind one row of parameters per execution")
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for c := 0; c < int(rec.NumCols()); c++ {
				sc, err := scalar.GetScalar(rec.Column(c), i)
				if err != nil {
					return nil, status.Errorf(codes.InvalidArgument, "parameter %d: %v", c+1, err)
				}
				row[c], err = scalarValue(sc)
				if r, ok := sc.(scalar.Releasable); ok {
					r.Release()
				}
				if err != nil {
					return nil, status.Errorf(codes.InvalidArgument, "parameter %d: %v", c+1, err)
				}
			}
			sets = append(sets, row)
		}
	}
	if err := rdr.Err(); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "read parameters: %v", err)
	}
	s.prepared.setArgs(p, sets)
	return cmd.GetPreparedStatementHandle(), nil
}

func (s *Server) preparedArgs(p *prepared) []any { return s.prepared.argsOf(p) }

// GetFlightInfoPreparedStatement executes a prepared statement with its
// bound parameters and returns a ticket for the result.
func (s *Server) GetFlightInfoPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	p, err := s.getPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	r, err := s.execute(ctx, p.query, s.preparedArgs(p))
	if err != nil {
		return nil, err
	}
	return s.flightInfo(ctx, r, desc)
}

// GetSchemaPreparedStatement returns the prepared statement's result schema.
func (s *Server) GetSchemaPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	p, err := s.getPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	r, err := s.execute(ctx, p.query, s.preparedArgs(p))
	if err != nil {
		return nil, err
	}
	defer r.release()
	return &flight.SchemaResult{Schema: flight.SerializeSchema(r.rdr.Schema(), memory.DefaultAllocator)}, nil
}

// DoGetPreparedStatement runs and streams a prepared statement for clients
// that use the command itself as the ticket.
func (s *Server) DoGetPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	p, err := s.getPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, nil, err
	}
	r, err := s.execute(ctx, p.query, s.preparedArgs(p))
	if err != nil {
		return nil, nil, err
	}
	return s.stream(ctx, r)
}

// Writes of every kind are refused explicitly, with a clear message.

func (s *Server) DoPutCommandStatementUpdate(context.Context, flightsql.StatementUpdate) (int64, error) {
	return 0, errReadOnly
}

func (s *Server) DoPutPreparedStatementUpdate(context.Context, flightsql.PreparedStatementUpdate, flight.MessageReader) (int64, error) {
	return 0, errReadOnly
}

func (s *Server) DoPutCommandStatementIngest(context.Context, flightsql.StatementIngest, flight.MessageReader) (int64, error) {
	return 0, errReadOnly
}

func (s *Server) BeginTransaction(context.Context, flightsql.ActionBeginTransactionRequest) ([]byte, error) {
	return nil, status.Error(codes.Unimplemented, "transactions are not supported by this read-only endpoint")
}

var errReadOnly = status.Error(codes.PermissionDenied, "read-only endpoint: updates and ingestion are refused")

// scalarValue converts a bound Arrow parameter into a Go value DuckDB binds.
func scalarValue(sc scalar.Scalar) (any, error) {
	if !sc.IsValid() {
		return nil, nil
	}
	switch v := sc.(type) {
	case *scalar.Boolean:
		return v.Value, nil
	case *scalar.Int8:
		return v.Value, nil
	case *scalar.Int16:
		return v.Value, nil
	case *scalar.Int32:
		return v.Value, nil
	case *scalar.Int64:
		return v.Value, nil
	case *scalar.Uint8:
		return v.Value, nil
	case *scalar.Uint16:
		return v.Value, nil
	case *scalar.Uint32:
		return v.Value, nil
	case *scalar.Uint64:
		return v.Value, nil
	case *scalar.Float32:
		return v.Value, nil
	case *scalar.Float64:
		return v.Value, nil
	case *scalar.String:
		return string(v.Value.Bytes()), nil
	case *scalar.LargeString:
		return string(v.Value.Bytes()), nil
	case *scalar.Binary:
		return bytes.Clone(v.Value.Bytes()), nil
	case scalar.DateScalar:
		return v.ToTime(), nil
	case *scalar.Timestamp:
		return v.ToTime(), nil
	case *scalar.DenseUnion:
		return scalarValue(v.Value)
	case *scalar.SparseUnion:
		return scalarValue(v.Value[v.ChildID])
	}
	return nil, fmt.Errorf("unsupported parameter type %s", sc.DataType())
}
