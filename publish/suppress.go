package publish

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// SuppressionCounts counts withheld cells (rows whose count and everything
// computed from it are hidden).
type SuppressionCounts struct {
	// Primary: counts 1..MinCount-1 of non-public indicators.
	Primary int `json:"primary"`
	// Secondary: further cells hidden so a primary one cannot be recovered
	// by subtracting the others from a published total.
	Secondary int `json:"secondary"`
	// Upstream: rows the models already marked suppressed.
	Upstream int `json:"upstream"`
}

func (c *SuppressionCounts) add(state string) {
	switch state {
	case "primary":
		c.Primary++
	case "secondary":
		c.Secondary++
	case "upstream":
		c.Upstream++
	}
}

func (c *SuppressionCounts) plus(o SuppressionCounts) {
	c.Primary += o.Primary
	c.Secondary += o.Secondary
	c.Upstream += o.Upstream
}

// cell is one count subject to disclosure control.
type cell struct {
	count float64
	known bool    // count present (a NULL count is hidden already)
	key   string  // tie-break so the choice of secondary cell is deterministic
	state *string // "", "primary", "secondary", "upstream"
}

func (c *cell) hidden() bool { return !c.known || *c.state != "" }

// group is a published total and the cells that add up to it.
type group struct {
	parent   int
	children []int
}

// suppress applies primary suppression (1 <= count < minCount) and, when
// secondary is set, repeats until no published total has exactly one hidden
// part: then the smallest visible part is hidden too (or, with none left, the
// total itself), so no hidden count equals total minus the shown ones.
func suppress(cells []cell, groups []group, minCount int, secondary bool) {
	for i := range cells {
		c := &cells[i]
		if *c.state == "" && c.known && c.count >= 1 && c.count < float64(minCount) {
			*c.state = "primary"
		}
	}
	if !secondary {
		return
	}
	for changed := true; changed; {
		changed = false
		for _, g := range groups {
			if cells[g.parent].hidden() {
				continue
			}
			nHidden, best := 0, -1
			for _, ch := range g.children {
				c := &cells[ch]
				if c.hidden() {
					nHidden++
					continue
				}
				if best < 0 || c.count < cells[best].count ||
					(c.count == cells[best].count && c.key < cells[best].key) {
					best = ch
				}
			}
			if nHidden != 1 {
				continue
			}
			if best >= 0 {
				*cells[best].state = "secondary"
			} else {
				*cells[g.parent].state = "secondary"
			}
			changed = true
		}
	}
}

// hierarchy maps any area (level|code) to the codes of the areas above it,
// built from the practice dimension.
type hierarchy map[string]map[string]string

// practice is one practice's place in the hierarchy.
type practice struct {
	Code, PCN, SubICB, ICB, Region string
}

func newHierarchy(ps []practice) hierarchy {
	h := hierarchy{}
	for _, p := range ps {
		codes := map[string]string{"practice": p.Code, "pcn": p.PCN, "sub_icb": p.SubICB, "icb": p.ICB, "region": p.Region}
		for _, l := range []string{"practice", "pcn", "sub_icb", "icb", "region"} {
			if codes[l] == "" {
				continue
			}
			k := l + "|" + codes[l]
			if _, ok := h[k]; !ok {
				m := map[string]string{}
				for _, up := range []string{"pcn", "sub_icb", "icb", "region"} {
					if levelRank(up) <= levelRank(l) {
						m[up] = codes[up]
					}
				}
				m[l] = codes[l]
				h[k] = m
			}
		}
	}
	return h
}

// areaKeyed is anything at an area with a count.
type areaKeyed struct {
	level, code string
	c           cell
}

