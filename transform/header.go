package transform

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Materialisations a model may declare.
const (
	Table = "table"
	View  = "view"
)

// Test kinds, one per header directive.
const (
	TestUnique         = "unique"
	TestNotNull        = "not_null"
	TestAcceptedValues = "accepted_values"
	TestRelationships  = "relationships"
	TestRange          = "range"
	TestRowCount       = "row_count"
)

// Test is a data test declared in a model's header. Its SQL returns the
// offending rows; an empty result is a pass.
type Test struct {
	Kind string
	// Name reads like the directive, e.g. "unique(practice_code, period)".
	Name string
	// Line is the header line that declared it (1-based).
	Line int
	// SQL selects the offending rows.
	SQL string
	// Ref is the model or lake table a relationships test looks up ("" otherwise).
	Ref string

	// tmpl is SQL with relToken where the tested relation goes, so a test
	// can run on just the refreshed periods of a table.
	tmpl string
	// cols are a unique test's key columns.
	cols []string
}

// relToken stands for the tested relation in Test.tmpl; NUL never occurs in model files.
const relToken = "\x00relation\x00"

// on returns the test's SQL run against rel (a table name or a parenthesised query).
func (t Test) on(rel string) string { return strings.ReplaceAll(t.tmpl, relToken, rel) }

// header is what a model's leading comment block declares.
type header struct {
	materialized string
	incremental  string
	yearOfMonths bool
	laterPeriods bool
	description  string
	threads      int
	duckdbMemory int // percent
	buildRight   bool
	batch        int
	batchFrom    string
	tests        []Test
}

