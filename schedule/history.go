package schedule

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Run statuses.
const (
	StatusRunning       = "running"
	StatusSucceeded     = "succeeded"
	StatusFailed        = "failed"
	StatusCancelled     = "cancelled"
	StatusTimedOut      = "timed_out"
	StatusInterrupted   = "interrupted"
	StatusSkippedLocked = "skipped_locked"
)

// Triggers: why a run happened.
const (
	TriggerSchedule = "schedule"
	TriggerCatchUp  = "catch-up"
	TriggerManual   = "manual"
	TriggerInbox    = "inbox"
)

// History file names under <ws>/runs/.
const (
	RunsDir     = "runs"
	HistoryFile = "history.jsonl"
	StateFile   = "state.json"
)

// Run is one attempt of one job, as recorded in the history.
type Run struct {
	ID      string    `json:"id"`
	Job     string    `json:"job"`
	Trigger string    `json:"trigger"`
	Period  string    `json:"period"`
	Areas   []string  `json:"areas,omitempty"`
	Steps   []string  `json:"steps,omitempty"`
	Attempt int       `json:"attempt"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	Status  string    `json:"status"`
	Rows    int64     `json:"rows"`
	Error   string    `json:"error,omitempty"`
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
}

// Failed reports whether the run ended badly (failed, timed out or
// interrupted); cancelled and skipped runs are not failures of the job.
func (r Run) Failed() bool {
	switch r.Status {
	case StatusFailed, StatusTimedOut, StatusInterrupted:
		return true
	}
	return false
}

// Duration is End-Start, or zero while running.
func (r Run) Duration() time.Duration {
	if r.End.IsZero() {
		return 0
	}
	return r.End.Sub(r.Start)
}

// record is one history line: a start (Type "start") or an end.
type record struct {
	Type string `json:"type"`
	Run
}

// Filter selects runs for List. Zero values mean "any"; Limit 0 means all.
type Filter struct {
	Job        string
	FailedOnly bool
	Limit      int
}

// RunLog is the append-only run history of one workspace.
type RunLog struct {
	dir string
	mu  sync.Mutex
}

// History opens the run history of workspace ws (nothing is created until the
// first write).
func History(ws string) *RunLog {
	return &RunLog{dir: filepath.Join(ws, RunsDir)}
}

// append writes one JSON line with a single write on an O_APPEND file and
// fsyncs it, so concurrent readers see whole lines and a crash loses at most
// the line being written.
func (h *RunLog) append(rec record) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode run record: %w", err)
	}
	line = append(line, '\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return fmt.Errorf("create runs dir: %w", err)
	}
	path := filepath.Join(h.dir, HistoryFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open run history: %w", err)
	}
	_, werr := f.Write(line)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("append run history %s: %w", path, werr)
	}
	return nil
}

func (h *RunLog) begin(r Run) error {
	r.Status = StatusRunning
	return h.append(record{Type: "start", Run: r})
}

func (h *RunLog) finish(r Run) error {
	return h.append(record{Type: "end", Run: r})
}

// List returns runs newest first. A run with a start and no end reads as
// running only while the workspace lock names it; otherwise its process died
// and it reads as interrupted.
func (h *RunLog) List(f Filter) ([]Run, error) {
	ws := filepath.Dir(h.dir)
	before, beforeOK := ReadLock(ws)
	raw, err := os.ReadFile(filepath.Join(h.dir, HistoryFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read run history: %w", err)
	}
	// A run's attempts share its ID; each attempt is one row.
	type key struct {
		id      string
		attempt int
	}
	runs := map[key]*Run{}
	var order []key
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var rec record
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.ID == "" {
			continue // a torn last line from a crash, or junk
		}
		k := key{rec.ID, rec.Attempt}
		cur := runs[k]
		if cur == nil {
			r := rec.Run
			cur = &r
			runs[k] = cur
			order = append(order, k)
		}
		if rec.Type == "end" {
			cur.End, cur.Status, cur.Rows, cur.Error = rec.End, rec.Status, rec.Rows, rec.Error
			if cur.Job == "" {
				*cur = rec.Run
			}
		}
	}
	// Re-reading the lock after the history closes the window where a run
	// started between the two reads.
	held := func(r Run) bool {
		if beforeOK && before.RunID == r.ID && before.PID == r.PID {
			return true
		}
		a, ok := ReadLock(ws)
		return ok && a.RunID == r.ID && a.PID == r.PID
	}
	out := make([]Run, 0, len(order))
	// Walk newest-written first so runs with equal start times stay newest first.
	for i := len(order) - 1; i >= 0; i-- {
		r := *runs[order[i]]
		if r.Status == StatusRunning && !held(r) {
			r.Status = StatusInterrupted
		}
		if f.Job != "" && r.Job != f.Job {
			continue
		}
		if f.FailedOnly && !r.Failed() {
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.After(out[j].Start) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// jobState is what the daemon remembers per job between restarts.
type jobState struct {
	LastFire time.Time `json:"last_fire"`
}

type stateFile struct {
	Jobs map[string]jobState `json:"jobs"`
}

func (h *RunLog) loadState() (stateFile, error) {
	st := stateFile{Jobs: map[string]jobState{}}
	raw, err := os.ReadFile(filepath.Join(h.dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read scheduler state: %w", err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return stateFile{Jobs: map[string]jobState{}}, fmt.Errorf("parse scheduler state %s: %w", filepath.Join(h.dir, StateFile), err)
	}
	if st.Jobs == nil {
		st.Jobs = map[string]jobState{}
	}
	return st, nil
}

// LastFire returns the last schedule slot handled for job, if any.
func (h *RunLog) LastFire(job string) (time.Time, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, err := h.loadState()
	if err != nil {
		return time.Time{}, false, err
	}
	s, ok := st.Jobs[job]
	return s.LastFire, ok, nil
}

// setLastFire records slot as handled for job, atomically (temp + rename).
func (h *RunLog) setLastFire(job string, slot time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, err := h.loadState()
	if err != nil {
		st = stateFile{Jobs: map[string]jobState{}} // a corrupt state file is rebuilt
	}
	if cur, ok := st.Jobs[job]; ok && cur.LastFire.After(slot) {
		return nil
	}
	st.Jobs[job] = jobState{LastFire: slot.UTC()}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode scheduler state: %w", err)
	}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return fmt.Errorf("create runs dir: %w", err)
	}
	tmp, err := os.CreateTemp(h.dir, ".state-*.json")
	if err != nil {
		return fmt.Errorf("write scheduler state: %w", err)
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), filepath.Join(h.dir, StateFile))
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write scheduler state: %w", werr)
	}
	return nil
}
