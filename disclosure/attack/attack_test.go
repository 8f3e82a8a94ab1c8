package attack_test

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gplens/gplens/disclosure/attack"
	"github.com/gplens/gplens/disclosure/attack/attacktest"
	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/snapshot"
	sqlmodels "github.com/gplens/gplens/sql"
)

var fixtures = []*attacktest.Fixture{attacktest.Synth, attacktest.SmallCounts}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range fixtures {
		f.Cleanup()
	}
	os.Exit(code)
}

func openRO(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := duck.Open(context.Background(), path, duck.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openSnapshot(t *testing.T, ws string) *sql.DB {
	t.Helper()
	db, _, closeFn, err := snapshot.OpenCurrent(context.Background(), ws, snapshot.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeFn() })
	return db
}

func queryInt(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func leaks(t *testing.T, target attack.Target, truth map[attack.Key]float64, o attack.Options) ([]attack.Finding, []attack.Finding) {
	t.Helper()
	fs, err := attack.Run(context.Background(), target, o)
	if err != nil {
		t.Fatal(err)
	}
	return fs, attack.Leaks(fs, truth)
}

// noWrongDerivations fails the test for a derivation (of fs, whose leaks
// are ls) that is not the true count. Every relation the attacks use holds
// (TestRelationsHold), so what they derive is a true count; one that is not
// means an attack misreads a table, and its guesses could hit a true count
// by chance: a flaky test.
func noWrongDerivations(t *testing.T, where string, fs, ls []attack.Finding, truth map[attack.Key]float64) {
	t.Helper()
	for _, f := range fs {
		if len(attack.Leaks([]attack.Finding{f}, truth)) == 0 {
			t.Errorf("%s: %d derivations are not the true count (an attack misreads a table), e.g. %s (truth %g)", where, len(fs)-len(ls), f, truth[f.Cell])
			return
		}
	}
}

// Every attack over the release tables, in the warehouse and in the
// published snapshot, recovers no withheld count.
func TestAttacksRecoverNothing(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			ws := f.Workspace(t)
			wh := openRO(t, filepath.Join(ws, "warehouse.duckdb"))
			truth, err := attack.Truth(context.Background(), wh)
			if err != nil {
				t.Fatal(err)
			}
			withheld := queryInt(t, wh, `SELECT count(*) FROM release.indicator_values WHERE numerator_suppressed`)
			primary := queryInt(t, wh, `SELECT count(*) FROM disclosure.cells WHERE reason = 'primary'`)
			secondary := queryInt(t, wh, `SELECT count(*) FROM disclosure.cells WHERE reason = 'secondary'`)
			if withheld == 0 || primary == 0 || secondary == 0 {
				t.Fatalf("fixture withholds nothing to attack: %d rows, %d primary, %d secondary", withheld, primary, secondary)
			}
			for _, target := range []struct {
				name string
				t    attack.Target
			}{
				{"warehouse release", attack.Target{DB: wh, Schema: "release"}},
				{"snapshot marts", attack.Target{DB: openSnapshot(t, ws), Schema: "marts"}},
			} {
				// one relation at a time, chained, and every relation at once
				fs, ls := leaks(t, target.t, truth, attack.Options{Chain: true, System: true})
				for i, l := range ls {
					if i < 10 {
						t.Errorf("%s: leak: %s (truth %g)", target.name, l, truth[l.Cell])
					}
				}
				if len(ls) > 0 {
					t.Errorf("%s: %d withheld counts recovered (%d findings)", target.name, len(ls), len(fs))
				}
				noWrongDerivations(t, target.name, fs, ls, truth)
				t.Logf("%s: %d withheld rows, %d primary and %d secondary cells; %d derivations", target.name, withheld, primary, secondary, len(fs))
				// counts are never negative: bounds through every relation
				// (a withheld sum of 0 pins each of its terms at 0, and
				// what that leaves pins others) must pin nothing either
				fs, _ = leaks(t, target.t, truth, attack.Options{RoundTo: 1})
				for i, f := range fs {
					if i < 10 {
						t.Errorf("%s: bounds pin %s (truth %g)", target.name, f, truth[f.Cell])
					}
				}
				if len(fs) > 0 {
					t.Errorf("%s: %d withheld counts pinned by bounds", target.name, len(fs))
				}
			}
		})
	}
}

