package schedule

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const helperEnv = "GPLENS_SCHEDULE_TEST_HELPER_WS"

func TestMain(m *testing.M) {
	if ws := os.Getenv(helperEnv); ws != "" {
		killHelper(ws)
		return
	}
	os.Exit(m.Run())
}

// killHelper runs in a child test process: it triggers a job whose runner
// announces "ready" (after the lock is taken and the start record written)
// and then hangs until the parent kills it with SIGKILL.
func killHelper(ws string) {
	d, err := New(Config{Jobs: []Job{{Name: "monthly-packs", Schedule: "@monthly"}}}, Deps{
		Workspace: ws,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Command:   "gplens trigger",
		Runner: func(ctx context.Context, r RunRequest) (RunOutcome, error) {
			fmt.Println("ready")
			for {
				time.Sleep(time.Minute)
			}
		},
	})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	_, err = d.Trigger(context.Background(), "monthly-packs", TriggerOptions{})
	fmt.Println("error: trigger returned", err)
	os.Exit(3)
}

// recorder is a Runner that records requests and delegates to fn.
type recorder struct {
	mu    sync.Mutex
	calls []RunRequest
	ch    chan RunRequest
	fn    func(ctx context.Context, r RunRequest) (RunOutcome, error)
}

func newRecorder(fn func(ctx context.Context, r RunRequest) (RunOutcome, error)) *recorder {
	if fn == nil {
		fn = func(context.Context, RunRequest) (RunOutcome, error) { return RunOutcome{Rows: 42}, nil }
	}
	return &recorder{ch: make(chan RunRequest, 100), fn: fn}
}

func (r *recorder) run(ctx context.Context, req RunRequest) (RunOutcome, error) {
	r.mu.Lock()
	r.calls = append(r.calls, req)
	r.mu.Unlock()
	r.ch <- req
	return r.fn(ctx, req)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func (r *recorder) next(t *testing.T) RunRequest {
	t.Helper()
	select {
	case req := <-r.ch:
		return req
	case <-time.After(5 * time.Second):
		t.Fatal("runner was not called")
		return RunRequest{}
	}
}

// waitFor polls cond (tiny real sleeps) for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type harness struct {
	d     *Daemon
	clk   *FakeClock
	rec   *recorder
	log   *syncBuffer
	idle  atomic.Int64
	stop  context.CancelFunc
	done  chan error
	wsDir string
}

func newHarness(t *testing.T, ws string, clk *FakeClock, jobs []Job, rec *recorder) *harness {
	t.Helper()
	log, buf := testLogger()
	d, err := New(Config{Jobs: jobs}, Deps{Workspace: ws, Runner: rec.run, Clock: clk, Logger: log, InboxPoll: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{d: d, clk: clk, rec: rec, log: buf, wsDir: ws}
	d.onIdle = func() { h.idle.Add(1) }
	return h
}

func (h *harness) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.d.Run(ctx) }()
	t.Cleanup(func() { h.shutdown(t) })
}

