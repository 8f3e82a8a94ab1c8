//go:build duckdb_arrow

package server

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func (s *Server) registerSQLInfo() error {
	info := map[flightsql.SqlInfo]any{
		flightsql.SqlInfoFlightSqlServerName:                    "gplens",
		flightsql.SqlInfoFlightSqlServerVersion:                 s.cfg.Version,
		flightsql.SqlInfoFlightSqlServerArrowVersion:            "18.8.0",
		flightsql.SqlInfoFlightSqlServerReadOnly:                true,
		flightsql.SqlInfoFlightSqlServerSql:                     true,
		flightsql.SqlInfoFlightSqlServerSubstrait:               false,
		flightsql.SqlInfoFlightSqlServerTransaction:             int32(flightsql.SqlTransactionNone),
		flightsql.SqlInfoFlightSqlServerCancel:                  false,
		flightsql.SqlInfoFlightSqlServerStatementTimeout:        int32(s.timeout.Seconds()),
		flightsql.SqlInfoDDLCatalog:                             false,
		flightsql.SqlInfoDDLSchema:                              false,
		flightsql.SqlInfoDDLTable:                               false,
		flightsql.SqlInfoIdentifierQuoteChar:                    `"`,
		flightsql.SqlInfoIdentifierCase:                         int32(flightsql.SqlCaseSensitivityCaseInsensitive),
		flightsql.SqlInfoQuotedIdentifierCase:                   int32(flightsql.SqlCaseSensitivityCaseInsensitive),
		flightsql.SqlInfoAllTablesAreASelectable:                true,
		flightsql.SqlInfoTransactionsSupported:                  false,
		flightsql.SqlInfoSearchStringEscape:                     `\`,
		flightsql.SqlInfoExtraNameChars:                         "",
		flightsql.SqlInfoSupportsColumnAliasing:                 true,
		flightsql.SqlInfoNullPlusNullIsNull:                     true,
		flightsql.SqlInfoSupportsTableCorrelationNames:          true,
		flightsql.SqlInfoSupportsDifferentTableCorrelationNames: false,
		flightsql.SqlInfoSupportsExpressionsInOrderBy:           true,
		flightsql.SqlInfoSupportsOrderByUnrelated:               true,
		flightsql.SqlInfoSupportedGroupBy:                       int32(3), // unrelated | beyond select
		flightsql.SqlInfoSupportsLikeEscapeClause:               true,
		flightsql.SqlInfoSupportsNonNullableColumns:             true,
		flightsql.SqlInfoSupportsIntegrityEnhancementFacility:   false,
		flightsql.SqlInfoSchemaTerm:                             "schema",
		flightsql.SqlInfoCatalogTerm:                            "catalog",
		flightsql.SqlInfoProcedureTerm:                          "procedure",
		flightsql.SqlInfoCatalogAtStart:                         true,
		flightsql.SqlInfoSelectForUpdateSupported:               false,
		flightsql.SqlInfoNullOrdering:                           int32(flightsql.SqlNullOrderingSortAtEnd),
		flightsql.SqlInfoNumericFunctions:                       s.allow.names("math"),
		flightsql.SqlInfoStringFunctions:                        s.allow.names("string/misc", "regex"),
		flightsql.SqlInfoKeywords:                               []string{},
	}
	for k, v := range info {
		if err := s.RegisterSqlInfo(k, v); err != nil {
			return fmt.Errorf("sql info %d: %w", k, err)
		}
	}
	return nil
}

// metaQuery runs a server-written catalog query on the caller's view of
// the current snapshot (scoped tokens see only their scoped tables).
func (s *Server) metaQuery(ctx context.Context, fn func(ctx context.Context, conn *sql.Conn) error) error {
	id, err := s.caller(ctx)
	if err != nil {
		return err
	}
	h, db, err := s.acquire(ctx, id)
	if err != nil {
		return err
	}
	defer h.Release()
	qctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := db.Conn(qctx)
	if err != nil {
		return s.duckStatus(err)
	}
	defer conn.Close()
	return fn(qctx, conn)
}

func oneBatch(rec arrow.RecordBatch) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	ch := make(chan flight.StreamChunk, 1)
	ch <- flight.StreamChunk{Data: rec}
	close(ch)
	return rec.Schema(), ch, nil
}

func (s *Server) infoFor(desc *flight.FlightDescriptor, schema *arrow.Schema) *flight.FlightInfo {
	return &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: desc.Cmd}}},
		FlightDescriptor: desc,
		Schema:           flight.SerializeSchema(schema, memory.DefaultAllocator),
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
}

// GetFlightInfoCatalogs: the catalog list.
func (s *Server) GetFlightInfoCatalogs(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.Catalogs), nil
}

// DoGetCatalogs lists the snapshot's catalog (always "warehouse").
func (s *Server) DoGetCatalogs(ctx context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	var names []string
	err := s.metaQuery(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var err error
		names, err = s.strings1(ctx, conn, "SELECT current_database()")
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema_ref.Catalogs)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues(names, nil)
	return oneBatch(b.NewRecordBatch())
}

// GetFlightInfoSchemas: the schema list.
func (s *Server) GetFlightInfoSchemas(_ context.Context, _ flightsql.GetDBSchemas, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.DBSchemas), nil
}

// readableFilter restricts a catalog query's schema column to the
// readable schemas: the catalog lists exactly what a client may query.
func readableFilter(col string) string {
	q := make([]string, len(ReadableSchemas))
	for i, s := range ReadableSchemas {
		q[i] = "'" + s + "'"
	}
	return " AND " + col + " IN (" + strings.Join(q, ", ") + ")"
}

// DoGetDBSchemas lists the readable schemas, filtered by catalog and LIKE
// pattern.
func (s *Server) DoGetDBSchemas(ctx context.Context, cmd flightsql.GetDBSchemas) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	q := `SELECT catalog_name, schema_name FROM information_schema.schemata WHERE catalog_name = current_database()` + readableFilter("schema_name")
	var args []any
	if c := cmd.GetCatalog(); c != nil {
		q += " AND catalog_name = ?"
		args = append(args, *c)
	}
	if p := cmd.GetDBSchemaFilterPattern(); p != nil {
		q += ` AND schema_name LIKE ? ESCAPE '\'`
		args = append(args, *p)
	}
	q += " ORDER BY 1, 2"
	var rows [][]string
	err := s.metaQuery(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var err error
		rows, err = s.stringRows(ctx, conn, 2, q, args...)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema_ref.DBSchemas)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r[0])
		b.Field(1).(*array.StringBuilder).Append(r[1])
	}
	return oneBatch(b.NewRecordBatch())
}

