package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// errMemoryGuard is the cause given to queries the memory guard stops.
var errMemoryGuard = errors.New("the server is over its memory guard: running queries were interrupted; retry, or ask for less")

// memGuard watches the process's resident memory and interrupts every
// running query when it passes the limit. DuckDB's memory_limit covers its
// buffer manager, not every allocation a query makes, so this is the
// backstop. After firing it re-arms once memory falls below the limit or
// grows a further tenth, so memory the allocator keeps after a query
// cannot make it refuse everything that follows.
type memGuard struct {
	limit int64
	rss   func() int64
	log   *slog.Logger

	mu      sync.Mutex
	cancels map[int]context.CancelCauseFunc
	next    int
	firedAt int64
	fired   int
}

func newMemGuard(limit int64, log *slog.Logger) *memGuard {
	return &memGuard{limit: limit, rss: readRSS, log: log, cancels: map[int]context.CancelCauseFunc{}}
}

// track registers a running query's cancel function until untrack.
func (g *memGuard) track(cancel context.CancelCauseFunc) (untrack func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	id := g.next
	g.next++
	g.cancels[id] = cancel
	return func() {
		g.mu.Lock()
		delete(g.cancels, id)
		g.mu.Unlock()
	}
}

// check compares memory with the limit once; it returns whether it fired.
func (g *memGuard) check() bool {
	if g.limit <= 0 {
		return false
	}
	rss := g.rss()
	g.mu.Lock()
	defer g.mu.Unlock()
	if rss < g.limit {
		g.firedAt = 0
		return false
	}
	if g.firedAt != 0 && rss < g.firedAt+g.firedAt/10 {
		return false
	}
	g.firedAt = rss
	g.fired++
	n := len(g.cancels)
	for _, c := range g.cancels {
		c(errMemoryGuard)
	}
	g.log.Warn("memory guard: interrupted running queries", "rss_bytes", rss, "limit_bytes", g.limit, "queries", n)
	return true
}

func (g *memGuard) run(ctx context.Context, every time.Duration) {
	if g.limit <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.check()
		}
	}
}

// readRSS is the process resident set in bytes (Linux; 0 elsewhere, which
// leaves the guard idle).
func readRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(bytes.TrimSpace(b)))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