// shutdown cancels Run and waits for it to return.
func (h *harness) shutdown(t *testing.T) {
	t.Helper()
	if h.stop == nil {
		return
	}
	h.stop()
	h.stop = nil
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// settle waits until the daemon loop has gone idle after the given idle count.
func (h *harness) settle(t *testing.T, after int64) {
	t.Helper()
	waitFor(t, "daemon idle", func() bool { return h.idle.Load() > after })
}

// advanceTo moves the fake clock to t once the daemon is idle.
func (h *harness) advanceTo(t *testing.T, at time.Time) {
	t.Helper()
	n := h.idle.Load()
	due := len(h.clk.Pending()) > 0 && !h.clk.Pending()[0].After(at)
	h.clk.Set(at)
	if due { // otherwise the loop does not wake, so there is nothing to wait for
		h.settle(t, n)
	}
}

func utcTime(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

func TestDaemonFiresAtLondonTimesAcrossDST(t *testing.T) {
	ws := t.TempDir()
	clk := NewFakeClock(utcTime(2024, 3, 29, 12, 0))
	rec := newRecorder(nil)
	h := newHarness(t, ws, clk, []Job{{Name: "daily", Schedule: "0 6 * * *", Areas: []string{"QHM"}}}, rec)
	h.start(t)
	h.settle(t, 0)
	slots := []struct {
		at     time.Time
		period string
	}{
		{utcTime(2024, 3, 30, 6, 0), "2024-02"}, // GMT
		{utcTime(2024, 3, 31, 5, 0), "2024-02"}, // BST from 01:00 UTC on the 31st
		{utcTime(2024, 4, 1, 5, 0), "2024-03"},
	}
	for _, s := range slots {
		// One second early nothing may fire.
		before := rec.count()
		h.advanceTo(t, s.at.Add(-time.Second))
		if rec.count() != before {
			t.Fatalf("fired before %s: %+v", s.at, rec.calls[len(rec.calls)-1])
		}
		h.advanceTo(t, s.at)
		req := rec.next(t)
		if !req.Scheduled.Equal(s.at) || req.Trigger != TriggerSchedule || req.Period != s.period || req.Attempt != 1 {
			t.Errorf("run = %+v, want slot %s period %s", req, s.at, s.period)
		}
		if got := rec.count(); got != before+1 {
			t.Errorf("runs after slot %s = %d, want %d", s.at, got, before+1)
		}
		if !slices.Equal(req.Areas, []string{"QHM"}) || !slices.Equal(req.Steps, []string{StepRun}) {
			t.Errorf("areas/steps = %v/%v", req.Areas, req.Steps)
		}
	}
	h.shutdown(t)
	runs, err := History(ws).List(Filter{Job: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].Status != StatusSucceeded || runs[0].Rows != 42 || runs[0].Period != "2024-03" {
		t.Errorf("history = %+v", runs)
	}
}

func TestDaemonCatchUp(t *testing.T) {
	tests := []struct {
		name    string
		catchUp bool
		noState bool
		want    int
	}{
		{"missed slots run once", true, false, 1},
		{"catch_up off skips", false, false, 0},
		{"first start has nothing to catch up", true, true, 0},
	}
	lastSlot := utcTime(2024, 4, 1, 5, 0) // 06:00 BST on 1 April
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			if !tc.noState {
				// Last handled slot in January: February, March and April were missed.
				if err := History(ws).setLastFire("monthly", utcTime(2024, 1, 1, 6, 0)); err != nil {
					t.Fatal(err)
				}
			}
			jobs := []Job{{Name: "monthly", Schedule: "0 6 1 * *", CatchUp: tc.catchUp}}
			now := utcTime(2024, 4, 15, 10, 0)
			rec := newRecorder(nil)
			h := newHarness(t, ws, NewFakeClock(now), jobs, rec)
			h.start(t)
			h.settle(t, 0)
			h.shutdown(t)
			if got := rec.count(); got != tc.want {
				t.Fatalf("runs = %d, want %d", got, tc.want)
			}
			if tc.want == 1 {
				req := rec.calls[0]
				if req.Trigger != TriggerCatchUp || !req.Scheduled.Equal(lastSlot) || req.Period != "2024-03" {
					t.Errorf("catch-up run = %+v", req)
				}
			}
			last, ok, err := History(ws).LastFire("monthly")
			wantLast := lastSlot
			if tc.noState {
				wantLast = now
			}
			if err != nil || !ok || !last.Equal(wantLast) {
				t.Errorf("last fire = %s %v %v, want %s", last, ok, err, wantLast)
			}

			// A restart later the same month has nothing more to catch up.
			rec2 := newRecorder(nil)
			h2 := newHarness(t, ws, NewFakeClock(now.Add(time.Hour)), jobs, rec2)
			h2.start(t)
			h2.settle(t, 0)
			h2.shutdown(t)
			if rec2.count() != 0 {
				t.Errorf("restart ran %d more times", rec2.count())
			}
		})
	}
}

