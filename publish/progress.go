package publish

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress prints one line per finished pack with an ETA to w (the CLI
// passes stderr only when it is a terminal); nil w prints nothing.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
	start time.Time
	now   func() time.Time
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, total: total, start: time.Now(), now: time.Now}
}

func (p *progress) done(area string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	el := p.now().Sub(p.start)
	eta := time.Duration(float64(el) / float64(p.n) * float64(p.total-p.n))
	fmt.Fprintf(p.w, "\rpublish: %d/%d packs (%s) elapsed %s, ETA %s\x1b[K", p.n, p.total, area,
		el.Round(time.Second), eta.Round(time.Second))
}

func (p *progress) finish() {
	if p == nil || p.w == nil || p.n == 0 {
		return
	}
	fmt.Fprintln(p.w)
}
