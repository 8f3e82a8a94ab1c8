package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gplens/gplens/period"
)

// RunRequest is what the Runner is asked to do for one attempt.
type RunRequest struct {
	RunID     string
	Job       string
	Trigger   string // schedule, catch-up, manual or inbox
	Steps     []string
	Period    string // YYYY-MM, or "latest" for the runner to resolve
	Areas     []string
	Attempt   int       // 1 for the first try
	Scheduled time.Time // the schedule slot (zero for manual/inbox runs)
	Files     []string  // inbox files that triggered the run, relative to the workspace
	Workspace string
}

// RunOutcome is what a successful run reports back.
type RunOutcome struct {
	Rows int64
}

// Runner performs the steps of a run. It must return promptly once ctx is
// cancelled (job timeout or shutdown).
type Runner func(ctx context.Context, r RunRequest) (RunOutcome, error)

// Deps are the daemon's collaborators.
type Deps struct {
	Workspace string
	Runner    Runner
	Clock     Clock        // default RealClock
	Logger    *slog.Logger // default slog.Default()
	// Command is recorded in the workspace lock (default "gplens schedule").
	Command string
	// InboxPoll is the inbox scan interval (default DefaultInboxPoll).
	InboxPoll time.Duration
	// ShutdownGrace, if set, caps how long a running job may continue after
	// Run's context is cancelled; by default it gets until its own timeout.
	ShutdownGrace time.Duration
}

// Daemon runs configured jobs. It is safe to call Trigger while Run is active;
// the workspace lock keeps runs one at a time.
type Daemon struct {
	jobs  map[string]*job
	order []string
	deps  Deps
	ws    string
	hist  *RunLog
	clock Clock
	log   *slog.Logger
	// onIdle, set only by tests, is called when the loop has nothing running
	// or queued and is about to block until a future time.
	onIdle func()
}

// maxSleep bounds each wait so wall-clock jumps (suspend, NTP) are noticed.
const maxSleep = time.Minute

var (
	errTimedOut = errors.New("job timed out")
	errShutdown = errors.New("scheduler shutting down")
	errCanceled = errors.New("run cancelled")
)

