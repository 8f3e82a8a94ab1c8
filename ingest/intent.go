package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// IntentFile is the lake's write-ahead record: while it exists, a change of
// partitions and its manifest rows is in flight. It is written (and fsynced)
// before the first partition moves, and removed after the manifest names the
// new partitions, so a crash anywhere in between is finished or rolled back
// by Recover. The manifest and the lake therefore cannot disagree.
const IntentFile = "_intent.json"

// Change replaces or removes one partition folder of the lake.
type Change struct {
	// Dir is the partition folder relative to the lake, e.g.
	// "registrations/period=2024-03" or "_rejects/registrations/period=2024-03".
	Dir string `json:"dir"`
	// Tmp is a fully written, fsynced folder (relative to the lake, in the
	// same parent as Dir) to put in Dir's place; "" removes Dir.
	Tmp string `json:"tmp,omitempty"`
}

// intentChange is a Change as recorded, with what recovery needs to know.
type intentChange struct {
	Change
	Old     string   `json:"old"`     // where the previous folder is moved aside
	Existed bool     `json:"existed"` // Dir existed before the change
	Want    []string `json:"want"`    // the files Tmp holds, to recognise it in Dir
}

type intent struct {
	PID     int            `json:"pid"`
	Host    string         `json:"host"`
	Created time.Time      `json:"created"`
	Changes []intentChange `json:"changes"`
	Entries []Entry        `json:"entries"`
}

// lakeMu serialises commits and recovery within one process (tests and the
// scheduler may ingest from several goroutines); across processes the
// workspace lock does.
var lakeMu sync.Mutex

// crashHook, set by tests, sees each point where a crash leaves a distinct
// state on disk (a test copies the lake there: the image a kill would leave).
var crashHook func(point string)

func crashPoint(point string) {
	if crashHook != nil {
		crashHook(point)
	}
}

// tmpPrefix names this process's temporary folders and files in the lake:
// .tmp-<pid>-<label>, so recovery can tell a dead process's leftovers from
// a live one's work.
func tmpPrefix() string { return fmt.Sprintf(".tmp-%d-", os.Getpid()) }

// Commit applies changes and appends entries to the manifest as one
// recoverable step: after a crash, Recover either completes all of it or
// restores the lake as it was, so the manifest always describes the lake.
func Commit(lake string, changes []Change, entries []Entry) error {
	lakeMu.Lock()
	defer lakeMu.Unlock()
	if err := recoverIntent(lake); err != nil {
		return err
	}
	host, _ := os.Hostname()
	in := intent{PID: os.Getpid(), Host: host, Created: time.Now().UTC(), Entries: entries}
	for _, c := range changes {
		if !filepath.IsLocal(filepath.FromSlash(c.Dir)) || (c.Tmp != "" && !filepath.IsLocal(filepath.FromSlash(c.Tmp))) {
			return fmt.Errorf("commit: %q / %q is not a folder inside the lake", c.Dir, c.Tmp)
		}
		final := filepath.Join(lake, c.Dir)
		ic := intentChange{Change: c, Old: filepath.Join(filepath.Dir(c.Dir), fmt.Sprintf(".old-%d-%s", os.Getpid(), filepath.Base(c.Dir)))}
		if _, err := os.Stat(final); err == nil {
			ic.Existed = true
		}
		if c.Tmp != "" {
			if filepath.Dir(filepath.Clean(c.Tmp)) != filepath.Dir(filepath.Clean(c.Dir)) {
				return fmt.Errorf("commit: %s must be beside %s", c.Tmp, c.Dir)
			}
			tmp := filepath.Join(lake, c.Tmp)
			files, err := os.ReadDir(tmp)
			if err != nil {
				return fmt.Errorf("commit %s: %w", c.Dir, err)
			}
			for _, f := range files {
				ic.Want = append(ic.Want, f.Name())
			}
			if err := syncDir(tmp); err != nil {
				return fmt.Errorf("fsync %s: %w", tmp, err)
			}
		}
		os.RemoveAll(filepath.Join(lake, ic.Old))
		in.Changes = append(in.Changes, ic)
	}
	crashPoint("before-intent")
	if err := writeIntent(lake, in); err != nil {
		return err
	}
	crashPoint("intent")
	return finish(lake, in)
}