// groupsFor builds, within one set of rows of a single indicator and
// period, a group for every aggregate row and each lower level's rows inside
// it (an ICB total is the sum of its practices and also of its sub-ICBs).
func groupsFor(items []areaKeyed, h hierarchy) []group {
	parentIdx := map[string]int{}
	england := -1
	for i, it := range items {
		if it.level == "england" {
			england = i
		} else if it.level != "practice" {
			parentIdx[it.level+"|"+it.code] = i
		}
	}
	type gk struct {
		parent int
		lower  string
	}
	members := map[gk][]int{}
	var order []gk
	addTo := func(k gk, j int) {
		if _, ok := members[k]; !ok {
			order = append(order, k)
		}
		members[k] = append(members[k], j)
	}
	for j, it := range items {
		if it.level == "england" {
			continue
		}
		if england >= 0 {
			addTo(gk{england, it.level}, j)
		}
		anc := h[it.level+"|"+it.code]
		for _, up := range []string{"region", "icb", "sub_icb", "pcn"} {
			if levelRank(up) >= levelRank(it.level) || anc == nil || anc[up] == "" {
				continue
			}
			if p, ok := parentIdx[up+"|"+anc[up]]; ok {
				addTo(gk{p, it.level}, j)
			}
		}
	}
	gs := make([]group, 0, len(order))
	for _, k := range order {
		gs = append(gs, group{parent: k.parent, children: members[k]})
	}
	return gs
}

func runSuppression(items []areaKeyed, h hierarchy, cfg SuppressionConfig) {
	cells := make([]cell, len(items))
	for i := range items {
		cells[i] = items[i].c
	}
	var gs []group
	if cfg.Secondary {
		gs = groupsFor(items, h)
	}
	suppress(cells, gs, cfg.MinCount, cfg.Secondary)
}

// disclosure is the Go disclosure control (until the warehouse's release
// schema carries it): computed once for the whole month over every area of
// every level, so every pack shows a cell the same way and packs combined
// cannot undo each other's protection. Only non-public indicators' counts
// are read; the packs then look their rows up here.
type disclosure struct {
	cfg     SuppressionConfig
	private map[string]bool
	// values and trends: indicator|period|level|code -> primary/secondary
	values, trends map[string]string
}

func cellKey(id, period, level, code string) string {
	return id + "|" + period + "|" + level + "|" + code
}

func newDisclosure(ctx context.Context, db *sql.DB, pl *plan, cfg SuppressionConfig) (*disclosure, error) {
	d := &disclosure{cfg: cfg, private: map[string]bool{}, values: map[string]string{}, trends: map[string]string{}}
	var ids []string
	for _, in := range pl.catalogue {
		if !in.Public {
			d.private[in.ID] = true
			ids = append(ids, sqlQuote(in.ID))
		}
	}
	if len(ids) == 0 {
		return d, nil
	}
	h, err := loadHierarchy(ctx, db, pl.practicePeriod)
	if err != nil {
		return nil, err
	}
	in := strings.Join(ids, ", ")
	order := ` ORDER BY 1, 2, list_position(['england', 'region', 'icb', 'sub_icb', 'pcn', 'practice'], area_level), area_code`
	q := `SELECT v.indicator_id, v.period, v.area_level, v.area_code, CAST(v.numerator AS DOUBLE)
		FROM ` + pl.schema + `.indicator_values AS v JOIN ` + pl.chosenSQL() + ` AS c USING (indicator_id, period)
		WHERE v.indicator_id IN (` + in + `)` + order
	if err := d.run(ctx, db, q, h, d.values); err != nil {
		return nil, fmt.Errorf("disclosure control, indicator values: %w", err)
	}
	if ok, err := tableExists(ctx, db, pl.schema, "trends"); err != nil {
		return nil, err
	} else if ok {
		q = `SELECT t.indicator_id, t.period, t.area_level, t.area_code, CAST(v.numerator AS DOUBLE)
			FROM ` + pl.schema + `.trends AS t LEFT JOIN ` + pl.schema + `.indicator_values AS v USING (indicator_id, period, area_level, area_code)
			WHERE t.indicator_id IN (` + in + `) AND t.period <= ` + sqlQuote(pl.period) + ` AND t.period > ` + sqlQuote(addMonths(pl.period, -24)) + order
		if err := d.run(ctx, db, q, h, d.trends); err != nil {
			return nil, fmt.Errorf("disclosure control, trends: %w", err)
		}
	}
	return d, nil
}

