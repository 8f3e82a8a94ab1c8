package schedule

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	return cmd.Process.Pid
}

func writeLockFile(t *testing.T, ws string, info LockInfo) {
	t.Helper()
	raw, _ := json.Marshal(info)
	if err := os.WriteFile(filepath.Join(ws, LockFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLockBusyAndRelease(t *testing.T) {
	ws := t.TempDir()
	log, _ := testLogger()
	since := time.Date(2024, 4, 1, 6, 0, 0, 0, time.UTC)
	l, err := acquireLock(ws, LockInfo{Command: "gplens schedule", Job: "monthly-packs"}, log, since)
	if err != nil {
		t.Fatal(err)
	}
	_, err = AcquireLock(ws, "gplens run")
	var be *BusyError
	if !errors.As(err, &be) || !IsBusy(err) {
		t.Fatalf("second acquire = %v, want *BusyError", err)
	}
	want := `workspace ` + ws + ` is busy: "gplens schedule" (pid ` + itoa(os.Getpid()) +
		`) running job monthly-packs since 2024-04-01T06:00:00Z; try again when it finishes`
	if err.Error() != want {
		t.Errorf("busy message:\n got %s\nwant %s", err, want)
	}
	if info, ok := ReadLock(ws); !ok || info.Job != "monthly-packs" {
		t.Errorf("ReadLock = %+v, %v", info, ok)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	l2, err := AcquireLock(ws, "gplens run")
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	defer l2.Release()
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestLockStaleAndForeign(t *testing.T) {
	host, _ := os.Hostname()
	tests := []struct {
		name       string
		holder     LockInfo
		wantBusy   bool
		wantLogged bool
	}{
		{"dead pid on this host is recovered", LockInfo{PID: -1, Host: host, Command: "gplens run"}, false, true},
		{"live pid on this host is busy", LockInfo{PID: os.Getppid(), Host: host, Command: "gplens run"}, true, false},
		{"other host is assumed alive", LockInfo{PID: -1, Host: "elsewhere.example", Command: "gplens run"}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			h := tc.holder
			if h.PID == -1 {
				h.PID = deadPID(t)
			}
			h.Started = time.Now().Add(-time.Hour)
			writeLockFile(t, ws, h)
			log, buf := testLogger()
			l, err := acquireLock(ws, LockInfo{Command: "gplens trigger"}, log, time.Now())
			if tc.wantBusy {
				if !IsBusy(err) {
					t.Fatalf("acquire = %v, want busy", err)
				}
				if h.Host != host && !strings.Contains(err.Error(), "on "+h.Host) {
					t.Errorf("busy error does not name the host: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("acquire: %v", err)
			}
			defer l.Release()
			if got := strings.Contains(buf.String(), "recovered stale workspace lock"); got != tc.wantLogged {
				t.Errorf("stale-recovery log line present = %v, want %v; log:\n%s", got, tc.wantLogged, buf)
			}
			if info, ok := ReadLock(ws); !ok || info.PID != os.Getpid() {
				t.Errorf("lock now held by %+v, %v", info, ok)
			}
		})
	}
}

func TestLockReleaseAfterTakeover(t *testing.T) {
	ws := t.TempDir()
	l, err := AcquireLock(ws, "gplens run")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	writeLockFile(t, ws, LockInfo{PID: os.Getppid(), Host: host, Command: "other", Started: time.Now()})
	if err := l.Release(); err == nil {
		t.Fatal("Release of a lock taken over by another process succeeded")
	}
	if _, err := os.Stat(filepath.Join(ws, LockFile)); err != nil {
		t.Errorf("the other holder's lock file was removed: %v", err)
	}
}

// A process killed while taking the lock leaves at most its temporary file
// (the lock itself appears only with its content, so it is never empty):
// the next command takes the lock at once and clears the leftover.
func TestLockAfterKillWhileLocking(t *testing.T) {
	ws := t.TempDir()
	dead := deadPID(t)
	tmp := filepath.Join(ws, LockFile+"."+strconv.Itoa(dead)+".123456.tmp")
	if err := os.WriteFile(tmp, []byte(`{"pid":`+strconv.Itoa(dead)+`}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// a live process's temporary file is left alone
	live := filepath.Join(ws, LockFile+"."+strconv.Itoa(os.Getppid())+".654321.tmp")
	if err := os.WriteFile(live, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := acquireLock(ws, LockInfo{Command: "gplens ingest"}, slog.Default(), time.Now())
	if err != nil {
		t.Fatalf("acquire after a kill while locking: %v", err)
	}
	defer l.Release()
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead process's temporary lock file is still there (%v)", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live process's temporary lock file was removed: %v", err)
	}
	if info, ok := ReadLock(ws); !ok || info.PID != os.Getpid() || info.Command != "gplens ingest" {
		t.Errorf("lock holds %+v (%v), want this process's gplens ingest", info, ok)
	}
	if left, _ := filepath.Glob(filepath.Join(ws, LockFile+"."+strconv.Itoa(os.Getpid())+".*.tmp")); len(left) != 0 {
		t.Errorf("own temporary lock file left behind: %v", left)
	}
}
