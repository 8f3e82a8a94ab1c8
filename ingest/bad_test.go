package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gplens/gplens/ingest"
)

const prevHeader = "PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE\n"

// prevalence builds a QOF prevalence file of n good rows plus extra lines.
func prevalence(n int, extra ...string) string {
	var b strings.Builder
	b.WriteString(prevHeader)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "A%05d,DM,%d.0,17OV,%d\n", 10000+i, 100+i, 5000+i)
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// snapshot lists every file in the lake with its size, to prove a refused
// file left it as it was.
func snapshot(t *testing.T, lake string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	filepath.Walk(lake, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out[p] = info.Size()
		}
		return nil
	})
	return out
}

func sameSnapshot(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Each way a file can be bad is refused whole with a clear error naming the
// file (and line where there is one), quarantined with a reason, and the
// lake is untouched.
func TestRefusedFiles(t *testing.T) {
	cases := []struct {
		name, file, body string
		want             string // in the error
		line             bool   // the error names a line
	}{
		{"unrecognised header", "PREVALENCE_2223.csv", "FOO,BAR\n1,2\n", "header lacks", true},
		{"unknown file", "whatever_2223.csv", "FOO,BAR\n1,2\n", "unrecognised file", true},
		{"empty", "PREVALENCE_2223.csv", "", "empty", false},
		{"blank lines only", "PREVALENCE_2223.csv", "\r\n\r\n\n", "no data", false},
		{"header only", "PREVALENCE_2223.csv", prevHeader, "no rows", false},
		{"xlsx", "PREVALENCE_2223.csv", "PK\x03\x04\x14\x00\x06\x00binary", "not a CSV", false},
		{"binary", "PREVALENCE_2223.csv", "PRACTICE_CODE\x00\x01\x02", "not a CSV", false},
		{"truncated mid-quote", "PREVALENCE_2223.csv", prevalence(50) + "A99999,DM,\"12", "truncated", true},
		{"truncated mid-row", "PREVALENCE_2223.csv", strings.TrimSuffix(prevalence(50), "\n") + "\nA99999,DM,1", "truncated", true},
		{"too many rejects", "PREVALENCE_2223.csv", prevalence(20, "A9999X,DM,1,TOTAL,10"), "rejected, more than", false},
		{"no period", "PREVALENCE.csv", prevalence(5), "cannot tell the period", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			lake, q := filepath.Join(ws, "lake"), filepath.Join(ws, "quarantine")
			// A good file first, so there is a lake to leave untouched.
			good := write(t, ws, "in/2022-23/PREVALENCE_2223.csv", prevalence(10))
			if _, err := ingest.File(context.Background(), good, ingest.Options{Lake: lake, Quarantine: q}); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, lake)
			bad := write(t, ws, "in/"+tc.file, tc.body)
			_, err := ingest.File(context.Background(), bad, ingest.Options{Lake: lake, Quarantine: q})
			if !ingest.IsRefused(err) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, tc.file) {
				t.Errorf("error %q should name the file and say %q", msg, tc.want)
			}
			if tc.line && !strings.Contains(msg, "line ") {
				t.Errorf("error %q should name the line", msg)
			}
			if !sameSnapshot(before, snapshot(t, lake)) {
				t.Errorf("lake changed by a refused file")
			}
			reasons, _ := filepath.Glob(filepath.Join(q, "*"+tc.file+".reason.json"))
			if len(reasons) != 1 {
				t.Fatalf("quarantine reason files: %v", reasons)
			}
			var r map[string]any
			b, _ := os.ReadFile(reasons[0])
			if err := json.Unmarshal(b, &r); err != nil || !strings.Contains(fmt.Sprint(r["error"]), tc.want) {
				t.Errorf("reason %s: %v", b, err)
			}
			if _, err := os.Stat(strings.TrimSuffix(reasons[0], ".reason.json")); err != nil {
				t.Errorf("quarantined copy missing: %v", err)
			}
		})
	}
}

// Row problems under the threshold are rejected with file, line, column,
// value and reason; the good rows load.
func TestRowRejects(t *testing.T) {
	bad := []struct{ line, want string }{
		{"A9999X,DM,1,TOTAL,10", "not a GP practice ODS code"},
		{"A99991,DM,abc,TOTAL,10", "not a number"},
		{"A99992,DM,-4,TOTAL,10", "negative"},
		{"A99993,DM,1,TOTAL", "wrong field count"},
		{"A10000,DM,5,TOTAL,10", "duplicate key"},
		{"A99994,DM,1.5,TOTAL,10", "whole number"},
	}
	var extra []string
	for _, b := range bad {
		extra = append(extra, b.line)
	}
	ws := t.TempDir()
	lake := filepath.Join(ws, "lake")
	f := write(t, ws, "PREVALENCE_2223.csv", prevalence(1000, extra...))
	res, err := ingest.File(context.Background(), f, ingest.Options{Lake: lake, Quarantine: filepath.Join(ws, "q")})
	if err != nil {
		t.Fatal(err)
	}
	if res.RowsRead != 1006 || res.RowsWritten != 1000 || res.RowsRejected != 6 {
		t.Fatalf("read %d written %d rejected %d", res.RowsRead, res.RowsWritten, res.RowsRejected)
	}
	for i, b := range bad {
		r := res.Rejects[i]
		if r.Line != int64(1002+i) || !strings.Contains(r.Reason, b.want) || r.File != "PREVALENCE_2223.csv" {
			t.Errorf("reject %d = %+v, want line %d reason %q", i, r, 1002+i, b.want)
		}
	}
	if res.Rejects[0].Column != "PRACTICE_CODE" || res.Rejects[0].Value != "A9999X" {
		t.Errorf("reject should name column and value: %+v", res.Rejects[0])
	}
	rej, _ := filepath.Glob(filepath.Join(lake, "_rejects", "qof_prevalence", "period=2022-23", "*.parquet"))
	if len(rej) != 1 {
		t.Errorf("rejects partition: %v", rej)
	}
}