func loadHierarchy(ctx context.Context, db *sql.DB, period string) (hierarchy, error) {
	rows, err := db.QueryContext(ctx, `SELECT practice_code, coalesce(pcn_code, ''), coalesce(sub_icb_code, ''), coalesce(icb_code, ''),
		coalesce(region_code, '') FROM core.practices WHERE period = ? ORDER BY practice_code`, period)
	if err != nil {
		return nil, fmt.Errorf("read core.practices: %w", err)
	}
	defer rows.Close()
	var ps []practice
	for rows.Next() {
		var p practice
		if err := rows.Scan(&p.Code, &p.PCN, &p.SubICB, &p.ICB, &p.Region); err != nil {
			return nil, fmt.Errorf("read core.practices: %w", err)
		}
		ps = append(ps, p)
	}
	return newHierarchy(ps), rows.Err()
}

// run suppresses each indicator and period of the query's rows (ordered by
// indicator and period) and records the withheld cells in out.
func (d *disclosure) run(ctx context.Context, db *sql.DB, q string, h hierarchy, out map[string]string) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	type rec struct {
		id, period, level, code string
		n                       sql.NullFloat64
		state                   string
	}
	var run []*rec
	flush := func() {
		items := make([]areaKeyed, len(run))
		for i, r := range run {
			items[i] = areaKeyed{level: r.level, code: r.code,
				c: cell{count: r.n.Float64, known: r.n.Valid, key: r.level + "|" + r.code, state: &r.state}}
		}
		runSuppression(items, h, d.cfg)
		for _, r := range run {
			if r.state != "" {
				out[cellKey(r.id, r.period, r.level, r.code)] = r.state
			}
		}
		run = run[:0]
	}
	for rows.Next() {
		r := &rec{}
		if err := rows.Scan(&r.id, &r.period, &r.level, &r.code, &r.n); err != nil {
			return err
		}
		if len(run) > 0 && (run[0].id != r.id || run[0].period != r.period) {
			flush()
		}
		run = append(run, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(run) > 0 {
		flush()
	}
	return ctx.Err()
}

// withholdValues marks indicator rows withheld upstream or by the month's
// disclosure control.
func withholdValues(t *table, d *disclosure) {
	for r := 0; r < t.n; r++ {
		if t.boolean(r, "upstream_suppressed") {
			t.withheld[r] = "upstream"
			continue
		}
		id := t.str(r, "indicator_id")
		if d.private[id] {
			t.withheld[r] = d.values[cellKey(id, t.str(r, "period"), t.str(r, "area_level"), t.str(r, "area_code"))]
		}
	}
}

func withholdTrends(t *table, d *disclosure) {
	for r := 0; r < t.n; r++ {
		id := t.str(r, "indicator_id")
		if d.private[id] {
			t.withheld[r] = d.trends[cellKey(id, t.str(r, "period"), t.str(r, "area_level"), t.str(r, "area_code"))]
		}
	}
}

// withholdSummary: headline referral counts and rates follow their
// indicator rows (the count is the referral rate's numerator).
func withholdSummary(t *table, d *disclosure) {
	for r := 0; r < t.n; r++ {
		id := t.str(r, "indicator_id")
		if id != "" && d.private[id] {
			t.withheld[r] = d.values[cellKey(id, t.str(r, "period"), t.str(r, "area_level"), t.str(r, "area_code"))]
		}
	}
}

// withholdDeciles: the ten deciles of an area add up to its published
// total, so each area's deciles are one group (local to the pack: the same
// in every pack that shows them).
func withholdDeciles(t *table, d *disclosure) {
	key := func(r int) string {
		return t.str(r, "indicator_id") + "|" + t.str(r, "period") + "|" + t.str(r, "area_level") + "|" + t.str(r, "area_code")
	}
	ni := t.idx("numerator")
	for start := 0; start < t.n; {
		end := start + 1
		for end < t.n && key(end) == key(start) {
			end++
		}
		if d.private[t.str(start, "indicator_id")] {
			total := ""
			cells := []cell{{known: true, state: &total}}
			g := group{parent: 0}
			for r := start; r < end; r++ {
				c := &t.cols[ni]
				cells = append(cells, cell{count: c.f[r], known: c.ok[r], key: fmt.Sprintf("%02d", int(t.num(r, "imd_decile").V)), state: &t.withheld[r]})
				g.children = append(g.children, len(cells)-1)
			}
			suppress(cells, []group{g}, d.cfg.MinCount, d.cfg.Secondary)
		}
		start = end
	}
}
