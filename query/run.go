// Package query runs SQL for people: `gplens sql` scripts and the
// interactive shell. It splits scripts into statements, prints each result
// as a table, CSV, JSON or Markdown, writes a result to Parquet/CSV/JSON
// through DuckDB's COPY, and turns DuckDB's errors into messages that say
// where in the script the problem is and what to try.
package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultMaxRows is how many rows table mode shows when Options.MaxRows is 0.
const DefaultMaxRows = 1000

// DefaultSearchPath lets analysts write `FROM variation` rather than
// `FROM analyst.variation`; schemas missing from a database are skipped.
var DefaultSearchPath = []string{"analyst", "marts", "core", "main"}

// ErrNoStatements is returned by Run for a script without any statement.
var ErrNoStatements = errors.New("no SQL statement to run")

// Options control Run.
type Options struct {
	// Format of the printed results; "" is table.
	Format Format
	// Out, when set, writes the last statement's result to this file
	// instead of printing it; the extension picks the format: .parquet,
	// .csv, .json (a JSON array) or .ndjson/.jsonl (one object a line).
	Out string
	// MaxRows caps the rows table mode shows (the rest are counted and a
	// note says so): 0 means DefaultMaxRows, negative means no cap. Other
	// formats print every row.
	MaxRows int
	// Timeout per statement; 0 means none.
	Timeout time.Duration
	// SearchPath is set on the connection first (schemas that do not
	// exist are left out); nil leaves the connection's own.
	SearchPath []string
	// ContinueOnError runs the remaining statements after one fails and
	// returns the first error at the end; by default Run stops there.
	ContinueOnError bool
}

func (o Options) maxRows() int {
	switch {
	case o.MaxRows == 0:
		return DefaultMaxRows
	case o.MaxRows < 0:
		return 0
	}
	return o.MaxRows
}

// Run runs every statement in sqlText on one connection of db (so SET,
// temporary tables and macros carry from one statement to the next) and
// prints each result to w in opts.Format, a blank line between results.
// Lines starting with '.' between statements are the shell's dot commands
// (.mode csv, .tables, .read FILE ...). A failing statement's error is a
// *StatementError.
func Run(ctx context.Context, db *sql.DB, sqlText string, opts Options, w io.Writer) error {
	parts := scriptParts(sqlText)
	if len(parts) == 0 {
		return ErrNoStatements
	}
	f, err := ParseFormat(string(opts.Format))
	if err != nil {
		return err
	}
	opts.Format = f
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if err := SetSearchPath(ctx, conn, opts.SearchPath); err != nil {
		return err
	}
	sh := &shell{conn: conn, opts: opts, out: w, strict: true}
	return sh.runParts(ctx, parts, opts.Out)
}

// part is one step of a script: a SQL statement or a dot command.
type part struct {
	stmt Statement
	dot  string // the dot command's line, when this part is one
}

// scriptParts splits a script into its statements and dot commands, in
// order, with each statement's line and column in the script. A dot
// command is a line starting with '.' where no statement is pending, as in
// the shell.
func scriptParts(src string) []part {
	var parts []part
	var buf strings.Builder
	bufLine := 0
	flush := func() {
		for _, st := range Split(buf.String()) {
			st.Line += bufLine - 1
			parts = append(parts, part{stmt: st})
		}
		buf.Reset()
	}
	for i, line := range strings.SplitAfter(src, "\n") {
		if len(Split(buf.String())) == 0 && !openAtEnd(buf.String()) {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, ".") {
				buf.Reset()
				parts = append(parts, part{dot: t})
				continue
			}
		}
		if buf.Len() == 0 {
			bufLine = i + 1
		}
		buf.WriteString(line)
		if Complete(buf.String()) {
			flush()
		}
	}
	flush()
	return parts
}

// runParts runs a script's parts in order; with out set, the last
// statement's result goes to that file. A strict shell stops at the first
// failure and returns it; otherwise the first error is returned at the end.
func (sh *shell) runParts(ctx context.Context, parts []part, out string) error {
	last := -1
	for i, p := range parts {
		if p.dot == "" {
			last = i
		}
	}
	var first error
	for i, p := range parts {
		var err error
		if p.dot != "" {
			err = sh.command(ctx, p.dot)
		} else {
			sh.stmtNo++
			r := runner{conn: sh.conn, opts: sh.opts, w: sh.out, printed: sh.printed}
			if i == last && out != "" {
				err = r.export(ctx, sh.stmtNo, p.stmt, out)
			} else {
				err = r.statement(ctx, sh.stmtNo, p.stmt)
			}
			sh.printed = r.printed
		}
		if err != nil {
			if !sh.opts.ContinueOnError {
				return err
			}
			if first == nil {
				first = err
			}
		}
		if sh.quit {
			break
		}
	}
	return first
}

// RunFile runs the statements in the file at path as Run does; errors
// name the file, so "checks.sql: statement 2 (line 5): ...".
func RunFile(ctx context.Context, db *sql.DB, path string, opts Options, w io.Writer) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read SQL: %w", err)
	}
	if err := Run(ctx, db, string(src), opts, w); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// runner prints results of statements run one after another.
type runner struct {
	conn    *sql.Conn
	opts    Options
	w       io.Writer
	printed bool // a result has been printed, so the next one needs a gap
}

