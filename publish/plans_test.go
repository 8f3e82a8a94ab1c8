package publish

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// profNode is an operator of DuckDB's EXPLAIN (ANALYZE, FORMAT JSON).
type profNode struct {
	Type     string         `json:"operator_type"`
	Rows     int64          `json:"operator_cardinality"`
	Extra    map[string]any `json:"extra_info"`
	Children []profNode     `json:"children"`
}

func (n profNode) walk(f func(profNode)) {
	f(n)
	for _, c := range n.Children {
		c.walk(f)
	}
}

// Every section query of every level, run under DuckDB's profiler on a
// fixture of 800 practices: no join may return many times the rows of its
// larger input. Left to choose its join order, the investment_need section
// paired every practice with every other practice of the year and measure
// before it joined their similar practices (England, 60 months: 106 M rows,
// 60 s for the region packs; the ICB packs then ran out of memory), and a
// condition on one side alone in a LEFT JOIN's ON made a nested loop over
// the area's practices and every practice's peer figures. Both fail here.
func TestSectionJoinsDoNotMultiplyRows(t *testing.T) {
	if testing.Short() {
		t.Skip("profiles every section query on a larger fixture")
	}
	ctx := context.Background()
	f := fixture{regions: 2, icbsPerRegion: 2, subsPerICB: 2, practicesPerSub: 100, period: "2024-06"}
	db := openFixtureThreads(t, t.TempDir(), f, 2)
	// marts.peers as a build has it: the similar practices of every month
	// too (five years of them), not only of the financial years
	if _, err := db.ExecContext(ctx, `INSERT INTO marts.peers
		SELECT strftime(m, '%Y-%m'), p.practice_code, p.peer_code, p.rank, p.distance
		FROM (SELECT DISTINCT practice_code, peer_code, rank, distance FROM marts.peers) AS p,
			range(DATE '2019-07-01', DATE '2024-07-01', INTERVAL 1 MONTH) AS t(m)`); err != nil {
		t.Fatal(err)
	}
	opts := Options{Period: f.period, OutDir: t.TempDir()}
	if err := opts.normalise(); err != nil {
		t.Fatal(err)
	}
	pl, err := loadPlan(ctx, db, &opts)
	if err != nil {
		t.Fatal(err)
	}
	// A join's rows over its larger input's: a practice's areas and
	// similar practices stay within a few rows per input row.
	const most = 10
	profiled := map[string]bool{}
	for _, level := range []string{"region", "icb", "sub_icb"} {
		secs, texts, err := levelQueries(ctx, db, pl, level, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range secs {
			var key, plan string
			if err := db.QueryRowContext(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+texts[i]).Scan(&key, &plan); err != nil {
				t.Fatalf("%s %s: %v", level, s.Name, err)
			}
			var root profNode
			if err := json.Unmarshal([]byte(plan), &root); err != nil {
				t.Fatalf("%s %s: profile JSON: %v", level, s.Name, err)
			}
			profiled[s.Name] = true
			root.walk(func(n profNode) {
				if !strings.Contains(n.Type, "JOIN") && n.Type != "CROSS_PRODUCT" {
					return
				}
				var in int64
				for _, c := range n.Children {
					in = max(in, c.Rows)
				}
				if n.Rows > most*max(in, 100) {
					t.Errorf("%s packs, section %s: %s returned %d rows from inputs of at most %d (%v): join the inputs in an order that cannot pair them all",
						level, s.Name, n.Type, n.Rows, in, n.Extra["Conditions"])
				}
				// hundreds of rows a side here are thousands on England
				if (n.Type == "NESTED_LOOP_JOIN" || n.Type == "BLOCKWISE_NL_JOIN") && len(n.Children) == 2 &&
					n.Children[0].Rows >= 500 && n.Children[1].Rows >= 500 {
					t.Errorf("%s packs, section %s: %s over %d x %d rows (%v): make its condition equalities a hash join can use",
						level, s.Name, n.Type, n.Children[0].Rows, n.Children[1].Rows, n.Extra["Condition"])
				}
			})
		}
	}
	for _, s := range sections {
		if !profiled[s.Name] {
			t.Errorf("section %s was not profiled (its tables missing from the fixture?)", s.Name)
		}
	}
}
