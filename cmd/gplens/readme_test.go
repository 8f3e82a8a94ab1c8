package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The README is a contract: every command it shows, every flag it names
// (in a `gplens ...` example, a flag table or a flag in backquotes) and
// every GPLENS_ variable must exist, and every command must be in its
// command table. A failure names the README line.
func TestREADMEMatchesCommands(t *testing.T) {
	text, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	root := newRootCommand(&GlobalOptions{})
	// cobra adds --help and --version when a command runs; add them now.
	root.InitDefaultVersionFlag()
	for _, c := range append(root.Commands(), root) {
		c.InitDefaultHelpFlag()
	}
	doc := parseREADME(string(text), root)
	for _, p := range doc.problems {
		t.Error(p)
	}
	if len(doc.checked) < 40 {
		t.Errorf("only %d flags and commands checked: the README parser has lost its way", len(doc.checked))
	}
	// Every command is in the README's command table.
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if !doc.tableCommands[c.Name()] {
			t.Errorf("command %q is missing from the README's command table", c.Name())
		}
	}
	// Every flag of every command is named in the README (its long form, or
	// its shorthand); a deprecated or hidden one need not be.
	for _, c := range append(root.Commands(), root) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Deprecated != "" || f.Name == "help" || f.Name == "version" {
				return
			}
			if !doc.named[c.Name()+" --"+f.Name] && (f.Shorthand == "" || !doc.named[c.Name()+" -"+f.Shorthand]) {
				t.Errorf("flag --%s of `%s` is not in the README", f.Name, c.CommandPath())
			}
		})
	}
	// Every GPLENS_ variable the README names is read or set by the code
	// (the Go source, its benchmarks' files included, or the scripts for
	// the benchmark settings).
	src := goSource(t, "../..")
	scripts, _ := filepath.Glob("../../scripts/*.sh")
	var sh strings.Builder
	for _, f := range scripts {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sh.Write(b)
	}
	for _, v := range regexp.MustCompile(`GPLENS_[A-Z0-9_]+`).FindAllString(string(text), -1) {
		switch used := strings.Contains(src, `"`+v) || strings.Contains(sh.String(), "${"+v); {
		case used && elsewhere[v]:
			t.Errorf("%s exists now: drop it from elsewhere in readme_test.go", v)
		case !used && !elsewhere[v]:
			t.Errorf("README names %s, which no Go file uses", v)
		}
	}
	for k := range elsewhere {
		name, flag, ok := strings.Cut(k, " ")
		if c := subcommand(root, name); ok && c != nil && hasFlag(c, flag) {
			t.Errorf("%s exists now: drop it from elsewhere in readme_test.go", k)
		}
	}
}

// notOurs are flags the README names for other programs.
var notOurs = map[string]string{
	"--add-opens": "the Java option the Flight SQL JDBC driver needs",
	"-tags":       "the go command's build tags",
}

// elsewhere are flags and variables the README documents that another
// branch adds (issue 12: the endpoint's settings). Each entry must go when
// that branch lands: the test fails while an entry here exists in the code.
var elsewhere = map[string]bool{}

type readmeDoc struct {
	problems      []string
	checked       []string
	tableCommands map[string]bool
	named         map[string]bool // "command --flag" for each flag the README names
}

var (
	headingRe = regexp.MustCompile(`^(#+)\s+(.*)$`)
	spanRe    = regexp.MustCompile("`([^`]+)`")
	gplensRe  = regexp.MustCompile("(?:^|[\\s/`(])gplens\\s+(\\S+)")
	// A span that is a flag: -c, --max-rows N, --format=csv.
	flagSpanRe = regexp.MustCompile(`^--?[a-zA-Z][a-zA-Z0-9-]*([= ].*)?$`)
)

func parseREADME(text string, root *cobra.Command) *readmeDoc {
	d := &readmeDoc{tableCommands: map[string]bool{}, named: map[string]bool{}}
	sections := map[int]*cobra.Command{} // heading level -> its command
	var current *cobra.Command           // the command the section is about
	var section string
	inCode := false
	for i, line := range strings.Split(text, "\n") {
		where := func() string { return "README.md:" + itoa(i+1) }
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			if t := strings.TrimPrefix(strings.TrimSpace(line), "$ "); strings.HasPrefix(t, "gplens ") || strings.HasPrefix(t, "./bin/gplens ") {
				d.invocation(root, t[strings.Index(t, "gplens ")+7:], where())
			}
			continue
		}
		if m := headingRe.FindStringSubmatch(line); m != nil {
			level := len(m[1])
			for l := range sections {
				if l >= level {
					delete(sections, l)
				}
			}
			if g := gplensRe.FindStringSubmatch(m[2]); g != nil {
				if c := subcommand(root, strings.Trim(g[1], "`,()")); c != nil {
					sections[level] = c
				}
			}
			current = nil
			for l := 1; l <= level; l++ {
				if c := sections[l]; c != nil {
					current = c
				}
			}
			section = m[2]
			continue
		}
		spans := spanRe.FindAllStringSubmatch(line, -1)
		if section == "Commands" && strings.HasPrefix(line, "| `") {
			d.commandRow(root, line, where())
		}
		for _, s := range spans {
			span := s[1]
			switch {
			case strings.HasPrefix(span, "gplens "):
				d.invocation(root, span[len("gplens "):], where())
			case flagSpanRe.MatchString(span):
				name := flagName(span)
				raw, _, _ := strings.Cut(strings.SplitN(span, " ", 2)[0], "=")
				if _, ok := notOurs[raw]; ok {
					continue
				}
				d.flag(root, current, name, where())
			}
		}
	}
	return d
}