// statement runs one statement and prints its result, if it has one.
func (r *runner) statement(ctx context.Context, index int, st Statement) error {
	sctx, cancel := r.withTimeout(ctx)
	defer cancel()
	rows, err := r.conn.QueryContext(sctx, st.Text)
	if err != nil {
		return newStatementError(index, st, err, sctx)
	}
	defer rows.Close()
	if err := r.print(rows, countWorthShowing(st.Text)); err != nil {
		return newStatementError(index, st, err, sctx)
	}
	return nil
}

func (r *runner) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.opts.Timeout > 0 {
		return context.WithTimeout(ctx, r.opts.Timeout)
	}
	return context.WithCancel(ctx)
}

// countWorthShowing reports whether a statement's "Count" result means
// something to the user (rows changed); DuckDB also answers CREATE, SET and
// the like with one, which its own CLI does not print.
func countWorthShowing(stmt string) bool {
	word := strings.ToUpper(strings.TrimLeft(stmt, "( \t\r\n"))
	if i := strings.IndexFunc(word, func(r rune) bool { return !(r >= 'A' && r <= 'Z') }); i >= 0 {
		word = word[:i]
	}
	switch word {
	case "INSERT", "UPDATE", "DELETE", "MERGE", "COPY":
		return true
	}
	return false
}

// print writes one result; showCount false hides a bare "Count" result.
func (r *runner) print(rows *sql.Rows, showCount bool) error {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return fmt.Errorf("read columns: %w", err)
	}
	cols := make([]Column, len(cts))
	for i, ct := range cts {
		cols[i] = Column{Name: ct.Name(), Type: ct.DatabaseTypeName()}
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if len(cols) == 0 || !showCount && len(cols) == 1 && cols[0].Name == "Count" {
		for rows.Next() {
		}
		return rows.Err()
	}
	has := rows.Next()
	if !has {
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if r.printed && r.opts.Format != FormatJSON {
		if _, err := io.WriteString(r.w, "\n"); err != nil {
			return err
		}
	}
	r.printed = true
	rw := newResultWriter(r.opts.Format, r.w, r.opts.maxRows())
	if err := rw.begin(cols); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	for ; has; has = rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read row: %w", err)
		}
		if err := rw.row(vals); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := rw.end(); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// export writes a statement's result to a file with DuckDB's COPY, into a
// temporary name first and renamed into place, so a failed or interrupted
// export never leaves a half-written file where the old one was.
func (r *runner) export(ctx context.Context, index int, st Statement, out string) error {
	copyOpts, err := copyOptions(out)
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+fmt.Sprintf(".tmp%d", os.Getpid()))
	// The newline before ")" keeps a trailing -- comment from swallowing it.
	q := fmt.Sprintf("COPY (\n%s\n) TO %s (%s)", st.Text, sqlString(tmp), copyOpts)
	sctx, cancel := r.withTimeout(ctx)
	defer cancel()
	res, err := r.conn.ExecContext(sctx, q)
	if err != nil {
		os.Remove(tmp)
		se := newStatementError(index, st, err, sctx)
		if se.Hint == "" || strings.Contains(err.Error(), "Parser Error") {
			se.Hint = "--out writes the result of the last statement, which must be a query (SELECT, WITH, FROM, VALUES, TABLE)"
		}
		// COPY wraps the statement in one extra line, so DuckDB's line
		// numbers are one too high; drop the rewritten position.
		se.Err = errors.New(stripLineBlock(se.Err.Error()))
		return se
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", out, err)
	}
	n, _ := res.RowsAffected()
	if r.printed {
		io.WriteString(r.w, "\n")
	}
	r.printed = true
	_, err = fmt.Fprintf(r.w, "wrote %s rows to %s\n", thousands(int(n)), out)
	return err
}

// copyOptions maps an output file's extension to COPY options.
func copyOptions(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet", ".pq":
		return "FORMAT parquet, COMPRESSION zstd", nil
	case ".csv":
		return "FORMAT csv, HEADER true", nil
	case ".json":
		return "FORMAT json, ARRAY true", nil
	case ".ndjson", ".jsonl":
		return "FORMAT json", nil
	}
	return "", fmt.Errorf("--out %s: unknown file type (use .parquet, .csv, .json or .ndjson)", path)
}

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// sqlIdent quotes s as a SQL identifier.
func sqlIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// SetSearchPath sets DuckDB's search_path on conn to those of schemas that
// exist in the database (DuckDB refuses a path naming a missing schema, and
// a published snapshot may lack, say, the analyst views). Nil does nothing.
func SetSearchPath(ctx context.Context, conn *sql.Conn, schemas []string) error {
	if schemas == nil {
		return nil
	}
	rows, err := conn.QueryContext(ctx, "SELECT DISTINCT schema_name FROM duckdb_schemas() WHERE database_name = current_database()")
	if err != nil {
		return fmt.Errorf("list schemas: %w", err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("list schemas: %w", err)
		}
		have[s] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list schemas: %w", err)
	}
	var path []string
	for _, s := range schemas {
		if have[s] {
			path = append(path, sqlIdent(s))
		}
	}
	if len(path) == 0 {
		return nil
	}
	q := "SET search_path = " + sqlString(strings.Join(path, ","))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("set search_path: %w", err)
	}
	return nil
}
