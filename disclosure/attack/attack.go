// Package attack is an attacker's toolkit against gplens's released data:
// differencing attacks that try to recover withheld counts from what is
// published (totals minus published parts along the area hierarchy, the
// deprivation deciles and the totals of priorities and specialties, chained;
// peer means and quintile values times their denominators; an SPC series'
// mean times its length minus its published points; statistics published
// beside a withheld count), and a comparison of scoped copies with the
// whole. The tests run it over the release tables of built warehouses,
// published snapshots and scoped copies; a finding whose derived count
// equals the true one is a leak.
package attack

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gplens/gplens/disclosure"
)

// Target is a database whose schema holds the released tables under their
// mart names: indicator_values, inequality_deciles, inequality, trends,
// area_summary and indicators (the catalogue).
type Target struct {
	DB     *sql.DB
	Schema string // "release" in a warehouse, "marts" in a snapshot
}

// Finding is a count an attack derived for a withheld cell.
type Finding struct {
	Attack string
	Cell   Key
	// Count is the derived count (NaN when the attack shows a statistic of
	// the withheld cell instead, see Detail).
	Count  float64
	Detail string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s = %g %s", f.Attack, f.Cell, f.Count, f.Detail)
}

// Key names a count: an indicator's numerator at an area (and decile) in a
// period.
type Key struct {
	Indicator, Period, Level, Code string
	Decile                         int
}

func (k Key) String() string {
	s := k.Indicator + "/" + k.Period + "/" + k.Level + "/" + k.Code
	if k.Decile > 0 {
		s += fmt.Sprintf("/d%d", k.Decile)
	}
	return s
}

type row struct {
	Key
	anc                      map[string]string // practice rows: level -> code
	imd                      int               // practice rows: counted decile (0: none)
	num, den                 sql.NullFloat64
	withheld                 bool
	peerMean                 sql.NullFloat64
	icbValue, subValue, engV sql.NullFloat64
}

var levels = []string{"practice", "pcn", "sub_icb", "icb", "region", "england"}

func (t Target) q(table string) string { return t.Schema + "." + table }

type indicator struct {
	statistic, specialty, priority string
	multiplier                     float64
}

func (t Target) indicators(ctx context.Context) (map[string]indicator, error) {
	rows, err := t.DB.QueryContext(ctx, `SELECT indicator_id, statistic, multiplier, coalesce(specialty_code, ''), coalesce(priority, '')
		FROM `+t.q("indicators")+` WHERE NOT coalesce(public, false)`)
	if err != nil {
		return nil, fmt.Errorf("attack: catalogue: %w", err)
	}
	defer rows.Close()
	out := map[string]indicator{}
	for rows.Next() {
		var id string
		var in indicator
		if err := rows.Scan(&id, &in.statistic, &in.multiplier, &in.specialty, &in.priority); err != nil {
			return nil, err
		}
		out[id] = in
	}
	return out, rows.Err()
}

// Options tune Run.
type Options struct {
	// Chain feeds what one differencing step derives into the next, so a
	// combination of relations can give a count away even where each
	// relation alone has two or more withheld terms.
	Chain bool
	// System solves every relation at once as a linear system in the
	// withheld counts (published counts on the right-hand side): each
	// withheld count the system determines is derived, whatever
	// combination of sums it takes. Chain finds a subset of these.
	System bool
	// RoundTo (1 or more) says published counts are rounded to a multiple
	// of it: Run then runs the interval attack only (intervals), since exact
	// differences of rounded counts equal a true count only by chance.
	// (1: exact counts, bounded the same way.)
	RoundTo float64
}