func TestRetriesBackOff(t *testing.T) {
	tests := []struct {
		name       string
		retries    int
		backoff    string
		backoffMax string
		succeedAt  int // attempt that succeeds; 0 = never
		wantDelays []time.Duration
		wantStatus string
	}{
		{"doubles", 3, "30s", "", 0, []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute}, StatusFailed},
		{"capped", 4, "1m", "3m", 0, []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute}, StatusFailed},
		{"no retries", 0, "", "", 0, nil, StatusFailed},
		{"stops on success", 5, "10s", "", 2, []time.Duration{10 * time.Second}, StatusSucceeded},
	}
	const timeout = 5 * time.Hour // distinct from any backoff so requests can be told apart
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			clk := NewFakeClock(utcTime(2024, 4, 2, 9, 0))
			rec := newRecorder(func(_ context.Context, r RunRequest) (RunOutcome, error) {
				if r.Attempt == tc.succeedAt {
					return RunOutcome{Rows: 7}, nil
				}
				return RunOutcome{}, fmt.Errorf("boom %d", r.Attempt)
			})
			jobs := []Job{{Name: "j", Schedule: "@daily", Retries: tc.retries, Backoff: tc.backoff, BackoffMax: tc.backoffMax, Timeout: timeout.String()}}
			h := newHarness(t, ws, clk, jobs, rec)
			type result struct {
				s   Summary
				err error
			}
			res := make(chan result, 1)
			go func() {
				s, err := h.d.Trigger(context.Background(), "j", TriggerOptions{Period: "2024-01"})
				res <- result{s, err}
			}()
			backoffs := func() []time.Duration {
				var out []time.Duration
				for _, d := range clk.Requests() {
					if d != timeout {
						out = append(out, d)
					}
				}
				return out
			}
			for i, want := range tc.wantDelays {
				waitFor(t, fmt.Sprintf("backoff %d", i+1), func() bool { return len(backoffs()) == i+1 })
				if got := backoffs()[i]; got != want {
					t.Fatalf("backoff %d = %s, want %s", i+1, got, want)
				}
				clk.Advance(want)
			}
			var r result
			select {
			case r = <-res:
			case <-time.After(5 * time.Second):
				t.Fatal("Trigger did not return")
			}
			wantAttempts := len(tc.wantDelays) + 1
			if r.s.Status != tc.wantStatus || r.s.Attempts != wantAttempts || rec.count() != wantAttempts {
				t.Errorf("summary = %+v, runner calls %d; want %s after %d attempts", r.s, rec.count(), tc.wantStatus, wantAttempts)
			}
			if (r.err == nil) != (tc.wantStatus == StatusSucceeded) {
				t.Errorf("Trigger err = %v", r.err)
			}
			if got := len(backoffs()); got != len(tc.wantDelays) {
				t.Errorf("%d backoff waits asked of the clock, want %d", got, len(tc.wantDelays))
			}
			for i, c := range rec.calls {
				if c.Attempt != i+1 || c.Period != "2024-01" || c.Trigger != TriggerManual {
					t.Errorf("call %d = %+v", i, c)
				}
			}
			runs, _ := History(ws).List(Filter{})
			if len(runs) != wantAttempts {
				t.Fatalf("history has %d runs, want %d", len(runs), wantAttempts)
			}
			if runs[0].Status != tc.wantStatus {
				t.Errorf("last attempt status %s", runs[0].Status)
			}
			// One run ID across the retries, each attempt numbered, and the
			// same ID for the hooks.
			for i, run := range runs {
				if run.ID != r.s.RunID || run.Attempt != wantAttempts-i {
					t.Errorf("history row %d = %s attempt %d; want %s attempt %d", i, run.ID, run.Attempt, r.s.RunID, wantAttempts-i)
				}
			}
			for _, c := range rec.calls {
				if c.RunID != r.s.RunID {
					t.Errorf("attempt %d ran as %s, want %s", c.Attempt, c.RunID, r.s.RunID)
				}
			}
		})
	}
}