// New validates cfg and returns a daemon for the workspace in deps.
func New(cfg Config, deps Deps) (*Daemon, error) {
	jobs, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	if deps.Workspace == "" {
		return nil, errors.New("schedule: no workspace directory")
	}
	if deps.Runner == nil {
		return nil, errors.New("schedule: no runner")
	}
	ws, err := filepath.Abs(deps.Workspace)
	if err != nil {
		return nil, fmt.Errorf("schedule: workspace %s: %w", deps.Workspace, err)
	}
	if deps.Clock == nil {
		deps.Clock = RealClock{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Command == "" {
		deps.Command = "gplens schedule"
	}
	if deps.InboxPoll <= 0 {
		deps.InboxPoll = DefaultInboxPoll
	}
	d := &Daemon{jobs: jobs, deps: deps, ws: ws, hist: History(ws), clock: deps.Clock, log: deps.Logger}
	for _, j := range cfg.Jobs {
		d.order = append(d.order, j.Name)
	}
	return d, nil
}

// History returns the daemon's run log.
func (d *Daemon) History() *RunLog { return d.hist }

// Planned is a job's next scheduled time.
type Planned struct {
	Job      string
	Schedule string
	Timezone string
	Next     time.Time // zero for inbox-only jobs
}

// Plan lists every job with its next fire time after now.
func (d *Daemon) Plan(now time.Time) []Planned {
	out := make([]Planned, 0, len(d.order))
	for _, name := range d.order {
		j := d.jobs[name]
		p := Planned{Job: name, Schedule: j.Schedule, Timezone: j.loc.String()}
		if j.sched != nil {
			p.Next = j.sched.Next(now).In(j.loc)
		}
		out = append(out, p)
	}
	return out
}

// fire is one request to run a job (which may take several attempts).
type fire struct {
	job       *job
	trigger   string
	scheduled time.Time
	files     []string
	period    string
	areas     []string
	steps     []string
}

// TriggerOptions override a job's configured period and areas for one
// manual run.
type TriggerOptions struct {
	Period string // a rule or YYYY-MM; empty uses the job's rule
	Areas  []string
}

// Trigger runs job now, in the caller's goroutine, through the same path as a
// scheduled run (lock, history, retries, hooks) with trigger "manual".
// Cancelling ctx cancels the run. It returns the final summary, and an error
// when the run did not succeed (a *BusyError if the workspace was locked).
func (d *Daemon) Trigger(ctx context.Context, name string, opts TriggerOptions) (Summary, error) {
	j, ok := d.jobs[name]
	if !ok {
		return Summary{}, fmt.Errorf("unknown job %q (configured: %v)", name, sortedNames(d.jobs))
	}
	if opts.Period != "" && opts.Period != PeriodPreviousMonth && opts.Period != PeriodCurrentMonth &&
		opts.Period != PeriodLatest && !period.IsMonth(opts.Period) {
		return Summary{}, fmt.Errorf("period %q is not previous-month, current-month, latest or YYYY-MM", opts.Period)
	}
	f := fire{job: j, trigger: TriggerManual, period: opts.Period, areas: opts.Areas}
	s, err := d.execute(ctx, f, false)
	if err != nil {
		return s, err
	}
	if s.Status != StatusSucceeded {
		return s, fmt.Errorf("job %s %s after %d attempt(s): %s", name, s.Status, s.Attempts, s.Error)
	}
	return s, nil
}

// Run schedules jobs until ctx is cancelled. A job running at cancellation
// is allowed to finish within its timeout (or ShutdownGrace), then Run
// returns nil.
func (d *Daemon) Run(ctx context.Context) error {
	now := d.clock.Now()
	var queue []fire
	enqueue := func(f fire) {
		for i := range queue {
			if queue[i].job == f.job && queue[i].trigger == f.trigger {
				if f.trigger == TriggerInbox {
					queue[i].files = append(queue[i].files, f.files...)
				}
				d.log.Info("job already queued", "job", f.job.Name, "trigger", f.trigger)
				return
			}
		}
		queue = append(queue, f)
	}

	next := map[string]time.Time{}
	watch := false
	for _, name := range d.order {
		j := d.jobs[name]
		watch = watch || j.WatchInbox
		if j.sched == nil {
			continue
		}
		if f, ok := d.missed(j, now); ok {
			enqueue(f)
		}
		next[name] = j.sched.Next(now)
		d.log.Info("job scheduled", "job", name, "schedule", j.Schedule, "next", next[name].In(j.loc).Format(time.RFC3339))
	}
	var inbox *inboxWatcher
	var nextPoll time.Time
	if watch {
		inbox = newInboxWatcher(d.ws)
		nextPoll = now
		d.log.Info("watching inbox", "dir", inbox.dir, "poll", d.deps.InboxPoll)
	}

	done := make(chan struct{})
	busy := false
	for {
		if !busy && len(queue) > 0 {
			f := queue[0]
			queue = queue[1:]
			busy = true
			go func() {
				defer func() { done <- struct{}{} }()
				if _, err := d.execute(ctx, f, true); err != nil && !IsBusy(err) {
					d.log.Error("job run failed", "job", f.job.Name, "err", err)
				}
			}()
		}

		now = d.clock.Now()
		wake := now.Add(maxSleep)
		for _, t := range next {
			if !t.IsZero() && t.Before(wake) {
				wake = t
			}
		}
		if inbox != nil && nextPoll.Before(wake) {
			wake = nextPoll
		}
		timer := d.clock.NewTimer(wake.Sub(now))
		if d.onIdle != nil && !busy && len(queue) == 0 && wake.After(now) {
			d.onIdle()
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			if busy {
				d.log.Info("waiting for the running job to finish")
				<-done
			}
			d.log.Info("scheduler stopped")
			return nil
		case <-done:
			timer.Stop()
			busy = false
		case <-timer.C():
			now = d.clock.Now()
			for _, name := range d.order {
				t, ok := next[name]
				if !ok || t.IsZero() || t.After(now) {
					continue
				}
				j := d.jobs[name]
				d.log.Info("job due", "job", name, "slot", t.In(j.loc).Format(time.RFC3339))
				enqueue(fire{job: j, trigger: TriggerSchedule, scheduled: t})
				next[name] = j.sched.Next(now)
			}
			if inbox != nil && !nextPoll.After(now) {
				nextPoll = now.Add(d.deps.InboxPoll)
				files, err := inbox.poll()
				if err != nil {
					d.log.Error("scan inbox", "dir", inbox.dir, "err", err)
				}
				if len(files) > 0 {
					d.log.Info("new inbox files", "files", files)
					for _, name := range d.order {
						if j := d.jobs[name]; j.WatchInbox {
							enqueue(fire{job: j, trigger: TriggerInbox, files: files, steps: []string{StepIngest}})
						}
					}
				}
			}
		}
	}
}

// missed decides at start-up whether a schedule slot passed while the daemon
// was down. It returns one catch-up fire for the latest missed slot when the
// job has catch_up, and otherwise records the slots as skipped.
func (d *Daemon) missed(j *job, now time.Time) (fire, bool) {
	last, ok, err := d.hist.LastFire(j.Name)
	if err != nil {
		d.log.Warn("cannot read scheduler state; no catch-up", "job", j.Name, "err", err)
	}
	if !ok {
		// First start for this job: nothing can have been missed yet.
		d.recordFire(j.Name, now)
		return fire{}, false
	}
	var latest time.Time
	n := 0
	for s := j.sched.Next(last); !s.IsZero() && !s.After(now); s = j.sched.Next(s) {
		latest, n = s, n+1
		if n >= 100000 { // e.g. @every 1s after a long outage
			latest = now
			break
		}
	}
	if n == 0 {
		return fire{}, false
	}
	if !j.CatchUp {
		d.log.Info("missed scheduled runs while stopped; catch_up is off, skipping", "job", j.Name,
			"missed", n, "latest", latest.In(j.loc).Format(time.RFC3339))
		d.recordFire(j.Name, latest)
		return fire{}, false
	}
	d.log.Info("missed scheduled runs while stopped; catching up once", "job", j.Name,
		"missed", n, "slot", latest.In(j.loc).Format(time.RFC3339))
	return fire{job: j, trigger: TriggerCatchUp, scheduled: latest}, true
}

func (d *Daemon) recordFire(job string, slot time.Time) {
	if err := d.hist.setLastFire(job, slot); err != nil {
		d.log.Error("record last fire", "job", job, "err", err)
	}
}

// backoffDelay is the wait after failed attempt n (1-based): backoff doubled
// per attempt, capped at backoffMax.
func backoffDelay(j *job, n int) time.Duration {
	d := j.backoff
	for i := 1; i < n && d < j.backoffMax; i++ {
		d *= 2
	}
	return min(d, j.backoffMax)
}

// execute runs f with retries, then hooks. daemon selects shutdown semantics:
// a daemon run outlives ctx until its timeout; a manual one is cancelled.
func (d *Daemon) execute(ctx context.Context, f fire, daemon bool) (Summary, error) {
	j := f.job
	steps := f.steps
	if steps == nil {
		steps = j.steps
	}
	areas := f.areas
	if len(areas) == 0 {
		areas = j.Areas
	}
	rule := f.period
	if rule == "" {
		rule = j.period
	}
	at := f.scheduled
	if at.IsZero() {
		at = d.clock.Now()
	}
	host, _ := os.Hostname()
	sum := Summary{
		Job: j.Name, Trigger: f.trigger, Period: ResolvePeriod(rule, at, j.loc),
		Areas: areas, Steps: steps, Files: f.files, Workspace: d.ws, Host: host,
	}
	maxAttempts := j.Retries + 1
	var busyErr error
	// One run ID for every attempt, so the history and the hooks tell one
	// story per run; each attempt is recorded with its number.
	runID := newRunID(d.clock.Now(), j.Name)
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		req := RunRequest{
			RunID: runID, Job: j.Name, Trigger: f.trigger, Steps: slices.Clone(steps), Period: sum.Period,
			Areas: slices.Clone(areas), Attempt: attempt, Scheduled: f.scheduled,
			Files: slices.Clone(f.files), Workspace: d.ws,
		}
		run, err := d.attempt(ctx, j, req, daemon)
		sum.RunID, sum.Attempts, sum.Status = run.ID, attempt, run.Status
		sum.Rows, sum.Error, sum.End = run.Rows, run.Error, run.End
		if attempt == 1 {
			sum.Start = run.Start
		}
		if err != nil {
			busyErr = err
		}
		if run.Status == StatusSucceeded || run.Status == StatusCancelled || run.Status == StatusSkippedLocked {
			break
		}
		if attempt < maxAttempts {
			wait := backoffDelay(j, attempt)
			d.log.Warn("job attempt failed; retrying", "job", j.Name, "run", run.ID, "attempt", attempt,
				"status", run.Status, "err", run.Error, "retry_in", wait)
			if ctx.Err() != nil || !sleep(d.clock, wait, ctx.Done()) {
				break
			}
		}
	}
	sum.Seconds = sum.End.Sub(sum.Start).Seconds()

	// A slot counts as handled unless shutdown cut it short: a cancelled run,
	// or a failure whose retries were abandoned, is caught up after restart.
	cutShort := sum.Status == StatusCancelled ||
		(ctx.Err() != nil && sum.Status != StatusSucceeded && sum.Attempts < maxAttempts)
	if !f.scheduled.IsZero() && !cutShort {
		d.recordFire(j.Name, f.scheduled)
	}
	level := slog.LevelInfo
	switch sum.Status {
	case StatusFailed, StatusTimedOut:
		level = slog.LevelError
	case StatusCancelled, StatusSkippedLocked:
		level = slog.LevelWarn
	}
	d.log.Log(context.WithoutCancel(ctx), level, "job finished", "job", j.Name, "run", sum.RunID, "trigger", f.trigger,
		"period", sum.Period, "status", sum.Status, "attempts", sum.Attempts, "rows", sum.Rows, "err", sum.Error)

	hook := ""
	switch sum.Status {
	case StatusSucceeded:
		hook = j.OnSuccess
	case StatusFailed, StatusTimedOut:
		hook = j.OnFailure
	}
	if hook != "" {
		// Hooks run even during shutdown: they report what just happened.
		if err := runHook(context.WithoutCancel(ctx), hook, sum, j.hookTimeout); err != nil {
			d.log.Error("hook failed", "job", j.Name, "run", sum.RunID, "err", err)
		}
	}
	return sum, busyErr
}

// attempt makes one locked, recorded call of the runner.
func (d *Daemon) attempt(ctx context.Context, j *job, req RunRequest, daemon bool) (Run, error) {
	host, _ := os.Hostname()
	start := d.clock.Now()
	if req.RunID == "" {
		req.RunID = newRunID(start, j.Name)
	}
	run := Run{
		ID: req.RunID, Job: j.Name, Trigger: req.Trigger, Period: req.Period, Areas: req.Areas,
		Steps: req.Steps, Attempt: req.Attempt, Start: start.UTC(), PID: os.Getpid(), Host: host,
	}
	lock, err := acquireLock(d.ws, LockInfo{Command: d.deps.Command, Job: j.Name, RunID: run.ID}, d.log, start)
	if err != nil {
		run.Status, run.End, run.Error = StatusSkippedLocked, start.UTC(), err.Error()
		if !IsBusy(err) {
			run.Status = StatusFailed
		} else {
			d.log.Warn("workspace busy; skipping run", "job", j.Name, "err", err)
		}
		if herr := d.hist.begin(run); herr == nil {
			d.logHistErr(d.hist.finish(run))
		} else {
			d.logHistErr(herr)
		}
		return run, err
	}
	defer func() {
		if err := lock.Release(); err != nil {
			d.log.Error("release workspace lock", "err", err)
		}
	}()
	if err := d.hist.begin(run); err != nil {
		run.Status, run.End, run.Error = StatusFailed, d.clock.Now().UTC(), err.Error()
		d.log.Error("cannot record run start; not running", "job", j.Name, "err", err)
		return run, nil
	}
	d.log.Info("job started", "job", j.Name, "run", run.ID, "trigger", req.Trigger, "period", req.Period, "attempt", req.Attempt)

	out, status, rerr := d.call(ctx, j, req, daemon)
	run.End, run.Status, run.Rows = d.clock.Now().UTC(), status, out.Rows
	if rerr != nil {
		run.Error = rerr.Error()
	}
	d.logHistErr(d.hist.finish(run))
	return run, nil
}

func (d *Daemon) logHistErr(err error) {
	if err != nil {
		d.log.Error("write run history", "err", err)
	}
}

// call runs the runner with the job timeout (on the injected clock) and the
// shutdown rules, and classifies the result.
func (d *Daemon) call(ctx context.Context, j *job, req RunRequest, daemon bool) (RunOutcome, string, error) {
	runCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	type result struct {
		out RunOutcome
		err error
	}
	res := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				res <- result{err: fmt.Errorf("runner panicked: %v", p)}
			}
		}()
		out, err := d.deps.Runner(runCtx, req)
		res <- result{out, err}
	}()
	timeout := d.clock.NewTimer(j.timeout)
	defer timeout.Stop()
	timeoutC := timeout.C()
	ctxDone := ctx.Done()
	var graceC <-chan time.Time
	for {
		select {
		case r := <-res:
			switch cause := context.Cause(runCtx); {
			case errors.Is(cause, errTimedOut):
				return r.out, StatusTimedOut, fmt.Errorf("timed out after %s", j.timeout)
			case errors.Is(cause, errShutdown), errors.Is(cause, errCanceled):
				return r.out, StatusCancelled, cause
			case r.err != nil:
				return r.out, StatusFailed, r.err
			default:
				return r.out, StatusSucceeded, nil
			}
		case <-timeoutC:
			timeoutC = nil
			d.log.Warn("job timed out; cancelling", "job", j.Name, "run", req.RunID, "timeout", j.timeout)
			cancel(errTimedOut)
		case <-ctxDone:
			ctxDone = nil
			switch {
			case !daemon:
				cancel(errCanceled)
			case d.deps.ShutdownGrace > 0:
				g := d.clock.NewTimer(d.deps.ShutdownGrace)
				defer g.Stop()
				graceC = g.C()
				d.log.Info("shutting down; giving the running job its grace period", "job", j.Name, "grace", d.deps.ShutdownGrace)
			default:
				d.log.Info("shutting down; letting the running job finish within its timeout", "job", j.Name, "timeout", j.timeout)
			}
		case <-graceC:
			graceC = nil
			cancel(errShutdown)
		}
	}
}

// NewRunID returns a fresh run ID for job: its start time, the job and a
// random suffix, so IDs sort by time and never collide.
func NewRunID(t time.Time, job string) string { return newRunID(t, job) }

func newRunID(t time.Time, job string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + job + "-" + hex.EncodeToString(b[:])
}
