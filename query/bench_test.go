package query

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/gplens/gplens/duck"
)

// BenchmarkSplit splits a 2,000-statement script with strings and comments.
func BenchmarkSplit(b *testing.B) {
	script := strings.Repeat("SELECT 'a;b' AS s, \"x;y\" -- c;\n FROM t /* ; */ WHERE v = $$;$$;\n", 2000)
	b.SetBytes(int64(len(script)))
	for b.Loop() {
		if n := len(Split(script)); n != 2000 {
			b.Fatalf("%d statements", n)
		}
	}
}

// BenchmarkRunFormats prints 100,000 rows of mixed types in each format.
func BenchmarkRunFormats(b *testing.B) {
	db, err := duck.Open(context.Background(), "", duck.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	q := "SELECT range AS i, 'P' || range AS code, range / 7.0 AS value, DATE '2024-01-01' + (range % 365)::INT AS day FROM range(100000)"
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				if err := Run(context.Background(), db, q, Options{Format: f, MaxRows: -1}, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