var (
	directiveRe = regexp.MustCompile(`^--\s*([a-z_]+)\s*:\s*(.*?)\s*$`)
	identRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	acceptedRe  = regexp.MustCompile(`(?is)^([A-Za-z_][A-Za-z0-9_]*)\s+in\s*\((.+)\)$`)
	relRe       = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*->\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$`)
	betweenRe   = regexp.MustCompile(`(?i)^between\s+(\S+)\s+and\s+(\S+)$`)
	compareRe   = regexp.MustCompile(`^(>=|<=|<>|!=|=|>|<)\s*(\S+)$`)
	batchRe     = regexp.MustCompile(`^(\d+)\s+periods?\s+of\s+([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)$`)
	numberRe    = regexp.MustCompile(`^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$`)
)

// parseHeader reads the directives in the comment lines at the top of a
// model (up to the first line that is neither blank nor a comment). Comment
// lines without a lower-case "key:" prefix are prose and ignored; an
// unknown key is an error, so a typo never silently drops a test.
func parseHeader(path, src string) (header, error) {
	var h header
	var errs []string
	fail := func(line int, format string, a ...any) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s", path, line, fmt.Sprintf(format, a...)))
	}
	for i, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		n := i + 1
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "--") {
			break
		}
		m := directiveRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key, val := m[1], m[2]
		switch key {
		case "materialized":
			v := strings.ToLower(val)
			if v != Table && v != View {
				fail(n, "materialized: want table or view, got %q", val)
				continue
			}
			if h.materialized != "" {
				fail(n, "materialized declared twice")
			}
			h.materialized = v
		case "incremental":
			if !identRe.MatchString(val) {
				fail(n, "incremental: want one column name, got %q", val)
				continue
			}
			h.incremental = val
		case "refresh_year_of_month", "refresh_later_periods":
			var on bool
			switch strings.ToLower(val) {
			case "true":
				on = true
			case "false":
			default:
				fail(n, "%s: want true or false, got %q", key, val)
				continue
			}
			if key == "refresh_year_of_month" {
				h.yearOfMonths = on
			} else {
				h.laterPeriods = on
			}
		case "threads":
			t, err := strconv.Atoi(val)
			if err != nil || t < 1 || t > 1024 {
				fail(n, "threads: want a whole number from 1 to 1024, got %q", val)
				continue
			}
			h.threads = t
		case "duckdb_memory":
			pct, err := strconv.Atoi(strings.TrimSuffix(val, "%"))
			if err != nil || !strings.HasSuffix(val, "%") || pct < 1 || pct > 100 {
				fail(n, "duckdb_memory: want a share of the build's memory_limit from 1%% to 100%%, got %q", val)
				continue
			}
			h.duckdbMemory = pct
		case "build_side":
			if val != "right" {
				fail(n, "build_side: want right (each join builds its hash table from its right-hand side, as written), got %q", val)
				continue
			}
			h.buildRight = true
		case "batch":
			bm := batchRe.FindStringSubmatch(val)
			if bm == nil {
				fail(n, "batch: want \"N periods of schema.table\", got %q", val)
				continue
			}
			b, err := strconv.Atoi(bm[1])
			if err != nil || b < 1 || b > 10000 {
				fail(n, "batch: want from 1 to 10000 periods, got %q", bm[1])
				continue
			}
			h.batch, h.batchFrom = b, bm[2]
		case "description":
			h.description = strings.TrimSpace(h.description + " " + val)
		default:
			tests, err := headerTests(key, val, n)
			if err != nil {
				fail(n, "%v", err)
				continue
			}
			h.tests = append(h.tests, tests...)
		}
	}
	if h.yearOfMonths && h.incremental == "" {
		errs = append(errs, fmt.Sprintf("%s: refresh_year_of_month needs incremental: period", path))
	}
	if h.laterPeriods && h.incremental == "" {
		errs = append(errs, fmt.Sprintf("%s: refresh_later_periods needs incremental: period", path))
	}
	if h.batch > 0 && h.incremental == "" {
		errs = append(errs, fmt.Sprintf("%s: batch needs incremental: period", path))
	}
	if h.batch > 0 && h.incremental != "" && !slices.ContainsFunc(h.tests, func(t Test) bool { return t.Name == "not_null("+h.incremental+")" }) {
		// a batch builds the rows of its periods; a row without one would be built by none (or by all)
		errs = append(errs, fmt.Sprintf("%s: batch needs a not_null test on %s", path, h.incremental))
	}
	if len(errs) > 0 {
		return h, fmt.Errorf("model header: %s", strings.Join(errs, "; "))
	}
	return h, nil
}

// headerTests reads one data-test line of a model header (unique,
// not_null, ...) into its tests; an unknown key is an error.
func headerTests(key, val string, n int) ([]Test, error) {
	const self = relToken
	switch key {
	case TestUnique:
		cols, err := columnList(val)
		if err != nil {
			return nil, fmt.Errorf("unique: %v", err)
		}
		return []Test{uniqueTest(cols, n)}, nil
	case TestNotNull:
		cols, err := columnList(val)
		if err != nil {
			return nil, fmt.Errorf("not_null: %v", err)
		}
		var tests []Test
		for _, c := range cols {
			tests = append(tests, Test{
				Kind: TestNotNull, Name: "not_null(" + c + ")", Line: n,
				tmpl: fmt.Sprintf("SELECT * FROM %s WHERE %s IS NULL", self, quoteIdent(c)),
			})
		}
		return tests, nil
	case TestAcceptedValues:
		am := acceptedRe.FindStringSubmatch(val)
		if am == nil {
			return nil, fmt.Errorf("accepted_values: want \"column in ('A', 'B')\", got %q", val)
		}
		c := quoteIdent(am[1])
		return []Test{{
			Kind: TestAcceptedValues, Name: "accepted_values(" + am[1] + ")", Line: n,
			tmpl: fmt.Sprintf("SELECT * FROM %s WHERE %s IS NOT NULL AND %s NOT IN (%s)", self, c, c, am[2]),
		}}, nil
	case TestRelationships:
		rm := relRe.FindStringSubmatch(val)
		if rm == nil {
			return nil, fmt.Errorf("relationships: want \"column -> schema.model.column\", got %q", val)
		}
		ref := strings.ToLower(rm[2] + "." + rm[3])
		c, rc := quoteIdent(rm[1]), quoteIdent(rm[4])
		return []Test{{
			Kind: TestRelationships, Name: fmt.Sprintf("relationships(%s -> %s.%s)", rm[1], ref, rm[4]), Line: n, Ref: ref,
			tmpl: fmt.Sprintf("SELECT * FROM %s WHERE %s IS NOT NULL AND %s NOT IN (SELECT %s FROM %s WHERE %s IS NOT NULL)",
				self, c, c, rc, quoteTable(ref), rc),
		}}, nil
	case TestRange:
		col, rest, _ := strings.Cut(val, " ")
		if !identRe.MatchString(col) {
			return nil, fmt.Errorf("range: want \"column between LO and HI\" or \"column >= X\", got %q", val)
		}
		cond, err := condition(quoteIdent(col), strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("range: %v", err)
		}
		return []Test{{
			Kind: TestRange, Name: "range(" + val + ")", Line: n,
			tmpl: fmt.Sprintf("SELECT * FROM %s WHERE %s IS NOT NULL AND NOT (%s)", self, quoteIdent(col), cond),
		}}, nil
	case TestRowCount:
		cond, err := condition("row_count", val)
		if err != nil {
			return nil, fmt.Errorf("row_count: %v", err)
		}
		return []Test{{
			Kind: TestRowCount, Name: "row_count(" + val + ")", Line: n,
			tmpl: fmt.Sprintf("SELECT row_count FROM (SELECT count(*) AS row_count FROM %s) WHERE NOT (%s)", self, cond),
		}}, nil
	}
	return nil, fmt.Errorf("unknown header key %q (known: materialized, incremental, refresh_year_of_month, refresh_later_periods, threads, duckdb_memory, build_side, batch, description, unique, not_null, accepted_values, relationships, range, row_count)", key)
}

func uniqueTest(cols []string, line int) Test {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quoteIdent(c)
	}
	list := strings.Join(q, ", ")
	return Test{
		Kind: TestUnique, Name: "unique(" + strings.Join(cols, ", ") + ")", Line: line,
		tmpl: fmt.Sprintf("SELECT %s, count(*) AS duplicates FROM %s GROUP BY ALL HAVING count(*) > 1", list, relToken), cols: cols,
	}
}

// condition turns "between 0 and 100" or "> 0" into a SQL predicate on expr.
// Bounds must be numbers, which keeps header text out of free SQL.
func condition(expr, s string) (string, error) {
	if m := betweenRe.FindStringSubmatch(s); m != nil {
		if !numberRe.MatchString(m[1]) || !numberRe.MatchString(m[2]) {
			return "", fmt.Errorf("bounds must be numbers in %q", s)
		}
		return fmt.Sprintf("%s BETWEEN %s AND %s", expr, m[1], m[2]), nil
	}
	if m := compareRe.FindStringSubmatch(s); m != nil {
		if !numberRe.MatchString(m[2]) {
			return "", fmt.Errorf("bound must be a number in %q", s)
		}
		return fmt.Sprintf("%s %s %s", expr, m[1], m[2]), nil
	}
	return "", fmt.Errorf("want \"between LO and HI\" or a comparison such as \"> 0\", got %q", s)
}

func columnList(s string) ([]string, error) {
	var cols []string
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if !identRe.MatchString(c) {
			return nil, fmt.Errorf("bad column name %q in %q", c, s)
		}
		cols = append(cols, c)
	}
	return cols, nil
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteTable quotes "schema.table".
func quoteTable(name string) string {
	s, t, _ := strings.Cut(name, ".")
	return quoteIdent(s) + "." + quoteIdent(t)
}
