package ingest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Cadence of a source's publication.
type Cadence string

// Cadences.
const (
	Monthly   Cadence = "monthly"
	Quarterly Cadence = "quarterly"
	Annual    Cadence = "annual"
	Static    Cadence = "static"
)

// Variant is one accepted header layout: the normalised headings a file
// must have (any order, extra columns allowed); "a|b" accepts either.
type Variant struct {
	Name     string
	Required []string
}

// Info describes a source for `gplens sources`, matching and the lake.
type Info struct {
	Name       string
	Title      string
	Cadence    Cadence
	Patterns   []string // file-name globs, case-insensitive
	Variants   []Variant
	Headerless int // >0: no header row, exactly this many columns
	Columns    []Column
	Key        []string // unique key within a file's output
	Notes      string
}

// Source is one kind of extract. Adding a source is one Go file that
// implements this and registers itself.
type Source interface {
	Info() *Info
	// Begin checks the header of a file already matched to this source and
	// returns the parser for its rows.
	Begin(f *FileContext) (Parser, error)
}

// Parser turns the records of one file into lake rows.
type Parser interface {
	// Record parses one CSV record (line is its first line in the file).
	Record(rec []string, line int, out *Emitter) error
	// Period is the file's period, decided once every record is read.
	Period() (string, error)
}

// FileContext is what a source may know about the file it is parsing.
type FileContext struct {
	Path    string
	Name    string // base name
	Header  []string
	Keys    []string
	Variant int    // index of the matched Info.Variants entry (-1 headerless)
	Period  string // period forced by the caller (--period), else ""
}

// Col finds a column by any of its normalised names (-1 if absent).
func (f *FileContext) Col(names ...string) int { return findCol(f.Keys, names...) }

// MustCol is Col for a column the matched variant guarantees.
func (f *FileContext) MustCol(names ...string) (int, error) {
	i := findCol(f.Keys, names...)
	if i < 0 {
		return -1, &FileError{File: f.Name, Err: fmt.Errorf("missing column %q", names[0])}
	}
	return i, nil
}

var registry = map[string]Source{}

// Register adds a source; sources call it from init.
func Register(s Source) {
	name := s.Info().Name
	if _, dup := registry[name]; dup {
		panic("ingest: source registered twice: " + name) // programming error, not user input
	}
	registry[name] = s
}

// Sources returns every registered source, sorted by name.
func Sources() []Source {
	out := make([]Source, 0, len(registry))
	for _, s := range registry {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Info().Name < out[j].Info().Name })
	return out
}

// Lookup finds a source by name.
func Lookup(name string) (Source, bool) { s, ok := registry[name]; return s, ok }

func nameMatches(info *Info, base string) bool {
	lb := strings.ToLower(base)
	for _, p := range info.Patterns {
		if ok, _ := filepath.Match(strings.ToLower(p), lb); ok {
			return true
		}
	}
	return false
}

// matchVariant returns the index of the first variant whose required
// headings are all present, or -1 with the headings missing from the
// closest variant.
func matchVariant(info *Info, keys []string) (int, []string) {
	have := map[string]bool{}
	for _, k := range keys {
		have[k] = true
	}
	best, bestMissing := -1, []string(nil)
	for i, v := range info.Variants {
		var missing []string
		for _, r := range v.Required {
			ok := false
			for _, alt := range strings.Split(r, "|") {
				ok = ok || have[alt]
			}
			if !ok {
				missing = append(missing, r)
			}
		}
		if len(missing) == 0 {
			return i, nil
		}
		if best < 0 || len(missing) < len(bestMissing) {
			best, bestMissing = i, missing
		}
	}
	return -1, bestMissing
}

