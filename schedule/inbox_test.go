package schedule

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestInboxWatcher(t *testing.T) {
	ws := t.TempDir()
	in := filepath.Join(ws, InboxDir)
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(in, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	appendTo := func(name, data string) {
		t.Helper()
		f, err := os.OpenFile(filepath.Join(in, name), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(data); err != nil {
			t.Fatal(err)
		}
	}
	touch := func(name string, d time.Duration) {
		t.Helper()
		mt := time.Now().Add(d)
		if err := os.Chtimes(filepath.Join(in, name), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	w := newInboxWatcher(ws)

	steps := []struct {
		name   string
		before func()
		want   []string
	}{
		{"missing inbox is not an error", func() {}, nil},
		{"first sight reports nothing", func() {
			write("c.csv", "x")
			write("sub/q.csv", "y")
			write("a.csv.part", "partial")
			write("b.TMP", "tmp")
			write(".hidden.csv", "h")
			write(".sync/inner.csv", "h")
			write("grow.csv", "1")
			write("touched.csv", "1")
		}, nil},
		{"stable files are reported, changing ones wait", func() {
			appendTo("grow.csv", "2")
			touch("touched.csv", -time.Hour) // same size, new mtime
		}, []string{"inbox/c.csv", "inbox/sub/q.csv"}},
		{"files stable for a poll are reported once", func() {}, []string{"inbox/grow.csv", "inbox/touched.csv"}},
		{"nothing is reported twice", func() {}, nil},
		{"a renamed .part needs two stable polls", func() {
			if err := os.Rename(filepath.Join(in, "a.csv.part"), filepath.Join(in, "a.csv")); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"renamed file reported", func() {}, []string{"inbox/a.csv"}},
		{"a file replaced after ingest counts again", func() {
			if err := os.Remove(filepath.Join(in, "c.csv")); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"new c.csv first sight", func() { write("c.csv", "new content") }, nil},
		{"new c.csv reported", func() {}, []string{"inbox/c.csv"}},
	}
	for _, s := range steps {
		s.before()
		got, err := w.poll()
		if err != nil {
			t.Fatalf("%s: poll: %v", s.name, err)
		}
		if !slices.Equal(got, s.want) {
			t.Fatalf("%s: got %v, want %v", s.name, got, s.want)
		}
	}
}

func TestIgnoredName(t *testing.T) {
	tests := map[string]bool{
		"x.csv": false, "x.csv.part": true, "x.PART": true, "x.tmp": true, ".x.csv": true,
		"x.csv~": true, "~$x.xlsx": true, "x.crdownload": true, "ACHIEVEMENT_2324.csv": false, "x.zip": false,
	}
	for name, want := range tests {
		if got := ignoredName(name); got != want {
			t.Errorf("ignoredName(%q) = %v, want %v", name, got, want)
		}
	}
}
