package query

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
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
	// strict: -c / -f, where a failure stops the script (Run); the
	// shell itself reports failures and carries on.
	strict bool
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

// dot runs a dot command in the shell; failures are reported and counted.
func (sh *shell) dot(ctx context.Context, line string) {
	if err := sh.command(ctx, line); err != nil {
		sh.report(err)
	}
}

// command runs a dot command; unknown ones are errors.
func (sh *shell) command(ctx context.Context, line string) error {
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
			return nil
		}
		f, err := ParseFormat(args[0])
		if err != nil {
			return err
		}
		sh.opts.Format = f
	case ".maxrows":
		n, err := strconv.Atoi(strings.Join(args, ""))
		if err != nil || n < 0 {
			return fmt.Errorf(".maxrows wants a number of rows, 0 for no limit")
		}
		if n == 0 {
			n = -1
		}
		sh.opts.MaxRows = n
	case ".timeout":
		d, err := time.ParseDuration(strings.Join(args, ""))
		if err != nil || d < 0 {
			return fmt.Errorf(".timeout wants a duration such as 30s or 2m, 0 for none")
		}
		sh.opts.Timeout = d
	case ".read":
		if len(args) != 1 {
			return fmt.Errorf(".read wants one file name")
		}
		src, err := os.ReadFile(args[0])
		if err != nil {
			return fmt.Errorf(".read: %w", err)
		}
		if sh.strict {
			if err := sh.runParts(ctx, scriptParts(string(src)), ""); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return nil
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
		return sh.internal(ctx, q)
	case ".schema":
		if len(args) == 0 {
			sh.dots--
			return sh.command(ctx, ".tables")
		}
		schema, name, ok := strings.Cut(args[0], ".")
		where := "table_name = " + sqlString(schema)
		if ok {
			where = "schema_name = " + sqlString(schema) + " AND table_name = " + sqlString(name)
		}
		if sh.count(ctx, "SELECT count(*) FROM duckdb_columns() WHERE "+where) == 0 {
			return fmt.Errorf("no table or view named %s; .tables lists them", args[0])
		}
		return sh.internal(ctx, `SELECT schema_name AS schema, table_name AS "table", column_name AS "column", data_type AS type, comment
FROM duckdb_columns() WHERE `+where+` ORDER BY schema_name, table_name, column_index`)
	default:
		return fmt.Errorf("unknown command %s; .help lists the commands", cmd)
	}
	return nil
}

// internal runs a query for a dot command and prints it in the current mode.
func (sh *shell) internal(ctx context.Context, q string) error {
	r := runner{conn: sh.conn, opts: sh.opts, w: sh.out, printed: sh.printed}
	r.opts.MaxRows = -1
	err := r.statement(ctx, 0, Statement{Text: q, Line: 1, Col: 1})
	sh.printed = r.printed
	return err
}

func (sh *shell) count(ctx context.Context, q string) int {
	var n int
	if err := sh.conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0
	}
	return n
}

