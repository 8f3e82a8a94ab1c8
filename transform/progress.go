package transform

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"
)

// progress prints a line per finished model with an ETA to w (the CLI
// passes stderr only when it is a terminal). The ETA weighs the models
// still to come by what each took in the last build, scaled by how this
// build compares so far: the disclosure model alone can be most of a
// build, so counting models would say little.
type progress struct {
	w      io.Writer
	weight map[string]float64
	total  float64 // sum of weights
	done   float64 // weights of the models finished
	n, of  int
	start  time.Time
	now    func() time.Time
}

// minWeight keeps a model that took no time in the last build from
// counting as nothing.
const minWeight = 0.05

func newProgress(w io.Writer, models []*Model, last map[string]time.Duration) *progress {
	p := &progress{w: w, weight: map[string]float64{}, of: len(models), start: time.Now(), now: time.Now}
	var known float64
	var nKnown int
	for _, m := range models {
		if d, ok := last[m.Name]; ok {
			known += d.Seconds()
			nKnown++
		}
	}
	mean := 1.0 // no history: every model alike
	if nKnown > 0 {
		mean = known / float64(nKnown)
	}
	for _, m := range models {
		wt := mean
		if d, ok := last[m.Name]; ok {
			wt = d.Seconds()
		}
		p.weight[m.Name] = max(wt, minWeight)
		p.total += p.weight[m.Name]
	}
	return p
}

// step notes a finished model and prints the line.
func (p *progress) step(mr ModelResult) {
	if p == nil || p.w == nil {
		return
	}
	p.n++
	p.done += p.weight[mr.Name]
	el := p.now().Sub(p.start)
	eta := time.Duration(0)
	if p.done > 0 {
		eta = time.Duration(float64(el) * (p.total - p.done) / p.done)
	}
	fmt.Fprintf(p.w, "\rtransform: %d/%d models (%s %s) elapsed %s, ETA %s\x1b[K", p.n, p.of, mr.Name, mr.Action,
		el.Round(time.Second), eta.Round(time.Second))
}

func (p *progress) finish() {
	if p == nil || p.w == nil || p.n == 0 {
		return
	}
	fmt.Fprintln(p.w)
}

// lastDurations reads what each model took in the previous build; none
// from a warehouse that did not record it.
func lastDurations(ctx context.Context, conn *sql.Conn, prev string) map[string]time.Duration {
	out := map[string]time.Duration{}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT name, duration_ms FROM %s.%s.models WHERE duration_ms IS NOT NULL", quoteIdent(prev), stateSchema))
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var ms int64
		if rows.Scan(&name, &ms) != nil {
			return map[string]time.Duration{}
		}
		out[name] = time.Duration(ms) * time.Millisecond
	}
	return out
}
