package sqlmodels

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/gplens/gplens/transform"
)

// TestNoModelPlansNestedLoopOverLargeInputs explains every model in the
// synthetic warehouse and fails on a nested-loop join (or cross product)
// whose two inputs are both estimated at many rows: its cost grows with their
// product. A LEFT JOIN whose ON clause held a condition on the left side alone
// (r.area_level = 'practice') was planned so, and release.indicator_values
// took 3m45s of a 5-minute build. Joins against a small rules table are fine.
func TestNoModelPlansNestedLoopOverLargeInputs(t *testing.T) {
	s := syntheticWarehouse(t)
	p, err := transform.Load(context.Background(), FS())
	if err != nil {
		t.Fatal(err)
	}
	const large = 1000
	explained := 0
	for _, m := range p.Models() {
		var key, plan string
		if err := s.db.QueryRow("EXPLAIN (FORMAT JSON) "+m.SQL).Scan(&key, &plan); err != nil {
			t.Errorf("%s: explain: %v", m.Name, err)
			continue
		}
		var roots []planNode
		if err := json.Unmarshal([]byte(plan), &roots); err != nil {
			t.Fatalf("%s: plan JSON: %v", m.Name, err)
		}
		explained++
		for _, r := range roots {
			r.walk(func(n planNode) {
				switch n.Name {
				case "NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "CROSS_PRODUCT":
				default:
					return
				}
				if len(n.Children) != 2 {
					return
				}
				l, r := n.Children[0].estimate(), n.Children[1].estimate()
				if l >= large && r >= large {
					t.Errorf("%s: %s over ~%d x ~%d rows (%s): make its condition equalities a hash join can use",
						m.Name, n.Name, l, r, fmt.Sprint(n.Extra["Condition"]))
				}
			})
		}
	}
	if explained < 30 {
		t.Errorf("explained %d models, want all of them", explained)
	}
}

type planNode struct {
	Name     string         `json:"name"`
	Children []planNode     `json:"children"`
	Extra    map[string]any `json:"extra_info"`
}

func (n planNode) walk(f func(planNode)) {
	f(n)
	for _, c := range n.Children {
		c.walk(f)
	}
}

// estimate is the planner's row estimate (0 when it gives none).
func (n planNode) estimate() int64 {
	s, _ := n.Extra["Estimated Cardinality"].(string)
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}
