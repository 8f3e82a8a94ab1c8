package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// LockFile is the workspace lock's name under the workspace directory.
const LockFile = "gplens.lock"

// LockInfo is what a lock file holds.
type LockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	Command string    `json:"command"`
	Job     string    `json:"job,omitempty"`
	RunID   string    `json:"run_id,omitempty"`
}

// BusyError says another live process holds the workspace lock. The CLI
// should treat it as "try again later" (exit status 2 is a good fit).
type BusyError struct {
	Workspace string
	Holder    LockInfo
}

func (e *BusyError) Error() string {
	h := e.Holder
	who := fmt.Sprintf("%q (pid %d", h.Command, h.PID)
	if hn, _ := os.Hostname(); h.Host != "" && h.Host != hn {
		who += " on " + h.Host
	}
	who += ")"
	what := "running"
	if h.Job != "" {
		what = "running job " + h.Job
	}
	return fmt.Sprintf("workspace %s is busy: %s %s since %s; try again when it finishes",
		e.Workspace, who, what, h.Started.UTC().Format(time.RFC3339))
}

// IsBusy reports whether err is (or wraps) a *BusyError.
func IsBusy(err error) bool {
	var b *BusyError
	return errors.As(err, &b)
}

// Lock is a held workspace lock.
type Lock struct {
	path string
	info LockInfo
}

// Info returns what the lock file records.
func (l *Lock) Info() LockInfo { return l.info }

// AcquireLock takes the workspace lock for command (e.g. "gplens run"). A lock
// left by a dead process on this host is recovered (and logged); a live one
// gives a *BusyError.
func AcquireLock(ws, command string) (*Lock, error) {
	return acquireLock(ws, LockInfo{Command: command}, slog.Default(), time.Now())
}

// AcquireLockLogged is AcquireLock with the stale-lock warning sent to log.
func AcquireLockLogged(ws, command string, log *slog.Logger) (*Lock, error) {
	return acquireLock(ws, LockInfo{Command: command}, log, time.Now())
}

func acquireLock(ws string, info LockInfo, log *slog.Logger, now time.Time) (*Lock, error) {
	if log == nil {
		log = slog.Default()
	}
	abs, err := filepath.Abs(ws)
	if err != nil {
		return nil, fmt.Errorf("lock workspace %s: %w", ws, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("lock workspace %s: %w", ws, err)
	}
	info.PID = os.Getpid()
	info.Host, _ = os.Hostname()
	info.Started = now.UTC()
	data, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("lock workspace %s: %w", ws, err)
	}
	path := filepath.Join(abs, LockFile)
	removeDeadTemps(abs)
	for attempt := 0; attempt < 5; attempt++ {
		err := createLock(path, append(data, '\n'))
		if err == nil {
			return &Lock{path: path, info: info}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		holder, raw, rerr := readLock(path)
		if errors.Is(rerr, os.ErrNotExist) {
			continue // released between our create and read
		}
		if rerr == nil && !holder.stale() {
			return nil, &BusyError{Workspace: abs, Holder: holder}
		}
		if rerr != nil && time.Since(modTime(path)) < 10*time.Second {
			// An unreadable lock: one written by an older gplens that was
			// killed, or is still writing, between creating and filling it.
			return nil, &BusyError{Workspace: abs, Holder: LockInfo{Command: "unknown", Started: modTime(path)}}
		}
		removed, err := removeStale(abs, path, raw)
		if err != nil {
			return nil, err
		}
		if removed {
			log.Warn("recovered stale workspace lock", "workspace", abs, "pid", holder.PID,
				"host", holder.Host, "command", holder.Command, "job", holder.Job,
				"since", holder.Started)
		}
	}
	return nil, fmt.Errorf("lock workspace %s: lock file keeps changing; try again", abs)
}

// createLock makes the lock file at path holding data, or fails with an
// error wrapping os.ErrExist when there is one. The file appears with its
// content (a written temporary file, hard-linked into place): a process
// killed between creating the lock and writing it would otherwise leave an
// empty lock that reads as busy to every command for the next 10 s.
func createLock(path string, data []byte) error {
	// named by pid (removeDeadTemps) and unique (two lockers in one process)
	f, err := os.CreateTemp(filepath.Dir(path), fmt.Sprintf("%s.%d.*.tmp", filepath.Base(path), os.Getpid()))
	if err != nil {
		return fmt.Errorf("create lock %s: %w", path, err)
	}
	tmp := f.Name()
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("create lock %s: %w", path, err)
	}
	if err := writeClose(f, data); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	lerr := os.Link(tmp, path)
	_ = os.Remove(tmp)
	if lerr == nil || errors.Is(lerr, os.ErrExist) {
		return lerr
	}
	// a file system without hard links: create and write in place
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return err
		}
		return fmt.Errorf("create lock %s: %w", path, err)
	}
	if err := writeClose(f, data); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	return nil
}

