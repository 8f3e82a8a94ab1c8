package publish

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"testing"
)

// TestAppendCSVFieldMatchesEncodingCSV: the feeds' CSV writer quotes
// exactly as encoding/csv does (the bytes of published feeds must not
// change with the writer).
func TestAppendCSVFieldMatchesEncodingCSV(t *testing.T) {
	fields := []string{"", "plain", "with,comma", `with "quote"`, "line\nbreak", "cr\rhere", " leading space", "\tleading tab",
		"trailing space ", `\.`, `\`, ".", "£ pound", "\u00a0nbsp first", "\u2028sep", "é", `"`, ",", "a\r\nb"}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune{'a', ',', '"', '\n', '\r', ' ', '\t', '\\', '.', '£', '\u00a0', '\u3000'}
	for range 2000 {
		n := r.IntN(6)
		var rs []rune
		for range n {
			rs = append(rs, alphabet[r.IntN(len(alphabet))])
		}
		fields = append(fields, string(rs))
	}
	for _, f := range fields {
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		if err := w.Write([]string{f, f}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		got := appendCSVField(nil, f)
		got = append(got, ',')
		got = appendCSVField(got, f)
		got = append(got, '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("field %q: got %q, encoding/csv %q", f, got, want.Bytes())
		}
	}
}
