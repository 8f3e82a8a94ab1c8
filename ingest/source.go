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

// Info describes a source for `gplens sources`, matching and the lake.
type Info struct {
	Name     string
	Title    string
	Cadence  Cadence
	Patterns []string // file-name globs, case-insensitive
	// Headings are what the source reads from a header, by lake column;
	// the published spellings are in data/header_aliases.csv.
	Headings   []Heading
	Headerless int // >0: no header row, exactly this many columns
	Columns    []Column
	Key        []string // unique key within a file's output
	// Datasets: one source holds several datasets (Fingertips indicators),
	// partitioned lake/<source>/dataset=<D>/period=<P>.
	Datasets bool
	Notes    string
}

// Source is one kind of extract. Adding a source is one Go file that
// implements this and registers itself, plus its headings' rows in
// data/header_aliases.csv.
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
	Cols    map[string]int // heading (lake column) -> record index, from the alias table
	Era     string         // naming era of the matched headings
	Aliases *AliasTable
	Period  string // period forced by the caller (--period), else ""
}

// Col is the record index of a heading (lake column), -1 if the file lacks it.
func (f *FileContext) Col(heading string) int {
	if i, ok := f.Cols[heading]; ok {
		return i
	}
	return -1
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

// Detect picks the source for a file from its name and header: a source
// fits when every required heading has an alias (data/header_aliases.csv)
// in the header; among sources that fit, a name match wins. A file no
// source fits is refused naming the nearest source and era and the lake
// columns it lacks.
func Detect(base string, keys []string, ncols int, at *AliasTable) (Source, headerMatch, error) {
	type cand struct {
		s      Source
		m      headerMatch
		byName bool
	}
	var cands []cand
	var near *cand
	var nameSays []string
	for _, s := range Sources() {
		info := s.Info()
		byName := nameMatches(info, base)
		if info.Headerless > 0 {
			if byName && ncols == info.Headerless {
				cands = append(cands, cand{s, headerMatch{era: "ODS 27 columns"}, true})
			}
			continue
		}
		m := at.match(info, keys)
		if len(m.missing) == 0 {
			cands = append(cands, cand{s, m, byName})
			continue
		}
		if byName {
			nameSays = append(nameSays, info.Name)
		}
		// The nearest source: a name match first, then the most headings found.
		c := cand{s, m, byName}
		if near == nil || (byName && !near.byName) || (byName == near.byName && m.matched-len(m.missing) > near.m.matched-len(near.m.missing)) {
			near = &c
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
		return named[0].s, named[0].m, nil
	case len(named) == 0 && len(cands) == 1 && len(nameSays) > 0:
		// A file named as one source holding another is a mix-up upstream
		// (or a renamed file); loading it as the header's source would put
		// it in a period and table nobody expects.
		return nil, headerMatch{}, fmt.Errorf("the name %q says %s but the header is %s's; rename the file or fetch the right one",
			base, strings.Join(nameSays, " or "), cands[0].s.Info().Name)
	case len(named) == 0 && len(cands) == 1:
		return cands[0].s, cands[0].m, nil
	case len(cands) > 1:
		var names []string
		for _, c := range cands {
			names = append(names, c.s.Info().Name)
		}
		return nil, headerMatch{}, fmt.Errorf("the header fits more than one source (%s); rename the file to its published name", strings.Join(names, ", "))
	}
	// Name the nearest source only when the file looks like it: its name
	// matches, or it has at least half the source's headings.
	if near != nil && (near.byName || 2*near.m.matched >= near.m.matched+len(near.m.missing)) {
		return nil, headerMatch{}, fmt.Errorf("unrecognised header: %s (add the file's heading to %s if it means the same)",
			at.nearest(near.s.Info(), near.m, keys), AliasesFile)
	}
	return nil, headerMatch{}, fmt.Errorf("unrecognised file: no source has this header (see `gplens sources`)")
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
