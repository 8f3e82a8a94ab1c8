package transform

import (
	"errors"
	"io"
	"io/fs"
	"sort"
)

// Overlay returns a file system where files in top replace files at the
// same path in base, and new files in top are added; for example the
// embedded sql/ overlaid with a workspace's own sql/ folder, so a user can
// change or add a model without rebuilding gplens. Either may be nil.
func Overlay(base, top fs.FS) fs.FS {
	return overlayFS{top: top, base: base}
}

type overlayFS struct{ top, base fs.FS }

func (o overlayFS) layers() []fs.FS {
	var out []fs.FS
	for _, l := range []fs.FS{o.top, o.base} {
		if l != nil {
			out = append(out, l)
		}
	}
	return out
}

// Open returns the top-most layer's file; a directory lists every layer.
func (o overlayFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	var firstErr error
	for _, l := range o.layers() {
		f, err := l.Open(name)
		if err == nil {
			if fi, err := f.Stat(); err == nil && fi.IsDir() {
				entries, err := o.ReadDir(name)
				if err != nil {
					f.Close()
					return nil, err
				}
				return &mergedDir{File: f, entries: entries}, nil
			}
			return f, nil
		}
		if firstErr == nil || !errors.Is(err, fs.ErrNotExist) {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fs.ErrNotExist
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: firstErr}
}

// ReadDir merges the layers' entries; the top layer's entry wins a name.
func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	seen := map[string]fs.DirEntry{}
	found := false
	for _, l := range o.layers() {
		entries, err := fs.ReadDir(l, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
		for _, e := range entries {
			if _, ok := seen[e.Name()]; !ok {
				seen[e.Name()] = e
			}
		}
	}
	if !found {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// mergedDir is an open directory whose entries come from every layer.
type mergedDir struct {
	fs.File
	entries []fs.DirEntry
	off     int
}

func (d *mergedDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}
