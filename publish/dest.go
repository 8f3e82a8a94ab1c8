package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Destination is where packs go. A publication writes every file of a
// period into a Stage and then commits it, so readers see either the old
// period or the new one, never a mix. An object store (s3://) is one more
// implementation.
type Destination interface {
	// Begin opens a stage for the period's files.
	Begin(ctx context.Context, period string) (Stage, error)
	// Existing lists the area folders already published for the period, so a
	// partial publication (--area) can carry the others over.
	Existing(ctx context.Context, period string) ([]string, error)
	// String names the destination for logs.
	String() string
}

// Stage collects one period's files until Commit or Abort.
type Stage interface {
	// WriteFile stores data at rel, a slash-separated path under the period.
	// Packs render in parallel, so it must be safe for concurrent use.
	WriteFile(ctx context.Context, rel string, data []byte) error
	// CarryOver puts an already published area folder into the stage as
	// it is (a local stage hard-links its files).
	CarryOver(ctx context.Context, area string) error
	// Commit replaces the published period with the stage.
	Commit(ctx context.Context) error
	// Abort discards the stage; safe after Commit (then a no-op).
	Abort() error
}

// LocalDir publishes to <Root>/<period>/ on the local file system.
type LocalDir struct{ Root string }

func (d LocalDir) String() string { return d.Root }

// Begin creates a temporary folder beside <Root>/<period>, on the same file
// system, so the final rename is atomic.
func (d LocalDir) Begin(ctx context.Context, period string) (Stage, error) {
	if err := os.MkdirAll(d.Root, 0o755); err != nil {
		return nil, fmt.Errorf("create packs folder %s: %w", d.Root, err)
	}
	// A run killed part-way leaves its hidden staging folder; the workspace
	// lock means no other publisher is using one now, so clear them.
	if old, _ := filepath.Glob(filepath.Join(d.Root, "."+period+".tmp-*")); len(old) > 0 {
		for _, o := range old {
			os.RemoveAll(o)
		}
	}
	// One killed between Commit's two renames left the previous publication
	// aside: put it back if nothing replaced it, else drop it.
	olds, _ := filepath.Glob(filepath.Join(d.Root, "."+period+".old-*"))
	for _, o := range olds {
		if _, err := os.Stat(filepath.Join(d.Root, period)); errors.Is(err, os.ErrNotExist) {
			if err := os.Rename(o, filepath.Join(d.Root, period)); err != nil {
				return nil, fmt.Errorf("restore the previous publication of %s: %w", period, err)
			}
			continue
		}
		os.RemoveAll(o)
	}
	tmp, err := os.MkdirTemp(d.Root, "."+period+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("create staging folder in %s: %w", d.Root, err)
	}
	// MkdirTemp makes it private; a published period is as readable as any folder.
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("staging folder %s: %w", tmp, err)
	}
	return &localStage{root: d.Root, period: period, tmp: tmp, behind: newWriteBehind()}, nil
}

// Existing lists area folders of a published period.
func (d LocalDir) Existing(ctx context.Context, period string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(d.Root, period))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list published %s: %w", period, err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

type localStage struct {
	root, period, tmp string
	done              bool
	behind            *writeBehind
}

func (s *localStage) WriteFile(ctx context.Context, rel string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return fmt.Errorf("stage write %q: path escapes the period folder", rel)
	}
	p := filepath.Join(s.tmp, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("stage mkdir %s: %w", rel, err)
	}
	// A new file, never one truncated in place: a file carried over is a
	// link to the live publication's.
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stage replace %s: %w", rel, err)
	}
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("stage create %s: %w", rel, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("stage write %s: %w", rel, err)
	}
	// Not synced here: Commit syncs the whole stage once (an fsync a file
	// was most of a pack's wall time on a busy disk); its pages start for
	// the disk now, in the background.
	s.behind.add(f)
	if err := f.Close(); err != nil {
		return fmt.Errorf("stage close %s: %w", rel, err)
	}
	return nil
}

// CarryOver hard-links the published area's files into the stage, copying
// only where the file system cannot link: nothing writes a published file in
// place (WriteFile makes new ones, Commit renames folders), so the two
// publications can share them. Copying the other 154 packs' 2 GB made a
// one-region publish of England at 60 months take 15.7-17.7 s, 9.3-9.7 s
// linked.
func (s *localStage) CarryOver(ctx context.Context, area string) error {
	src := filepath.Join(s.root, s.period, area)
	dst := filepath.Join(s.tmp, area)
	return filepath.WalkDir(src, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if de.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if os.Link(p, target) == nil {
			return nil
		}
		return copyFile(p, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("carry over %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("carry over %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("carry over %s: %w", dst, err)
	}
	return out.Close()
}

// syncTree flushes every file and folder under dir to disk. On Linux one
// syncfs(2) does it for the whole file system; elsewhere each is fsynced.
func syncTree(dir string) error {
	if ok, err := syncFS(dir); ok {
		return err
	}
	return syncEach(dir)
}

// syncEach fsyncs every file (and, where the platform can, folder) under dir.
func syncEach(dir string) error {
	return filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		if de.IsDir() {
			err = nil // best effort: not every platform syncs folders
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// Commit swaps the stage in: rename the old period aside, rename the new one
// in, then remove the old one. A crash between the two renames leaves the
// old publication intact beside (".<period>.old-*"), never a half-written one.
func (s *localStage) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Every file and folder of the stage reaches the disk before the
	// rename makes it the publication.
	s.behind.wait()
	if err := syncTree(s.tmp); err != nil {
		return fmt.Errorf("commit %s: sync the stage: %w", s.period, err)
	}
	final := filepath.Join(s.root, s.period)
	var old string
	if _, err := os.Stat(final); err == nil {
		o, err := os.MkdirTemp(s.root, "."+s.period+".old-")
		if err != nil {
			return fmt.Errorf("commit %s: %w", s.period, err)
		}
		// MkdirTemp reserved a unique name; the rename needs it absent.
		if err := os.Remove(o); err != nil {
			return fmt.Errorf("commit %s: %w", s.period, err)
		}
		if err := os.Rename(final, o); err != nil {
			return fmt.Errorf("commit %s: move old publication aside: %w", s.period, err)
		}
		old = o
	}
	if err := os.Rename(s.tmp, final); err != nil {
		if old != "" {
			_ = os.Rename(old, final)
		}
		return fmt.Errorf("commit %s: %w", s.period, err)
	}
	s.done = true
	syncDir(s.root)
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("commit %s: remove old publication: %w", s.period, err)
		}
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

func (s *localStage) Abort() error {
	s.behind.wait()
	if s.done {
		return nil
	}
	s.done = true
	return os.RemoveAll(s.tmp)
}
