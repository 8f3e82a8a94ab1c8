// Package transform runs gplens's plain-SQL models in DuckDB: it discovers
// the models in a folder, orders them by the tables their SQL references
// (found with DuckDB's own parser), materialises them into a new warehouse
// file beside the old one, runs the data tests declared in their headers and
// swaps the new file in only when everything passed. Models downstream of
// unchanged lake partitions are copied from the previous warehouse, and
// models declared incremental are refreshed only for the periods that changed.
package transform

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/gplens/gplens/duck"
)

// LakeSchema is the schema of the external inputs (see LakeTable).
const LakeSchema = "lake"

// RefSchema holds the reviewed reference files of data/ (and the
// workspace's data/ overrides), one table per CSV: ref.<basename>.
const RefSchema = "ref"

// stateSchema holds the engine's own bookkeeping in the warehouse.
const stateSchema = "_gplens"

// Model is one SQL file: one SELECT materialised as schema.table.
type Model struct {
	// Name is "schema.table", from the path: staging/qof.sql -> staging.qof.
	Name   string
	Schema string
	Table  string
	// Path is the file's path in the project's file system.
	Path string
	// SQL is the file's text (header included).
	SQL string
	// Materialized is Table or View: as declared, else View in staging and Table elsewhere.
	Materialized string
	// Incremental is the partition column ("period") if declared.
	Incremental string
	// YearOfMonth: a change in a month also refreshes the rows of its
	// financial year (the model's year rows rest on the year's months,
	// e.g. a year's average of monthly FTE). Only with Incremental.
	YearOfMonth bool
	// LaterPeriods: a change in a period also refreshes every later month
	// the model holds (a month's rows take the latest figures available by
	// it, so a change carries forward). Only with Incremental.
	LaterPeriods bool
	Description  string
	// Threads, if set, caps DuckDB's threads while the model's statements
	// run (its tests run with the build's): for a model whose work is one
	// long Go function call that spreads over the cores itself, where
	// DuckDB's client thread would otherwise spin, waiting, beside it.
	Threads int
	// DuckDBMemory, if set, is the share (percent) of the build's
	// memory_limit DuckDB may use while the model's statements run (its
	// tests run with the whole): the rest is left to Go functions the model
	// calls, whose heap DuckDB's limit does not count (sdc_suppress holds
	// England's cells of a few months at once in Go).
	DuckDBMemory int
	// BuildRight, if set, keeps each join's sides as the model's SQL writes
	// them while its statements run (build_side: right): DuckDB builds the
	// hash table from the right-hand side instead of choosing the side by
	// its estimates, which can pick the wide one (disclosure.indicator_values:
	// the rows being published, hashed with all their columns, instead of
	// the peers' figures joined onto them).
	BuildRight bool
	// Batch, if set, is how many periods a full build computes at a time
	// (batch: N periods of BatchFrom; with Incremental): the periods are
	// BatchFrom's, and each batch runs the model as a refresh of those
	// periods does. The same rows as one statement, in memory bounded by
	// the batch rather than by the warehouse's history.
	Batch     int
	BatchFrom string
	// Deps are the models this one reads, sorted.
	Deps []string
	// Inputs are the lake tables this one reads ("lake.qof_achievement"), sorted.
	Inputs []string
	Tests  []Test

	// hash covers the file text and every function file, so an edit to
	// either forces a rebuild.
	hash string
	// body is the SELECT without a trailing semicolon, safe to wrap.
	body string
}

// Function is a file under functions/: SQL (macros) run before the models.
type Function struct {
	Path string
	SQL  string
}

// Project is a loaded, ordered set of models.
type Project struct {
	models    []*Model
	byName    map[string]*Model
	functions []Function
}

// Models returns the models in dependency order (each after everything it
// reads and everything its relationships tests look up).
func (p *Project) Models() []Model {
	out := make([]Model, len(p.models))
	for i, m := range p.models {
		out[i] = *m
	}
	return out
}

// Functions returns the function files in the order they run.
func (p *Project) Functions() []Function { return slices.Clone(p.functions) }