func writeIntent(lake string, in intent) error {
	return writeFileAtomic(filepath.Join(lake, IntentFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	})
}

// finish rolls an intent forward: every folder moved into place, the
// manifest rows appended (once), the previous folders and the intent removed.
func finish(lake string, in intent) error {
	for _, c := range in.Changes {
		final, old := filepath.Join(lake, c.Dir), filepath.Join(lake, c.Old)
		tmpThere := false
		if c.Tmp != "" {
			_, err := os.Stat(filepath.Join(lake, c.Tmp))
			tmpThere = err == nil
		}
		if c.Tmp == "" || tmpThere {
			if _, err := os.Stat(final); err == nil {
				if _, err := os.Stat(old); err == nil {
					// A previous attempt moved one aside already; what is in
					// Dir now is not the original, so it can go.
					if err := os.RemoveAll(final); err != nil {
						return fmt.Errorf("commit %s: %w", c.Dir, err)
					}
				} else if err := os.Rename(final, old); err != nil {
					return fmt.Errorf("commit %s: move the old partition aside: %w", c.Dir, err)
				}
				crashPoint("aside " + c.Dir)
			}
		}
		if tmpThere {
			if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
				return fmt.Errorf("commit %s: %w", c.Dir, err)
			}
			if err := os.Rename(filepath.Join(lake, c.Tmp), final); err != nil {
				return fmt.Errorf("commit %s: move the new partition in place: %w", c.Dir, err)
			}
			crashPoint("in " + c.Dir)
		}
		if err := syncDir(filepath.Dir(final)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("fsync %s: %w", filepath.Dir(final), err)
		}
	}
	if len(in.Entries) > 0 {
		rows, err := ReadManifest(lake)
		if err != nil {
			return err
		}
		var add []Entry
		for _, e := range in.Entries {
			if !slices.ContainsFunc(rows, func(r Entry) bool { return sameEntry(r, e) }) {
				add = append(add, e)
			}
		}
		if len(add) > 0 {
			if err := writeManifest(lake, append(rows, add...)); err != nil {
				return fmt.Errorf("record in the manifest: %w", err)
			}
			crashPoint("manifest")
		}
	}
	for _, c := range in.Changes {
		if err := os.RemoveAll(filepath.Join(lake, c.Old)); err != nil {
			return fmt.Errorf("commit %s: remove the old partition: %w", c.Dir, err)
		}
	}
	crashPoint("olds removed")
	return removeIntent(lake)
}

func sameEntry(a, b Entry) bool {
	return a.Source == b.Source && a.Period == b.Period && a.SHA256 == b.SHA256 && a.IngestedAt.Equal(b.IngestedAt) && a.Status == b.Status
}