// commandRow reads a row of the command table: `gplens a ...` / `b` / `c`.
func (d *readmeDoc) commandRow(root *cobra.Command, line, where string) {
	cells := strings.Split(strings.Trim(line, "|"), " | ")
	for _, s := range spanRe.FindAllStringSubmatch(cells[0], -1) {
		name := strings.Fields(strings.TrimPrefix(s[1], "gplens "))[0]
		if subcommand(root, name) == nil {
			d.problems = append(d.problems, where+": the command table lists `gplens "+name+"`, which does not exist")
			continue
		}
		d.tableCommands[name] = true
	}
}

// invocation checks `gplens [global flags] COMMAND [args and flags]`.
func (d *readmeDoc) invocation(root *cobra.Command, args, where string) {
	var cmd *cobra.Command
	fields := strings.Fields(args)
	for i := 0; i < len(fields); i++ {
		tok := strings.Trim(fields[i], "[](),")
		switch {
		case tok == "|" || tok == "<" || tok == ">" || strings.HasPrefix(tok, "#") || strings.HasPrefix(tok, "2>"):
			return // a pipe, a redirection or a comment: gplens's part is over
		case tok == `\|` || tok == "" || tok == "...":
		case strings.HasPrefix(tok, "-"):
			name := flagName(tok)
			if cmd == nil {
				d.flag(root, root, name, where)
				if f := root.PersistentFlags().Lookup(strings.TrimLeft(name, "-")); f != nil && f.Value.Type() != "count" && !strings.Contains(tok, "=") {
					i++ // its value
				}
				continue
			}
			d.flag(root, cmd, name, where)
		case cmd == nil:
			cmd = subcommand(root, tok)
			if cmd == nil {
				d.problems = append(d.problems, where+": `gplens "+tok+"`: no such command")
				return
			}
			d.checked = append(d.checked, tok)
		}
	}
}

// flag checks that name (--long or -s) is a flag of cmd, or of any command
// when the section is about none.
func (d *readmeDoc) flag(root, cmd *cobra.Command, name, where string) {
	d.checked = append(d.checked, name)
	if cmd == nil {
		found := false
		for _, c := range append(root.Commands(), root) {
			if hasFlag(c, name) {
				d.named[c.Name()+" "+name] = true
				found = true
			}
		}
		for k := range elsewhere {
			found = found || strings.HasSuffix(k, " "+name)
		}
		if found {
			return
		}
		d.problems = append(d.problems, where+": "+name+" is not a flag of any gplens command")
		return
	}
	d.named[cmd.Name()+" "+name] = true
	if !hasFlag(cmd, name) && !elsewhere[cmd.Name()+" "+name] {
		d.problems = append(d.problems, where+": "+name+" is not a flag of `"+cmd.CommandPath()+"`")
	}
}

func hasFlag(c *cobra.Command, name string) bool {
	look := func(fs *pflag.FlagSet) bool {
		if strings.HasPrefix(name, "--") {
			return fs.Lookup(name[2:]) != nil
		}
		return fs.ShorthandLookup(name[1:2]) != nil
	}
	return look(c.Flags()) || look(c.InheritedFlags()) || look(c.Root().PersistentFlags())
}

func subcommand(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// flagName is "--area" of "--area=QHM", "-c" of "-c", "-v" of "-vv".
func flagName(tok string) string {
	tok = strings.TrimRight(tok, ".,;:)]")
	if i := strings.IndexAny(tok, "= |"); i > 0 {
		tok = tok[:i]
	}
	if !strings.HasPrefix(tok, "--") && len(tok) > 2 {
		tok = tok[:2]
	}
	return tok
}

func itoa(n int) string {
	var b []byte
	for ; n > 0 || len(b) == 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// goSource is the text of the Go files under dir but the tests (benchmark
// files, bench_test.go, included: their settings are documented too).
func goSource(t *testing.T, dir string) string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && (strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") || strings.HasSuffix(p, "bench_test.go")) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}
