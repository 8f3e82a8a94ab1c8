package schedule

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"
)

// ManualRun is a run made outside the scheduler (`gplens run`): it holds the
// workspace lock naming its run ID and is in the history like a scheduled
// run, so `gplens runs` shows it, and shows it interrupted if it dies.
type ManualRun struct {
	run  Run
	lock *Lock
	hist *RunLog
}

// BeginManual takes the workspace lock for command and records the start of
// a manual run of job (a name for the history, e.g. "run").
func BeginManual(ws, command, job, period string, steps []string, log *slog.Logger) (*ManualRun, error) {
	now := time.Now()
	host, _ := os.Hostname()
	r := Run{ID: newRunID(now, job), Job: job, Trigger: TriggerManual, Period: period, Steps: steps,
		Attempt: 1, Start: now.UTC(), PID: os.Getpid(), Host: host}
	lock, err := acquireLock(ws, LockInfo{Command: command, Job: job, RunID: r.ID}, log, now)
	if err != nil {
		return nil, err
	}
	h := History(ws)
	if err := h.begin(r); err != nil {
		_ = lock.Release()
		return nil, err
	}
	return &ManualRun{run: r, lock: lock, hist: h}, nil
}

// ID is the run's ID.
func (m *ManualRun) ID() string { return m.run.ID }

// Finish records how the run ended (failed with runErr's text, cancelled
// when runErr is a context cancellation) and releases the lock.
func (m *ManualRun) Finish(rows int64, runErr error) error {
	r := m.run
	r.End, r.Rows, r.Status = time.Now().UTC(), rows, StatusSucceeded
	switch {
	case errors.Is(runErr, context.Canceled):
		r.Status, r.Error = StatusCancelled, runErr.Error()
	case runErr != nil:
		r.Status, r.Error = StatusFailed, runErr.Error()
	}
	herr := m.hist.finish(r)
	return errors.Join(herr, m.lock.Release())
}
