package query

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// ErrStatementsFailed is wrapped by Shell's error when a script (input that
// is not a terminal) had failing statements, so the CLI exits non-zero.
var ErrStatementsFailed = errors.New("errors in the script")

// ShellOptions control Shell.
type ShellOptions struct {
	// Format of results at the start (.mode changes it); "" is table.
	Format Format
	// MaxRows for table mode, as in Options.
	MaxRows int
	// Timeout per statement; 0 means none.
	Timeout time.Duration
	// SearchPath as in Options (the CLI passes DefaultSearchPath).
	SearchPath []string
	// HistoryFile keeps the interactive history between sessions, e.g.
	// <workspace>/.gplens_history; "" keeps none.
	HistoryFile string
	// Prompt, default "gplens> ".
	Prompt string
	// ErrOut receives error messages; nil means out.
	ErrOut io.Writer
}

const (
	defaultPrompt = "gplens> "
	historyMax    = 1000
)

// Shell reads statements from in and prints results to out. When in is a
// terminal it is an interactive prompt with line editing and history;
// otherwise it runs the statements it reads (so `gplens sql < file.sql`
// works) and returns an error wrapping ErrStatementsFailed if any failed.
// Statements may span lines and run once a ';' outside quotes and comments
// ends them; lines starting with '.' between statements are dot commands
// (.help lists them). A failing statement prints its error and the shell
// carries on.
func Shell(ctx context.Context, db *sql.DB, in io.Reader, out io.Writer, opts ShellOptions) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if err := SetSearchPath(ctx, conn, opts.SearchPath); err != nil {
		return err
	}
	f, err := ParseFormat(string(opts.Format))
	if err != nil {
		return err
	}
	sh := &shell{
		conn: conn,
		opts: Options{Format: f, MaxRows: opts.MaxRows, Timeout: opts.Timeout},
		out:  out,
		err:  opts.ErrOut,
	}
	if file, ok := in.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		return sh.interactive(ctx, file, out, opts)
	}
	return sh.script(ctx, in)
}

type shell struct {
	conn    *sql.Conn
	opts    Options
	out     io.Writer
	err     io.Writer
	stmtNo  int // statements run so far, for error messages
	dots    int // dot commands run
	failed  int
	quit    bool
	printed bool
}

func (sh *shell) errOut() io.Writer {
	if sh.err != nil {
		return sh.err
	}
	return sh.out
}

func (sh *shell) report(err error) {
	sh.failed++
	fmt.Fprintf(sh.errOut(), "Error: %v\n", err)
}

// script runs statements read from a non-terminal reader.
func (sh *shell) script(ctx context.Context, in io.Reader) error {
	br := bufio.NewReader(in)
	var buf strings.Builder
	lineNo, bufLine := 0, 0
	for !sh.quit {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, rerr := br.ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("read statements: %w", rerr)
		}
		if line != "" {
			lineNo++
			sh.feed(ctx, &buf, &bufLine, lineNo, line)
		}
		if rerr == io.EOF {
			break
		}
	}
	// A last statement without its ';' still runs.
	if !sh.quit && len(Split(buf.String())) > 0 {
		sh.runBuffer(ctx, buf.String(), bufLine)
	}
	if sh.failed > 0 {
		return fmt.Errorf("%d of %d statements and commands failed: %w", sh.failed, sh.stmtNo+sh.dots, ErrStatementsFailed)
	}
	return nil
}

// feed adds one input line: a dot command when no statement is pending,
// else SQL that runs once complete. bufLine is the script line where the
// pending SQL starts.
func (sh *shell) feed(ctx context.Context, buf *strings.Builder, bufLine *int, lineNo int, line string) {
	if len(Split(buf.String())) == 0 && !openAtEnd(buf.String()) {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, ".") {
			buf.Reset()
			sh.dot(ctx, t)
			return
		}
	}
	if buf.Len() == 0 {
		*bufLine = lineNo
	}
	buf.WriteString(strings.TrimRight(line, "\r\n"))
	buf.WriteString("\n")
	if Complete(buf.String()) {
		sh.runBuffer(ctx, buf.String(), *bufLine)
		buf.Reset()
	}
}

// runBuffer runs the statements in src, which starts at script line first.
func (sh *shell) runBuffer(ctx context.Context, src string, first int) {
	r := runner{conn: sh.conn, opts: sh.opts, w: sh.out, printed: sh.printed}
	for _, st := range Split(src) {
		sh.stmtNo++
		st.Line += first - 1
		if err := r.statement(ctx, sh.stmtNo, st); err != nil {
			sh.report(err)
		}
	}
	sh.printed = r.printed
}