func removeIntent(lake string) error {
	if err := os.Remove(filepath.Join(lake, IntentFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", IntentFile, err)
	}
	return syncDir(lake)
}

// rollBack restores every partition an unfinished intent touched.
func rollBack(lake string, in intent) error {
	for _, c := range in.Changes {
		final, old := filepath.Join(lake, c.Dir), filepath.Join(lake, c.Old)
		if _, err := os.Stat(old); err == nil {
			if err := os.RemoveAll(final); err != nil {
				return fmt.Errorf("roll back %s: %w", c.Dir, err)
			}
			if err := os.Rename(old, final); err != nil {
				return fmt.Errorf("roll back %s: %w", c.Dir, err)
			}
		} else if !c.Existed && c.Tmp != "" && holds(final, c.Want) {
			if err := os.RemoveAll(final); err != nil {
				return fmt.Errorf("roll back %s: %w", c.Dir, err)
			}
		}
		if c.Tmp != "" {
			os.RemoveAll(filepath.Join(lake, c.Tmp))
		}
		_ = syncDir(filepath.Dir(final))
	}
	return removeIntent(lake)
}

// holds reports whether dir contains exactly the files want.
func holds(dir string, want []string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	return slices.Equal(got, w)
}

// recoverIntent finishes the recorded change when all its new folders are
// still there (in place or waiting beside), and rolls it back otherwise.
// The caller holds lakeMu.
func recoverIntent(lake string) error {
	raw, err := os.ReadFile(filepath.Join(lake, IntentFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recover lake: %w", err)
	}
	var in intent
	if err := json.Unmarshal(raw, &in); err != nil {
		// writeFileAtomic means a torn intent cannot exist; one that does not
		// parse was never acted on (no partition moves before it is durable).
		return fmt.Errorf("recover lake: %s does not parse (%v); move it away after checking the lake with `gplens check --lake`", IntentFile, err)
	}
	host, _ := os.Hostname()
	if in.PID != os.Getpid() && (in.Host == host || in.Host == "") && pidAlive(in.PID) {
		return fmt.Errorf("recover lake: pid %d is still changing %s; try again when it finishes", in.PID, lake)
	}
	forward := true
	for _, c := range in.Changes {
		if c.Tmp == "" {
			continue
		}
		if !holds(filepath.Join(lake, c.Tmp), c.Want) && !holds(filepath.Join(lake, c.Dir), c.Want) {
			forward = false
		}
	}
	if forward {
		return finish(lake, in)
	}
	return rollBack(lake, in)
}

func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// leftoverOwner returns the pid in a temporary name (.tmp-<pid>-… or
// .old-<pid>-…), or 0 when the name predates pids in names.
func leftoverOwner(name, prefix string) int {
	rest := strings.TrimPrefix(name, prefix)
	p, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0
	}
	pid, err := strconv.Atoi(p)
	if err != nil {
		return 0
	}
	return pid
}

// Recover tidies a lake before anything reads or writes it: an interrupted
// Commit is finished or rolled back, temporary folders and files of
// processes that are gone are removed, and a partition moved aside by an
// older gplens (no intent record) is put back if nothing replaced it.
func Recover(lake string) error {
	lakeMu.Lock()
	defer lakeMu.Unlock()
	if err := recoverIntent(lake); err != nil {
		return err
	}
	tables, err := os.ReadDir(lake)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recover lake: %w", err)
	}
	dirs := []string{lake}
	for _, t := range tables {
		if !t.IsDir() || strings.HasPrefix(t.Name(), ".") {
			continue
		}
		dirs = append(dirs, filepath.Join(lake, t.Name()))
		if t.Name() == RejectsTable {
			sub, _ := os.ReadDir(filepath.Join(lake, t.Name()))
			for _, s := range sub {
				if s.IsDir() && !strings.HasPrefix(s.Name(), ".") {
					dirs = append(dirs, filepath.Join(lake, t.Name(), s.Name()))
				}
			}
		}
	}
	self := os.Getpid()
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("recover lake: %w", err)
		}
		for _, e := range entries {
			n := e.Name()
			switch {
			case strings.HasPrefix(n, ".tmp-"):
				// Another goroutine of this process may be writing its own.
				if pid := leftoverOwner(n, ".tmp-"); pid == self || (pid > 0 && pidAlive(pid)) {
					continue
				}
				if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
					return fmt.Errorf("remove unfinished %s: %w", n, err)
				}
			case strings.HasPrefix(n, ".old-"):
				// Without an intent (handled above), only an older gplens
				// leaves these: restore the partition if nothing replaced it.
				base := strings.TrimPrefix(n, ".old-")
				if pid := leftoverOwner(n, ".old-"); pid > 0 {
					if pid != self && pidAlive(pid) {
						continue // a live writer between its intent and its renames
					}
					base = strings.TrimPrefix(base, strconv.Itoa(pid)+"-")
				}
				final := filepath.Join(dir, base)
				var rerr error
				if _, serr := os.Stat(final); serr == nil {
					rerr = os.RemoveAll(filepath.Join(dir, n))
				} else {
					rerr = os.Rename(filepath.Join(dir, n), final)
				}
				if rerr != nil {
					return fmt.Errorf("restore %s: %w", n, rerr)
				}
			}
		}
	}
	return nil
}
