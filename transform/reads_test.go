package transform

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

// TestChangeFollowsColumnsRead: a table whose rows change in every period
// only in a column some readers never read leaves those readers copied; a
// column read only by a filter counts as read, even when the new data make
// the filter always true (so a plan built on the table's statistics would
// drop it); a reader whose every period changed is built afresh rather than
// refreshed, and still reports which periods changed; and every step still
// equals a full build.
func TestChangeFollowsColumnsRead(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{
		"core/facts.sql": {Data: []byte(`-- incremental: period
SELECT a.period, a.practice_code, p.name, a.indicator, a.measure, a.value
FROM lake.achievement AS a JOIN lake.practices AS p USING (practice_code)`)},
		"marts/totals.sql": {Data: []byte(`-- incremental: period
SELECT period, practice_code, sum(value) AS total FROM core.facts GROUP BY ALL`)},
		"marts/numerators.sql": {Data: []byte(`-- incremental: period
SELECT period, count(*) AS n FROM core.facts WHERE value > 10 GROUP BY period`)},
		"marts/named.sql": {Data: []byte(`-- incremental: period
SELECT DISTINCT period, practice_code, name FROM core.facts`)},
		"marts/everything.sql": {Data: []byte(`-- incremental: period
SELECT f.* EXCLUDE (value), f.value * 2 AS doubled FROM core.facts AS f`)},
		"marts/per_year.sql": {Data: []byte(`SELECT left(period, 4) AS year, count(*) AS n FROM core.facts GROUP BY ALL`)},
	}
	p, err := Load(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	l := newLake(t)
	l.practices(3)
	rows := func(period string, add int) {
		l.write("achievement/period="+period+"/part-0.parquet", fmt.Sprintf(`SELECT 'A' || p AS practice_code, 'AF001' AS indicator,
			'NUMERATOR' AS measure, (p * 10 + i + %d)::DOUBLE AS value FROM range(1, 4) r(p), range(2) s(i)`, add))
	}
	rows("2024-01", 5)
	rows("2024-02", 0) // one value of 10
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	if _, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		change  func()
		want    map[string]Action
		periods []string
	}{
		{"every practice renamed", func() {
			l.write("practices/part-0.parquet", "SELECT 'A' || p AS practice_code, 'Surgery ' || p AS name FROM range(1, 4) r(p)")
		}, map[string]Action{
			"core.facts": Rebuilt, "marts.totals": Copied, "marts.numerators": Copied,
			"marts.named": Rebuilt, "marts.everything": Rebuilt, "marts.per_year": Copied,
		}, []string{"2024-01", "2024-02"}},
		// The values of 2024-02 change, and with them every value passes
		// numerators' filter: it is now true of the whole table.
		{"a filter's column changed", func() { rows("2024-02", 5) }, map[string]Action{
			"core.facts": Refreshed, "marts.totals": Refreshed, "marts.numerators": Refreshed,
			"marts.named": Copied, "marts.everything": Refreshed, "marts.per_year": Copied,
		}, []string{"2024-02"}},
		{"a value changed", func() {
			l.write("achievement/period=2024-01/part-0.parquet", `SELECT 'A1' AS practice_code,
			'AF001' AS indicator, 'NUMERATOR' AS measure, 5.0::DOUBLE AS value`)
		}, map[string]Action{
			"core.facts": Refreshed, "marts.totals": Refreshed, "marts.numerators": Refreshed,
			"marts.named": Refreshed, "marts.everything": Refreshed, "marts.per_year": Rebuilt,
		}, []string{"2024-01"}},
	}
	for _, s := range steps {
		s.change()
		res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		checkStep(t, s.name, p, l, wh, res, s.want, s.periods)
		for _, m := range res.Models {
			if m.Name == "marts.named" && m.Action != Copied && !slices.Equal(m.ChangedPeriods, s.periods) {
				t.Errorf("%s: marts.named changed in %v, want %v", s.name, m.ChangedPeriods, s.periods)
			}
		}
	}
}
