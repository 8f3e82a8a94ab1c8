package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/schedule"
)

const goodPrevalence = "PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE\nA81001,DM,112.0,17OV,3766\n"

// A refused file fails a scheduled run: every attempt (one run ID) fails
// naming the file, on_failure fires, and the good file still goes in.
func TestRefusedFileFailsTheRun(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	if code, out, errs := gplens(t, "init", ws); code != 0 {
		t.Fatalf("init: %s %s", out, errs)
	}
	hook := filepath.Join(ws, "hook.json")
	cfg := filepath.Join(ws, "gplens.toml")
	b, _ := os.ReadFile(cfg)
	b = append(b, []byte("\n[[jobs]]\nname = \"ing\"\nschedule = \"@monthly\"\nsteps = [\"ingest\"]\nretries = 1\nbackoff = \"1s\"\non_failure = \"cat > "+hook+"\"\n")...)
	os.WriteFile(cfg, b, 0o644)
	os.MkdirAll(filepath.Join(ws, "inbox", "2022-23"), 0o755)
	bad := "bad\nname.csv" // a newline in a name must not fake a status line
	os.WriteFile(filepath.Join(ws, "inbox", bad), []byte("NOT,A,SOURCE\n1,2,3\n"), 0o644)
	os.WriteFile(filepath.Join(ws, "inbox", "2022-23", "PREVALENCE_2223.csv"), []byte(goodPrevalence), 0o644)

	code, out, errs := gplens(t, "--workspace", ws, "trigger", "ing")
	if code == 0 || !strings.Contains(out+errs, `"bad\nname.csv"`) {
		t.Fatalf("trigger = %d, want a failure naming the file quoted\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out+errs, "\nname.csv") {
		t.Errorf("a raw newline from the file name reached the output:\n%s%s", out, errs)
	}
	runs, err := schedule.History(ws).List(schedule.Filter{})
	if err != nil || len(runs) != 2 {
		t.Fatalf("history: %+v %v", runs, err)
	}
	for _, r := range runs {
		if r.ID != runs[0].ID || r.Status != schedule.StatusFailed || !strings.Contains(r.Error, `bad\nname.csv`) {
			t.Errorf("attempt %d: %s %s %q", r.Attempt, r.ID, r.Status, r.Error)
		}
	}
	var s schedule.Summary
	raw, err := os.ReadFile(hook)
	if err != nil || json.Unmarshal(raw, &s) != nil || s.Status != schedule.StatusFailed || s.Attempts != 2 || s.RunID != runs[0].ID {
		t.Errorf("on_failure hook got %s (%v)", raw, err)
	}
	if m, _ := ingest.ReadManifest(filepath.Join(ws, "lake")); len(m) != 1 || m[0].Source != "qof_prevalence" {
		t.Errorf("the good file should be in the lake: %+v", m)
	}

	// A manual `gplens run` is in the history too (it fails here: no
	// warehouse models can build a pack from one prevalence row).
	gplens(t, "--workspace", ws, "run", "--period", "2024-03")
	runs, _ = schedule.History(ws).List(schedule.Filter{Job: "run"})
	if len(runs) != 1 || runs[0].Trigger != schedule.TriggerManual || runs[0].Status == schedule.StatusRunning {
		t.Errorf("gplens run in the history: %+v", runs)
	}
}

// check --lake: exit 0 on an agreeing lake, 1 with the mismatch listed when
// a partition holds something else, and --repair re-ingests it.
func TestCheckLake(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	gplens(t, "init", ws)
	f := filepath.Join(ws, "in", "2022-23", "PREVALENCE_2223.csv")
	os.MkdirAll(filepath.Dir(f), 0o755)
	os.WriteFile(f, []byte(goodPrevalence), 0o644)
	if code, out, errs := gplens(t, "--workspace", ws, "ingest", f); code != 0 {
		t.Fatalf("ingest: %s %s", out, errs)
	}
	if code, out, errs := gplens(t, "--workspace", ws, "check", "--lake"); code != 0 || !strings.Contains(out, "1 partitions, 1 files") {
		t.Fatalf("check --lake = %d\n%s%s", code, out, errs)
	}
	parts, _ := filepath.Glob(filepath.Join(ws, "lake", "qof_prevalence", "period=2022-23", "*.parquet"))
	os.Rename(parts[0], filepath.Join(filepath.Dir(parts[0]), "part-000000000000.parquet"))
	code, out, _ := gplens(t, "--workspace", ws, "check", "--lake", "--json")
	var rep ingest.LakeReport
	if code != 1 || json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &rep) != nil || len(rep.Problems) != 1 {
		t.Fatalf("damaged lake: check --lake --json = %d\n%s", code, out)
	}
	code, out, errs := gplens(t, "--workspace", ws, "check", "--lake", "--repair")
	if code != 0 || !strings.Contains(out, "REPAIRED") || !strings.Contains(out, "0 problems") {
		t.Fatalf("repair = %d\n%s%s", code, out, errs)
	}
	if code, _, errs := gplens(t, "--workspace", ws, "check", "--lake", f); code != 2 || !strings.Contains(errs, "no FILE") {
		t.Errorf("--lake with files = %d %s", code, errs)
	}
}
