package schedule

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestManualRunIsInTheHistory(t *testing.T) {
	ws := t.TempDir()
	m, err := BeginManual(ws, "gplens run", "run", "2024-03", []string{"run"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := History(ws).List(Filter{})
	if err != nil || len(runs) != 1 || runs[0].Status != StatusRunning || runs[0].Trigger != TriggerManual || runs[0].ID != m.ID() {
		t.Fatalf("while running: %+v %v", runs, err)
	}
	if _, err := AcquireLock(ws, "gplens ingest"); !IsBusy(err) {
		t.Errorf("a manual run must hold the workspace lock; got %v", err)
	}
	if err := m.Finish(3, errors.New("1 of 2 files refused: \"bad.csv\"")); err != nil {
		t.Fatal(err)
	}
	runs, _ = History(ws).List(Filter{})
	if len(runs) != 1 || runs[0].Status != StatusFailed || runs[0].Error == "" || runs[0].Rows != 3 {
		t.Fatalf("after a failed run: %+v", runs)
	}
	if _, ok := ReadLock(ws); ok {
		t.Error("lock still held after Finish")
	}
}

// A run whose process died reads as interrupted at once, even while its
// lock file (now stale) still names it.
func TestDeadRunReadsInterrupted(t *testing.T) {
	ws := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	r := Run{ID: "r-dead", Job: "monthly", Trigger: TriggerSchedule, Attempt: 2, Start: time.Now().UTC(), PID: dead.Process.Pid, Host: host}
	h := History(ws)
	if err := h.begin(r); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(LockInfo{PID: dead.Process.Pid, Host: host, Started: r.Start, Command: "gplens schedule", Job: "monthly", RunID: "r-dead"})
	os.WriteFile(filepath.Join(ws, LockFile), b, 0o644)
	runs, err := h.List(Filter{FailedOnly: true})
	if err != nil || len(runs) != 1 || runs[0].Status != StatusInterrupted || runs[0].Attempt != 2 {
		t.Fatalf("dead run reads %+v %v; want interrupted", runs, err)
	}
}
