package transform

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

func load(t *testing.T, dir string) *Project {
	t.Helper()
	p, err := Load(context.Background(), os.DirFS(dir))
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return p
}

func TestLoadOrderFromReferences(t *testing.T) {
	p := load(t, "testdata/order")
	want := map[string][]string{
		"core.a":  nil,
		"core.b":  {"core.a"},           // inside a CTE
		"core.c":  {"core.a", "core.b"}, // a subquery in WHERE
		"core.d":  {"core.b", "core.c"}, // a join
		"core.e":  {"core.a", "core.d"}, // a union and a derived table
		"marts.f": {"core.e"},           // CTE names are not references
	}
	models := p.Models()
	pos := map[string]int{}
	for i, m := range models {
		pos[m.Name] = i
	}
	if len(models) != len(want) {
		t.Fatalf("got %d models, want %d", len(models), len(want))
	}
	for _, m := range models {
		w, ok := want[m.Name]
		if !ok {
			t.Errorf("unexpected model %s", m.Name)
			continue
		}
		if !slices.Equal(m.Deps, w) {
			t.Errorf("%s deps = %v, want %v", m.Name, m.Deps, w)
		}
		for _, d := range m.Deps {
			if pos[d] >= pos[m.Name] {
				t.Errorf("%s ordered before its dependency %s", m.Name, d)
			}
		}
	}
	if f := models[pos["marts.f"]]; !slices.Equal(f.Inputs, []string{"lake.things"}) {
		t.Errorf("marts.f inputs = %v, want [lake.things]", f.Inputs)
	}
	dot := p.DOT()
	for _, edge := range []string{`"core.d" -> "core.e"`, `"lake.things" -> "marts.f"`} {
		if !strings.Contains(dot, edge) {
			t.Errorf("DOT lacks %s:\n%s", edge, dot)
		}
	}
}

func TestLoadBasicProject(t *testing.T) {
	p := load(t, "testdata/basic")
	byName := map[string]Model{}
	for _, m := range p.Models() {
		byName[m.Name] = m
	}
	if _, ok := byName["examples.not_a_model"]; ok {
		t.Error("examples/ was loaded as a model")
	}
	if fs := p.Functions(); len(fs) != 1 || fs[0].Path != "functions/macros.sql" {
		t.Errorf("functions = %v", fs)
	}
	cases := []struct {
		name, mat, incr string
		tests           int
	}{
		{"staging.achievement", View, "period", 3},
		{"staging.practices", View, "", 0},
		{"core.practices", Table, "", 3},
		{"core.achievement", Table, "period", 3},
		{"marts.by_period", Table, "", 2},
	}
	for _, c := range cases {
		m, ok := byName[c.name]
		if !ok {
			t.Errorf("%s missing", c.name)
			continue
		}
		if m.Materialized != c.mat || m.Incremental != c.incr || len(m.Tests) != c.tests {
			t.Errorf("%s: materialized %s incremental %q tests %d; want %s %q %d",
				c.name, m.Materialized, m.Incremental, len(m.Tests), c.mat, c.incr, c.tests)
		}
	}
	if d := byName["staging.achievement"].Description; !strings.HasPrefix(d, "QOF achievement rows") {
		t.Errorf("description = %q", d)
	}
	if got := p.Inputs(); !slices.Equal(got, []string{"lake.achievement", "lake.practices"}) {
		t.Errorf("inputs = %v", got)
	}
}