// Inputs returns every lake table the models read, sorted.
func (p *Project) Inputs() []string {
	set := map[string]bool{}
	for _, m := range p.models {
		for _, in := range m.Inputs {
			set[in] = true
		}
	}
	return sortedKeys(set)
}

var nameRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Load discovers the models in fsys: every **/*.sql except under examples/
// and functions/ (functions/*.sql are run first, in path order). It parses
// each model with DuckDB to find its references and returns them ordered.
// All problems found are reported together.
func Load(ctx context.Context, fsys fs.FS) (*Project, error) {
	p := &Project{byName: map[string]*Model{}}
	paths, err := sqlFiles(fsys)
	if err != nil {
		return nil, err
	}

	var errs []error
	var models []*Model
	for _, name := range paths {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if strings.HasPrefix(name, "functions/") {
			p.functions = append(p.functions, Function{Path: name, SQL: string(b)})
			continue
		}
		m, err := newModel(name, string(b))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		models = append(models, m)
		p.byName[m.Name] = m
	}
	fh := sha256.New()
	for _, f := range p.functions {
		fmt.Fprintf(fh, "%s\x00%s\x00", f.Path, f.SQL)
	}
	for _, m := range models {
		sum := sha256.Sum256([]byte(m.SQL + "\x00" + hex.EncodeToString(fh.Sum(nil))))
		m.hash = hex.EncodeToString(sum[:])
	}

	if len(models) > 0 {
		db, err := duck.Open(ctx, "", duck.Options{})
		if err != nil {
			return nil, fmt.Errorf("open duckdb to parse models: %w", err)
		}
		defer db.Close()
		for _, m := range models {
			if err := p.resolve(ctx, db, m); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	order, err := p.order(models)
	if err != nil {
		return nil, err
	}
	p.models = order
	return p, nil
}

// sqlFiles lists the .sql files of a project, sorted, leaving out examples/.
func sqlFiles(fsys fs.FS) ([]string, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name == "examples" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".sql") {
			paths = append(paths, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("discover models: %w", err)
	}
	sort.Strings(paths)
	return paths, nil
}

// newModel reads the model at <schema>/<name>.sql from its path and header;
// what it reads is resolved later.
func newModel(name, src string) (*Model, error) {
	dir, file := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	table := strings.TrimSuffix(file, ".sql")
	if dir == "" || strings.Contains(dir, "/") {
		return nil, fmt.Errorf("%s: a model lives at <schema>/<name>.sql (e.g. staging/qof.sql)", name)
	}
	if !nameRe.MatchString(dir) || !nameRe.MatchString(table) {
		return nil, fmt.Errorf("%s: schema and model names must be lower-case letters, digits and _", name)
	}
	if dir == LakeSchema || dir == RefSchema || dir == stateSchema || dir == "main" {
		return nil, fmt.Errorf("%s: schema %q is reserved", name, dir)
	}
	m := &Model{Name: dir + "." + table, Schema: dir, Table: table, Path: name, SQL: src}
	h, err := parseHeader(name, m.SQL)
	if err != nil {
		return nil, err
	}
	for i := range h.tests {
		h.tests[i].SQL = h.tests[i].on(quoteTable(m.Name))
	}
	m.Materialized = h.materialized
	if m.Materialized == "" {
		m.Materialized = Table
		if m.Schema == "staging" {
			m.Materialized = View
		}
	}
	m.Incremental, m.Description, m.Tests, m.Threads, m.DuckDBMemory, m.BuildRight = h.incremental, h.description, h.tests, h.threads, h.duckdbMemory, h.buildRight
	m.YearOfMonth, m.LaterPeriods = h.yearOfMonths, h.laterPeriods
	m.Batch, m.BatchFrom = h.batch, h.batchFrom
	if m.Batch > 0 && m.Materialized != Table {
		return nil, fmt.Errorf("%s: batch: only a table is built in batches", name)
	}
	m.body = stripTrailingSemicolon(m.SQL)
	return m, nil
}

// resolve parses m with DuckDB and fills Deps and Inputs.
func (p *Project) resolve(ctx context.Context, db *sql.DB, m *Model) error {
	var js string
	if err := db.QueryRowContext(ctx, `SELECT CAST(json_serialize_sql(CAST(? AS VARCHAR)) AS VARCHAR)`, m.SQL).Scan(&js); err != nil {
		return fmt.Errorf("%s: parse: %w", m.Path, err)
	}
	var doc struct {
		Error      bool              `json:"error"`
		Message    string            `json:"error_message"`
		Position   string            `json:"position"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		return fmt.Errorf("%s: read parse tree: %w", m.Path, err)
	}
	if doc.Error {
		where := m.Path
		var pos int
		if _, err := fmt.Sscan(doc.Position, &pos); err == nil && doc.Position != "" {
			where = fmt.Sprintf("%s:%d", m.Path, lineAt(m.SQL, pos))
		}
		msg := doc.Message
		if strings.Contains(msg, "Only SELECT") {
			msg = "a model must be one SELECT (or WITH ... SELECT) statement"
		}
		return fmt.Errorf("%s: %s", where, msg)
	}
	if len(doc.Statements) != 1 {
		return fmt.Errorf("%s: a model must be exactly one SELECT statement, found %d", m.Path, len(doc.Statements))
	}
	var tree any
	if err := json.Unmarshal(doc.Statements[0], &tree); err != nil {
		return fmt.Errorf("%s: read parse tree: %w", m.Path, err)
	}
	var refs []tableRef
	ctes := map[string]bool{}
	walk(tree, &refs, ctes)

	deps, inputs := map[string]bool{}, map[string]bool{}
	var errs []string
	for _, r := range refs {
		schema, table := strings.ToLower(r.schema), strings.ToLower(r.table)
		line := lineAt(m.SQL, r.pos)
		switch {
		case r.catalog != "":
			errs = append(errs, fmt.Sprintf("%s:%d: %s.%s.%s: catalog-qualified references are not supported, use schema.table", m.Path, line, r.catalog, r.schema, r.table))
		case schema == "" && ctes[table]:
			// A CTE, not a table.
		case schema == "":
			errs = append(errs, fmt.Sprintf("%s:%d: table %q has no schema: write schema.table (e.g. staging.%s or lake.%s)", m.Path, line, r.table, table, table))
		case schema == LakeSchema, schema == RefSchema:
			inputs[schema+"."+table] = true
		case schema+"."+table == m.Name:
			errs = append(errs, fmt.Sprintf("%s:%d: model %s reads itself", m.Path, line, m.Name))
		case p.byName[schema+"."+table] != nil:
			deps[schema+"."+table] = true
		default:
			errs = append(errs, fmt.Sprintf("%s:%d: %s.%s is not a model (no %s/%s.sql) nor a lake or ref table", m.Path, line, schema, table, schema, table))
		}
	}
	for _, t := range m.Tests {
		if t.Ref == "" {
			continue
		}
		if !strings.HasPrefix(t.Ref, LakeSchema+".") && !strings.HasPrefix(t.Ref, RefSchema+".") && p.byName[t.Ref] == nil {
			errs = append(errs, fmt.Sprintf("%s:%d: %s looks up %s, which is not a model nor a lake table", m.Path, t.Line, t.Name, t.Ref))
		}
	}
	if m.BatchFrom != "" && !deps[m.BatchFrom] && !inputs[m.BatchFrom] {
		errs = append(errs, fmt.Sprintf("%s: batch: %s is not a table the model reads", m.Path, m.BatchFrom))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	m.Deps, m.Inputs = sortedKeys(deps), sortedKeys(inputs)
	return nil
}

type tableRef struct {
	catalog, schema, table string
	pos                    int
}

// walk collects every BASE_TABLE reference and every CTE name anywhere in
// DuckDB's serialised parse tree: FROM, joins, subqueries in any clause,
// set operations and CTE bodies all nest the same node shapes.
func walk(v any, refs *[]tableRef, ctes map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if x["type"] == "BASE_TABLE" {
			r := tableRef{}
			r.catalog, _ = x["catalog_name"].(string)
			r.schema, _ = x["schema_name"].(string)
			r.table, _ = x["table_name"].(string)
			if f, ok := x["query_location"].(float64); ok && f < 1e15 {
				r.pos = int(f)
			}
			*refs = append(*refs, r)
		}
		if cm, ok := x["cte_map"].(map[string]any); ok {
			if entries, ok := cm["map"].([]any); ok {
				for _, e := range entries {
					if em, ok := e.(map[string]any); ok {
						if k, ok := em["key"].(string); ok {
							ctes[strings.ToLower(k)] = true
						}
					}
				}
			}
		}
		for _, child := range x {
			walk(child, refs, ctes)
		}
	case []any:
		for _, child := range x {
			walk(child, refs, ctes)
		}
	}
}

// lineAt is the 1-based line of byte offset pos in s.
func lineAt(s string, pos int) int {
	if pos > len(s) {
		pos = len(s)
	}
	return strings.Count(s[:pos], "\n") + 1
}

// order sorts models so each follows its dependencies and the targets of its
// relationships tests; ties break by name so the order is stable.
func (p *Project) order(models []*Model) ([]*Model, error) {
	edges := map[string][]string{} // model -> what must come first
	for _, m := range models {
		set := map[string]bool{}
		for _, d := range m.Deps {
			set[d] = true
		}
		for _, t := range m.Tests {
			if t.Ref != "" && t.Ref != m.Name && p.byName[t.Ref] != nil {
				set[t.Ref] = true
			}
		}
		edges[m.Name] = sortedKeys(set)
	}
	if cyc := findCycle(models, edges); cyc != nil {
		parts := make([]string, len(cyc))
		for i, n := range cyc {
			parts[i] = fmt.Sprintf("%s (%s)", p.byName[n].Path, n)
		}
		return nil, fmt.Errorf("dependency cycle (each is read by the next): %s", strings.Join(parts, " -> "))
	}
	done := map[string]bool{}
	var out []*Model
	for len(out) < len(models) {
		for _, m := range models { // models are sorted by path, so by name
			if done[m.Name] {
				continue
			}
			ready := true
			for _, d := range edges[m.Name] {
				if !done[d] {
					ready = false
					break
				}
			}
			if ready {
				done[m.Name] = true
				out = append(out, m)
				break
			}
		}
	}
	return out, nil
}

// findCycle returns a cycle as a path a -> b -> ... -> a, or nil.
func findCycle(models []*Model, edges map[string][]string) []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var found []string
	var visit func(n string) bool
	visit = func(n string) bool {
		color[n] = grey
		stack = append(stack, n)
		for _, d := range edges[n] {
			switch color[d] {
			case grey:
				i := slices.Index(stack, d)
				found = append(slices.Clone(stack[i:]), d)
				// Read it in data-flow order: what is read first.
				slices.Reverse(found)
				return true
			case white:
				if visit(d) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return false
	}
	for _, m := range models {
		if color[m.Name] == white && visit(m.Name) {
			return found
		}
	}
	return nil
}

// DOT renders the model graph in Graphviz format: lake tables as inputs,
// an edge from each table to the models that read it.
func (p *Project) DOT() string {
	var b strings.Builder
	b.WriteString("digraph gplens {\n  rankdir=LR;\n  node [shape=box];\n")
	for _, in := range p.Inputs() {
		fmt.Fprintf(&b, "  %q [shape=cylinder];\n", in)
	}
	for _, m := range p.models {
		shape := "box"
		if m.Materialized == View {
			shape = "box, style=dashed"
		}
		fmt.Fprintf(&b, "  %q [%s];\n", m.Name, "shape="+shape)
	}
	for _, m := range p.models {
		for _, in := range m.Inputs {
			fmt.Fprintf(&b, "  %q -> %q;\n", in, m.Name)
		}
		for _, d := range m.Deps {
			fmt.Fprintf(&b, "  %q -> %q;\n", d, m.Name)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// stripTrailingSemicolon drops a final ';' (and anything after it that is
// only whitespace or comments) so the SELECT can be wrapped in another query.
func stripTrailingSemicolon(s string) string {
	last := -1 // position of the last ';' outside strings and comments
	lastCode := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			lastCode = j
			i = j
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				i = len(s)
			} else {
				i += end + 3
			}
		case c == ';':
			last = i
			lastCode = i
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			lastCode = i
		}
	}
	if last >= 0 && last == lastCode {
		return s[:last]
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
