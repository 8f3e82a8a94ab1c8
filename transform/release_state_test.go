package transform

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// releaseProject is testdata/basic with a release layer: a table, an
// incremental view (per-period rows with each practice's name, from a table
// with a column that changes every month) and a view that is not
// incremental.
func releaseProject(t *testing.T) *Project {
	t.Helper()
	fsys := basicFS(t)
	fsys["release/achievement.sql"] = &fstest.MapFile{Data: []byte("-- incremental: period\nSELECT * FROM core.achievement")}
	// like core.current_names' name_period: a column that changes every month, which the view does not read
	fsys["core/practice_info.sql"] = &fstest.MapFile{Data: []byte(
		"SELECT p.practice_code, p.name, (SELECT max(period) FROM core.achievement) AS latest FROM core.practices AS p")}
	fsys["release/named.sql"] = &fstest.MapFile{Data: []byte("-- materialized: view\n-- incremental: period\n" +
		"SELECT v.period, v.practice_code, p.name, v.percent FROM marts.practice_period AS v JOIN core.practice_info AS p USING (practice_code)")}
	fsys["release/totals.sql"] = &fstest.MapFile{Data: []byte("-- materialized: view\nSELECT * FROM marts.by_period")}
	p, err := Load(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// releaseState reads _gplens.release_state as relation/part -> fingerprint.
func releaseStateOf(t *testing.T, wh string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range query(t, wh, "SELECT relation || '/' || coalesce(part, '-') || ' ' || coalesce(fingerprint, '-') FROM _gplens.release_state") {
		var k, v string
		if _, err := fmt.Sscan(r, &k, &v); err != nil {
			t.Fatalf("%q: %v", r, err)
		}
		out[k] = v
	}
	return out
}

func TestReleaseStateRecordsFingerprints(t *testing.T) {
	p := releaseProject(t)
	l := newLake(t)
	l.practices(4)
	l.achievement("2024-01", 4, 0)
	l.achievement("2024-02", 4, 1)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	build := func() {
		t.Helper()
		if _, err := Build(context.Background(), p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet}); err != nil {
			t.Fatal(err)
		}
	}
	build()
	// A table's are the rows' own, the formula the snapshot's copy hashes
	// them with.
	sameAsRows := func(state map[string]string) {
		t.Helper()
		n := 0
		for _, r := range query(t, wh, `SELECT CAST(period AS VARCHAR) || ' ' || count(*) || ':' || CAST(sum(hash(t)) AS VARCHAR)
			FROM release.achievement AS t GROUP BY period`) {
			var period, fp string
			fmt.Sscan(r, &period, &fp)
			if got := state["achievement/"+period]; got != fp {
				t.Errorf("release.achievement %s: recorded %q, rows hash to %q", period, got, fp)
			}
			n++
		}
		if n == 0 {
			t.Error("release.achievement is empty")
		}
	}
	first := releaseStateOf(t, wh)
	sameAsRows(first)
	for _, k := range []string{"named/2024-01", "named/2024-02"} {
		if first[k] == "" {
			t.Errorf("no fingerprint for %s: %v", k, first)
		}
	}
	if first["named/2024-01"] == first["named/2024-02"] {
		t.Errorf("the view's periods share a fingerprint: %v", first)
	}
	for k := range first {
		if k[:len("totals/")] == "totals/" {
			t.Errorf("a view that is not incremental has a recorded fingerprint %s (the snapshot must hash it)", k)
		}
	}

	// A new month leaves the earlier periods' fingerprints as they were,
	// though core.practice_info changed in a column the view does not read.
	l.achievement("2024-03", 4, 2)
	build()
	second := releaseStateOf(t, wh)
	for _, k := range []string{"named/2024-01", "named/2024-02", "achievement/2024-01", "achievement/2024-02"} {
		if second[k] != first[k] {
			t.Errorf("%s changed with a new month: %s -> %s", k, first[k], second[k])
		}
	}
	if second["named/2024-03"] == "" || second["achievement/2024-03"] == "" {
		t.Errorf("no fingerprints for the new month: %v", second)
	}

	// A renamed practice changes every period of the view that shows names
	// (through core.practice_info alone: marts.practice_period has no names).
	l.write("practices/part-0.parquet", "SELECT 'A' || p AS practice_code, 'Renamed ' || p AS name FROM range(1, 5) r(p)")
	build()
	third := releaseStateOf(t, wh)
	sameAsRows(third)
	for _, period := range []string{"2024-01", "2024-02", "2024-03"} {
		if third["named/"+period] == second["named/"+period] {
			t.Errorf("named/%s kept its fingerprint after a rename", period)
		}
	}
}