// interactive is the terminal prompt. The terminal stays in raw mode
// throughout, so Ctrl-C arrives as a byte rather than as SIGINT: at the
// prompt it clears the line, while a statement runs it cancels that
// statement (DuckDB interrupts it) and the session carries on.
func (sh *shell) interactive(ctx context.Context, in *os.File, out io.Writer, opts ShellOptions) error {
	fd := int(in.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	defer term.Restore(fd, state)
	keys := newKeyReader(in)
	hist, herr := openHistory(opts.HistoryFile)
	if hist != nil {
		defer hist.close()
	}
	// newTerm makes a fresh Terminal: x/term has no way to clear the line
	// being edited, which Ctrl-C should do.
	var t *term.Terminal
	userErr := sh.err
	newTerm := func() {
		t = term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{keys, out}, "")
		if hist != nil {
			t.History = hist
		}
		sh.out, sh.err = t, t
		if userErr != nil && userErr != out {
			sh.err = userErr
		}
	}
	newTerm()
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
	var entry []string // the lines of the statement being typed, for history
	lineNo, bufLine := 0, 0
	for !sh.quit {
		if buf.Len() == 0 {
			t.SetPrompt(prompt)
		} else {
			t.SetPrompt(cont)
		}
		// Edit lines at the terminal's width, asked afresh at every
		// prompt so a resized window is followed.
		if w, h, err := term.GetSize(fd); err == nil && w > 0 {
			t.SetSize(w, h)
		}
		line, err := t.ReadLine()
		if err != nil && !errors.Is(err, term.ErrPasteIndicator) {
			if errors.Is(err, io.EOF) && keys.interrupted.Swap(false) {
				buf.Reset() // Ctrl-C drops the statement being typed
				entry = nil
				// Straight to out: writing through t would redraw the old line.
				io.WriteString(out, "^C\r\n")
				newTerm()
				continue
			}
			if errors.Is(err, io.EOF) {
				io.WriteString(out, "\r\n")
				return nil
			}
			return fmt.Errorf("read terminal: %w", err)
		}
		lineNo++
		entry = append(entry, line)
		sctx, cancel := context.WithCancel(ctx)
		keys.whileRunning(cancel)
		sh.feed(sctx, &buf, &bufLine, lineNo, line)
		if keys.whileRunning(nil) {
			io.WriteString(out, "^C\r\n")
		}
		cancel()
		if buf.Len() == 0 { // a statement or command is complete
			if hist != nil {
				hist.record(historyEntry(entry))
			}
			entry = nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// historyEntry joins the lines of one statement into one history entry,
// which the line editor recalls as a single line: lines that are only a
// comment are left out, since a "--" comment would swallow what follows.
func historyEntry(lines []string) string {
	var keep []string
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
			keep = append(keep, t)
		}
	}
	return strings.Join(keep, " ")
}

// keyReader passes the terminal's bytes to the line editor. A goroutine
// reads them as they come, so a Ctrl-C typed while a statement runs is seen
// at once and cancels it; other keys typed meanwhile wait for the prompt.
type keyReader struct {
	ch          chan []byte
	rest        []byte
	err         error
	interrupted atomic.Bool // Ctrl-C at the prompt (ReadLine says io.EOF)

	mu       sync.Mutex
	cancel   context.CancelFunc // set while a statement runs
	canceled bool
}

func newKeyReader(in io.Reader) *keyReader {
	k := &keyReader{ch: make(chan []byte, 64)}
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				if chunk := k.filter(buf[:n]); len(chunk) > 0 {
					k.ch <- chunk
				}
			}
			if err != nil {
				k.err = err
				close(k.ch)
				return
			}
		}
	}()
	return k
}

// filter cancels the running statement on Ctrl-C (dropping the byte) and
// notes a Ctrl-C typed at the prompt.
func (k *keyReader) filter(p []byte) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]byte, 0, len(p))
	for _, b := range p {
		switch {
		case b == 3 && k.cancel != nil:
			k.cancel()
			k.canceled = true
		case b == 3:
			k.interrupted.Store(true)
			out = append(out, b)
		default:
			out = append(out, b)
		}
	}
	return out
}

// whileRunning sets the function a Ctrl-C calls (nil: back at the prompt)
// and says whether the statement just finished was cancelled by one.
func (k *keyReader) whileRunning(cancel context.CancelFunc) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	was := k.canceled
	k.cancel, k.canceled = cancel, false
	return was
}

func (k *keyReader) Read(p []byte) (int, error) {
	if len(k.rest) == 0 {
		chunk, ok := <-k.ch
		if !ok {
			return 0, k.err
		}
		k.rest = chunk
	}
	n := copy(p, k.rest)
	k.rest = k.rest[n:]
	return n, nil
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

// Add is how the line editor records each line it reads; the shell records
// whole statements instead (record), so this does nothing.
func (h *history) Add(string) {}

// record adds one whole statement or dot command.
func (h *history) record(entry string) {
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
