package attack_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gplens/gplens/disclosure/attack"
	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/publish"
)

// feedsTarget loads every pack's feeds under root (packs/<period>/<area>/
// feeds) into a fresh database as the tables the attacks read, in schema
// feeds: the union of all packs, which is what a reader holding them all
// has. Summary is long, so area_summary is pivoted back; the catalogue's specialty and priority (public: they only
// say which indicators add up to which) come from the warehouse.
func feedsTarget(t *testing.T, root string, wh *sql.DB) attack.Target {
	t.Helper()
	ctx := context.Background()
	db, err := duck.Open(ctx, filepath.Join(t.TempDir(), "attacker.duckdb"), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	glob := func(name string) string {
		files, err := filepath.Glob(filepath.Join(root, "*", "feeds", name+".parquet"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no %s feeds under %s (%v)", name, root, err)
		}
		q := make([]string, len(files))
		for i, f := range files {
			q[i] = "'" + strings.ReplaceAll(f, "'", "''") + "'"
		}
		return "read_parquet([" + strings.Join(q, ", ") + "])"
	}
	// the catalogue rows the attacks need, carried over as values
	rs, err := wh.QueryContext(ctx, `SELECT indicator_id, coalesce(specialty_code, ''), coalesce(priority, '') FROM release.indicators`)
	if err != nil {
		t.Fatal(err)
	}
	var cat []string
	for rs.Next() {
		var id, sp, pr string
		if err := rs.Scan(&id, &sp, &pr); err != nil {
			t.Fatal(err)
		}
		cat = append(cat, fmt.Sprintf("('%s', nullif('%s', ''), nullif('%s', ''))", id, sp, pr))
	}
	if err := rs.Close(); err != nil {
		t.Fatal(err)
	}
	stmts := []string{
		`CREATE SCHEMA feeds`,
		`CREATE TABLE catalogue_extra AS SELECT * FROM (VALUES ` + strings.Join(cat, ", ") + `) c(indicator_id, specialty_code, priority)`,
		`CREATE TABLE feeds.indicators AS SELECT DISTINCT f.indicator_id, f.statistic, f.multiplier, f.public, c.specialty_code, c.priority
			FROM ` + glob("indicators") + ` AS f LEFT JOIN catalogue_extra AS c USING (indicator_id)`,
		`CREATE TABLE feeds.indicator_values AS SELECT DISTINCT * FROM ` + glob("indicator_values"),
		`CREATE TABLE feeds.inequality_deciles AS SELECT DISTINCT * FROM ` + glob("inequality_deciles"),
		`CREATE TABLE feeds.inequality AS SELECT DISTINCT * FROM ` + glob("inequality"),
		`CREATE TABLE feeds.trends AS SELECT DISTINCT * FROM ` + glob("trends"),
		`CREATE TABLE feeds.area_summary AS SELECT period, area_level, area_code,
			CAST(max(value) FILTER (WHERE measure = 'referrals') AS BIGINT) AS referrals,
			max(value) FILTER (WHERE measure = 'ref_rate_per_1000') AS referral_rate_per_1000,
			max(value) FILTER (WHERE measure = 'ref_2ww_rate_per_1000') AS twoww_rate_per_1000
			FROM (SELECT DISTINCT * FROM ` + glob("summary") + `) GROUP BY ALL`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	return attack.Target{DB: db, Schema: "feeds"}
}

// Every attack over the feeds of every pack published from the warehouse
// (all levels, taken together), relations one at a time, chained and as one
// linear system, recovers no withheld count.
func TestAttacksOnPublishedFeeds(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			ctx := context.Background()
			ws := f.Workspace(t)
			wh := openRO(t, filepath.Join(ws, "warehouse.duckdb"))
			truth, err := attack.Truth(ctx, wh)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			period := f.Cfg.EndMonth
			res, err := publish.Publish(ctx, wh, publish.Options{Period: period, OutDir: out, Version: "attack",
				Levels: []string{"region", "icb", "sub_icb", "pcn"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Packs) == 0 {
				t.Fatalf("no packs published for %s", period)
			}
			target := feedsTarget(t, filepath.Join(out, period), wh)
			withheld := queryInt(t, target.DB, `SELECT count(*) FROM feeds.indicator_values WHERE numerator_suppressed`)
			if withheld == 0 {
				t.Fatal("the feeds withhold nothing: nothing to attack")
			}
			fs, ls := leaks(t, target, truth, attack.Options{Chain: true, System: true})
			for i, l := range ls {
				if i < 10 {
					t.Errorf("feeds: leak: %s (truth %g)", l, truth[l.Cell])
				}
			}
			if len(ls) > 0 {
				t.Errorf("feeds: %d withheld counts recovered (%d findings)", len(ls), len(fs))
			}
			noWrongDerivations(t, "feeds", fs, ls, truth)
			// the flags are what withholds: no withheld cell carries a number
			if n := queryInt(t, target.DB, `SELECT count(*) FROM feeds.indicator_values WHERE numerator_suppressed AND (numerator IS NOT NULL OR value IS NOT NULL)`); n != 0 {
				t.Errorf("%d withheld feed rows still carry numbers", n)
			}
			t.Logf("feeds of %s: %d withheld rows; %d derivations", period, withheld, len(fs))
		})
	}
}
