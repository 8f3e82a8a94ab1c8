package data

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadOverride(t *testing.T) {
	ws := t.TempDir()
	if _, err := Read(ws, "README.md"); err != nil {
		t.Fatalf("embedded README: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(ws, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "data", "x.csv"), []byte("# comment\na, b\n1, 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tb, err := ReadCSV(ws, "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Rows) != 1 || tb.Rows[0]["b"] != "2" || tb.Lines[0] != 3 {
		t.Fatalf("got %+v", tb)
	}
	if _, err := ReadCSV("", "x.csv"); err == nil {
		t.Fatal("x.csv is not embedded: want an error")
	}
}
