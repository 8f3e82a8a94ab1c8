package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gplens/gplens/ingest"
)

// Refused files are never lost: two different files of one name refused in
// the same second keep both (the content hash is in the name), the same
// bytes refused again are kept once, and the inbox copy goes only after the
// quarantine copy is in place.
func TestQuarantineKeepsEveryRefusedFile(t *testing.T) {
	ws := t.TempDir()
	lake, q := filepath.Join(ws, "lake"), filepath.Join(ws, "quarantine")
	o := ingest.Options{Lake: lake, Quarantine: q, Move: true}
	truncated := []string{
		"PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE\nA10000,DM,1.0,17OV,10\nA10001,DM",
		"PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE\nA10000,DM,2.0,17OV,10\nA10002,DM",
	}
	var dsts []string
	for round := 0; round < 2; round++ {
		for i, body := range truncated {
			f := write(t, ws, filepath.Join("inbox", []string{"2022-23", "2023-24"}[i], "PREVALENCE.csv"), body)
			res, err := ingest.File(context.Background(), f, o)
			if !ingest.IsRefused(err) || res.Quarantined == "" {
				t.Fatalf("round %d file %d: %v %+v", round, i, err, res)
			}
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Errorf("refused file still in the inbox: %v", err)
			}
			got, err := os.ReadFile(res.Quarantined)
			if err != nil || string(got) != body {
				t.Errorf("quarantined copy %s differs: %v", res.Quarantined, err)
			}
			if round == 0 {
				dsts = append(dsts, res.Quarantined)
			} else if res.Quarantined != dsts[i] {
				t.Errorf("the same bytes refused again went to %s, not %s", res.Quarantined, dsts[i])
			}
		}
	}
	if dsts[0] == dsts[1] {
		t.Fatalf("two different refused files share %s", dsts[0])
	}
	for i, want := range []string{"qof_prevalence-2022-23-", "qof_prevalence-2023-24-"} {
		if !strings.HasPrefix(filepath.Base(dsts[i]), want) {
			t.Errorf("quarantine name %s should start %s (source, period, hash)", filepath.Base(dsts[i]), want)
		}
	}
	all, _ := os.ReadDir(q)
	if len(all) != 4 { // two files, two reasons
		var names []string
		for _, e := range all {
			names = append(names, e.Name())
		}
		t.Errorf("quarantine holds %v, want 2 files + 2 reasons", names)
	}
}

// The inbox takes regular files only: a symlink is never followed (it could
// point anywhere), a FIFO never opened (it would block); a file named as one
// source with another's header is refused with both named.
func TestInboxRefusesWhatItCannotTrust(t *testing.T) {
	ws := t.TempDir()
	lake, q := filepath.Join(ws, "lake"), filepath.Join(ws, "quarantine")
	inbox := filepath.Join(ws, "inbox")
	os.MkdirAll(inbox, 0o755)
	secret := write(t, ws, "secret/PREVALENCE_2223.csv", prevalence(5))
	link := filepath.Join(inbox, "PREVALENCE_2223.csv")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(inbox, "gp-reg-pat-prac-all.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	mixed := write(t, ws, "inbox/gp-reg-pat-prac-all-2024-03.csv", prevalence(5))
	cases := []struct {
		path string
		want []string
	}{
		{link, []string{"symbolic link", secret}},
		{fifo, []string{"not a regular file"}},
		{mixed, []string{"says registrations", "qof_prevalence"}},
	}
	for _, tc := range cases {
		res, err := ingest.File(context.Background(), tc.path, ingest.Options{Lake: lake, Quarantine: q, Move: true})
		if !ingest.IsRefused(err) {
			t.Fatalf("%s: err = %v, want refused", filepath.Base(tc.path), err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", filepath.Base(tc.path), err, w)
			}
		}
		if _, err := os.Lstat(tc.path); !os.IsNotExist(err) {
			t.Errorf("%s left in the inbox", filepath.Base(tc.path))
		}
		if _, err := os.Stat(res.Quarantined + ".reason.json"); err != nil {
			t.Errorf("%s: no reason in quarantine: %v", filepath.Base(tc.path), err)
		}
	}
	if _, err := os.Stat(secret); err != nil {
		t.Errorf("the symlink's target was touched: %v", err)
	}
	if m, _ := ingest.ReadManifest(lake); len(m) != 0 {
		t.Errorf("something was loaded: %+v", m)
	}
	// Given by name outside the inbox, a symlink is the user's choice.
	if _, err := ingest.File(context.Background(), writeLink(t, ws, secret), ingest.Options{Lake: lake}); err != nil {
		t.Errorf("a symlink given as an argument: %v", err)
	}
}

func writeLink(t *testing.T, ws, target string) string {
	t.Helper()
	l := filepath.Join(ws, "args", "PREVALENCE_2223.csv")
	os.MkdirAll(filepath.Dir(l), 0o755)
	if err := os.Symlink(target, l); err != nil {
		t.Fatal(err)
	}
	return l
}