const shellHelp = `Statements end with ';' and may span lines. Commands:
  .tables [PATTERN]      list tables and views (PATTERN as in LIKE, e.g. %pay%)
  .schema NAME           columns of a table or view (NAME or schema.NAME)
  .mode [FORMAT]         show or set the output: table, csv, json, markdown
  .maxrows N             rows shown in table mode (0: no limit)
  .timeout DURATION      time limit per statement, e.g. 30s (0: none)
  .read FILE             run the statements in FILE
  .help                  this text
  .quit                  leave (also .exit, Ctrl-D)
`

// dot runs a dot command; unknown ones count as failures.
func (sh *shell) dot(ctx context.Context, line string) {
	sh.dots++
	fields := strings.Fields(line)
	cmd, args := fields[0], fields[1:]
	switch cmd {
	case ".quit", ".exit", ".q":
		sh.quit = true
	case ".help", ".h":
		io.WriteString(sh.out, shellHelp)
	case ".mode":
		if len(args) == 0 {
			fmt.Fprintf(sh.out, "mode: %s\n", sh.opts.Format)
			return
		}
		f, err := ParseFormat(args[0])
		if err != nil {
			sh.report(err)
			return
		}
		sh.opts.Format = f
	case ".maxrows":
		n, err := strconv.Atoi(strings.Join(args, ""))
		if err != nil || n < 0 {
			sh.report(fmt.Errorf(".maxrows wants a number of rows, 0 for no limit"))
			return
		}
		if n == 0 {
			n = -1
		}
		sh.opts.MaxRows = n
	case ".timeout":
		d, err := time.ParseDuration(strings.Join(args, ""))
		if err != nil || d < 0 {
			sh.report(fmt.Errorf(".timeout wants a duration such as 30s or 2m, 0 for none"))
			return
		}
		sh.opts.Timeout = d
	case ".read":
		if len(args) != 1 {
			sh.report(fmt.Errorf(".read wants one file name"))
			return
		}
		src, err := os.ReadFile(args[0])
		if err != nil {
			sh.report(fmt.Errorf(".read: %w", err))
			return
		}
		sh.runBuffer(ctx, string(src), 1)
	case ".tables":
		q := `SELECT schema_name AS schema, table_name AS name, 'table' AS kind, estimated_size AS rows, comment
FROM duckdb_tables() WHERE NOT internal
UNION ALL
SELECT schema_name, view_name, 'view', NULL, comment FROM duckdb_views() WHERE NOT internal
ORDER BY schema, name`
		if len(args) > 0 {
			q = "SELECT * FROM (" + q + ") WHERE name ILIKE " + sqlString(args[0]) + " OR schema || '.' || name ILIKE " + sqlString(args[0])
		}
		sh.internal(ctx, q)
	case ".schema":
		if len(args) == 0 {
			sh.dots--
			sh.dot(ctx, ".tables")
			return
		}
		schema, name, ok := strings.Cut(args[0], ".")
		where := "table_name = " + sqlString(schema)
		if ok {
			where = "schema_name = " + sqlString(schema) + " AND table_name = " + sqlString(name)
		}
		if sh.count(ctx, "SELECT count(*) FROM duckdb_columns() WHERE "+where) == 0 {
			sh.report(fmt.Errorf("no table or view named %s; .tables lists them", args[0]))
			return
		}
		sh.internal(ctx, `SELECT schema_name AS schema, table_name AS "table", column_name AS "column", data_type AS type, comment
FROM duckdb_columns() WHERE `+where+` ORDER BY schema_name, table_name, column_index`)
	default:
		sh.report(fmt.Errorf("unknown command %s; .help lists the commands", cmd))
	}
}

// internal runs a query for a dot command and prints it in the current mode.
func (sh *shell) internal(ctx context.Context, q string) {
	r := runner{conn: sh.conn, opts: sh.opts, w: sh.out, printed: sh.printed}
	r.opts.MaxRows = -1
	if err := r.statement(ctx, 0, Statement{Text: q, Line: 1, Col: 1}); err != nil {
		sh.report(err)
	}
	sh.printed = r.printed
}

func (sh *shell) count(ctx context.Context, q string) int {
	var n int
	if err := sh.conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0
	}
	return n
}

