package data

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// SchemaFile is schemas.toml: every reference file's declared shape.
const SchemaFile = "schemas.toml"

// Schema declares one reference file: for a CSV file its columns, each
// with a type and the values it allows, and the columns that identify a
// row; for a TOML file the top-level keys it must set.
type Schema struct {
	Name        string   `toml:"name"`
	Description string   `toml:"description"`
	Key         []string `toml:"key"`  // CSV: no two rows share these values
	Keys        []string `toml:"keys"` // TOML: required top-level keys
	Columns     []Column `toml:"column"`
}

// Column is one declared CSV column.
type Column struct {
	Name string `toml:"name"`
	// Type: text, integer, number, boolean or enum (one of Values).
	Type     string   `toml:"type"`
	Required bool     `toml:"required"` // never empty
	Values   []string `toml:"values"`   // enum: the allowed values
	Pattern  string   `toml:"pattern"`  // text: a regular expression the whole value matches
	Min      *float64 `toml:"min"`      // integer, number: bounds
	Max      *float64 `toml:"max"`
}

// Schemas reads schemas.toml (embedded; a workspace may override it as
// any other file) and checks that its declarations are well formed.
func Schemas(workspace string) (map[string]*Schema, error) {
	b, err := Read(workspace, SchemaFile)
	if err != nil {
		return nil, err
	}
	var doc struct {
		File []*Schema `toml:"file"`
	}
	md, err := toml.Decode(string(b), &doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SchemaFile, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown keys %v", SchemaFile, und)
	}
	out := map[string]*Schema{}
	for _, s := range doc.File {
		if out[s.Name] != nil {
			return nil, fmt.Errorf("%s: %s declared twice", SchemaFile, s.Name)
		}
		if err := s.compile(); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", SchemaFile, s.Name, err)
		}
		out[s.Name] = s
	}
	return out, nil
}

func (s *Schema) compile() error {
	cols := map[string]bool{}
	for _, c := range s.Columns {
		if cols[c.Name] {
			return fmt.Errorf("column %s declared twice", c.Name)
		}
		cols[c.Name] = true
		switch c.Type {
		case "text", "integer", "number", "boolean":
		case "enum":
			if len(c.Values) == 0 {
				return fmt.Errorf("column %s: an enum needs values", c.Name)
			}
		default:
			return fmt.Errorf("column %s: type %q is not text, integer, number, boolean or enum", c.Name, c.Type)
		}
		if c.Pattern != "" {
			if _, err := regexp.Compile(c.Pattern); err != nil {
				return fmt.Errorf("column %s: pattern: %w", c.Name, err)
			}
		}
	}
	for _, k := range s.Key {
		if !cols[k] {
			return fmt.Errorf("key column %s is not declared", k)
		}
	}
	return nil
}

// Check checks a reference file's content against its schema and returns
// every problem found (file, line, column and value), not only the first.
func (s *Schema) Check(b []byte) []string {
	if strings.HasSuffix(s.Name, ".toml") {
		return s.checkTOML(b)
	}
	t, err := parseCSV(s.Name, b)
	if err != nil {
		return []string{err.Error()}
	}
	var probs []string
	add := func(format string, a ...any) { probs = append(probs, s.Name+": "+fmt.Sprintf(format, a...)) }
	declared := map[string]bool{}
	for _, c := range s.Columns {
		declared[c.Name] = true
		if !contains(t.Header, c.Name) {
			add("header lacks column %s", c.Name)
		}
	}
	for _, h := range t.Header {
		if !declared[h] {
			add("column %s is not declared in %s", h, SchemaFile)
		}
	}
	if len(probs) > 0 {
		return probs
	}
	seen := map[string]int{}
	for i, row := range t.Rows {
		for _, c := range s.Columns {
			if msg := c.check(row[c.Name]); msg != "" {
				add("line %d, column %s: %q %s", t.Lines[i], c.Name, row[c.Name], msg)
			}
		}
		if len(s.Key) > 0 {
			var parts []string
			for _, k := range s.Key {
				parts = append(parts, row[k])
			}
			key := strings.Join(parts, "\x00")
			if first, dup := seen[key]; dup {
				add("line %d repeats line %d's %s (%s)", t.Lines[i], first, strings.Join(s.Key, ", "), strings.Join(parts, ", "))
			} else {
				seen[key] = t.Lines[i]
			}
		}
	}
	return probs
}

func (c Column) check(v string) string {
	if v == "" {
		if c.Required {
			return "is empty (required)"
		}
		return ""
	}
	var n float64
	switch c.Type {
	case "integer":
		i, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "is not a whole number"
		}
		n = float64(i)
	case "number":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "is not a number"
		}
		n = f
	case "boolean":
		if v != "true" && v != "false" {
			return "is not true or false"
		}
	case "enum":
		if !contains(c.Values, v) {
			return "is not one of " + strings.Join(c.Values, ", ")
		}
	}
	if c.Min != nil && n < *c.Min || c.Max != nil && n > *c.Max {
		return fmt.Sprintf("is outside %s", bounds(c.Min, c.Max))
	}
	if c.Pattern != "" && !regexp.MustCompile("^(?:"+c.Pattern+")$").MatchString(v) {
		return "does not match " + c.Pattern
	}
	return ""
}

func bounds(lo, hi *float64) string {
	f := func(p *float64) string {
		if p == nil {
			return "∞"
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	return "[" + f(lo) + ", " + f(hi) + "]"
}

func (s *Schema) checkTOML(b []byte) []string {
	var doc map[string]any
	if _, err := toml.Decode(string(b), &doc); err != nil {
		return []string{s.Name + ": " + err.Error()}
	}
	var probs []string
	for _, k := range s.Keys {
		if _, ok := doc[k]; !ok {
			probs = append(probs, fmt.Sprintf("%s: lacks the key %s", s.Name, k))
		}
	}
	return probs
}

// CheckAll checks every reference file (embedded, with the workspace's
// overrides and additions when workspace is set) against schemas.toml: a
// file without a schema is a problem too. Problems come sorted.
func CheckAll(workspace string) ([]string, error) {
	schemas, err := Schemas(workspace)
	if err != nil {
		return nil, err
	}
	names, err := Names(workspace)
	if err != nil {
		return nil, err
	}
	var probs []string
	for _, n := range names {
		s := schemas[n]
		if s == nil {
			probs = append(probs, n+": no schema in "+SchemaFile+" (declare its columns there)")
			continue
		}
		b, err := Read(workspace, n)
		if err != nil {
			return nil, err
		}
		probs = append(probs, s.Check(b)...)
	}
	for n := range schemas {
		if !contains(names, n) {
			probs = append(probs, n+": declared in "+SchemaFile+" but there is no such file")
		}
	}
	sort.Strings(probs)
	return probs, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