func TestTimeoutCancelsAndRecordsTimedOut(t *testing.T) {
	ws := t.TempDir()
	clk := NewFakeClock(utcTime(2024, 4, 2, 9, 0))
	var sawCancel atomic.Bool
	rec := newRecorder(func(ctx context.Context, r RunRequest) (RunOutcome, error) {
		<-ctx.Done()
		sawCancel.Store(true)
		return RunOutcome{}, ctx.Err()
	})
	h := newHarness(t, ws, clk, []Job{{Name: "slow", Schedule: "@daily", Timeout: "10m"}}, rec)
	res := make(chan Summary, 1)
	go func() {
		s, _ := h.d.Trigger(context.Background(), "slow", TriggerOptions{})
		res <- s
	}()
	rec.next(t)
	if !clk.WaitTimers(1, 5*time.Second) {
		t.Fatal("no timeout timer")
	}
	clk.Advance(9 * time.Minute)
	select {
	case s := <-res:
		t.Fatalf("run ended before its timeout: %+v", s)
	default:
	}
	clk.Advance(time.Minute)
	var s Summary
	select {
	case s = <-res:
	case <-time.After(5 * time.Second):
		t.Fatal("run was not cancelled at its timeout")
	}
	if s.Status != StatusTimedOut || !sawCancel.Load() || !strings.Contains(s.Error, "timed out after 10m") {
		t.Errorf("summary = %+v, runner saw cancel %v", s, sawCancel.Load())
	}
	runs, _ := History(ws).List(Filter{FailedOnly: true})
	if len(runs) != 1 || runs[0].Status != StatusTimedOut || runs[0].Duration() != 10*time.Minute {
		t.Errorf("history = %+v", runs)
	}
	if _, ok := ReadLock(ws); ok {
		t.Error("lock still held after the timed-out run")
	}
}

func TestShutdownLetsJobFinishOrCancelsAfterGrace(t *testing.T) {
	for _, grace := range []time.Duration{0, 30 * time.Second} {
		t.Run(fmt.Sprintf("grace=%s", grace), func(t *testing.T) {
			ws := t.TempDir()
			clk := NewFakeClock(utcTime(2024, 4, 1, 4, 59))
			release := make(chan struct{})
			rec := newRecorder(func(ctx context.Context, r RunRequest) (RunOutcome, error) {
				select {
				case <-release:
					return RunOutcome{Rows: 1}, nil
				case <-ctx.Done():
					return RunOutcome{}, ctx.Err()
				}
			})
			log, _ := testLogger()
			d, err := New(Config{Jobs: []Job{{Name: "m", Schedule: "0 6 1 * *", Timeout: "1h"}}},
				Deps{Workspace: ws, Runner: rec.run, Clock: clk, Logger: log, ShutdownGrace: grace})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()
			clk.WaitTimers(1, 5*time.Second)
			clk.Set(utcTime(2024, 4, 1, 5, 0))
			rec.next(t)
			cancel()
			if grace > 0 {
				waitFor(t, "grace timer", func() bool { return hasDeadline(clk, clk.Now().Add(grace)) })
				clk.Advance(grace)
			} else {
				select {
				case <-done:
					t.Fatal("Run returned while the job was still running")
				case <-time.After(20 * time.Millisecond):
				}
				close(release)
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return")
			}
			runs, _ := History(ws).List(Filter{})
			want := StatusSucceeded
			if grace > 0 {
				want = StatusCancelled
			}
			if len(runs) != 1 || runs[0].Status != want {
				t.Errorf("history = %+v, want one %s run", runs, want)
			}
			// A slot cut short by shutdown stays unhandled so catch-up redoes it.
			wantLast := utcTime(2024, 4, 1, 5, 0)
			if grace > 0 {
				wantLast = utcTime(2024, 4, 1, 4, 59)
			}
			if last, _, _ := History(ws).LastFire("m"); !last.Equal(wantLast) {
				t.Errorf("last fire = %s, want %s", last, wantLast)
			}
		})
	}
}

