package ingest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/synth"
)

// outcome is everything an ingest leaves: its error, its result, and every
// file it wrote to the lake and the quarantine (by relative path, sha256).
type outcome struct {
	Err    string
	Result string
	Files  map[string]string
}

func ingestOutcome(t *testing.T, path string, o ingest.Options) outcome {
	t.Helper()
	root := t.TempDir()
	o.Lake, o.Quarantine = filepath.Join(root, "lake"), filepath.Join(root, "quarantine")
	o.Version, o.MaxRejectShare = "test", 0.2
	o.Now = func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	res, err := ingest.File(context.Background(), path, o)
	var out outcome
	if err != nil {
		out.Err = err.Error()
	}
	res.Duration = 0
	res.Quarantined = strings.TrimPrefix(res.Quarantined, root)
	b, _ := json.Marshal(res)
	out.Result = string(b)
	out.Files = map[string]string{}
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		out.Files[strings.TrimPrefix(p, root)] = hex.EncodeToString(sum[:])
		return nil
	})
	return out
}

func (a outcome) diff(b outcome) string {
	var d []string
	if a.Err != b.Err {
		d = append(d, fmt.Sprintf("error %q, want %q", b.Err, a.Err))
	}
	if a.Result != b.Result {
		d = append(d, fmt.Sprintf("result\n  %s\nwant\n  %s", b.Result, a.Result))
	}
	var names []string
	for n := range a.Files {
		names = append(names, n)
	}
	for n := range b.Files {
		if _, ok := a.Files[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if a.Files[n] != b.Files[n] {
			d = append(d, fmt.Sprintf("%s: sha256 %.12s, want %.12s", n, b.Files[n], a.Files[n]))
		}
	}
	return strings.Join(d, "\n")
}

// mutate rewrites a generated file's lines (header first) into a bad one.
func mutate(t *testing.T, src, dst string, f func(lines []string) string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, []byte(f(lines)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func joinLines(l []string) string { return strings.Join(l, "\n") + "\n" }

// badFiles makes generated extracts with every kind of trouble a row or a
// file can have: duplicate keys (also of rejected rows), wrong field
// counts, blank and all-comma lines, bad values, rows of another period,
// skipped rows, quoted fields holding commas, quotes and newlines, CRLF,
// Windows-1252 bytes, and files refused whole (a stray quote, an unclosed
// quote, a truncated last row, too many rejects).
func badFiles(t *testing.T) []string {
	gen := t.TempDir()
	cfg := synth.DefaultConfig()
	cfg.Out, cfg.Practices, cfg.Months, cfg.EndMonth, cfg.ReferralRows, cfg.SkipTruth = gen, 20, 1, "2024-01", 3000, true
	sum, err := synth.Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	src := map[string]string{}
	for _, f := range sum.Files {
		p := filepath.Join(gen, f.Path)
		files = append(files, p) // every generated file as it is
		src[filepath.Base(p)] = p
	}
	out := t.TempDir()
	at := func(name, variant string) string { return filepath.Join(out, variant, "2024-01", name) }
	refs := src["referrals_records_2024-01.csv"]
	lsoa := src["gp-reg-pat-prac-lsoa-all.csv"]
	quin := src["gp-reg-pat-prac-quin-age.csv"]
	if refs == "" || lsoa == "" || quin == "" {
		t.Fatalf("generated files missing: %v", src)
	}
	files = append(files,
		mutate(t, refs, at("referrals_records_2024-01.csv", "mixed"), func(l []string) string {
			bad := l[40]
			bad = strings.Replace(bad, ",2024-01-", ",2024-13-", 1) // a bad date: rejected, its key not claimed
			l = append(l[:41], append([]string{
				l[7],                  // a duplicate
				"",                    // a blank line
				",,,,,,",              // an all-comma line (skipped like a blank one)
				"x,2024-01-02,A12345", // too few fields
				strings.Replace(l[9], "ROUTINE", "SOMETIMES", 1),
				strings.Replace(l[11], ",2024-01-", ",2024-02-", 1), // another period
				bad,
				strings.Replace(bad, ",2024-13-", ",2024-01-", 1), // put right: loads
				l[40],            // the key of a rejected row's twin
				l[7], l[7], l[8], // more duplicates
			}, l[41:]...)...)
			return joinLines(l)
		}),
		mutate(t, refs, at("referrals_records_2024-01.csv", "crlf"), func(l []string) string {
			return strings.Join(l, "\r\n") + "\r\n"
		}),
		mutate(t, refs, at("referrals_records_2024-01.csv", "nonl"), func(l []string) string {
			return strings.Join(l, "\n") // the last row has no line end but is whole
		}),
		mutate(t, refs, at("referrals_records_2024-01.csv", "oddlines"), func(l []string) string {
			// Lines an unquoted file can hold that encoding/csv reads its
			// own way: spaces only, a lone carriage return (a blank line),
			// one inside a field, a trailing comma, a tab, and last a lone
			// carriage return with no newline (dropped at the end of input).
			f := strings.Split(l[30], ",")
			f[6] = "ROUT\rINE"
			l = append(l[:31], append([]string{"   ", "\r", strings.Join(f, ","), l[32] + ",", "\t"}, l[31:]...)...)
			return strings.Join(l, "\n") + "\r\n\r"
		}),
		mutate(t, lsoa, at("gp-reg-pat-prac-lsoa-all.csv", "quoted"), func(l []string) string {
			for i := 1; i < len(l); i += 7 {
				if strings.Contains(l[i], `"`) {
					continue // quoted already
				}
				f := strings.Split(l[i], ",")
				cr := ""
				if i%2 == 0 {
					cr = "\r" // a carriage return inside a quoted field
				}
				f[2] = `"` + f[2] + `, ""the"" surgery` + "\n" + `second line` + cr + `"`
				l[i] = strings.Join(f, ",")
			}
			l[3] = strings.Replace(l[3], "HEALTH", "HEALTH \xa3 \x93quoted\x94", 1) // Windows-1252 bytes
			return joinLines(l)
		}),
		mutate(t, lsoa, at("gp-reg-pat-prac-lsoa-all.csv", "quoted1"), func(l []string) string {
			// Quoted fields that close on their line, as most quoting files
			// have them: doubled quotes, an empty quoted field, one last on
			// a CRLF line.
			for i := 1; i < len(l); i += 3 {
				f := strings.Split(l[i], ",")
				if len(f) != 8 {
					continue // quoted already
				}
				f[2] = `"` + f[2] + ` ""the"" surgery, ok"`
				f[7] = `"` + f[7] + `"`
				if i%2 == 0 {
					f[7] += "\r"
				}
				if i%5 == 0 {
					f[4] = `""`
				}
				l[i] = strings.Join(f, ",")
			}
			return joinLines(l)
		}),
		mutate(t, lsoa, at("gp-reg-pat-prac-lsoa-all.csv", "extraneous"), func(l []string) string {
			f := strings.Split(l[100], ",")
			f[2] = `"` + f[2] + `"x` // text after a closing quote: refused
			l[100] = strings.Join(f, ",")
			return joinLines(l)
		}),
		mutate(t, quin, at("gp-reg-pat-prac-quin-age.csv", "skips"), func(l []string) string {
			for i := 2; i < len(l); i += 5 {
				l[i] = strings.Replace(l[i], ",GP,", ",PCN,", 1) // skipped rows
			}
			l = append(l, l[3], l[4]) // duplicates of a skipped and a loaded row
			return joinLines(l)
		}),
		mutate(t, refs, at("referrals_records_2024-01.csv", "barequote"), func(l []string) string {
			f := strings.Split(l[1500], ",")
			f[4] = `MA"LE` // a stray quote in an unquoted field
			l[1500] = strings.Join(f, ",")
			return joinLines(l)
		}),
		mutate(t, refs, at("referrals_records_2024-01.csv", "unclosed"), func(l []string) string {
			f := strings.Split(l[2000], ",")
			f[4] = `"` + f[4] // opens a quoted field that never closes
			l[2000] = strings.Join(f, ",")
			return joinLines(l)
		}),
		mutate(t, refs, at("referrals_records_2024-01.csv", "truncated"), func(l []string) string {
			s := joinLines(l)
			return s[:len(s)-20]
		}),
		// Rows rejected part-way, after some of their columns were set,
		// each followed by a row with those columns NULL or blank: a parse
		// worker builds rows in place in its batch (Emitter.Row), and a
		// rejected row's values must not show through the next row's gaps.
		func() string {
			p := filepath.Join(out, "inplace", "2023-24", "PREVALENCE_2324.csv")
			lines := []string{"PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE"}
			for i := 0; i < 400; i++ {
				code := fmt.Sprintf("A%05d", 10000+i)
				lines = append(lines,
					code+",AF,210.0,TOTAL,10800",
					code+",AST,844.0,06OV,many", // rejected at the list size, register and list type set
					code+",AST,*,,10167")        // register suppressed, list type blank
				if i%2 == 0 {
					lines = append(lines, code+",CHD,12.0,17OV,x9", code+",CHD,,,") // rejected; all but the keys blank
				}
				for _, g := range []string{"CKD", "COPD", "DEM", "DM", "EP", "HF", "HYP", "LD", "MH", "OB", "OST", "PAD"} {
					lines = append(lines, code+","+g+",10.0,TOTAL,10800")
				}
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(joinLines(lines)), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}(),
		mutate(t, refs, at("referrals_records_2024-01.csv", "rejects"), func(l []string) string {
			for i := 1; i < len(l); i += 3 {
				l[i] = strings.Replace(l[i], "ROUTINE", "LATER", 1)
			}
			return joinLines(l)
		}),
	)
	return files
}

// The parallel pipeline leaves exactly what the sequential reader does —
// the same lake and reject files to the byte, the same result and the
// same error and quarantine — with one worker or several, and batches cut
// anywhere (down to a few records each).
func TestParallelMatchesSequential(t *testing.T) {
	modes := []struct {
		name string
		opt  func(ingest.Options) ingest.Options
	}{
		{"1 worker, tiny batches", func(o ingest.Options) ingest.Options { o.Workers = 1; return ingest.BatchBytes(o, 61) }},
		{"4 workers, tiny batches", func(o ingest.Options) ingest.Options { o.Workers = 4; return ingest.BatchBytes(o, 97) }},
		{"3 workers, small batches", func(o ingest.Options) ingest.Options { o.Workers = 3; return ingest.BatchBytes(o, 4096) }},
		{"default", func(o ingest.Options) ingest.Options { return o }},
	}
	files := badFiles(t)
	if _, err := os.Stat(realDir); err == nil {
		filepath.Walk(realDir, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && strings.HasSuffix(strings.ToLower(p), ".csv") {
				files = append(files, p)
			}
			return nil
		})
	} else {
		t.Log("real NHS files not found at " + realDir + ": generated files only")
	}
	refused, rejected := 0, 0
	for _, f := range files {
		name := strings.TrimPrefix(f, os.TempDir())
		want := ingestOutcome(t, f, ingest.Sequential(ingest.Options{}))
		if want.Err != "" {
			refused++
		}
		if strings.Contains(want.Result, `"rejects"`) {
			rejected++
		}
		for _, m := range modes {
			if strings.HasPrefix(f, realDir) && strings.Contains(m.name, "tiny") {
				continue // real files: small batches are enough, and quicker
			}
			got := ingestOutcome(t, f, m.opt(ingest.Options{}))
			if d := want.diff(got); d != "" {
				t.Errorf("%s, %s: differs from the sequential reader:\n%s", name, m.name, d)
			}
		}
	}
	// The cases must exercise what they claim to.
	if refused < 4 || rejected < 4 {
		t.Errorf("only %d refused and %d files with rejects among the cases", refused, rejected)
	}
}

// Lake files are dictionary-encoded where values repeat out of runs (sex,
// priority) and plain for identifiers and runs (referral id, the practice
// code of a file sorted by practice), as DuckDB chooses; DuckDB-compatible
// either way, and the rows read back are the file's.
func TestLakeEncodings(t *testing.T) {
	gen := t.TempDir()
	cfg := synth.DefaultConfig()
	cfg.Out, cfg.Practices, cfg.Months, cfg.EndMonth, cfg.ReferralRows, cfg.SkipTruth = gen, 20, 1, "2024-01", 3000, true
	if _, err := synth.Generate(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	lake := t.TempDir()
	res, err := ingest.File(context.Background(), filepath.Join(gen, "referrals", "2024-01", "referrals_records_2024-01.csv"), ingest.Options{Lake: lake})
	if err != nil {
		t.Fatal(err)
	}
	parts, _ := filepath.Glob(filepath.Join(lake, "referral_records", "period=2024-01", "part-*.parquet"))
	if len(parts) != 1 {
		t.Fatalf("parts: %v", parts)
	}
	f, err := os.Open(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRows() != res.RowsWritten || res.RowsWritten != 3000 {
		t.Fatalf("%d rows in the file, %d written", pf.NumRows(), res.RowsWritten)
	}
	want := map[string]bool{"referral_id": false, "practice_code": false, "sex": true, "priority": true, "age": true}
	for _, c := range pf.Metadata().RowGroups[0].Columns {
		name := strings.Join(c.MetaData.PathInSchema, ".")
		dict := false
		for _, e := range c.MetaData.Encoding {
			dict = dict || e == format.RLEDictionary
		}
		if w, ok := want[name]; ok && dict != w {
			t.Errorf("%s: dictionary %v, want %v (encodings %v)", name, dict, w, c.MetaData.Encoding)
		}
		delete(want, name)
	}
	if len(want) > 0 {
		t.Errorf("columns missing: %v", want)
	}
}
