package transform

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// PeriodsVar is the variable a refresh sets to the periods being rebuilt
// (a VARCHAR list; NULL in every other build), read through the in_build(period)
// macro of functions/ so a model can restrict its big inputs to those periods.
const PeriodsVar = "gplens_periods"

// Keys of contentState.parts besides period values.
const (
	wholeTable = ""       // a table without a period column: one fingerprint
	nullPeriod = "<NULL>" // rows whose period is NULL
)

// contentState fingerprints what a table model holds, per period where it
// has a period column, so the next build can tell downstream models which
// periods really changed: a dimension rebuilt because a new month arrived
// usually differs only in that month's rows.
type contentState struct {
	cols  string            // column names and types, in order
	pcol  string            // the period column ("" if none)
	parts map[string]string // period (or wholeTable, nullPeriod) -> "rows:sum of row hashes"
	// proj fingerprints the rows projected on the columns a reader reads
	// (projKey -> parts like parts); projChange memoises, for this build,
	// the change of each projection (see projectedChange).
	proj       map[string]map[string]string
	projChange map[string]change
}

// fingerprintRows fingerprints the rows of table self; with pcol, grouped by
// period, and restricted to periods (plus NULL-period rows) when given.
func fingerprintRows(ctx context.Context, conn *sql.Conn, self, pcol string, periods []string) (map[string]string, error) {
	return fingerprintBy(ctx, conn, self, pcol, "hash("+rowAlias+")", periods)
}

// fingerprintCols is fingerprintRows of the table projected on cols.
func fingerprintCols(ctx context.Context, conn *sql.Conn, self, pcol string, cols, periods []string) (map[string]string, error) {
	h := "0"
	if len(cols) > 0 {
		q := make([]string, len(cols))
		for i, c := range cols {
			q[i] = rowAlias + "." + quoteIdent(c)
		}
		h = "hash(" + strings.Join(q, ", ") + ")"
	}
	return fingerprintBy(ctx, conn, self, pcol, h, periods)
}

const rowAlias = "_gplens_row"

// fingerprintBy sums the row hash h over the table's rows, per period when pcol.
func fingerprintBy(ctx context.Context, conn *sql.Conn, self, pcol, h string, periods []string) (map[string]string, error) {
	const row = rowAlias
	out := map[string]string{}
	var q string
	if pcol == "" {
		q = fmt.Sprintf("SELECT '', count(*), CAST(coalesce(sum(%s), 0) AS VARCHAR) FROM %s AS %s", h, self, row)
	} else {
		col := row + "." + quoteIdent(pcol)
		where := ""
		if periods != nil {
			where = fmt.Sprintf(" WHERE %s IN (%s) OR %s IS NULL", col, periodList(periods), col)
		}
		q = fmt.Sprintf("SELECT coalesce(CAST(%s AS VARCHAR), %s), count(*), CAST(sum(%s) AS VARCHAR) FROM %s AS %s%s GROUP BY 1",
			col, quoteString(nullPeriod), h, self, row, where)
	}
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("fingerprint %s: %w", self, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, h string
		var n int64
		if err := rows.Scan(&k, &n, &h); err != nil {
			return nil, fmt.Errorf("fingerprint %s: %w", self, err)
		}
		if n > 0 {
			out[k] = fmt.Sprintf("%d:%s", n, h)
		}
	}
	return out, rows.Err()
}

