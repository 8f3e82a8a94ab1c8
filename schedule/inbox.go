package schedule

import (
	"errors"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// InboxDir is where new extracts land, under the workspace.
const InboxDir = "inbox"

// DefaultInboxPoll is how often the inbox is scanned.
const DefaultInboxPoll = 15 * time.Second

type fileSig struct {
	size  int64
	mtime time.Time
}

// inboxWatcher finds files that have finished arriving: a file counts once its
// size and mtime are unchanged across two polls, and it is reported once per
// (size, mtime) version.
type inboxWatcher struct {
	dir      string
	last     map[string]fileSig // seen on the previous poll
	reported map[string]fileSig
}

func newInboxWatcher(ws string) *inboxWatcher {
	return &inboxWatcher{
		dir:      filepath.Join(ws, InboxDir),
		last:     map[string]fileSig{},
		reported: map[string]fileSig{},
	}
}

// ignoredName reports names that are still being written or are not data:
// partial downloads, temp files, editor backups and dotfiles.
func ignoredName(name string) bool {
	l := strings.ToLower(name)
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") || strings.HasPrefix(name, "~$") {
		return true
	}
	for _, suf := range []string{".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".swp", ".filepart"} {
		if strings.HasSuffix(l, suf) {
			return true
		}
	}
	return false
}

// poll scans the inbox and returns the files (relative to the workspace, with
// forward slashes) that became complete since the last poll.
func (w *inboxWatcher) poll() ([]string, error) {
	now := map[string]fileSig{}
	err := filepath.WalkDir(w.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // inbox missing or file moved away mid-scan
			}
			return err
		}
		if path != w.dir && ignoredName(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // vanished between readdir and stat
		}
		now[path] = fileSig{size: info.Size(), mtime: info.ModTime()}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var ready []string
	for p, sig := range now {
		prev, seen := w.last[p]
		if !seen || prev != sig {
			continue // new or still changing
		}
		if r, done := w.reported[p]; done && r == sig {
			continue
		}
		w.reported[p] = sig
		rel, err := filepath.Rel(filepath.Dir(w.dir), p)
		if err != nil {
			rel = p
		}
		ready = append(ready, filepath.ToSlash(rel))
	}
	for p := range w.reported {
		if _, ok := now[p]; !ok {
			delete(w.reported, p) // gone (ingested); a new file of that name counts again
		}
	}
	w.last = now
	sort.Strings(ready)
	return ready, nil
}