// The attacks do find withheld counts when protection is missing: without
// secondary suppression (totals minus parts), without the whole-system
// audit (the linear system of all relations), with an SPC mean over every
// month, with the unsuppressed comparators, with peer means pooling withheld
// counts.
func TestAttacksFindUnprotectedCounts(t *testing.T) {
	db, truth, exec, rebuild := releaseLab(t, fixtures[1])
	audited := queryInt(t, db, `SELECT count(*) FROM disclosure.cells WHERE reason IS NOT NULL`)
	exec(`SET VARIABLE disclosure_secondary = 'false'`)
	rebuild()
	_, ls := leaks(t, attack.Target{DB: db, Schema: "release"}, truth, attack.Options{})
	if !slices.ContainsFunc(ls, func(f attack.Finding) bool { return strings.HasPrefix(f.Attack, "hierarchy") }) {
		t.Errorf("primary suppression alone: no count recovered by differencing the hierarchy (%d leaks)", len(ls))
	}
	// per-relation secondary suppression without the whole-system audit:
	// nothing from one relation, but the linear system gives counts away
	exec(`SET VARIABLE disclosure_secondary = 'true'`)
	exec(`SET VARIABLE disclosure_audit = 'false'`)
	rebuild()
	perRelation := queryInt(t, db, `SELECT count(*) FROM disclosure.cells WHERE reason IS NOT NULL`)
	_, ls = leaks(t, attack.Target{DB: db, Schema: "release"}, truth, attack.Options{})
	if len(ls) != 0 {
		t.Errorf("per-relation suppression: %d counts recovered one relation at a time, e.g. %s", len(ls), ls[0])
	}
	_, ls = leaks(t, attack.Target{DB: db, Schema: "release"}, truth, attack.Options{System: true})
	if !slices.ContainsFunc(ls, func(f attack.Finding) bool { return f.Attack == "linear system" }) {
		t.Errorf("per-relation suppression without the audit: the linear-system attack recovered nothing (%d leaks)", len(ls))
	}
	t.Logf("per-relation suppression alone: %d withheld cells, %d counts recovered by the linear system; with the audit: %d withheld cells", perRelation, len(ls), audited)
	// naive: trends as the marts compute them (mean over every month) with
	// withheld points blanked, comparators from the marts
	exec(`SET VARIABLE disclosure_audit = 'true'`)
	exec(`CREATE OR REPLACE TABLE disclosure.cells AS ` + mustRead(t, "disclosure/cells.sql"))
	exec(`CREATE OR REPLACE TABLE disclosure.indicator_values AS ` + mustRead(t, "disclosure/indicator_values.sql"))
	exec(`CREATE SCHEMA naive`)
	for _, v := range []string{"inequality_deciles", "inequality", "area_summary", "indicators"} {
		exec(`CREATE VIEW naive.` + v + ` AS SELECT * FROM release.` + v)
	}
	exec(`CREATE VIEW naive.indicator_values AS SELECT r.* REPLACE (m.icb_value AS icb_value) FROM release.indicator_values AS r
		JOIN marts.indicator_values AS m USING (indicator_id, period, area_level, area_code)`)
	// each practice series' last month blanked, its mean still over every month
	exec(`CREATE VIEW naive.trends AS SELECT t.* REPLACE (CASE WHEN t.area_level = 'practice' AND t.period = (SELECT max(period) FROM marts.trends) THEN NULL ELSE t.value END AS value)
		FROM marts.trends AS t`)
	_, ls = leaks(t, attack.Target{DB: db, Schema: "naive"}, truth, attack.Options{})
	for _, want := range []string{"time (n x mean - published)", "comparator"} {
		if !slices.ContainsFunc(ls, func(f attack.Finding) bool { return f.Attack == want }) {
			t.Errorf("naive release: the %q attack recovered nothing", want)
		}
	}
	// peer means pooled over every similar practice, withheld ones too (the
	// marts'), the rest as released: a withheld count among a practice's
	// peers follows from the others and the mean
	exec(`CREATE SCHEMA naive_peers`)
	for _, v := range []string{"inequality_deciles", "inequality", "area_summary", "indicators", "trends", "peers"} {
		exec(`CREATE VIEW naive_peers.` + v + ` AS SELECT * FROM release.` + v)
	}
	exec(`CREATE VIEW naive_peers.indicator_values AS SELECT r.* REPLACE (m.peer_mean AS peer_mean) FROM release.indicator_values AS r
		JOIN marts.indicator_values AS m USING (indicator_id, period, area_level, area_code)`)
	if _, ls := leaks(t, attack.Target{DB: db, Schema: "naive_peers"}, truth, attack.Options{Chain: true, System: true}); len(ls) == 0 {
		t.Errorf("peer means over withheld counts: nothing recovered")
	} else {
		t.Logf("peer means over withheld counts: %d counts recovered, e.g. %s", len(ls), ls[0])
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(sqlmodels.FS(), name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func functions(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(sqlmodels.FS(), "functions/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		out = append(out, mustRead(t, n))
	}
	return out
}

// The published snapshot holds the release tables, marts views over them
// and the analyst views: no lake, staging, core or build schema, no
// row-level referral table, and every view reads.
func TestSnapshotHoldsOnlyReleasedData(t *testing.T) {
	ws := fixtures[0].Workspace(t)
	db := openSnapshot(t, ws)
	attacktest.CheckReaderDatabase(t, db)
	// the marts views show the controlled numbers
	if n := queryInt(t, db, `SELECT count(*) FROM marts.indicator_values WHERE numerator_suppressed AND numerator IS NOT NULL`); n != 0 {
		t.Errorf("%d withheld numerators visible through marts.indicator_values", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM analyst.referrals WHERE suppressed`); n == 0 {
		t.Error("analyst.referrals shows no withheld row: not reading the release tables")
	}
}

// Types survive: every release table has its mart's columns with the same
// types, in the same order, then only BOOLEAN *_suppressed flags and a
// VARCHAR suppression_reason.
func TestReleaseTablesKeepMartTypes(t *testing.T) {
	ws := fixtures[1].Workspace(t)
	db := openRO(t, filepath.Join(ws, "warehouse.duckdb"))
	cols := func(schema, table string) [][2]string {
		rows, err := db.Query(`SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index`, schema, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out [][2]string
		for rows.Next() {
			var c [2]string
			if err := rows.Scan(&c[0], &c[1]); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	for _, table := range []string{"indicator_values", "inequality_deciles", "inequality", "trends", "area_summary"} {
		m, r := cols("marts", table), cols("release", table)
		if len(m) == 0 || len(r) < len(m) {
			t.Fatalf("%s: marts has %d columns, release %d", table, len(m), len(r))
		}
		if !slices.Equal(m, r[:len(m)]) {
			t.Errorf("%s: release columns %v, want the marts' %v first", table, r[:len(m)], m)
		}
		for _, c := range r[len(m):] {
			if !(strings.HasSuffix(c[0], "_suppressed") && c[1] == "BOOLEAN" || c[0] == "suppression_reason" && c[1] == "VARCHAR") {
				t.Errorf("%s: extra column %s %s", table, c[0], c[1])
			}
		}
	}
}

// Rounded counts (round_to 5): every published count is a multiple of 5,
// and bounding each withheld count through every relation (rounded totals
// minus rounded parts, chained, counts at least 0) pins none. The same
// interval attack on exact counts without secondary suppression pins the
// true counts, so it can find what it looks for.
func TestRoundedCountsPinNothing(t *testing.T) {
	db, truth, exec, rebuild := releaseLab(t, fixtures[1])
	target := attack.Target{DB: db, Schema: "release"}

	exec(`SET VARIABLE disclosure_round_to = '5'`)
	rebuild()
	private := `indicator_id IN (SELECT indicator_id FROM release.indicators WHERE NOT public)`
	if n := queryInt(t, db, `SELECT count(*) FROM release.indicator_values WHERE `+private+` AND numerator IS NOT NULL`); n == 0 {
		t.Fatal("no published count to attack")
	}
	for _, tbl := range []string{"indicator_values", "inequality_deciles"} {
		if n := queryInt(t, db, `SELECT count(*) FROM release.`+tbl+` WHERE `+private+` AND numerator % 5 <> 0`); n != 0 {
			t.Errorf("release.%s: %d published counts not a multiple of 5", tbl, n)
		}
	}
	fs, ls := leaks(t, target, truth, attack.Options{RoundTo: 5})
	for i, f := range fs {
		if i < 10 {
			t.Errorf("rounded to 5: pinned %s (truth %g)", f, truth[f.Cell])
		}
	}
	t.Logf("rounded to 5: %d withheld counts pinned, %d of them exactly", len(fs), len(ls))

	// exact counts, primary suppression only: the intervals meet on the
	// true counts (totals minus published parts)
	exec(`SET VARIABLE disclosure_round_to = '1'`)
	exec(`SET VARIABLE disclosure_secondary = 'false'`)
	rebuild()
	fs, ls = leaks(t, target, truth, attack.Options{RoundTo: 1})
	if len(ls) == 0 {
		t.Errorf("exact counts without secondary suppression: the interval attack pinned nothing (%d findings)", len(fs))
	}
	if len(ls) != len(fs) {
		t.Errorf("exact counts: %d pinned counts, %d of them true: the bounds are wrong", len(fs), len(ls))
	}
	t.Logf("exact counts, primary suppression only: %d withheld counts pinned", len(ls))
}

// releaseLab opens a writable copy of f's warehouse (with the SQL functions)
// whose release layer a test rebuilds under other disclosure settings:
// the true counts, a statement runner and the rebuild.
func releaseLab(t *testing.T, f *attacktest.Fixture) (*sql.DB, map[attack.Key]float64, func(string), func()) {
	t.Helper()
	ctx := context.Background()
	dst := filepath.Join(t.TempDir(), "warehouse.duckdb")
	b, err := os.ReadFile(filepath.Join(f.Workspace(t), "warehouse.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := duck.Open(ctx, dst, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	truth, err := attack.Truth(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	for _, fn := range functions(t) {
		exec(fn)
	}
	rebuild := func() {
		t.Helper()
		// (release.indicator_values, release.inequality and release.trends
		// are views over the disclosure tables)
		for _, m := range []string{"disclosure/cells", "disclosure/indicator_values", "release/inequality_deciles", "disclosure/inequality", "disclosure/trends", "release/area_summary"} {
			exec("CREATE OR REPLACE TABLE " + strings.ReplaceAll(m, "/", ".") + " AS " + mustRead(t, m+".sql"))
		}
	}
	return db, truth, exec, rebuild
}