// settle fingerprints a table model just built and replaces the change its
// inputs implied with the change its rows show against the previous build:
// nothing, some periods, or everything (no previous fingerprint, other
// columns, a table without a period column that differs, or changed rows
// without a period).
func (b *builder) settle(m *Model, mr *ModelResult) error {
	self := quoteTable(m.Name)
	cols, err := describe(b.ctx, b.conn, "SELECT * FROM "+self)
	if err != nil {
		return fmt.Errorf("model %s: columns: %w", m.Name, err)
	}
	cur := contentState{cols: strings.Join(cols, ","), pcol: m.Incremental, proj: map[string]map[string]string{}, projChange: map[string]change{}}
	if cur.pcol == "" {
		for _, c := range cols {
			if name, _, _ := strings.Cut(c, " "); strings.EqualFold(name, PartitionKey) {
				cur.pcol = name
			}
		}
	}
	prev, havePrev := b.prevContent[m.Name]
	comparable := havePrev && prev.cols == cur.cols && prev.pcol == cur.pcol
	switch {
	case mr.Action == Copied && comparable:
		cur.parts = prev.parts
	case mr.Action == Refreshed && comparable && cur.pcol != "":
		// The other periods' rows were copied as they were.
		cur.parts = maps.Clone(prev.parts)
		delete(cur.parts, nullPeriod)
		for _, p := range mr.Periods {
			delete(cur.parts, p)
		}
		fresh, err := fingerprintRows(b.ctx, b.conn, self, cur.pcol, mr.Periods)
		if err != nil {
			return err
		}
		maps.Copy(cur.parts, fresh)
	default:
		if cur.parts, err = fingerprintRows(b.ctx, b.conn, self, cur.pcol, nil); err != nil {
			return err
		}
	}
	b.content[m.Name] = cur
	if mr.Action == Copied || !b.reuse {
		return nil // a copy changed nothing; a full build changed everything
	}
	c := change{all: !comparable, periods: map[string]bool{}}
	if comparable {
		for k := range unionKeys(prev.parts, cur.parts) {
			if prev.parts[k] != cur.parts[k] {
				c.periods[k] = true
			}
		}
		if c.periods[wholeTable] || c.periods[nullPeriod] {
			c.all = true
		}
	}
	if c.all {
		c.periods = nil
	}
	mr.Changed = c.all || len(c.periods) > 0
	mr.ChangedPeriods = sortedKeys(c.periods)
	b.changes[m.Name] = c
	return nil
}

func unionKeys(a, b map[string]string) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// readContent loads the previous build's table fingerprints; a warehouse
// built before they were recorded has none, and its tables count as changed.
func readContent(ctx context.Context, conn *sql.Conn, prev string) map[string]contentState {
	out := map[string]contentState{}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(
		"SELECT model, columns, coalesce(period_column, ''), coalesce(projection, ''), part, fingerprint FROM %s.%s.table_state", quoteIdent(prev), stateSchema))
	if err != nil {
		// Recorded before projections were: whole-row fingerprints only.
		rows, err = conn.QueryContext(ctx, fmt.Sprintf(
			"SELECT model, columns, coalesce(period_column, ''), '', part, fingerprint FROM %s.%s.table_state", quoteIdent(prev), stateSchema))
		if err != nil {
			return out
		}
	}
	defer rows.Close()
	for rows.Next() {
		var name, cols, pcol, proj string
		var part, fp sql.NullString
		if err := rows.Scan(&name, &cols, &pcol, &proj, &part, &fp); err != nil {
			return map[string]contentState{}
		}
		st, ok := out[name]
		if !ok {
			st = contentState{cols: cols, pcol: pcol, parts: map[string]string{}, proj: map[string]map[string]string{}}
		}
		parts := st.parts
		if proj != "" {
			if parts = st.proj[proj]; parts == nil {
				parts = map[string]string{}
				st.proj[proj] = parts
			}
		}
		if part.Valid {
			parts[part.String] = fp.String
		}
		out[name] = st
	}
	if rows.Err() != nil {
		return map[string]contentState{}
	}
	return out
}

// writeContent records this build's table fingerprints for the next build.
func writeContent(ctx context.Context, conn *sql.Conn, p *Project, content map[string]contentState) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE _gplens.table_state (model VARCHAR, columns VARCHAR, period_column VARCHAR, projection VARCHAR, part VARCHAR, fingerprint VARCHAR)`); err != nil {
		return err
	}
	for _, m := range p.models {
		st, ok := content[m.Name]
		if !ok {
			continue
		}
		// One statement per model: a table holds dozens of periods. An empty
		// table is one row without a part, so it still has a fingerprint.
		vals := []string{"(?, ?, nullif(?, ''), NULL, NULL, NULL)"}
		args := []any{m.Name, st.cols, st.pcol}
		if len(st.parts) > 0 {
			vals, args = nil, nil
		}
		for _, k := range sortedMapKeys(st.parts) {
			vals = append(vals, "(?, ?, nullif(?, ''), NULL, ?, ?)")
			args = append(args, m.Name, st.cols, st.pcol, k, st.parts[k])
		}
		for _, pk := range slices.Sorted(maps.Keys(st.proj)) {
			for _, k := range sortedMapKeys(st.proj[pk]) {
				vals = append(vals, "(?, ?, nullif(?, ''), ?, ?, ?)")
				args = append(args, m.Name, st.cols, st.pcol, pk, k, st.proj[pk][k])
			}
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO _gplens.table_state VALUES "+strings.Join(vals, ", "), args...); err != nil {
			return err
		}
	}
	return nil
}
