package query

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// StatementError is a statement that failed, with where it is in the
// script and a short hint on what to try.
type StatementError struct {
	// Index is the statement's number in the script (1-based).
	Index int
	// Line and Col are where the statement starts in the script.
	Line, Col int
	// ErrLine is the script line DuckDB pointed at, 0 when it did not.
	ErrLine int
	// SQL is the statement's text.
	SQL string
	// Err is DuckDB's error, its LINE numbers counted in the script.
	Err error
	// Hint is a short suggestion, "" when there is none.
	Hint string
}

func (e *StatementError) Error() string {
	var sb strings.Builder
	line := e.ErrLine
	if line == 0 {
		line = e.Line
	}
	fmt.Fprintf(&sb, "statement %d (line %d): %s", e.Index, line, e.Err)
	if e.Hint != "" {
		sb.WriteString("\nhint: " + e.Hint)
	}
	return sb.String()
}

func (e *StatementError) Unwrap() error { return e.Err }

// lineRe finds DuckDB's "LINE n: " marker, whose next line holds a caret.
var lineRe = regexp.MustCompile(`(?m)^LINE (\d+): `)

// newStatementError wraps err from running st; sctx is the statement's
// context, to tell a timeout from other failures.
func newStatementError(index int, st Statement, err error, sctx context.Context) *StatementError {
	se := &StatementError{Index: index, Line: st.Line, Col: st.Col, SQL: st.Text}
	msg := err.Error()
	// DuckDB counts lines from the statement's start; count them in the
	// script instead, shifting the caret by the change in prefix width.
	if m := lineRe.FindStringSubmatchIndex(msg); m != nil {
		n, _ := strconv.Atoi(msg[m[2]:m[3]])
		se.ErrLine = st.Line + n - 1
		oldPrefix := msg[m[0]:m[1]]
		newPrefix := fmt.Sprintf("LINE %d: ", se.ErrLine)
		rest := msg[m[1]:]
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			caret := rest[nl+1:]
			if d := len(newPrefix) - len(oldPrefix); d > 0 {
				caret = strings.Repeat(" ", d) + caret
			} else if d < 0 && len(caret) >= -d && strings.TrimSpace(caret[:-d]) == "" {
				caret = caret[-d:]
			}
			rest = rest[:nl+1] + caret
		}
		msg = msg[:m[0]] + newPrefix + rest
	}
	timedOut := errors.Is(sctx.Err(), context.DeadlineExceeded)
	cancelled := errors.Is(sctx.Err(), context.Canceled)
	// DuckDB's own text for these is an unhelpful "Interrupted!".
	switch {
	case timedOut:
		msg = "timed out"
	case cancelled:
		msg = "cancelled"
	}
	se.Err = errors.New(strings.TrimRight(msg, "\n"))
	se.Hint = hintFor(msg, timedOut, cancelled)
	return se
}

// stripLineBlock drops DuckDB's "LINE n: ..." excerpt and caret.
func stripLineBlock(msg string) string {
	if m := lineRe.FindStringIndex(msg); m != nil {
		return strings.TrimRight(msg[:m[0]], "\n")
	}
	return msg
}

// hints pairs a pattern in DuckDB's message with advice; the first match wins.
var hints = []struct {
	re   *regexp.Regexp
	hint string
}{
	{regexp.MustCompile(`(?i)read-only|read only`), "the database is open read-only (the published snapshot); keep results in a TEMP table or write them out with --out"},
	{regexp.MustCompile(`^Catalog Error: (Table|View|Table Function) with name`), ".tables lists the tables and views (analyst views: variation, inequality, investment, workforce, referrals, trends, practices, areas)"},
	{regexp.MustCompile(`^Catalog Error: Scalar Function with name|^Catalog Error: .*Function`), "SELECT function_name FROM duckdb_functions() lists the functions; the metrics ones are wilson_lower, funnel_significance, sii, spc_xmr, ..."},
	{regexp.MustCompile(`^Catalog Error: .*schema`), ".tables lists the schemas in use (analyst, marts, core)"},
	{regexp.MustCompile(`^Binder Error: (Referenced column|Values list|Table "[^"]*" does not have a column)`), ".schema NAME (or DESCRIBE NAME) lists a table's columns"},
	{regexp.MustCompile(`^Binder Error: No function matches`), "check the argument types; an explicit CAST(x AS DOUBLE) often helps"},
	{regexp.MustCompile(`^Binder Error: .*GROUP BY`), "every selected column must be in GROUP BY or inside an aggregate such as sum() or any_value()"},
	{regexp.MustCompile(`^Parser Error`), "check near the mark: strings take 'single quotes', names \"double quotes\"; a missing comma, parenthesis or ';' is the usual cause"},
	{regexp.MustCompile(`^Conversion Error|^Invalid Input Error: Could not convert`), "a value does not fit the type; TRY_CAST(x AS type) gives NULL instead of failing"},
	{regexp.MustCompile(`^Out of Memory Error`), "filter or aggregate earlier, or raise the memory limit"},
	{regexp.MustCompile(`^IO Error`), "check the file path, and that it can be read (or written)"},
	{regexp.MustCompile(`^Divide by Zero|division by zero`), "guard the divisor, e.g. x / NULLIF(n, 0)"},
}

func hintFor(msg string, timedOut, cancelled bool) string {
	switch {
	case timedOut:
		return "the statement ran past the time limit; filter or aggregate more, or raise --timeout"
	case cancelled:
		return ""
	}
	for _, h := range hints {
		if h.re.MatchString(msg) {
			return h.hint
		}
	}
	return ""
}