func hasDeadline(c *FakeClock, at time.Time) bool {
	for _, p := range c.Pending() {
		if p.Equal(at) {
			return true
		}
	}
	return false
}

func TestTwoDaemonsOneWorkspace(t *testing.T) {
	ws := t.TempDir()
	clk := NewFakeClock(utcTime(2024, 4, 1, 4, 0))
	release := make(chan struct{})
	rec := newRecorder(func(ctx context.Context, r RunRequest) (RunOutcome, error) {
		<-release
		return RunOutcome{Rows: 3}, nil
	})
	jobs := []Job{{Name: "monthly-packs", Schedule: "0 6 1 * *"}}
	a := newHarness(t, ws, clk, jobs, rec)
	b := newHarness(t, ws, clk, jobs, rec)
	a.start(t)
	b.start(t)
	a.settle(t, 0)
	b.settle(t, 0)
	clk.Set(utcTime(2024, 4, 1, 5, 0))
	rec.next(t)
	hist := History(ws)
	waitFor(t, "the second daemon to record skipped_locked", func() bool {
		runs, _ := hist.List(Filter{})
		return len(runs) == 2 && slices.ContainsFunc(runs, func(r Run) bool { return r.Status == StatusSkippedLocked })
	})
	runs, _ := hist.List(Filter{})
	for _, r := range runs {
		if r.Status == StatusSkippedLocked && !strings.Contains(r.Error, "is busy") {
			t.Errorf("skipped run error = %q", r.Error)
		}
		if r.Status != StatusSkippedLocked && r.Status != StatusRunning {
			t.Errorf("unexpected run %+v", r)
		}
	}
	// A manual run is refused while a job runs.
	if _, err := AcquireLock(ws, "gplens run"); !IsBusy(err) || !strings.Contains(err.Error(), "running job monthly-packs") {
		t.Errorf("manual lock during job = %v", err)
	}
	close(release)
	waitFor(t, "the run to finish", func() bool {
		runs, _ := hist.List(Filter{})
		return slices.ContainsFunc(runs, func(r Run) bool { return r.Status == StatusSucceeded })
	})
	a.shutdown(t)
	b.shutdown(t)
	if rec.count() != 1 {
		t.Errorf("runner called %d times, want 1", rec.count())
	}
	// With no job running the workspace is free again.
	l, err := AcquireLock(ws, "gplens run")
	if err != nil {
		t.Fatalf("lock after jobs: %v", err)
	}
	l.Release()
}