// writeClose writes data to f, syncs and closes it.
func writeClose(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeDeadTemps removes the temporary lock files (createLock) of
// processes no longer alive, left by a kill between writing and linking.
func removeDeadTemps(ws string) {
	tmps, _ := filepath.Glob(filepath.Join(ws, LockFile+".*.tmp"))
	for _, t := range tmps {
		var pid int
		if _, err := fmt.Sscanf(strings.TrimPrefix(filepath.Base(t), LockFile+"."), "%d.", &pid); err == nil && pid != os.Getpid() && !pidAlive(pid) {
			_ = os.Remove(t)
		}
	}
}

// Release removes the lock file if it is still ours. Calling it twice is safe.
func (l *Lock) Release() error {
	if l == nil || l.path == "" {
		return nil
	}
	cur, _, err := readLock(l.path)
	if errors.Is(err, os.ErrNotExist) {
		l.path = ""
		return nil
	}
	if err == nil && (cur.PID != l.info.PID || !cur.Started.Equal(l.info.Started)) {
		l.path = ""
		return fmt.Errorf("release lock %s: taken over by pid %d", l.path, cur.PID)
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	l.path = ""
	return nil
}

// ReadLock returns the current holder of the workspace lock; ok is false when
// the workspace is not locked or the holder is dead (a stale lock).
func ReadLock(ws string) (info LockInfo, ok bool) {
	info, _, err := readLock(filepath.Join(ws, LockFile))
	if err != nil || info.stale() {
		return info, false
	}
	return info, true
}

func readLock(path string) (LockInfo, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return LockInfo{}, nil, err
	}
	var info LockInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return LockInfo{}, raw, fmt.Errorf("parse lock %s: %w", path, err)
	}
	return info, raw, nil
}

func (i LockInfo) stale() bool {
	host, _ := os.Hostname()
	if i.Host != "" && i.Host != host {
		return false // cannot see another host's processes; assume alive
	}
	return !pidAlive(i.PID)
}

func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func modTime(path string) time.Time {
	st, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// removeStale deletes the lock file only if it still holds the stale bytes we
// read, under an flock so two recoverers cannot remove a fresh lock between
// them.
func removeStale(ws, path string, raw []byte) (bool, error) {
	guard, err := os.OpenFile(filepath.Join(ws, ".gplens.lock.guard"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return false, fmt.Errorf("recover stale lock %s: %w", path, err)
	}
	defer guard.Close()
	if err := syscall.Flock(int(guard.Fd()), syscall.LOCK_EX); err != nil {
		return false, fmt.Errorf("recover stale lock %s: %w", path, err)
	}
	defer func() { _ = syscall.Flock(int(guard.Fd()), syscall.LOCK_UN) }()
	cur, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("recover stale lock %s: %w", path, err)
	}
	if string(cur) != string(raw) {
		return false, nil // someone else recovered it and took it; retry
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("recover stale lock %s: %w", path, err)
	}
	return true, nil
}