// Detect picks the source for a file from its name and header. A header
// match is required; among header matches a name match wins.
func Detect(base string, keys []string, ncols int) (Source, int, error) {
	type cand struct {
		s       Source
		variant int
		byName  bool
	}
	var cands []cand
	var nearMiss, nameSays []string
	for _, s := range Sources() {
		info := s.Info()
		byName := nameMatches(info, base)
		if info.Headerless > 0 {
			if byName && ncols == info.Headerless {
				cands = append(cands, cand{s, -1, true})
			}
			continue
		}
		v, missing := matchVariant(info, keys)
		if v >= 0 {
			cands = append(cands, cand{s, v, byName})
		} else if byName {
			nameSays = append(nameSays, info.Name)
			nearMiss = append(nearMiss, fmt.Sprintf("its name looks like %s but the header lacks %s", info.Name, strings.Join(missing, ", ")))
		}
	}
	var named []cand
	for _, c := range cands {
		if c.byName {
			named = append(named, c)
		}
	}
	switch {
	case len(named) == 1:
		return named[0].s, named[0].variant, nil
	case len(named) == 0 && len(cands) == 1 && len(nameSays) > 0:
		// A file named as one source holding another is a mix-up upstream
		// (or a renamed file); loading it as the header's source would put
		// it in a period and table nobody expects.
		return nil, 0, fmt.Errorf("the name %q says %s but the header is %s's; rename the file or fetch the right one",
			base, strings.Join(nameSays, " or "), cands[0].s.Info().Name)
	case len(named) == 0 && len(cands) == 1:
		return cands[0].s, cands[0].variant, nil
	case len(cands) > 1:
		var names []string
		for _, c := range cands {
			names = append(names, c.s.Info().Name)
		}
		return nil, 0, fmt.Errorf("the header fits more than one source (%s); rename the file to its published name", strings.Join(names, ", "))
	}
	if len(nearMiss) > 0 {
		return nil, 0, fmt.Errorf("unrecognised header: %s", strings.Join(nearMiss, "; "))
	}
	return nil, 0, fmt.Errorf("unrecognised file: no source has this header (see `gplens sources`)")
}

var (
	fyRE      = regexp.MustCompile(`(?:^|[^0-9])(20[0-9]{2})[-_ ]?([0-9]{2})(?:[^0-9]|$)`)
	fyShortRE = regexp.MustCompile(`(?:^|[^0-9])([0-9]{2})[-_]?([0-9]{2})(?:[^0-9]|$)`)
	monthRE   = regexp.MustCompile(`(?:^|[^0-9])(20[0-9]{2})-(0[1-9]|1[0-2])(?:[^0-9]|$)`)
)

// FinancialYear renders the NHS financial year starting in April of start.
func FinancialYear(start int) string { return fmt.Sprintf("%d-%02d", start, (start+1)%100) }

// fyFromText finds a financial year written as 2022-23, 2223, 22-23 or 2022_23.
func fyFromText(s string) (string, bool) {
	if m := fyRE.FindStringSubmatch(s); m != nil {
		var y, z int
		fmt.Sscanf(m[1], "%d", &y)
		fmt.Sscanf(m[2], "%d", &z)
		if (y+1)%100 == z {
			return FinancialYear(y), true
		}
	}
	for _, m := range fyShortRE.FindAllStringSubmatch(s, -1) {
		var y, z int
		fmt.Sscanf(m[1], "%d", &y)
		fmt.Sscanf(m[2], "%d", &z)
		if (y+1)%100 == z && y >= 5 && y <= 60 {
			return FinancialYear(2000 + y), true
		}
	}
	return "", false
}

// periodFromPath looks for a period in the file name, then in its folders.
func periodFromPath(path string, cadence Cadence) (string, bool) {
	parts := strings.Split(filepath.ToSlash(path), "/")
	for i := len(parts) - 1; i >= 0 && i >= len(parts)-3; i-- {
		p := parts[i]
		if cadence == Annual {
			if fy, ok := fyFromText(p); ok {
				return fy, true
			}
		} else if m := monthRE.FindStringSubmatch(p); m != nil {
			return m[1] + "-" + m[2], true
		}
	}
	return "", false
}