// Encodings: BOM, CRLF, Windows-1252 pound signs, suppressed markers,
// thousands separators and total rows.
func TestEncodingsAndQuirks(t *testing.T) {
	ws := t.TempDir()
	body := "\xef\xbb\xbfPRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE\r\n" +
		"a81001 ,DM,\"1,112.0\",17OV,\"12,000\"\r\n" +
		"A81002,DM,*,17OV,900\r\n" +
		"A81003,DM,-,17OV,\r\n" +
		",,,,\r\n\r\n"
	f := write(t, ws, "PREVALENCE_2223.csv", body)
	res, err := ingest.File(context.Background(), f, ingest.Options{Lake: filepath.Join(ws, "lake")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Encoding != ingest.EncUTF8BOM || res.RowsRead != 3 || res.RowsWritten != 3 || res.RowsRejected != 0 {
		t.Errorf("got %+v", res)
	}
	// cp1252: a payments-style file whose headings carry the pound sign as byte 0xA3.
	pay := "PracticeCode,NHSEnglandRegionCode,NumberOfRegisteredPatientsLastKnownFigure,GlobalSum_\xa3,Total_\xa3\r\nA81001,Y63,1000,\"12,345.67\",12345.67\r\n"
	f = write(t, ws, "nhspaymentsgp-15-16-csv.csv", pay)
	res, err = ingest.File(context.Background(), f, ingest.Options{Check: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Encoding != ingest.EncCP1252 || res.Source != "payments" || res.RowsWritten != 2 {
		t.Errorf("cp1252 payments: %+v", res)
	}
}

// Re-ingesting the same bytes is a no-op; a restated file for the period
// replaces it whole, and the manifest records both.
func TestIdempotentAndRestated(t *testing.T) {
	ws := t.TempDir()
	lake := filepath.Join(ws, "lake")
	o := ingest.Options{Lake: lake}
	f := write(t, ws, "a/PREVALENCE_2223.csv", prevalence(10))
	if r, err := ingest.File(context.Background(), f, o); err != nil || r.Status != "loaded" {
		t.Fatalf("first: %+v %v", r, err)
	}
	before := snapshot(t, lake)
	if r, err := ingest.File(context.Background(), f, o); err != nil || r.Status != "unchanged" {
		t.Fatalf("again: %+v %v", r, err)
	}
	if !sameSnapshot(before, snapshot(t, lake)) {
		t.Error("a no-op re-ingest changed the lake")
	}
	g := write(t, ws, "b/PREVALENCE_2223.csv", prevalence(7))
	r, err := ingest.File(context.Background(), g, o)
	if err != nil || r.Status != "restated" || r.Replaces == "" {
		t.Fatalf("restated: %+v %v", r, err)
	}
	parts, _ := filepath.Glob(filepath.Join(lake, "qof_prevalence", "period=2022-23", "*.parquet"))
	if len(parts) != 1 {
		t.Errorf("partition should hold only the restated file: %v", parts)
	}
	m, _ := ingest.ReadManifest(lake)
	if len(m) != 2 || m[1].Status != "restated" || m[1].ReplacesSHA != m[0].SHA256 || m[1].RowsWritten != 7 {
		t.Errorf("manifest: %+v", m)
	}
}

// A killed run leaves either the old partition or nothing new: Recover puts
// a partition moved aside back and removes unfinished temporary folders.
func TestRecover(t *testing.T) {
	lake := t.TempDir()
	part := filepath.Join(lake, "src", "period=2024-01")
	os.MkdirAll(filepath.Join(lake, "src", ".old-period=2024-01"), 0o755)
	os.WriteFile(filepath.Join(lake, "src", ".old-period=2024-01", "part-a.parquet"), []byte("old"), 0o644)
	os.MkdirAll(filepath.Join(lake, "src", ".tmp-abc-1"), 0o755)
	os.WriteFile(filepath.Join(lake, "src", ".tmp-abc-1", "part-b.parquet"), []byte("half"), 0o644)
	if err := ingest.Recover(lake); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(part, "part-a.parquet")); err != nil || string(b) != "old" {
		t.Errorf("old partition not restored: %v", err)
	}
	if _, err := os.Stat(filepath.Join(lake, "src", ".tmp-abc-1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary folder left behind")
	}
}
