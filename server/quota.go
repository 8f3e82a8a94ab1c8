package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// prepared is an open prepared statement: its text, owner, parameter
// types and the parameters last bound.
type prepared struct {
	query    string
	owner    string
	params   []arrow.DataType
	args     [][]any
	lastUsed time.Time
}

// newID is a fresh 16-byte random handle.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return string(b)
}

// Limits are the per-token quotas and the process-wide bounds. A zero field
// takes its default (DefaultLimits). Per-token caps sit well below the
// global ones, so one token cannot use up what the others need.
type Limits struct {
	// MaxQueryBytes bounds the text of one query.
	MaxQueryBytes int
	// PreparedPerToken and PreparedBytesPerToken bound the open prepared
	// statements of one token (count and total text size).
	PreparedPerToken      int
	PreparedBytesPerToken int
	// PreparedIdle: a prepared statement unused this long is closed.
	PreparedIdle time.Duration
	// PendingPerToken bounds results executed but not yet fetched, per
	// token; PendingTotal across all tokens. A pending result expires with
	// the query timeout.
	PendingPerToken int
	PendingTotal    int
	// ConcurrentPerToken bounds queries executing or streaming at once per
	// token (each holds DuckDB memory and a connection).
	ConcurrentPerToken int
	// QueueWait is how long a query over ConcurrentPerToken waits for a
	// slot before it is refused.
	QueueWait time.Duration
	// MemoryGuard is the process resident-set size (bytes) above which
	// every running query is interrupted; 0: twice the DuckDB memory
	// limit plus 512 MiB (2.5 GiB when no limit is set); negative: off.
	MemoryGuard int64
}

// DefaultLimits are the limits used for zero fields.
var DefaultLimits = Limits{
	MaxQueryBytes:         256 << 10,
	PreparedPerToken:      100,
	PreparedBytesPerToken: 4 << 20,
	PreparedIdle:          15 * time.Minute,
	PendingPerToken:       8,
	PendingTotal:          64,
	ConcurrentPerToken:    4,
	QueueWait:             30 * time.Second,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxQueryBytes <= 0 {
		l.MaxQueryBytes = d.MaxQueryBytes
	}
	if l.PreparedPerToken <= 0 {
		l.PreparedPerToken = d.PreparedPerToken
	}
	if l.PreparedBytesPerToken <= 0 {
		l.PreparedBytesPerToken = d.PreparedBytesPerToken
	}
	if l.PreparedIdle <= 0 {
		l.PreparedIdle = d.PreparedIdle
	}
	if l.PendingPerToken <= 0 {
		l.PendingPerToken = d.PendingPerToken
	}
	if l.PendingTotal <= 0 {
		l.PendingTotal = d.PendingTotal
	}
	if l.ConcurrentPerToken <= 0 {
		l.ConcurrentPerToken = d.ConcurrentPerToken
	}
	if l.QueueWait <= 0 {
		l.QueueWait = d.QueueWait
	}
	return l
}

// quotaError is a quota refusal; the server maps it to ResourceExhausted.
type quotaError struct{ msg string }

func (e quotaError) Error() string { return e.msg }

// running bounds each token's executing queries. A query over the bound
// waits for a slot (up to wait), so a burst from one client queues instead
// of failing, while other tokens' slots stay free.
type running struct {
	mu   sync.Mutex
	sem  map[string]chan struct{}
	max  int
	wait time.Duration
}

func newRunning(max int, wait time.Duration) *running {
	return &running{sem: map[string]chan struct{}{}, max: max, wait: wait}
}

func (r *running) begin(ctx context.Context, owner string) (func(), error) {
	r.mu.Lock()
	ch, ok := r.sem[owner]
	if !ok {
		ch = make(chan struct{}, r.max)
		r.sem[owner] = ch
	}
	r.mu.Unlock()
	t := time.NewTimer(r.wait)
	defer t.Stop()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, quotaError{fmt.Sprintf("%d queries of this token are already running or waiting to be fetched: fetch or cancel one first", r.max)}
	}
	var once sync.Once
	return func() { once.Do(func() { <-ch }) }, nil
}

// preparedStore holds prepared statements with per-token quotas and idle
// expiry. now is the clock (a fake one in tests).
type preparedStore struct {
	mu    sync.Mutex
	m     map[string]*prepared
	lim   Limits
	now   func() time.Time
	count map[string]int
	bytes map[string]int
}

func newPreparedStore(lim Limits, now func() time.Time) *preparedStore {
	return &preparedStore{m: map[string]*prepared{}, lim: lim, now: now, count: map[string]int{}, bytes: map[string]int{}}
}

func (p *preparedStore) expireLocked() {
	cut := p.now().Add(-p.lim.PreparedIdle)
	for h, st := range p.m {
		if st.lastUsed.Before(cut) {
			p.removeLocked(h, st)
		}
	}
}

func (p *preparedStore) removeLocked(h string, st *prepared) {
	delete(p.m, h)
	p.count[st.owner]--
	p.bytes[st.owner] -= len(st.query)
	if p.count[st.owner] <= 0 {
		delete(p.count, st.owner)
		delete(p.bytes, st.owner)
	}
}

// add stores st under a new handle, or refuses when the owner is at quota.
func (p *preparedStore) add(st *prepared) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLocked()
	if p.count[st.owner] >= p.lim.PreparedPerToken {
		return "", quotaError{fmt.Sprintf("this token has %d open prepared statements (the limit): close some", p.count[st.owner])}
	}
	if p.bytes[st.owner]+len(st.query) > p.lim.PreparedBytesPerToken {
		return "", quotaError{fmt.Sprintf("this token's open prepared statements would exceed %d bytes of SQL: close some", p.lim.PreparedBytesPerToken)}
	}
	st.lastUsed = p.now()
	h := newID()
	p.m[h] = st
	p.count[st.owner]++
	p.bytes[st.owner] += len(st.query)
	return h, nil
}

// get returns the owner's statement and marks it used.
func (p *preparedStore) get(h, owner string) (*prepared, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLocked()
	st, ok := p.m[h]
	if !ok || st.owner != owner {
		return nil, false
	}
	st.lastUsed = p.now()
	return st, true
}

func (p *preparedStore) remove(h, owner string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.m[h]
	if !ok || st.owner != owner {
		return false
	}
	p.removeLocked(h, st)
	return true
}

func (p *preparedStore) setArgs(st *prepared, args [][]any) {
	p.mu.Lock()
	st.args = args
	p.mu.Unlock()
}

func (p *preparedStore) argsOf(st *prepared) []any {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(st.args) == 0 {
		return nil
	}
	return st.args[0]
}

func (p *preparedStore) sweep() {
	p.mu.Lock()
	p.expireLocked()
	p.mu.Unlock()
}

// openCount is the number of open statements of owner.
func (p *preparedStore) openCount(owner string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count[owner]
}