// GetFlightInfoTables: the table list.
func (s *Server) GetFlightInfoTables(_ context.Context, cmd flightsql.GetTables, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if cmd.GetIncludeSchema() {
		return s.infoFor(desc, schema_ref.TablesWithIncludedSchema), nil
	}
	return s.infoFor(desc, schema_ref.Tables), nil
}

// DoGetTables lists the readable tables and views, with their Arrow
// schemas on request. Each column of an included schema carries its SQL
// type name, nullability, XDBC type and remarks (the column's comment) as
// field metadata, which ADBC's GetObjects and JDBC's getColumns read.
// When nothing matches, the stream has no batches, which ADBC reports as
// "No table found".
func (s *Server) DoGetTables(ctx context.Context, cmd flightsql.GetTables) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	q := `SELECT table_catalog, table_schema, table_name,
		CASE table_type WHEN 'BASE TABLE' THEN 'TABLE' WHEN 'LOCAL TEMPORARY' THEN 'TABLE' ELSE table_type END AS table_type
		FROM information_schema.tables WHERE table_catalog = current_database()` + readableFilter("table_schema")
	var args []any
	if c := cmd.GetCatalog(); c != nil {
		q += " AND table_catalog = ?"
		args = append(args, *c)
	}
	if p := cmd.GetDBSchemaFilterPattern(); p != nil {
		q += ` AND table_schema LIKE ? ESCAPE '\'`
		args = append(args, *p)
	}
	if p := cmd.GetTableNameFilterPattern(); p != nil {
		q += ` AND table_name LIKE ? ESCAPE '\'`
		args = append(args, *p)
	}
	q = "SELECT * FROM (" + q + ") t"
	if types := cmd.GetTableTypes(); len(types) > 0 {
		ph := make([]string, len(types))
		for i, t := range types {
			ph[i] = "?"
			args = append(args, t)
		}
		q += " WHERE table_type IN (" + strings.Join(ph, ",") + ")"
	}
	q += " ORDER BY 1, 2, 3"
	schema := schema_ref.Tables
	if cmd.GetIncludeSchema() {
		schema = schema_ref.TablesWithIncludedSchema
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	n := 0
	err := s.metaQuery(ctx, func(ctx context.Context, conn *sql.Conn) error {
		rows, err := s.stringRows(ctx, conn, 4, q, args...)
		if err != nil {
			return err
		}
		var cols map[[2]string][]columnInfo
		if cmd.GetIncludeSchema() {
			if cols, err = s.columnInfos(ctx, conn); err != nil {
				return err
			}
		}
		for _, r := range rows {
			var sc *arrow.Schema
			if cmd.GetIncludeSchema() {
				sc, err = s.tableSchema(ctx, conn, r[0], r[1], r[2], cols[[2]string{r[1], r[2]}])
				if err != nil {
					// A relation that cannot be read is not listed, so one
					// broken view cannot break a whole schema browse.
					s.log.Warn("catalog: relation left out", "table", r[1]+"."+r[2], "err", err)
					continue
				}
			}
			for i := 0; i < 4; i++ {
				b.Field(i).(*array.StringBuilder).Append(r[i])
			}
			if sc != nil {
				b.Field(4).(*array.BinaryBuilder).Append(flight.SerializeSchema(sc, memory.DefaultAllocator))
			}
			n++
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	rec := b.NewRecordBatch()
	if n == 0 {
		rec.Release()
		ch := make(chan flight.StreamChunk)
		close(ch)
		return schema, ch, nil
	}
	return oneBatch(rec)
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// columnInfo is what the catalog says about one column.
type columnInfo struct {
	name, typ, comment string
	nullable           bool
}

// columnInfos reads every readable column's type, nullability and comment.
func (s *Server) columnInfos(ctx context.Context, conn *sql.Conn) (map[[2]string][]columnInfo, error) {
	rows, err := conn.QueryContext(ctx, `SELECT schema_name, table_name, column_name, data_type, is_nullable, coalesce(comment, '')
		FROM duckdb_columns() WHERE database_name = current_database()`+readableFilter("schema_name")+`
		ORDER BY schema_name, table_name, column_index`)
	if err != nil {
		return nil, s.duckStatus(err)
	}
	defer rows.Close()
	out := map[[2]string][]columnInfo{}
	for rows.Next() {
		var sch, tbl string
		var c columnInfo
		if err := rows.Scan(&sch, &tbl, &c.name, &c.typ, &c.nullable, &c.comment); err != nil {
			return nil, status.Errorf(codes.Internal, "catalog: %v", err)
		}
		k := [2]string{sch, tbl}
		out[k] = append(out[k], c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.duckStatus(err)
	}
	return out, nil
}

// tableSchema asks DuckDB for the Arrow schema of a table (no rows read)
// and annotates each field from the catalog.
func (s *Server) tableSchema(ctx context.Context, conn *sql.Conn, cat, sch, tbl string, cols []columnInfo) (*arrow.Schema, error) {
	var sc *arrow.Schema
	err := conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(*duckdb.Conn))
		if err != nil {
			return err
		}
		rdr, err := ar.QueryContext(ctx, fmt.Sprintf("SELECT * FROM %s.%s.%s LIMIT 0", ident(cat), ident(sch), ident(tbl)))
		if err != nil {
			return err
		}
		sc = rdr.Schema()
		rdr.Release()
		return nil
	})
	if err != nil {
		return nil, s.duckStatus(fmt.Errorf("schema of %s.%s: %w", sch, tbl, err))
	}
	byName := map[string]columnInfo{}
	for _, c := range cols {
		byName[c.name] = c
	}
	fields := make([]arrow.Field, sc.NumFields())
	for i, f := range sc.Fields() {
		c, ok := byName[f.Name]
		if !ok {
			c = columnInfo{name: f.Name, nullable: true}
		}
		f.Nullable = c.nullable
		f.Metadata = columnMetadata(cat, sch, tbl, i+1, c)
		fields[i] = f
	}
	return arrow.NewSchema(fields, nil), nil
}

// GetFlightInfoTableTypes: the table types.
func (s *Server) GetFlightInfoTableTypes(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.TableTypes), nil
}

// DoGetTableTypes lists the table types DoGetTables reports.
func (s *Server) DoGetTableTypes(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema_ref.TableTypes)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"TABLE", "VIEW"}, nil)
	return oneBatch(b.NewRecordBatch())
}

func (s *Server) strings1(ctx context.Context, conn *sql.Conn, q string, args ...any) ([]string, error) {
	rows, err := s.stringRows(ctx, conn, 1, q, args...)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out, nil
}

func (s *Server) stringRows(ctx context.Context, conn *sql.Conn, n int, q string, args ...any) ([][]string, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.duckStatus(err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		r := make([]string, n)
		ptrs := make([]any, n)
		for i := range r {
			ptrs[i] = &r[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, status.Errorf(codes.Internal, "catalog: %v", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.duckStatus(err)
	}
	return out, nil
}
