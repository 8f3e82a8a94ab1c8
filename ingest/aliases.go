package ingest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gplens/gplens/data"
)

// AliasesFile is the reviewed table of published headings: for each source
// and lake column, the headings it has been published under, by naming era
// (data/header_aliases.csv). Sources declare their lake columns; the
// headings live here, so a new year's wording is one row, not a Go change.
const AliasesFile = "header_aliases.csv"

// Heading is something a source reads from a file's header: a lake column,
// or a marker such as "component:extended_hours_access" for reshaped
// sources. A Name ending in ":*" accepts any name with that prefix.
type Heading struct {
	Name     string
	Required bool // a file without it is not this source
}

// Alias is one row of the alias table.
type Alias struct {
	Source  string `json:"source"`
	Column  string `json:"lake_column"`
	Heading string `json:"alias"`
	Key     string `json:"-"` // Heading normalised (see normHeader)
	Era     string `json:"era"`
	Note    string `json:"note,omitempty"`
	Line    int    `json:"-"`
}

// AliasTable is the alias file, checked against the registered sources.
type AliasTable struct {
	Rows []Alias
	by   map[string]map[string][]Alias // source -> column -> aliases in file order
}

// LoadAliases reads the alias table: <workspace>/data/header_aliases.csv
// when present, else the embedded one. workspace may be "".
func LoadAliases(workspace string) (*AliasTable, error) {
	t, err := data.ReadCSV(workspace, AliasesFile)
	if err != nil {
		return nil, err
	}
	for _, c := range []string{"source", "lake_column", "alias", "era"} {
		if !contains(t.Header, c) {
			return nil, fmt.Errorf("%s: no %q column (want source, lake_column, alias, era, note)", AliasesFile, c)
		}
	}
	at := &AliasTable{by: map[string]map[string][]Alias{}}
	owner := map[[2]string]Alias{} // source, key -> the row that claimed it
	for i, r := range t.Rows {
		a := Alias{Source: r["source"], Column: r["lake_column"], Heading: r["alias"], Era: r["era"], Note: r["note"], Line: t.Lines[i]}
		a.Key = normHeader(a.Heading)
		where := fmt.Sprintf("%s line %d", AliasesFile, a.Line)
		if a.Source == "" || a.Column == "" || a.Key == "" || a.Era == "" {
			return nil, fmt.Errorf("%s: source, lake_column, alias and era must all be given", where)
		}
		src, ok := Lookup(a.Source)
		if !ok {
			return nil, fmt.Errorf("%s: no source named %q (see `gplens sources`)", where, a.Source)
		}
		info := src.Info()
		if info.Headerless > 0 {
			return nil, fmt.Errorf("%s: source %s has no header row; its columns are read by position", where, a.Source)
		}
		if !declares(info, a.Column) {
			return nil, fmt.Errorf("%s: source %s has no lake column %q (it reads %s)", where, a.Source, a.Column, strings.Join(headingNames(info), ", "))
		}
		if prev, dup := owner[[2]string{a.Source, a.Key}]; dup {
			if prev.Column == a.Column {
				continue // the same heading spelled twice: harmless
			}
			return nil, fmt.Errorf("%s: alias %q of %s.%s is already an alias of %s (line %d); a heading can mean one column only",
				where, a.Heading, a.Source, a.Column, prev.Column, prev.Line)
		}
		owner[[2]string{a.Source, a.Key}] = a
		at.Rows = append(at.Rows, a)
		if at.by[a.Source] == nil {
			at.by[a.Source] = map[string][]Alias{}
		}
		at.by[a.Source][a.Column] = append(at.by[a.Source][a.Column], a)
	}
	return at, nil
}

func declares(info *Info, col string) bool {
	for _, h := range info.Headings {
		if h.Name == col || (strings.HasSuffix(h.Name, ":*") && strings.HasPrefix(col, strings.TrimSuffix(h.Name, "*")) && len(col) > len(h.Name)-1) {
			return true
		}
	}
	return false
}

