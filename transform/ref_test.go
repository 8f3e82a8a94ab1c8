package transform

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// A model reads a reference file as ref.<name>; the workspace's data/
// folder adds or overrides files, and editing one rebuilds its readers.
func TestRefTables(t *testing.T) {
	ctx := context.Background()
	l := newLake(t)
	l.practices(3)
	ws := t.TempDir()
	wh := filepath.Join(ws, "warehouse.duckdb")
	if err := os.MkdirAll(filepath.Join(ws, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeRef := func(body string) {
		if err := os.WriteFile(filepath.Join(ws, "data", "bands.csv"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeRef("# list-size bands, reviewed\nband, lo\nsmall, 0\nlarge, 2\n")
	fsys := fstest.MapFS{
		"staging/practices.sql": {Data: []byte("SELECT * FROM lake.practices")},
		"marts/banded.sql": {Data: []byte(`-- not_null: band
SELECT p.practice_code, (SELECT arg_max(b.band, b.lo) FROM ref.bands AS b WHERE b.lo <= CAST(substr(p.practice_code, 2) AS INTEGER)) AS band
FROM staging.practices AS p`)},
		"marts/other.sql": {Data: []byte("SELECT count(*) AS n FROM staging.practices")},
	}
	p, err := Load(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if m := p.byName["marts.banded"]; m == nil || !slices.Contains(m.Inputs, "ref.bands") {
		t.Fatalf("marts.banded inputs: %+v", m)
	}
	if _, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables()[1:], Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	got := query(t, wh, "SELECT practice_code || ' ' || band FROM marts.banded ORDER BY 1")
	if want := []string{"A1 small", "A2 large", "A3 large"}; !slices.Equal(got, want) {
		t.Fatalf("banded = %v, want %v", got, want)
	}
	if got := query(t, wh, "SELECT data_type FROM information_schema.columns WHERE table_schema = 'ref' AND table_name = 'bands' AND column_name = 'lo'"); !slices.Equal(got, []string{"BIGINT"}) {
		t.Errorf("ref.bands.lo type = %v, want BIGINT (sniffed)", got)
	}

	writeRef("band,lo\nsmall,0\nlarge,3\n")
	res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables()[1:], Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(res); a["marts.banded"] != Rebuilt || a["marts.other"] != Copied {
		t.Errorf("after editing data/bands.csv: %v", a)
	}
	got = query(t, wh, "SELECT practice_code || ' ' || band FROM marts.banded ORDER BY 1")
	if want := []string{"A1 small", "A2 small", "A3 large"}; !slices.Equal(got, want) {
		t.Fatalf("after edit banded = %v, want %v", got, want)
	}

	if err := os.Remove(filepath.Join(ws, "data", "bands.csv")); err != nil {
		t.Fatal(err)
	}
	_, err = Build(ctx, p, Options{Warehouse: wh, Lake: l.tables()[1:], Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "data/bands.csv") {
		t.Fatalf("missing reference file: err = %v, want one naming data/bands.csv", err)
	}
}