// Run runs every attack and returns what they derived for withheld cells.
func Run(ctx context.Context, t Target, o Options) ([]Finding, error) {
	inds, rows, deciles, similar, err := t.load(ctx)
	if err != nil {
		return nil, err
	}
	var out []Finding
	out = append(out, differencing(rows, deciles, inds, similar, o)...)
	if o.RoundTo > 0 {
		return out, nil
	}
	for _, f := range []func(context.Context, map[string]indicator, []*row) ([]Finding, error){t.timeMean, t.quintiles, t.exposed} {
		fs, err := f(ctx, inds, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// load reads what the attacks work on: the indicators, the practice and
// area rows, the decile rows and each practice's similar practices.
func (t Target) load(ctx context.Context) (inds map[string]indicator, rows, deciles []*row, similar map[[2]string][]string, err error) {
	if inds, err = t.indicators(ctx); err != nil {
		return
	}
	if rows, err = t.loadValues(ctx); err != nil {
		return
	}
	if deciles, err = t.loadDeciles(ctx); err != nil {
		return
	}
	similar, err = t.loadPeers(ctx)
	return
}

func (t Target) loadValues(ctx context.Context) ([]*row, error) {
	q := `SELECT v.indicator_id, v.period, v.area_level, v.area_code,
			coalesce(v.pcn_code, ''), coalesce(v.sub_icb_code, ''), coalesce(v.icb_code, ''), coalesce(v.region_code, ''),
			CASE WHEN v.area_level = 'practice' AND v.imd_decile IS NOT NULL AND v.denominator > 0 THEN v.imd_decile ELSE 0 END,
			v.numerator, v.denominator, coalesce(v.numerator_suppressed, false), v.peer_mean,
			v.icb_value, v.sub_icb_value, v.england_value
		FROM ` + t.q("indicator_values") + ` AS v
		WHERE v.indicator_id IN (SELECT indicator_id FROM ` + t.q("indicators") + ` WHERE NOT coalesce(public, false))`
	rs, err := t.DB.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("attack: indicator values: %w", err)
	}
	defer rs.Close()
	var out []*row
	for rs.Next() {
		r := &row{}
		var pcn, sub, icb, reg string
		if err := rs.Scan(&r.Indicator, &r.Period, &r.Level, &r.Code, &pcn, &sub, &icb, &reg, &r.imd,
			&r.num, &r.den, &r.withheld, &r.peerMean, &r.icbValue, &r.subValue, &r.engV); err != nil {
			return nil, err
		}
		if r.Level == "practice" {
			r.anc = map[string]string{"practice": r.Code, "pcn": pcn, "sub_icb": sub, "icb": icb, "region": reg, "england": "*"}
		}
		if r.Level == "england" {
			r.Code = "*"
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

func (t Target) loadDeciles(ctx context.Context) ([]*row, error) {
	rs, err := t.DB.QueryContext(ctx, `SELECT indicator_id, period, area_level, area_code, imd_decile, numerator, denominator,
			coalesce(numerator_suppressed, false)
		FROM `+t.q("inequality_deciles")+`
		WHERE indicator_id IN (SELECT indicator_id FROM `+t.q("indicators")+` WHERE NOT coalesce(public, false))`)
	if err != nil {
		return nil, fmt.Errorf("attack: deciles: %w", err)
	}
	defer rs.Close()
	var out []*row
	for rs.Next() {
		r := &row{}
		if err := rs.Scan(&r.Indicator, &r.Period, &r.Level, &r.Code, &r.Decile, &r.num, &r.den, &r.withheld); err != nil {
			return nil, err
		}
		if r.Level == "england" {
			r.Code = "*"
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// relation: the parent (a cell, or a published constant) is the sum of the
// children.
type relation struct {
	what     string
	parent   *Key
	constant float64
	children []Key
}

func (r relation) sortKey() string {
	k := r.what + "|"
	if r.parent != nil {
		k += r.parent.String()
	}
	if len(r.children) > 0 {
		k += "|" + r.children[0].String()
	}
	return k
}

// relations is every additive relation an attacker can read off the
// published tables, in a fixed order. Each holds on the true counts
// (TestRelationsHold), so what is derived from them is a true count, not
// a coincidence of approximations.
func relations(rows, deciles []*row, inds map[string]indicator, similar map[[2]string][]string) []relation {
	var rels []relation
	type ip struct{ ind, period string }
	byIP := map[ip][]*row{}
	for _, r := range rows {
		byIP[ip{r.Indicator, r.Period}] = append(byIP[ip{r.Indicator, r.Period}], r)
	}
	decByIP := map[ip][]*row{}
	for _, r := range deciles {
		decByIP[ip{r.Indicator, r.Period}] = append(decByIP[ip{r.Indicator, r.Period}], r)
	}
	for k, rs := range byIP {
		rels = append(rels, hierarchy(k.ind, k.period, rs, decByIP[k])...)
		rels = append(rels, peers(rs, inds[k.ind], similar)...)
	}
	rels = append(rels, parts(rows, deciles, inds)...)
	// a fixed order, so the same tables give the same findings in the same order
	for i := range rels {
		sort.Slice(rels[i].children, func(a, b int) bool { return rels[i].children[a].String() < rels[i].children[b].String() })
	}
	sort.SliceStable(rels, func(i, j int) bool { return rels[i].sortKey() < rels[j].sortKey() })
	return rels
}

// published splits the rows' counts into those published (known) and
// those withheld; a row with neither is missing.
func published(rows, deciles []*row) (known map[Key]float64, withheld map[Key]bool) {
	known, withheld = map[Key]float64{}, map[Key]bool{}
	for _, r := range append(append([]*row(nil), rows...), deciles...) {
		switch {
		case r.withheld:
			withheld[r.Key] = true
		case r.num.Valid:
			known[r.Key] = r.num.Float64
		}
	}
	return known, withheld
}

// differencing solves the relations: a relation with exactly one unknown
// term gives it away; with chain, what is derived feeds the next round.
func differencing(rows, deciles []*row, inds map[string]indicator, similar map[[2]string][]string, o Options) []Finding {
	chain := o.Chain
	known, withheld := published(rows, deciles)
	rels := relations(rows, deciles, inds, similar)
	if o.RoundTo > 0 {
		return intervals(rels, known, withheld, o.RoundTo)
	}
	var out []Finding
	if o.System {
		out = append(out, system(rels, known, withheld)...)
	}
	for progress := true; progress; {
		progress = false
		for _, rel := range rels {
			var unknown []Key
			sum := 0.0
			for _, c := range rel.children {
				if v, ok := known[c]; ok {
					sum += v
				} else if withheld[c] {
					unknown = append(unknown, c)
				} else {
					sum = math.NaN() // missing, not withheld: no equation
				}
			}
			parent := rel.constant
			if rel.parent != nil {
				v, ok := known[*rel.parent]
				switch {
				case ok:
					parent = v
				case withheld[*rel.parent] && len(unknown) == 0 && !math.IsNaN(sum):
					if chain {
						known[*rel.parent] = sum
						progress = true
					}
					out = append(out, Finding{Attack: rel.what, Cell: *rel.parent, Count: sum, Detail: "sum of published parts"})
					continue
				default:
					continue
				}
			}
			if len(unknown) != 1 || math.IsNaN(sum) || math.IsNaN(parent) {
				continue
			}
			d := parent - sum
			if chain {
				known[unknown[0]] = d
				progress = true
			}
			detail := "total minus published parts"
			if rel.parent != nil {
				detail += " of " + rel.parent.String()
			}
			out = append(out, Finding{Attack: rel.what, Cell: unknown[0], Count: d, Detail: detail})
		}
	}
	return out
}

// intervals is the differencing attack on rounded counts: a published count
// v (rounded half away from zero to a multiple of r) stands for the
// integers from v - floor(r/2) to v + ceil(r/2) - 1 (and at least 0), a
// withheld count for any integer from 0. Bounds are tightened through every
// relation (a total is the sum of its parts: each term lies between the
// total's bounds minus the other terms' bounds), chained until they stop
// moving; a withheld count whose bounds meet is pinned and is a finding.
func intervals(rels []relation, known map[Key]float64, withheld map[Key]bool, r float64) []Finding {
	type iv struct{ lo, hi float64 }
	b := make(map[Key]iv, len(known)+len(withheld))
	for k, v := range known {
		b[k] = iv{math.Max(0, v-math.Floor(r/2)), v + math.Ceil(r/2) - 1}
	}
	for k := range withheld {
		b[k] = iv{0, math.Inf(1)}
	}
	for pass, moved := 0, true; moved && pass < 100; pass++ {
		moved = false
		tighten := func(k Key, lo, hi float64) {
			x := b[k]
			lo, hi = math.Max(x.lo, math.Ceil(lo-1e-9)), math.Min(x.hi, math.Floor(hi+1e-9))
			if lo != x.lo || hi != x.hi {
				b[k] = iv{lo, hi}
				moved = true
			}
		}
		for _, rel := range rels {
			if rel.parent == nil {
				continue // a non-integer constant (peer means)
			}
			terms := rel.children
			ok := true
			var slo, shi float64
			inf := 0 // children with no upper bound
			for _, c := range terms {
				x, in := b[c]
				if !in {
					ok = false // missing, not withheld: no equation
					break
				}
				slo += x.lo
				if math.IsInf(x.hi, 1) {
					inf++
				} else {
					shi += x.hi
				}
			}
			p, in := b[*rel.parent]
			if !ok || !in {
				continue
			}
			sumHi := shi
			if inf > 0 {
				sumHi = math.Inf(1)
			}
			tighten(*rel.parent, slo, sumHi)
			p = b[*rel.parent]
			for _, c := range terms {
				x := b[c]
				// the other terms' bounds
				olo := slo - x.lo
				ohi := math.Inf(1)
				if o := inf - btoi(math.IsInf(x.hi, 1)); o == 0 {
					ohi = shi
					if !math.IsInf(x.hi, 1) {
						ohi -= x.hi
					}
				}
				tighten(c, p.lo-ohi, p.hi-olo)
			}
		}
	}
	var keys []Key
	for k := range withheld {
		if x := b[k]; x.lo == x.hi {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	var out []Finding
	for _, k := range keys {
		out = append(out, Finding{Attack: "rounded interval", Cell: k, Count: b[k].lo,
			Detail: fmt.Sprintf("bounds of rounded totals and parts (to %g) meet", r)})
	}
	return out
}

// decimals is how many places x shows written in full (2.83: 2).
func decimals(x float64) int {
	t := strconv.FormatFloat(x, 'f', -1, 64)
	if i := strings.IndexByte(t, '.'); i >= 0 {
		return len(t) - i - 1
	}
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// system solves all relations at once (disclosure.Solve: exact, modulo a
// large prime): every withheld count they determine is derived. Relations
// with a missing term or a non-integer published value (peer means) are
// left out: they do not give integer equations.
func system(rels []relation, known map[Key]float64, withheld map[Key]bool) []Finding {
	var keys []Key
	for k := range withheld {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	id := make(map[Key]int, len(keys))
	for i, k := range keys {
		id[k] = i
	}
	var eqs []disclosure.Equation
	used := make([]int, len(keys))
	for _, rel := range rels {
		var eq disclosure.Equation
		ok := true
		term := func(k Key, coef int64) {
			if i, w := id[k]; w {
				eq.Terms = append(eq.Terms, disclosure.Term{Var: i, Coef: coef})
				return
			}
			v, kn := known[k]
			if !kn || v != math.Trunc(v) || math.Abs(v) > 1<<52 {
				ok = false
				return
			}
			eq.RHS -= coef * int64(v)
		}
		if rel.parent != nil {
			term(*rel.parent, 1)
		} else {
			// a mean times its denominators is a sum of counts up to
			// the double's rounding: an integer
			c := math.Round(rel.constant)
			if math.Abs(rel.constant-c) > 1e-6*math.Max(1, math.Abs(c)) || math.Abs(c) > 1<<52 {
				continue
			}
			eq.RHS -= int64(c)
		}
		for _, c := range rel.children {
			term(c, -1)
		}
		if !ok || len(eq.Terms) == 0 {
			continue
		}
		for _, t := range eq.Terms {
			used[t.Var]++
		}
		eqs = append(eqs, eq)
	}
	var out []Finding
	for _, s := range disclosure.Solve(len(keys), eqs) {
		out = append(out, Finding{Attack: "linear system", Cell: keys[s.Var], Count: float64(s.Value),
			Detail: fmt.Sprintf("solved from the %d relations holding it, with the rest", used[s.Var])})
	}
	return out
}

// hierarchy: every area is the sum, for each lower level, of the areas of
// that level lying wholly inside it plus its other practices; the same per
// deprivation decile; and an area is the sum of its deciles plus its
// practices counted in none.
func hierarchy(ind, period string, rs, dec []*row) []relation {
	var practices []*row
	areas := map[string]*row{} // level|code
	for _, r := range rs {
		if r.Level == "practice" {
			practices = append(practices, r)
		}
		areas[r.Level+"|"+r.Code] = r
	}
	decs := map[string]*row{}   // level|code|d
	hasDec := map[string]bool{} // level|code: publishes deciles
	for _, r := range dec {
		decs[fmt.Sprintf("%s|%s|%d", r.Level, r.Code, r.Decile)] = r
		hasDec[r.Level+"|"+r.Code] = true
	}
	// inside[level|code][up] = the one upper code all its practices share ("" if several)
	inside := map[string]map[string]string{}
	for _, p := range practices {
		for _, l := range levels[1:] {
			k := l + "|" + p.anc[l]
			if p.anc[l] == "" {
				continue
			}
			m := inside[k]
			if m == nil {
				m = map[string]string{}
				inside[k] = m
			}
			for _, up := range levels {
				if prev, ok := m[up]; ok && prev != p.anc[up] {
					m[up] = ""
				} else if !ok {
					m[up] = p.anc[up]
				}
			}
		}
	}
	key := func(level, code string, d int) Key {
		return Key{Indicator: ind, Period: period, Level: level, Code: code, Decile: d}
	}
	type gk struct {
		parent Key
		low    string
	}
	groups := map[gk]map[Key]bool{}
	add := func(parent Key, low string, child Key) {
		g := groups[gk{parent, low}]
		if g == nil {
			g = map[Key]bool{}
			groups[gk{parent, low}] = g
		}
		g[child] = true
	}
	for _, p := range practices {
		pk := key("practice", p.Code, 0)
		for li := 1; li < len(levels); li++ {
			up := levels[li]
			if p.anc[up] == "" {
				continue
			}
			for _, d := range []int{0, p.imd} {
				var ok bool
				if d == 0 {
					_, ok = areas[up+"|"+p.anc[up]]
				} else {
					_, ok = decs[fmt.Sprintf("%s|%s|%d", up, p.anc[up], d)]
				}
				if !ok {
					continue
				}
				parent := key(up, p.anc[up], d)
				for _, low := range levels[:li] {
					child := pk
					if low != "practice" && p.anc[low] != "" && inside[low+"|"+p.anc[low]][up] == p.anc[up] {
						var exists bool
						if d == 0 {
							_, exists = areas[low+"|"+p.anc[low]]
						} else {
							_, exists = decs[fmt.Sprintf("%s|%s|%d", low, p.anc[low], d)]
						}
						if exists {
							child = key(low, p.anc[low], d)
						}
					}
					add(parent, fmt.Sprintf("level %s decile %d", low, d), child)
				}
				if p.imd == 0 {
					break
				}
			}
			// area = its deciles + its practices in no decile (an area
			// publishes only the deciles its practices fall in)
			if p.imd == 0 && hasDec[up+"|"+p.anc[up]] {
				add(key(up, p.anc[up], 0), "deciles", pk)
			}
		}
	}
	for _, d := range dec {
		add(key(d.Level, d.Code, 0), "deciles", d.Key)
	}
	var out []relation
	for g, members := range groups {
		parent := g.parent
		rel := relation{what: "hierarchy (" + g.low + ")", parent: &parent}
		for k := range members {
			rel.children = append(rel.children, k)
		}
		sort.Slice(rel.children, func(i, j int) bool { return rel.children[i].String() < rel.children[j].String() })
		out = append(out, rel)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].parent.String()+out[i].what < out[j].parent.String()+out[j].what })
	return out
}

// parts: all referrals are the sum of the priorities, and of the
// specialties; a standardised ratio's observed count is the rate's count.
func parts(rows, deciles []*row, inds map[string]indicator) []relation {
	type ak struct {
		period, level, code string
		decile              int
	}
	byArea := map[ak]map[string]Key{}
	for _, r := range append(append([]*row(nil), rows...), deciles...) {
		a := ak{r.Period, r.Level, r.Code, r.Decile}
		if byArea[a] == nil {
			byArea[a] = map[string]Key{}
		}
		byArea[a][r.Indicator] = r.Key
	}
	var out []relation
	for _, m := range byArea {
		total, ok := m["ref_rate_per_1000"]
		if !ok {
			continue
		}
		var prio, spec []Key
		for id, k := range m {
			in := inds[id]
			switch {
			case in.statistic == "rate" && in.priority != "":
				prio = append(prio, k)
			case in.statistic == "rate" && in.specialty != "":
				spec = append(spec, k)
			case in.statistic == "ratio" && strings.HasPrefix(id, "ref_isr"):
				rate := "ref_rate_per_1000"
				if in.specialty != "" {
					rate += "_" + in.specialty
				}
				if rk, ok := m[rate]; ok {
					k, rk := k, rk
					out = append(out, relation{what: "same count (ratio/rate)", parent: &k, children: []Key{rk}},
						relation{what: "same count (ratio/rate)", parent: &rk, children: []Key{k}})
				}
			}
		}
		t := total
		if len(prio) > 0 {
			out = append(out, relation{what: "parts (priorities)", parent: &t, children: prio})
		}
		if len(spec) > 0 {
			out = append(out, relation{what: "parts (specialties)", parent: &t, children: spec})
		}
	}
	return out
}

// peers: a practice's published peer mean times its similar practices'
// denominators is their count, if the mean pools every one of them. A
// reader can tell whether it does: when the published peers alone give the
// published mean, it pools those only (as gplens publishes it) and holds
// no withheld count, so it gives no relation. Taken over every peer
// regardless, the relation would be false, and what it derived, chained
// through other sums, would hit a withheld count now and then by
// coincidence: a finding of nothing, varying with the order the rows come
// in.
func peers(rs []*row, in indicator, similar map[[2]string][]string) []relation {
	if in.multiplier == 0 {
		return nil
	}
	byCode := map[string]*row{}
	for _, r := range rs {
		if r.Level == "practice" {
			byCode[r.Code] = r
		}
	}
	var out []relation
	for _, r := range rs {
		if r.Level != "practice" || !r.peerMean.Valid {
			continue
		}
		rel := relation{what: "peer mean x denominators"}
		den, pubNum, pubDen := 0.0, 0.0, 0.0
		for _, code := range similar[[2]string{r.Period, r.Code}] {
			q := byCode[code]
			if q == nil || !q.den.Valid || q.den.Float64 <= 0 {
				continue
			}
			den += q.den.Float64
			if !q.withheld && q.num.Valid {
				pubNum += q.num.Float64
				pubDen += q.den.Float64
			}
			rel.children = append(rel.children, q.Key)
		}
		if len(rel.children) == 0 {
			continue
		}
		if pubDen > 0 {
			v := pubNum / pubDen * in.multiplier
			if math.Abs(v-r.peerMean.Float64) <= 1e-9*math.Max(1, math.Abs(v)) {
				continue // the published peers' mean: nothing withheld in it
			}
		}
		rel.constant = r.peerMean.Float64 / in.multiplier * den
		out = append(out, rel)
	}
	return out
}

// loadPeers reads each practice's similar practices (period, practice ->
// peer codes), if the target publishes them.
func (t Target) loadPeers(ctx context.Context) (map[[2]string][]string, error) {
	out := map[[2]string][]string{}
	var n int
	if err := t.DB.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'peers'`, t.Schema).Scan(&n); err != nil {
		return nil, fmt.Errorf("attack: peers: %w", err)
	}
	if n == 0 {
		return out, nil
	}
	rs, err := t.DB.QueryContext(ctx, `SELECT period, practice_code, peer_code FROM `+t.q("peers"))
	if err != nil {
		return nil, fmt.Errorf("attack: peers: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var period, p, q string
		if err := rs.Scan(&period, &p, &q); err != nil {
			return nil, err
		}
		k := [2]string{period, p}
		out[k] = append(out[k], q)
	}
	return out, rs.Err()
}

// timeMean: an SPC series' published mean times its number of months,
// minus its published points, is the withheld point (if the mean covered
// every month), and that rate times the denominator is the count.
func (t Target) timeMean(ctx context.Context, inds map[string]indicator, rows []*row) ([]Finding, error) {
	den := map[Key]float64{}
	for _, r := range rows {
		if r.den.Valid {
			den[r.Key] = r.den.Float64
		}
	}
	rs, err := t.DB.QueryContext(ctx, `SELECT indicator_id, area_level, area_code, period, value, mean
		FROM `+t.q("trends")+`
		WHERE indicator_id IN (SELECT indicator_id FROM `+t.q("indicators")+` WHERE NOT coalesce(public, false))
		ORDER BY indicator_id, area_level, area_code, period`)
	if err != nil {
		return nil, fmt.Errorf("attack: trends: %w", err)
	}
	defer rs.Close()
	type pt struct {
		k    Key
		v, m sql.NullFloat64
	}
	series := map[string][]pt{}
	var order []string
	for rs.Next() {
		var p pt
		if err := rs.Scan(&p.k.Indicator, &p.k.Level, &p.k.Code, &p.k.Period, &p.v, &p.m); err != nil {
			return nil, err
		}
		if p.k.Level == "england" {
			p.k.Code = "*"
		}
		s := p.k.Indicator + "|" + p.k.Level + "|" + p.k.Code
		if _, ok := series[s]; !ok {
			order = append(order, s)
		}
		series[s] = append(series[s], p)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	var out []Finding
	for _, s := range order {
		pts := series[s]
		var missing []pt
		sum, mean := 0.0, math.NaN()
		for _, p := range pts {
			if p.m.Valid {
				mean = p.m.Float64
			}
			if p.v.Valid {
				sum += p.v.Float64
			} else {
				missing = append(missing, p)
			}
		}
		if len(missing) != 1 || math.IsNaN(mean) {
			continue
		}
		// a mean the published points alone give holds no withheld value
		// (gplens charts published months only): n x mean - published
		// would be that mean again, an estimate of the month, not its
		// count. "Give" up to the rounding the figures show (feeds round
		// to the data dictionary's places).
		tol := 1e-9 * math.Max(1, math.Abs(mean))
		places := decimals(mean)
		for _, p := range pts {
			if p.v.Valid {
				places = max(places, decimals(p.v.Float64))
			}
		}
		if places < 12 {
			tol = max(tol, math.Pow(10, -float64(places)))
		}
		if n := float64(len(pts) - 1); n > 0 && math.Abs(sum/n-mean) <= tol {
			continue
		}
		v := float64(len(pts))*mean - sum
		k := missing[0].k
		mult := inds[k.Indicator].multiplier
		if d, ok := den[k]; ok && mult != 0 {
			out = append(out, Finding{Attack: "time (n x mean - published)", Cell: k, Count: v * d / mult,
				Detail: fmt.Sprintf("rate %g", v)})
		}
	}
	return out, nil
}

// quintiles: a published quintile value times the two deciles'
// denominators is their count; with one decile published the other follows.
func (t Target) quintiles(ctx context.Context, inds map[string]indicator, _ []*row) ([]Finding, error) {
	rs, err := t.DB.QueryContext(ctx, `SELECT q.indicator_id, q.period, q.area_level, q.area_code, w.lo,
			CASE w.lo WHEN 1 THEN q.q1_value ELSE q.q5_value END AS qv,
			sum(d.denominator), count(*) FILTER (WHERE d.numerator_suppressed),
			sum(d.numerator) FILTER (WHERE NOT d.numerator_suppressed),
			min(d.imd_decile) FILTER (WHERE d.numerator_suppressed)
		FROM `+t.q("inequality")+` AS q
		CROSS JOIN (VALUES (1), (9)) AS w(lo)
		JOIN `+t.q("inequality_deciles")+` AS d
			ON d.indicator_id = q.indicator_id AND d.period = q.period AND d.area_level = q.area_level
		   AND d.area_code = q.area_code AND d.imd_decile IN (w.lo, w.lo + 1)
		WHERE q.indicator_id IN (SELECT indicator_id FROM `+t.q("indicators")+` WHERE NOT coalesce(public, false))
		GROUP BY ALL
		HAVING qv IS NOT NULL AND count(*) FILTER (WHERE d.numerator_suppressed) = 1`)
	if err != nil {
		return nil, fmt.Errorf("attack: quintiles: %w", err)
	}
	defer rs.Close()
	var out []Finding
	for rs.Next() {
		var k Key
		var lo, nw int
		var qv, den float64
		var pub sql.NullFloat64
		var d int
		if err := rs.Scan(&k.Indicator, &k.Period, &k.Level, &k.Code, &lo, &qv, &den, &nw, &pub, &d); err != nil {
			return nil, err
		}
		if k.Level == "england" {
			k.Code = "*"
		}
		k.Decile = d
		mult := inds[k.Indicator].multiplier
		if mult == 0 {
			continue
		}
		out = append(out, Finding{Attack: "quintile value x denominators", Cell: k, Count: qv/mult*den - pub.Float64})
	}
	return out, rs.Err()
}

// exposed: statistics published beside a withheld count, or an area's
// value shown as a comparator where its own row is withheld.
func (t Target) exposed(ctx context.Context, _ map[string]indicator, rows []*row) ([]Finding, error) {
	withheld := map[Key]bool{}
	for _, r := range rows {
		if r.withheld {
			withheld[r.Key] = true
		}
	}
	var out []Finding
	for _, r := range rows {
		checks := []struct {
			level, code string
			v           sql.NullFloat64
		}{{"icb", "", r.icbValue}, {"sub_icb", "", r.subValue}, {"england", "*", r.engV}}
		for _, c := range checks {
			if !c.v.Valid {
				continue
			}
			code := c.code
			if code == "" && r.anc != nil {
				code = r.anc[c.level]
			}
			if code == "" {
				continue
			}
			k := Key{Indicator: r.Indicator, Period: r.Period, Level: c.level, Code: code}
			if withheld[k] {
				out = append(out, Finding{Attack: "comparator", Cell: k, Count: math.NaN(),
					Detail: fmt.Sprintf("%s_value %g on %s", c.level, c.v.Float64, r.Key)})
			}
		}
	}
	type q struct{ what, sql string }
	priv := `indicator_id IN (SELECT indicator_id FROM ` + t.q("indicators") + ` WHERE NOT coalesce(public, false))`
	queries := []q{
		{"statistic beside a withheld count", `SELECT indicator_id, period, area_level, area_code, 0 FROM ` + t.q("indicator_values") + `
			WHERE numerator_suppressed AND (numerator IS NOT NULL OR value IS NOT NULL OR lower95 IS NOT NULL OR upper95 IS NOT NULL
			OR lower998 IS NOT NULL OR upper998 IS NOT NULL OR opportunity IS NOT NULL OR funnel_significance IS NOT NULL
			OR funnel_significance_od IS NOT NULL OR comparison <> 'not compared')`},
		{"statistic beside a withheld decile", `SELECT indicator_id, period, area_level, area_code, imd_decile FROM ` + t.q("inequality_deciles") + `
			WHERE numerator_suppressed AND (numerator IS NOT NULL OR value IS NOT NULL OR lower95 IS NOT NULL OR upper95 IS NOT NULL)`},
		{"trend point of a withheld count", `SELECT t.indicator_id, t.period, t.area_level, t.area_code, 0 FROM ` + t.q("trends") + ` AS t
			JOIN ` + t.q("indicator_values") + ` AS v USING (indicator_id, period, area_level, area_code)
			WHERE v.numerator_suppressed AND (t.value IS NOT NULL OR t.point_type IS NOT NULL)`},
		{"area summary of a withheld count", `SELECT v.indicator_id, v.period, v.area_level, v.area_code, 0 FROM ` + t.q("area_summary") + ` AS s
			JOIN ` + t.q("indicator_values") + ` AS v USING (period, area_level, area_code)
			WHERE v.numerator_suppressed AND (v.indicator_id = 'ref_rate_per_1000' AND (s.referrals IS NOT NULL OR s.referral_rate_per_1000 IS NOT NULL)
			   OR v.indicator_id = 'ref_2ww_rate_per_1000' AND s.twoww_rate_per_1000 IS NOT NULL)`},
	}
	for i, x := range queries {
		q := x.sql
		if i < 3 {
			q += " AND " + priv
		}
		rs, err := t.DB.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("attack: %s: %w", x.what, err)
		}
		for rs.Next() {
			var k Key
			if err := rs.Scan(&k.Indicator, &k.Period, &k.Level, &k.Code, &k.Decile); err != nil {
				rs.Close()
				return nil, err
			}
			if k.Level == "england" {
				k.Code = "*"
			}
			out = append(out, Finding{Attack: x.what, Cell: k, Count: math.NaN(), Detail: "published"})
		}
		if err := rs.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Leaks are the findings that give a withheld cell away: a statistic shown
// beside it, or a derived count equal to the true count (truth, from the
// warehouse's marts) up to floating-point error; an inexact derivation that
// merely lands near the truth recovers nothing systematically.
func Leaks(fs []Finding, truth map[Key]float64) []Finding {
	var out []Finding
	for _, f := range fs {
		if math.IsNaN(f.Count) {
			out = append(out, f)
			continue
		}
		if v, ok := truth[f.Cell]; ok && math.Abs(v-f.Count) <= 1e-6*math.Max(1, math.Abs(v)) {
			out = append(out, f)
		}
	}
	return out
}

// Truth reads the true counts of every non-public indicator from a
// warehouse's marts (indicator_values and inequality_deciles).
func Truth(ctx context.Context, db *sql.DB) (map[Key]float64, error) {
	out := map[Key]float64{}
	qs := []string{
		`SELECT indicator_id, period, area_level, area_code, 0, numerator FROM marts.indicator_values
		 WHERE numerator IS NOT NULL AND indicator_id IN (SELECT indicator_id FROM core.indicators WHERE NOT coalesce(public, false))`,
		`SELECT indicator_id, period, area_level, area_code, imd_decile, numerator FROM marts.inequality_deciles
		 WHERE numerator IS NOT NULL AND indicator_id IN (SELECT indicator_id FROM core.indicators WHERE NOT coalesce(public, false))`,
	}
	for _, q := range qs {
		rs, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("attack: truth: %w", err)
		}
		for rs.Next() {
			var k Key
			var v float64
			if err := rs.Scan(&k.Indicator, &k.Period, &k.Level, &k.Code, &k.Decile, &v); err != nil {
				rs.Close()
				return nil, err
			}
			if k.Level == "england" {
				k.Code = "*"
			}
			out[k] = v
		}
		if err := rs.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CompareScoped is the scoped-versus-whole attack: a scoped copy must be a
// subset of the whole, so every count and value it shows must be shown, and
// equal, in the whole. It returns the cells where the scoped copy shows
// more.
func CompareScoped(ctx context.Context, whole, scoped Target) ([]Finding, error) {
	type src struct{ table, key, val string }
	srcs := []src{
		{"indicator_values", "indicator_id, period, area_level, area_code, 0", "numerator"},
		{"indicator_values", "indicator_id, period, area_level, area_code, 0", "value"},
		{"inequality_deciles", "indicator_id, period, area_level, area_code, imd_decile", "numerator"},
		{"trends", "indicator_id, period, area_level, area_code, 0", "value"},
		{"trends", "indicator_id, period, area_level, area_code, 0", "mean"},
		{"area_summary", "'area_summary', period, area_level, area_code, 0", "CAST(referrals AS DOUBLE)"},
		{"area_summary", "'area_summary', period, area_level, area_code, 0", "referral_rate_per_1000"},
	}
	load := func(t Target, s src) (map[Key]sql.NullFloat64, error) {
		rs, err := t.DB.QueryContext(ctx, "SELECT "+s.key+", "+s.val+" FROM "+t.q(s.table))
		if err != nil {
			return nil, fmt.Errorf("attack: scoped %s.%s: %w", t.Schema, s.table, err)
		}
		defer rs.Close()
		out := map[Key]sql.NullFloat64{}
		for rs.Next() {
			var k Key
			var v sql.NullFloat64
			if err := rs.Scan(&k.Indicator, &k.Period, &k.Level, &k.Code, &k.Decile, &v); err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, rs.Err()
	}
	var out []Finding
	for _, s := range srcs {
		w, err := load(whole, s)
		if err != nil {
			return nil, err
		}
		sc, err := load(scoped, s)
		if err != nil {
			return nil, err
		}
		for k, v := range sc {
			if !v.Valid {
				continue
			}
			wv, ok := w[k]
			if !ok || !wv.Valid || math.Abs(wv.Float64-v.Float64) > 1e-9*math.Max(1, math.Abs(v.Float64)) {
				out = append(out, Finding{Attack: "scoped vs whole (" + s.table + "." + s.val + ")", Cell: k, Count: math.NaN(),
					Detail: fmt.Sprintf("scoped shows %g, whole %v", v.Float64, wv)})
			}
		}
	}
	return out, nil
}