func headingNames(info *Info) []string {
	var out []string
	for _, h := range info.Headings {
		out = append(out, h.Name)
	}
	return out
}

// For returns the aliases of one source's column, in priority order.
func (t *AliasTable) For(source, column string) []Alias { return t.by[source][column] }

// Prefixed returns, for a source, every alias of the columns starting with
// prefix, keyed by normalised heading, giving the column name after the
// prefix (payments' renamed lines: "gp_extended_hours_access" ->
// "extended_hours_access").
func (t *AliasTable) Prefixed(source, prefix string) map[string]string {
	out := map[string]string{}
	for col, as := range t.by[source] {
		if name, ok := strings.CutPrefix(col, prefix); ok {
			for _, a := range as {
				out[a.Key] = name
			}
		}
	}
	return out
}

// headerMatch is how one source reads one file's header.
type headerMatch struct {
	cols    map[string]int // heading -> record index
	missing []string       // required headings with no alias in the file
	matched int            // headings found
	era     string         // the era most of the matched aliases belong to
}

// match resolves a source's headings against a file's normalised keys.
func (t *AliasTable) match(info *Info, keys []string) headerMatch {
	pos := make(map[string]int, len(keys))
	for i, k := range keys {
		if _, dup := pos[k]; !dup {
			pos[k] = i
		}
	}
	m := headerMatch{cols: map[string]int{}}
	eras := map[string]int{}
	var order []string
	for _, h := range info.Headings {
		if strings.HasSuffix(h.Name, ":*") {
			continue
		}
		found := false
		for _, a := range t.by[info.Name][h.Name] {
			if i, ok := pos[a.Key]; ok {
				m.cols[h.Name] = i
				m.matched++
				found = true
				if a.Era != "all" {
					if eras[a.Era] == 0 {
						order = append(order, a.Era)
					}
					eras[a.Era]++
				}
				break
			}
		}
		if !found && h.Required {
			m.missing = append(m.missing, h.Name)
		}
	}
	m.era = "all"
	best := 0
	for _, e := range order {
		if eras[e] > best {
			m.era, best = e, eras[e]
		}
	}
	return m
}

// nearest explains why a file is not the given source: the lake columns it
// lacks and, for each, the headings known for it, those of the era the
// file's other headings come from first.
func (t *AliasTable) nearest(info *Info, m headerMatch, keys []string) string {
	have := map[string]bool{}
	for _, k := range keys {
		have[k] = true
	}
	// The file's era: the era with most of the file's headings among its aliases.
	count := map[string]int{}
	for _, as := range t.by[info.Name] {
		for _, a := range as {
			if have[a.Key] && a.Era != "all" {
				count[a.Era]++
			}
		}
	}
	era := ""
	eras := make([]string, 0, len(count))
	for e := range count {
		eras = append(eras, e)
	}
	sort.Strings(eras)
	for _, e := range eras {
		if era == "" || count[e] > count[era] {
			era = e
		}
	}
	var parts []string
	for _, col := range m.missing {
		as := append([]Alias(nil), t.by[info.Name][col]...)
		sort.SliceStable(as, func(i, j int) bool { return as[i].Era == era && as[j].Era != era })
		var known []string
		for i, a := range as {
			if i == 3 {
				known = append(known, "...")
				break
			}
			known = append(known, fmt.Sprintf("%q (%s)", a.Heading, a.Era))
		}
		if len(known) == 0 {
			known = []string{"no alias in " + AliasesFile}
		}
		parts = append(parts, fmt.Sprintf("%s (known as %s)", col, strings.Join(known, ", ")))
	}
	s := fmt.Sprintf("nearest known header: %s", info.Name)
	if era != "" {
		s += fmt.Sprintf(", era %q", era)
	}
	return s + fmt.Sprintf("; the header lacks lake columns %s", strings.Join(parts, "; "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
