package transform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"
)

// benchProject is a synthetic model set: two staging views, an incremental
// core fact, a practice dimension and n marts over them (every third one
// incremental).
func benchProject(b *testing.B, n int) *Project {
	b.Helper()
	fsys := fstest.MapFS{
		"staging/achievement.sql": {Data: []byte("-- incremental: period\nSELECT * FROM lake.achievement")},
		"staging/practices.sql":   {Data: []byte("SELECT * FROM lake.practices")},
		"core/practices.sql":      {Data: []byte("-- unique: practice_code\nSELECT practice_code, any_value(name) AS name FROM staging.practices GROUP BY 1")},
		"core/achievement.sql": {Data: []byte(`-- incremental: period
-- unique: practice_code, indicator, period
-- relationships: practice_code -> core.practices.practice_code
SELECT practice_code, indicator, period,
       sum(value) FILTER (WHERE measure = 'NUMERATOR') AS numerator,
       sum(value) FILTER (WHERE measure = 'DENOMINATOR') AS denominator
FROM staging.achievement GROUP BY ALL`)},
	}
	for i := 0; i < n; i++ {
		header := "-- row_count: > 0\n"
		if i%3 == 0 {
			header += "-- incremental: period\n"
		}
		fsys[fmt.Sprintf("marts/m%02d.sql", i)] = &fstest.MapFile{Data: []byte(header + fmt.Sprintf(
			`SELECT a.period, a.indicator, left(a.practice_code, %d) AS grp, sum(a.numerator) / sum(a.denominator) AS rate, count(*) AS n
FROM core.achievement AS a JOIN core.practices AS p USING (practice_code)
GROUP BY ALL`, 1+i%4))}
	}
	p, err := Load(context.Background(), fsys)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkBuild builds 20 marts over 6,000 practices x 20 indicators x 12
// periods (about 2.9M lake rows): in full, with nothing changed, and with one
// period restated.
func BenchmarkBuild(b *testing.B) {
	ctx := context.Background()
	p := benchProject(b, 20)
	l := newLake(b)
	dir := l.dir
	write := l.write
	write("practices/part-0.parquet", "SELECT printf('A%05d', p) AS practice_code, 'P' || p AS name FROM range(6000) r(p)")
	for m := 1; m <= 12; m++ {
		write(fmt.Sprintf("achievement/period=2024-%02d/part-0.parquet", m), fmt.Sprintf(`
			SELECT printf('A%%05d', p) AS practice_code, 'IND' || i AS indicator, measure,
			       CASE measure WHEN 'DENOMINATOR' THEN 100.0 ELSE ((p * 7 + i + %d) %% 90)::DOUBLE END AS value
			FROM range(6000) r(p), range(20) s(i), (VALUES ('NUMERATOR'), ('DENOMINATOR')) t(measure)`, m))
	}
	lake := []LakeTable{
		{Name: "achievement", Glob: filepath.Join(dir, "achievement", "*", "*.parquet")},
		{Name: "practices", Glob: filepath.Join(dir, "practices", "*.parquet")},
	}
	wh := filepath.Join(b.TempDir(), "warehouse.duckdb")
	opts := Options{Warehouse: wh, Lake: lake, Logger: quiet}
	if _, err := Build(ctx, p, opts); err != nil {
		b.Fatal(err)
	}
	b.Run("full", func(b *testing.B) {
		o := opts
		o.Full = true
		for b.Loop() {
			if _, err := Build(ctx, p, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			if _, err := Build(ctx, p, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one_period_restated", func(b *testing.B) {
		part := filepath.Join(dir, "achievement", "period=2024-06", "part-0.parquet")
		t := time.Now()
		for b.Loop() {
			t = t.Add(time.Second)
			if err := os.Chtimes(part, t, t); err != nil {
				b.Fatal(err)
			}
			if _, err := Build(ctx, p, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
}
