package schedule

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestHistoryListFilters(t *testing.T) {
	ws := t.TempDir()
	h := History(ws)
	base := utcTime(2024, 4, 1, 5, 0)
	host, _ := os.Hostname()
	add := func(id, job, status string, at time.Duration) {
		r := Run{ID: id, Job: job, Trigger: TriggerSchedule, Period: "2024-03", Attempt: 1, Start: base.Add(at), PID: os.Getpid(), Host: host}
		if err := h.begin(r); err != nil {
			t.Fatal(err)
		}
		if status != "" {
			r.Status, r.End, r.Rows = status, r.Start.Add(time.Minute), 10
			if err := h.finish(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("r1", "a", StatusSucceeded, 0)
	add("r2", "b", StatusFailed, time.Hour)
	add("r3", "a", StatusTimedOut, 2*time.Hour)
	add("r4", "a", "", 3*time.Hour) // no end and no lock: interrupted
	add("r5", "b", StatusSkippedLocked, 4*time.Hour)
	// A torn line from a crash mid-write must not break reading.
	f, _ := os.OpenFile(filepath.Join(ws, RunsDir, HistoryFile), os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`{"type":"start","id":"r6","jo`)
	f.Close()

	ids := func(runs []Run) (out []string) {
		for _, r := range runs {
			out = append(out, r.ID+":"+r.Status)
		}
		return out
	}
	tests := []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"r5:skipped_locked", "r4:interrupted", "r3:timed_out", "r2:failed", "r1:succeeded"}},
		{Filter{Job: "a"}, []string{"r4:interrupted", "r3:timed_out", "r1:succeeded"}},
		{Filter{FailedOnly: true}, []string{"r4:interrupted", "r3:timed_out", "r2:failed"}},
		{Filter{Job: "b", FailedOnly: true}, []string{"r2:failed"}},
		{Filter{Limit: 2}, []string{"r5:skipped_locked", "r4:interrupted"}},
	}
	for _, tc := range tests {
		runs, err := h.List(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		got := ids(runs)
		if len(got) != len(tc.want) {
			t.Errorf("List(%+v) = %v, want %v", tc.f, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("List(%+v) = %v, want %v", tc.f, got, tc.want)
				break
			}
		}
	}

	// The same start with a live lock naming it reads as running.
	l, err := acquireLock(ws, LockInfo{Command: "gplens schedule", Job: "a", RunID: "r4"}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	runs, _ := h.List(Filter{Job: "a", Limit: 1})
	if len(runs) != 1 || runs[0].Status != StatusRunning {
		t.Errorf("locked run reads %+v", runs)
	}
}

func TestHistoryEmptyWorkspace(t *testing.T) {
	runs, err := History(t.TempDir()).List(Filter{})
	if err != nil || len(runs) != 0 {
		t.Errorf("List on empty workspace = %v, %v", runs, err)
	}
}

func BenchmarkHistoryList(b *testing.B) {
	ws := b.TempDir()
	h := History(ws)
	start := utcTime(2020, 1, 1, 6, 0)
	for i := 0; i < 2000; i++ {
		r := Run{ID: "r" + strconv.Itoa(i), Job: "j", Trigger: TriggerSchedule, Period: "2024-03", Attempt: 1, Start: start.Add(time.Duration(i) * time.Hour)}
		_ = h.begin(r)
		r.Status, r.End = StatusSucceeded, r.Start.Add(time.Minute)
		_ = h.finish(r)
	}
	b.ResetTimer()
	for b.Loop() {
		runs, err := h.List(Filter{Job: "j", Limit: 20})
		if err != nil || len(runs) != 20 {
			b.Fatal(err, len(runs))
		}
	}
}
