package transform

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Column-aware change propagation. A table's rows can change in every
// period in columns that most of its readers never look at: a practice
// renamed, or a name spelled in capitals by the newest file, changes every
// period's row of core.practices, yet the counts and rates computed from it
// are the same. So a model's change from a table it reads is worked out on
// the columns it reads: DuckDB plans the model with every optimizer off but
// the ones that prune unused columns (no statistics, no filter pushdown: a
// column a filter reads must count as read even when today's data makes the
// filter always true), and each table scan in the plan names its columns.
// The table's rows projected on those columns are fingerprinted per period
// and kept for the next build, beside the whole-row fingerprints.

// keptOptimizers prune unused columns without looking at the data.
var keptOptimizers = map[string]bool{"unused_columns": true, "column_lifetime": true, "cte_inlining": true}

// columnsRead plans m and returns, for every table model m reads directly,
// the columns its plan scans, sorted and lower-case, with the table's
// partition column always among them. A table whose scans the plan does
// not show (or shows with filters it could not have split off) is left out:
// the caller then takes its whole-row change.
func (b *builder) columnsRead(m *Model) (map[string][]string, error) {
	var tables []string
	for _, d := range m.Deps {
		if dm := b.p.byName[d]; dm != nil && dm.Materialized == Table {
			tables = append(tables, d)
		}
	}
	if len(tables) == 0 {
		return nil, nil
	}
	if b.noOptimizers == "" {
		var names []string
		rows, err := b.conn.QueryContext(b.ctx, "SELECT name FROM duckdb_optimizers() ORDER BY name")
		if err != nil {
			return nil, fmt.Errorf("list optimizers: %w", err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("list optimizers: %w", err)
			}
			if !keptOptimizers[n] {
				names = append(names, n)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("list optimizers: %w", err)
		}
		b.noOptimizers = strings.Join(names, ",")
	}
	if err := b.exec("plan "+m.Name, "SET disabled_optimizers = "+quoteString(b.noOptimizers)); err != nil {
		return nil, err
	}
	var key, plan string
	err := b.conn.QueryRowContext(b.ctx, "EXPLAIN (FORMAT JSON) "+m.body).Scan(&key, &plan)
	if rerr := b.exec("plan "+m.Name, "RESET disabled_optimizers"); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("model %s (%s): plan: %w", m.Name, m.Path, err)
	}
	var tree any
	if err := json.Unmarshal([]byte(plan), &tree); err != nil {
		return nil, fmt.Errorf("model %s: read plan: %w", m.Name, err)
	}
	seen := map[string]map[string]bool{}
	unsure := map[string]bool{}
	scans(tree, func(table string, cols []string, filtered bool) {
		for _, t := range tables {
			if !strings.HasSuffix(strings.ToLower(table), "."+t) {
				continue
			}
			if filtered {
				unsure[t] = true
			}
			if seen[t] == nil {
				seen[t] = map[string]bool{}
			}
			for _, c := range cols {
				seen[t][strings.ToLower(c)] = true
			}
		}
	})
	out := map[string][]string{}
	for _, t := range tables {
		if seen[t] == nil || unsure[t] {
			continue
		}
		if st, ok := b.content[t]; ok && st.pcol != "" {
			seen[t][strings.ToLower(st.pcol)] = true
		}
		out[t] = slices.Sorted(maps.Keys(seen[t]))
	}
	return out, nil
}

// scans calls f for every node of an EXPLAIN (FORMAT JSON) plan that scans
// a table, with the columns it projects and whether it also filters.
func scans(v any, f func(table string, cols []string, filtered bool)) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			scans(e, f)
		}
	case map[string]any:
		if info, ok := x["extra_info"].(map[string]any); ok {
			if table, ok := info["Table"].(string); ok {
				var cols []string
				switch p := info["Projections"].(type) {
				case string:
					if p != "" {
						cols = []string{p}
					}
				case []any:
					for _, c := range p {
						if s, ok := c.(string); ok {
							cols = append(cols, s)
						}
					}
				}
				_, filtered := info["Filters"]
				f(table, cols, filtered)
			}
		}
		for _, c := range x {
			scans(c, f)
		}
	}
}

// projKey names a projection: its columns, sorted, comma-separated.
func projKey(cols []string) string { return strings.Join(cols, ",") }

// readsAll reports whether cols are every column of the table st describes.
func readsAll(st contentState, cols []string) bool {
	all := strings.Split(st.cols, ",")
	if len(all) != len(cols) {
		return false
	}
	for _, c := range all {
		name, _, _ := strings.Cut(c, " ")
		if !slices.Contains(cols, strings.ToLower(name)) {
			return false
		}
	}
	return true
}

// projectedChange narrows dc, the change of table d, to the periods whose
// rows differ in cols, and fingerprints d projected on cols for the next
// build (every period in a full build or when the previous build has no
// such fingerprint; otherwise the periods dc names, the rest carried over).
func (b *builder) projectedChange(d string, cols []string, dc change) (change, error) {
	cur, ok := b.content[d]
	if !ok || cols == nil || readsAll(cur, cols) {
		return dc, nil
	}
	key := projKey(cols)
	if _, done := cur.projChange[key]; done {
		return cur.projChange[key], nil
	}
	t0 := time.Now()
	prev, havePrev := b.prevContent[d]
	var prevParts map[string]string
	if b.reuse && havePrev && prev.cols == cur.cols && prev.pcol == cur.pcol {
		prevParts = prev.proj[key]
	}
	self := quoteTable(d)
	narrowed := dc
	switch {
	case dc.none() && prevParts != nil:
		cur.proj[key] = prevParts
	case prevParts == nil || dc.all:
		parts, err := fingerprintCols(b.ctx, b.conn, self, cur.pcol, cols, nil)
		if err != nil {
			return dc, err
		}
		cur.proj[key] = parts
		if prevParts != nil {
			narrowed = diffParts(prevParts, parts, nil)
		}
	default:
		periods := sortedKeys(dc.periods)
		fresh, err := fingerprintCols(b.ctx, b.conn, self, cur.pcol, cols, periods)
		if err != nil {
			return dc, err
		}
		parts := maps.Clone(prevParts)
		delete(parts, nullPeriod)
		for _, p := range periods {
			delete(parts, p)
		}
		maps.Copy(parts, fresh)
		cur.proj[key] = parts
		narrowed = diffParts(prevParts, parts, dc.periods)
	}
	cur.projChange[key] = narrowed
	b.log.Debug("projection", "table", d, "columns", len(cols),
		"change_all", dc.all, "change_periods", len(dc.periods), "narrowed_all", narrowed.all, "narrowed_periods", len(narrowed.periods),
		"duration", time.Since(t0).Round(time.Millisecond))
	return narrowed, nil
}

// diffParts is the change between two fingerprint sets, looking only at
// the given periods (and NULL-period rows) when periods is not nil.
func diffParts(prev, cur map[string]string, periods map[string]bool) change {
	c := change{periods: map[string]bool{}}
	for k := range unionKeys(prev, cur) {
		if periods != nil && !periods[k] && k != nullPeriod {
			continue
		}
		if prev[k] != cur[k] {
			c.periods[k] = true
		}
	}
	if c.periods[wholeTable] || c.periods[nullPeriod] {
		return change{all: true}
	}
	return c
}
