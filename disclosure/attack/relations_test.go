package attack

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/gplens/gplens/disclosure/attack/attacktest"
	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/snapshot"
)

// Every relation the differencing attacks read off the published tables
// holds on the true counts. A false one (a total missing a term, a mean
// taken over peers it does not pool) derives wrong counts, and chained
// through other sums those hit a withheld count now and then by
// coincidence: a flaky "leak" that says nothing about the protection.
func TestRelationsHold(t *testing.T) {
	ctx := context.Background()
	for _, f := range []*attacktest.Fixture{attacktest.Synth, attacktest.SmallCounts} {
		t.Run(f.Name, func(t *testing.T) {
			ws := f.Workspace(t)
			wh, err := duck.Open(ctx, filepath.Join(ws, "warehouse.duckdb"), duck.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer wh.Close()
			truth, err := Truth(ctx, wh)
			if err != nil {
				t.Fatal(err)
			}
			snap, _, closeSnap, err := snapshot.OpenCurrent(ctx, ws, snapshot.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer closeSnap()
			for _, target := range []struct {
				name string
				t    Target
			}{
				{"warehouse release", Target{DB: wh, Schema: "release"}},
				{"snapshot marts", Target{DB: snap, Schema: "marts"}},
			} {
				inds, rows, deciles, similar, err := target.t.load(ctx)
				if err != nil {
					t.Fatal(err)
				}
				rels := relations(rows, deciles, inds, similar)
				bad, checked := checkRelations(rels, rows, deciles, truth)
				for i, b := range bad {
					if i < 10 {
						t.Errorf("%s: false relation: %s", target.name, b)
					}
				}
				if checked == 0 {
					t.Fatalf("%s: no relation checked (%d relations)", target.name, len(rels))
				}
				t.Logf("%s: %d relations, %d checked on the true counts, %d false", target.name, len(rels), checked, len(bad))
			}
		})
	}
}

// checkRelations evaluates each relation on the true counts (published
// ones as published, withheld ones from truth); relations with a term
// neither published nor in truth are skipped.
func checkRelations(rels []relation, rows, deciles []*row, truth map[Key]float64) (bad []string, checked int) {
	known, _ := published(rows, deciles)
	val := func(k Key) (float64, bool) {
		if v, ok := truth[k]; ok {
			return v, true
		}
		v, ok := known[k]
		return v, ok
	}
	for _, rel := range rels {
		sum, ok := 0.0, true
		for _, c := range rel.children {
			v, o := val(c)
			sum, ok = sum+v, ok && o
		}
		total, name := rel.constant, "a constant"
		if rel.parent != nil {
			v, o := val(*rel.parent)
			total, ok, name = v, ok && o, rel.parent.String()
		}
		if !ok {
			continue
		}
		checked++
		if math.Abs(total-sum) > 1e-6*math.Max(1, math.Abs(total)) {
			bad = append(bad, fmt.Sprintf("%s: %s = %g, its %d terms sum to %g", rel.what, name, total, len(rel.children), sum))
		}
	}
	return bad, checked
}

// The check finds a relation missing a term: the check itself can fail.
func TestCheckRelationsFindsFalse(t *testing.T) {
	a := Key{Indicator: "i", Period: "p", Level: "icb", Code: "A"}
	d := a
	d.Decile = 10
	p := Key{Indicator: "i", Period: "p", Level: "practice", Code: "P"}
	rows := []*row{{Key: a}, {Key: d}, {Key: p}}
	for _, r := range rows {
		r.num.Valid = true
	}
	rows[0].num.Float64, rows[1].num.Float64, rows[2].num.Float64 = 23, 21, 2
	good := []relation{{what: "deciles", parent: &a, children: []Key{d, p}}}
	if bad, n := checkRelations(good, rows, nil, nil); len(bad) != 0 || n != 1 {
		t.Errorf("true relation: %v, %d checked", bad, n)
	}
	missing := []relation{{what: "deciles", parent: &a, children: []Key{d}}}
	if bad, _ := checkRelations(missing, rows, nil, nil); len(bad) != 1 {
		t.Errorf("relation missing a term: %v", bad)
	}
}

func TestDecimals(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want int
	}{{2.83, 2}, {3, 0}, {0.1, 1}, {-12.5, 1}, {1.0 / 3, 16}} {
		if got := decimals(c.x); got != c.want {
			t.Errorf("decimals(%v) = %d, want %d", c.x, got, c.want)
		}
	}
}