func TestLoadCycleNamesFiles(t *testing.T) {
	_, err := Load(context.Background(), os.DirFS("testdata/cycle"))
	if err == nil {
		t.Fatal("want a cycle error")
	}
	for _, s := range []string{"cycle", "core/a.sql", "core/b.sql", "core/c.sql"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "ok.sql") {
		t.Errorf("error names a model outside the cycle: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"missing reference", nil, []string{"core/b.sql:3", "core.nope"}},
		{"unknown header key", map[string]string{"core/a.sql": "-- materialized: table\n-- uniqe: k\nSELECT 1 AS k"},
			[]string{"core/a.sql:2", `unknown header key "uniqe"`}},
		{"bad materialized", map[string]string{"core/a.sql": "-- materialized: tabel\nSELECT 1 AS k"},
			[]string{"core/a.sql:1", "table or view"}},
		{"bad range", map[string]string{"core/a.sql": "\n-- range: k between zero and 1\nSELECT 1 AS k"},
			[]string{"core/a.sql:2", "range"}},
		{"refresh_later_periods without incremental", map[string]string{"core/a.sql": "-- refresh_later_periods: true\nSELECT '2024-05' AS period"},
			[]string{"core/a.sql", "refresh_later_periods needs incremental"}},
		{"bad refresh_later_periods", map[string]string{"core/a.sql": "-- incremental: period\n-- refresh_later_periods: 1\nSELECT '2024-05' AS period"},
			[]string{"core/a.sql", "refresh_later_periods: want true or false"}},
		{"refresh_year_of_month without incremental", map[string]string{"core/a.sql": "-- refresh_year_of_month: true\nSELECT '2024-25' AS period"},
			[]string{"core/a.sql", "refresh_year_of_month needs incremental"}},
		{"bad refresh_year_of_month", map[string]string{"core/a.sql": "-- incremental: period\n-- refresh_year_of_month: yes\nSELECT '2024-25' AS period"},
			[]string{"core/a.sql:2", "true or false"}},
		{"bad row_count", map[string]string{"core/a.sql": "-- row_count: lots\nSELECT 1 AS k"},
			[]string{"core/a.sql:1", "row_count"}},
		{"bad relationships", map[string]string{"core/a.sql": "-- relationships: k -> core.b\nSELECT 1 AS k"},
			[]string{"core/a.sql:1", "relationships"}},
		{"relationships to nothing", map[string]string{"core/a.sql": "-- relationships: k -> core.b.k\nSELECT 1 AS k"},
			[]string{"core/a.sql:1", "core.b"}},
		{"not a select", map[string]string{"core/a.sql": "CREATE TABLE x AS SELECT 1"},
			[]string{"core/a.sql", "one SELECT"}},
		{"two statements", map[string]string{"core/a.sql": "SELECT 1; SELECT 2"},
			[]string{"core/a.sql", "exactly one"}},
		{"syntax error", map[string]string{"core/a.sql": "-- fine\nSELECT 1 AS k\nFROM WHERE"},
			[]string{"core/a.sql:3", "syntax error"}},
		{"no schema", map[string]string{"core/a.sql": "SELECT * FROM practices"},
			[]string{"core/a.sql:1", "no schema"}},
		{"model outside a schema folder", map[string]string{"a.sql": "SELECT 1"},
			[]string{"a.sql", "<schema>/<name>.sql"}},
		{"reserved schema", map[string]string{"lake/a.sql": "SELECT 1"},
			[]string{"lake/a.sql", "reserved"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.files == nil {
				_, err = Load(context.Background(), os.DirFS("testdata/missing"))
			} else {
				fsys := fstest.MapFS{}
				for n, s := range c.files {
					fsys[n] = &fstest.MapFile{Data: []byte(s)}
				}
				_, err = Load(context.Background(), fsys)
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestStripTrailingSemicolon(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT 1;", "SELECT 1"},
		{"SELECT 1;\n-- done\n", "SELECT 1"},
		{"SELECT ';' AS s", "SELECT ';' AS s"},
		{"SELECT 1 -- trailing; comment", "SELECT 1 -- trailing; comment"},
		{"SELECT 1; /* end */", "SELECT 1"},
	}
	for _, c := range cases {
		if got := stripTrailingSemicolon(c.in); got != c.want {
			t.Errorf("stripTrailingSemicolon(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWriteList(t *testing.T) {
	var b strings.Builder
	if err := load(t, "testdata/basic").WriteList(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 8 || !strings.HasPrefix(lines[0], "MODEL") {
		t.Fatalf("list:\n%s", b.String())
	}
	var ach string
	for _, l := range lines {
		if strings.HasPrefix(l, "core.achievement ") {
			ach = l
		}
	}
	for _, w := range []string{"table", "period", "core.practices", "staging.achievement", "unique(practice_code, indicator, period)"} {
		if !strings.Contains(ach, w) {
			t.Errorf("core.achievement line %q lacks %q", ach, w)
		}
	}
}

func TestWriteListFit(t *testing.T) {
	p := load(t, "testdata/basic")
	for _, width := range []int{70, 80, 120} {
		var b strings.Builder
		if err := p.WriteListFit(&b, width); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if len(lines) != 8 || !strings.HasPrefix(lines[0], "MODEL") {
			t.Fatalf("width %d:\n%s", width, b.String())
		}
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: line of %d characters: %q", width, n, l)
			}
		}
	}
	// Wide enough, nothing is cut; and the full list is wider than the fit.
	var fit, full strings.Builder
	p.WriteListFit(&fit, 1000)
	p.WriteList(&full)
	if strings.Contains(fit.String(), "…") {
		t.Errorf("cut at width 1000:\n%s", fit.String())
	}
	if !strings.Contains(full.String(), "unique(practice_code, indicator, period)") || strings.Contains(fit.String(), "unique(practice_code") {
		t.Errorf("fit should count tests, full list them:\n%s\n%s", fit.String(), full.String())
	}
}

func TestOverlay(t *testing.T) {
	base := fstest.MapFS{
		"core/a.sql":    {Data: []byte("SELECT 1 AS k")},
		"core/b.sql":    {Data: []byte("SELECT k FROM core.a")},
		"marts/old.sql": {Data: []byte("SELECT k FROM core.b")},
	}
	top := fstest.MapFS{
		"core/b.sql":  {Data: []byte("-- description: replaced\nSELECT k FROM core.a")},
		"marts/c.sql": {Data: []byte("SELECT k FROM core.b")},
	}
	if err := fstest.TestFS(Overlay(base, top), "core/a.sql", "core/b.sql", "marts/c.sql", "marts/old.sql"); err != nil {
		t.Fatal(err)
	}
	p, err := Load(context.Background(), Overlay(base, top))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range p.Models() {
		names = append(names, m.Name)
		if m.Name == "core.b" && m.Description != "replaced" {
			t.Errorf("core.b not replaced by the top layer: %q", m.Description)
		}
	}
	if want := []string{"core.a", "core.b", "marts.c", "marts.old"}; !slices.Equal(names, want) {
		t.Errorf("models = %v, want %v", names, want)
	}
	if _, err := Load(context.Background(), Overlay(base, nil)); err != nil {
		t.Errorf("nil top: %v", err)
	}
}