// interactive is the terminal prompt. x/term's Terminal needs raw mode for
// line editing; while a statement runs the terminal goes back to normal
// mode so Ctrl-C interrupts that statement rather than the shell.
func (sh *shell) interactive(ctx context.Context, in *os.File, out io.Writer, opts ShellOptions) error {
	fd := int(in.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	defer term.Restore(fd, state)
	cr := &ctrlCReader{r: in}
	hist, herr := openHistory(opts.HistoryFile)
	if hist != nil {
		defer hist.close()
	}
	// newTerm makes a fresh Terminal: x/term has no way to clear the line
	// being edited, which Ctrl-C should do.
	var t *term.Terminal
	newTerm := func() {
		t = term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{cr, out}, "")
		if hist != nil {
			t.History = hist
		}
		sh.out = t
		sh.err = t
	}
	userErr := sh.err
	newTerm()
	if userErr != nil && userErr != out {
		sh.err = userErr
	}
	prompt := opts.Prompt
	if prompt == "" {
		prompt = defaultPrompt
	}
	cont := strings.Repeat(" ", max(len(prompt)-5, 0)) + "...> "
	if herr != nil {
		fmt.Fprintf(t, "history: %v\n", herr)
	}
	fmt.Fprintf(t, "gplens sql: statements end with ';'; .help for commands, .quit to leave\n")
	var buf strings.Builder
	lineNo, bufLine := 0, 0
	for !sh.quit {
		if buf.Len() == 0 {
			t.SetPrompt(prompt)
		} else {
			t.SetPrompt(cont)
		}
		line, err := t.ReadLine()
		if err != nil && !errors.Is(err, term.ErrPasteIndicator) {
			if errors.Is(err, io.EOF) && cr.interrupted.Swap(false) {
				buf.Reset() // Ctrl-C drops the statement being typed
				// Straight to out: writing through t would redraw the old line.
				io.WriteString(out, "^C\r\n")
				newTerm()
				if userErr != nil && userErr != out {
					sh.err = userErr
				}
				continue
			}
			if errors.Is(err, io.EOF) {
				io.WriteString(out, "\r\n")
				return nil
			}
			return fmt.Errorf("read terminal: %w", err)
		}
		lineNo++
		// Run with the terminal in normal mode and Ctrl-C cancelling
		// only the running statement.
		term.Restore(fd, state)
		sctx, stop := signal.NotifyContext(ctx, os.Interrupt)
		sh.feed(sctx, &buf, &bufLine, lineNo, line)
		stop()
		if _, err := term.MakeRaw(fd); err != nil {
			return fmt.Errorf("terminal: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// ctrlCReader notes a Ctrl-C byte: x/term's ReadLine reports it as io.EOF,
// the same as Ctrl-D, and the shell should only clear the line then.
type ctrlCReader struct {
	r           io.Reader
	interrupted atomic.Bool
}

func (c *ctrlCReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for _, b := range p[:n] {
		if b == 3 {
			c.interrupted.Store(true)
		}
	}
	return n, err
}

// history is term.History kept in a file, one entry a line.
type history struct {
	entries []string // oldest first
	f       *os.File
}

func openHistory(path string) (*history, error) {
	if path == "" {
		return nil, nil
	}
	h := &history{}
	if data, err := os.ReadFile(path); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(l) != "" {
				h.entries = append(h.entries, l)
			}
		}
		if len(h.entries) > historyMax {
			h.entries = h.entries[len(h.entries)-historyMax:]
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return h, fmt.Errorf("open %s: %w", path, err)
	}
	h.f = f
	return h, nil
}

func (h *history) Add(entry string) {
	if strings.TrimSpace(entry) == "" || len(h.entries) > 0 && h.entries[len(h.entries)-1] == entry {
		return
	}
	h.entries = append(h.entries, entry)
	if len(h.entries) > historyMax {
		h.entries = h.entries[1:]
	}
	if h.f != nil {
		fmt.Fprintln(h.f, entry)
	}
}

func (h *history) Len() int { return len(h.entries) }

func (h *history) At(i int) string { return h.entries[len(h.entries)-1-i] }

// close keeps the file to the last historyMax entries, since Add only
// appends (so a crash loses nothing).
func (h *history) close() {
	if h.f == nil {
		return
	}
	name := h.f.Name()
	h.f.Close()
	data := strings.Join(h.entries, "\n") + "\n"
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err == nil {
		os.Rename(tmp, name)
	}
}
