package query

import (
	"testing"
)

func TestSplit(t *testing.T) {
	type want struct {
		text       string
		line, col  int
		terminated bool
	}
	tests := []struct {
		name string
		src  string
		want []want
	}{
		{"empty", "", nil},
		{"only comments", "-- a; b\n/* c; */  ", nil},
		{"two", "SELECT 1; SELECT 2;", []want{{"SELECT 1", 1, 1, true}, {"SELECT 2", 1, 11, true}}},
		{"unterminated last", "SELECT 1;\n  SELECT 2", []want{{"SELECT 1", 1, 1, true}, {"SELECT 2", 2, 3, false}}},
		{"semicolon in string", "SELECT 'a;b', 'it''s;';", []want{{"SELECT 'a;b', 'it''s;'", 1, 1, true}}},
		{"semicolon in identifier", `SELECT 1 AS "x;y";`, []want{{`SELECT 1 AS "x;y"`, 1, 1, true}}},
		{"semicolon in line comment", "SELECT 1 -- not; here\n, 2;", []want{{"SELECT 1 -- not; here\n, 2", 1, 1, true}}},
		{"semicolon in block comment", "SELECT /* ; */ 1;", []want{{"SELECT /* ; */ 1", 1, 1, true}}},
		{"nested block comment", "SELECT /* a /* ; */ ; */ 1; SELECT 2", []want{{"SELECT /* a /* ; */ ; */ 1", 1, 1, true}, {"SELECT 2", 1, 29, false}}},
		{"leading comment dropped", "-- header; here\n/* x */ SELECT 1;", []want{{"SELECT 1", 2, 9, true}}},
		{"dollar quoted", "CREATE MACRO m() AS $$ ; $$; SELECT 1;", []want{{"CREATE MACRO m() AS $$ ; $$", 1, 1, true}, {"SELECT 1", 1, 30, true}}},
		{"tagged dollar", "SELECT $tag$ a;$$; $tag$;", []want{{"SELECT $tag$ a;$$; $tag$", 1, 1, true}}},
		{"positional parameter is not a dollar quote", "SELECT $1; SELECT 2;", []want{{"SELECT $1", 1, 1, true}, {"SELECT 2", 1, 12, true}}},
		{"E string with backslash quote", `SELECT E'a\';b'; SELECT 2;`, []want{{`SELECT E'a\';b'`, 1, 1, true}, {"SELECT 2", 1, 18, true}}},
		{"identifier ending in e before string is not E''", "SELECT name'x;'", []want{{"SELECT name'x;'", 1, 1, false}}},
		{"unterminated string", "SELECT 'abc;", []want{{"SELECT 'abc;", 1, 1, false}}},
		{"empty statements skipped", ";;SELECT 1;;", []want{{"SELECT 1", 1, 3, true}}},
		{"multi-line position", "\n\nSELECT\n  1;\n\n  SELECT 2;", []want{{"SELECT\n  1", 3, 1, true}, {"SELECT 2", 6, 3, true}}},
		{"unicode column", "SELECT 'é'; SELECT 2;", []want{{"SELECT 'é'", 1, 1, true}, {"SELECT 2", 1, 13, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.src)
			if len(got) != len(tt.want) {
				t.Fatalf("Split(%q) = %d statements %+v, want %d", tt.src, len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Text != w.text || g.Line != w.line || g.Col != w.col || g.Terminated != w.terminated {
					t.Errorf("statement %d = {%q %d:%d %v}, want {%q %d:%d %v}", i, g.Text, g.Line, g.Col, g.Terminated, w.text, w.line, w.col, w.terminated)
				}
			}
		})
	}
}

func TestComplete(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"", false},
		{"SELECT 1", false},
		{"SELECT 1;", true},
		{"SELECT 1; -- trailing comment", true},
		{"SELECT 1; /* open", false},
		{"SELECT ';", false},
		{"SELECT ';';", true},
		{"SELECT 1;\nSELECT", false},
		{"-- only a comment;", false},
		{"SELECT $$;", false},
		{"SELECT $$;$$;", true},
	}
	for _, tt := range tests {
		if got := Complete(tt.src); got != tt.want {
			t.Errorf("Complete(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}
