package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every reference file in data/ matches its declaration in schemas.toml,
// and every file has one.
func TestReferenceFilesMatchSchemas(t *testing.T) {
	probs, err := CheckAll("")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Error(p)
	}
}

// The checker itself, on a workspace that overrides schemas.toml and adds
// files: each kind of problem is found and named with its line.
func TestSchemaCheck(t *testing.T) {
	const schemas = `
[[file]]
name = "rules.csv"
key = ["scope", "level"]
[[file.column]]
name = "scope"
type = "text"
required = true
pattern = "[a-z_*]+"
[[file.column]]
name = "level"
type = "enum"
values = ["icb", "region"]
[[file.column]]
name = "min_count"
type = "integer"
min = 1
[[file.column]]
name = "weight"
type = "number"
max = 1
[[file.column]]
name = "secondary"
type = "boolean"

[[file]]
name = "settings.toml"
keys = ["rules"]
`
	good := "# a comment\nscope,level,min_count,weight,secondary\n*,icb,8,0.5,true\nref_rate,region,10,,false\n"
	cases := []struct {
		name, file, content string
		want                []string // each in one problem; none means no problems
	}{
		{"good", "rules.csv", good, nil},
		{"columns in another order", "rules.csv", "secondary,weight,min_count,level,scope\ntrue,1,8,icb,*\n", nil},
		{"missing column", "rules.csv", "scope,level,min_count,weight\n*,icb,8,0.5\n", []string{"header lacks column secondary"}},
		{"undeclared column", "rules.csv", "scope,level,min_count,weight,secondary,extra\n*,icb,8,0.5,true,x\n", []string{"column extra is not declared"}},
		{"required empty", "rules.csv", "scope,level,min_count,weight,secondary\n,icb,8,0.5,true\n", []string{`line 2, column scope: "" is empty (required)`}},
		{"pattern", "rules.csv", "scope,level,min_count,weight,secondary\nRef Rate,icb,8,0.5,true\n", []string{"does not match"}},
		{"enum", "rules.csv", "scope,level,min_count,weight,secondary\n*,pcn,8,0.5,true\n", []string{`column level: "pcn" is not one of icb, region`}},
		{"integer", "rules.csv", "scope,level,min_count,weight,secondary\n*,icb,8.5,0.5,true\n", []string{"is not a whole number"}},
		{"min", "rules.csv", "scope,level,min_count,weight,secondary\n*,icb,0,0.5,true\n", []string{"is outside [1, ∞]"}},
		{"number and max", "rules.csv", "scope,level,min_count,weight,secondary\n*,icb,8,abc,true\n*,region,8,1.5,true\n", []string{"line 2, column weight: \"abc\" is not a number", "line 3, column weight: \"1.5\" is outside"}},
		{"boolean", "rules.csv", "scope,level,min_count,weight,secondary\n*,icb,8,0.5,yes\n", []string{"is not true or false"}},
		{"duplicate key", "rules.csv", "scope,level,min_count,weight,secondary\n*,icb,8,0.5,true\n*,icb,9,0.5,true\n", []string{"line 3 repeats line 2's scope, level (*, icb)"}},
		{"bad CSV", "rules.csv", "scope,level\n\"open,icb\n", []string{"rules.csv"}},
		{"undeclared file", "other.csv", "a\n1\n", []string{"other.csv: no schema"}},
		{"toml good", "settings.toml", "rules = []\n", nil},
		{"toml lacks key", "settings.toml", "other = 1\n", []string{"settings.toml: lacks the key rules"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			// The embedded declarations too, so the embedded files check clean.
			embedded, err := Read("", SchemaFile)
			if err != nil {
				t.Fatal(err)
			}
			write(t, ws, SchemaFile, string(embedded)+schemas)
			// The other declared files, so only this case's file can fail.
			write(t, ws, "rules.csv", good)
			write(t, ws, "settings.toml", "rules = []\n")
			write(t, ws, tc.file, tc.content)
			all, err := CheckAll(ws)
			if err != nil {
				t.Fatal(err)
			}
			// only this test's files: the embedded reference files are
			// declared in the real schemas.toml, not in this fixture's
			var probs []string
			for _, p := range all {
				if !strings.Contains(p, ": no schema in") || strings.HasPrefix(p, tc.file) {
					probs = append(probs, p)
				}
			}
			if len(tc.want) == 0 && len(probs) > 0 || len(tc.want) > 0 && len(probs) != len(tc.want) {
				t.Fatalf("problems %q, want %d like %q", probs, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(probs[i], w) {
					t.Errorf("problem %q, want %q", probs[i], w)
				}
			}
		})
	}
}

func TestSchemaDeclarations(t *testing.T) {
	for name, schemas := range map[string]string{
		"unknown type":      "[[file]]\nname = \"a.csv\"\n[[file.column]]\nname = \"x\"\ntype = \"date\"\n",
		"enum no values":    "[[file]]\nname = \"a.csv\"\n[[file.column]]\nname = \"x\"\ntype = \"enum\"\n",
		"bad pattern":       "[[file]]\nname = \"a.csv\"\n[[file.column]]\nname = \"x\"\ntype = \"text\"\npattern = \"(\"\n",
		"undeclared key":    "[[file]]\nname = \"a.csv\"\nkey = [\"y\"]\n[[file.column]]\nname = \"x\"\ntype = \"text\"\n",
		"unknown field":     "[[file]]\nname = \"a.csv\"\nrequired = true\n",
		"declared twice":    "[[file]]\nname = \"a.csv\"\n[[file]]\nname = \"a.csv\"\n",
		"declared, no file": "[[file]]\nname = \"ghost.csv\"\n[[file.column]]\nname = \"x\"\ntype = \"text\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			ws := t.TempDir()
			// The embedded declarations too, so the embedded files check clean.
			embedded, err := Read("", SchemaFile)
			if err != nil {
				t.Fatal(err)
			}
			write(t, ws, SchemaFile, string(embedded)+schemas)
			probs, err := CheckAll(ws)
			if err == nil && len(probs) == 0 {
				t.Errorf("accepted:\n%s", schemas)
			}
		})
	}
}

func write(t *testing.T, ws, name, content string) {
	t.Helper()
	dir := filepath.Join(ws, "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