func TestKill9ThenRestart(t *testing.T) {
	ws := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+ws)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
	}()
	select {
	case l := <-line:
		if l != "ready" {
			t.Fatalf("helper said %q", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("helper never became ready")
	}

	hist := History(ws)
	runs, err := hist.List(Filter{})
	if err != nil || len(runs) != 1 || runs[0].Status != StatusRunning || runs[0].PID != cmd.Process.Pid {
		t.Fatalf("while helper runs: %+v %v", runs, err)
	}
	_, err = AcquireLock(ws, "gplens run")
	if !IsBusy(err) || !strings.Contains(err.Error(), fmt.Sprintf(`"gplens trigger" (pid %d) running job monthly-packs`, cmd.Process.Pid)) {
		t.Fatalf("lock while helper runs = %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed = true

	runs, _ = hist.List(Filter{})
	if len(runs) != 1 || runs[0].Status != StatusInterrupted {
		t.Fatalf("after kill -9: %+v", runs)
	}

	// Restart: the next run recovers the stale lock and completes.
	clk := NewFakeClock(time.Now().Add(time.Minute))
	rec := newRecorder(nil)
	h := newHarness(t, ws, clk, []Job{{Name: "monthly-packs", Schedule: "@monthly"}}, rec)
	s, err := h.d.Trigger(context.Background(), "monthly-packs", TriggerOptions{})
	if err != nil || s.Status != StatusSucceeded {
		t.Fatalf("run after restart: %+v %v", s, err)
	}
	if !strings.Contains(h.log.String(), "recovered stale workspace lock") {
		t.Errorf("no stale-lock log line:\n%s", h.log)
	}
	runs, _ = hist.List(Filter{})
	if len(runs) != 2 || runs[0].Status != StatusSucceeded || runs[1].Status != StatusInterrupted {
		t.Errorf("history after restart: %+v", runs)
	}
	failed, _ := hist.List(Filter{FailedOnly: true})
	if len(failed) != 1 || failed[0].Status != StatusInterrupted {
		t.Errorf("--failed lists %+v", failed)
	}
	if _, ok := ReadLock(ws); ok {
		t.Error("lock left behind")
	}
}

func TestInboxTriggersIngestOnce(t *testing.T) {
	ws := t.TempDir()
	inbox := ws + "/inbox"
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) {
		if err := os.WriteFile(inbox+"/"+name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ACH_2324.csv", "a,b\n1,2\n")
	write("big.csv.part", "partial")
	clk := NewFakeClock(utcTime(2024, 4, 2, 9, 0))
	rec := newRecorder(nil)
	jobs := []Job{
		{Name: "packs", Schedule: "0 6 1 * *"},
		{Name: "ingest", WatchInbox: true, Period: "latest"},
	}
	h := newHarness(t, ws, clk, jobs, rec)
	h.start(t)
	h.settle(t, 0)
	if rec.count() != 0 {
		t.Fatal("ran on first sight of a file")
	}
	h.advanceTo(t, clk.Now().Add(10*time.Second))
	req := rec.next(t)
	if req.Job != "ingest" || req.Trigger != TriggerInbox || !slices.Equal(req.Steps, []string{StepIngest}) ||
		!slices.Equal(req.Files, []string{"inbox/ACH_2324.csv"}) || req.Period != "latest" {
		t.Errorf("inbox run = %+v", req)
	}
	for i := 0; i < 3; i++ {
		h.advanceTo(t, clk.Now().Add(10*time.Second))
	}
	h.shutdown(t)
	if rec.count() != 1 {
		t.Errorf("runner called %d times, want 1: %+v", rec.count(), rec.calls)
	}
}

func TestTriggerUnknownJobAndBadPeriod(t *testing.T) {
	rec := newRecorder(nil)
	h := newHarness(t, t.TempDir(), NewFakeClock(time.Now()), []Job{{Name: "a", Schedule: "@daily"}}, rec)
	if _, err := h.d.Trigger(context.Background(), "b", TriggerOptions{}); err == nil || !strings.Contains(err.Error(), `unknown job "b"`) {
		t.Errorf("unknown job err = %v", err)
	}
	if _, err := h.d.Trigger(context.Background(), "a", TriggerOptions{Period: "April"}); err == nil {
		t.Error("bad period accepted")
	}
	if rec.count() != 0 {
		t.Error("runner called")
	}
}

func TestTriggerCancelledByContext(t *testing.T) {
	ws := t.TempDir()
	rec := newRecorder(func(ctx context.Context, r RunRequest) (RunOutcome, error) {
		<-ctx.Done()
		return RunOutcome{}, ctx.Err()
	})
	h := newHarness(t, ws, NewFakeClock(time.Now()), []Job{{Name: "a", Schedule: "@daily", Retries: 3}}, rec)
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() {
		_, err := h.d.Trigger(ctx, "a", TriggerOptions{})
		res <- err
	}()
	rec.next(t)
	cancel()
	select {
	case err := <-res:
		if err == nil || !strings.Contains(err.Error(), StatusCancelled) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Trigger ignored cancellation")
	}
	runs, _ := History(ws).List(Filter{})
	if len(runs) != 1 || runs[0].Status != StatusCancelled || rec.count() != 1 {
		t.Errorf("history = %+v, calls %d (no retries after cancel)", runs, rec.count())
	}
}
