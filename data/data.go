// Package data holds gplens's reviewed reference files: header aliases,
// the indicator catalogue, disclosure rules, plausibility thresholds, the
// area-name canon and the SQL endpoint's allow-list. They are embedded in
// the binary; a workspace may override any one of them by placing a file of
// the same name in <workspace>/data/. Changing a rule is a reviewed diff to a
// file here, not to Go.
package data

import (
	"bytes"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Every file in this folder is embedded (the .go files too, harmlessly),
// so adding a reference file needs no change here.
//
//go:embed *
var embedded embed.FS

// FS is the embedded reference files.
func FS() fs.FS { return embedded }

// Read returns the named reference file: <workspace>/data/<name> when it
// exists (an analyst's reviewed override), else the embedded copy.
// workspace may be "" to read the embedded copy only.
func Read(workspace, name string) ([]byte, error) {
	if workspace != "" {
		b, err := os.ReadFile(filepath.Join(workspace, "data", name))
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reference file %s: %w", name, err)
		}
	}
	b, err := embedded.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reference file %s: %w", name, err)
	}
	return b, nil
}

// Table is a CSV reference file read as rows keyed by its header.
type Table struct {
	Name   string
	Header []string
	Rows   []map[string]string
	// Lines holds each row's line number in the file, for error messages.
	Lines []int
}

// ReadCSV reads the named CSV reference file (see Read). Lines starting with
// '#' are comments; every field is trimmed.
func ReadCSV(workspace, name string) (*Table, error) {
	b, err := Read(workspace, name)
	if err != nil {
		return nil, err
	}
	return parseCSV(name, b)
}

func parseCSV(name string, b []byte) (*Table, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	t := &Table{Name: name}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reference file %s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		if t.Header == nil {
			for _, h := range rec {
				t.Header = append(t.Header, strings.TrimSpace(h))
			}
			continue
		}
		row := make(map[string]string, len(rec))
		for i, v := range rec {
			if i < len(t.Header) {
				row[t.Header[i]] = strings.TrimSpace(v)
			}
		}
		t.Rows = append(t.Rows, row)
		t.Lines = append(t.Lines, line)
	}
	if t.Header == nil {
		return nil, fmt.Errorf("reference file %s: no header row", name)
	}
	return t, nil
}

// CSVNames lists the CSV reference files, embedded and the workspace's own
// (an override or an addition), sorted.
func CSVNames(workspace string) ([]string, error) {
	seen := map[string]bool{}
	ents, err := fs.ReadDir(embedded, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".csv") {
			seen[e.Name()] = true
		}
	}
	if workspace != "" {
		ents, err := os.ReadDir(filepath.Join(workspace, "data"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reference files in %s: %w", workspace, err)
		}
		for _, e := range ents {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".csv") {
				seen[e.Name()] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// Names lists every reference file, embedded and the workspace's own,
// sorted: all but the Go files, README.md and schemas.toml.
func Names(workspace string) ([]string, error) {
	seen := map[string]bool{}
	add := func(ents []fs.DirEntry) {
		for _, e := range ents {
			n := e.Name()
			if !e.IsDir() && !strings.HasSuffix(n, ".go") && n != "README.md" && n != SchemaFile && !strings.HasPrefix(n, ".") {
				seen[n] = true
			}
		}
	}
	ents, err := fs.ReadDir(embedded, ".")
	if err != nil {
		return nil, err
	}
	add(ents)
	if workspace != "" {
		ents, err := os.ReadDir(filepath.Join(workspace, "data"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reference files in %s: %w", workspace, err)
		}
		add(ents)
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}
