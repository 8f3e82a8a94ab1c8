package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gplens(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLIExitCodes(t *testing.T) {
	ws := t.TempDir()
	bad := filepath.Join(ws, "PREVALENCE_2223.csv")
	os.WriteFile(bad, []byte("NOT,A,QOF\n1,2,3\n"), 0o644)
	good := filepath.Join(ws, "in", "2022-23", "PREVALENCE_2223.csv")
	os.MkdirAll(filepath.Dir(good), 0o755)
	os.WriteFile(good, []byte("PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE\nA81001,DM,112.0,17OV,3766\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		out  string // in stdout+stderr
	}{
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"sources", "--nope"}, 2, "unknown flag"},
		{"bad log format", []string{"--log-format", "xml", "sources"}, 2, "text or json"},
		{"init", []string{"init", filepath.Join(ws, "w")}, 0, "workspace ready"},
		{"sources", []string{"sources"}, 0, "qof_achievement"},
		{"one source", []string{"sources", "payments"}, 0, `"Average Number of Registered Patients" [average patients]`},
		{"no such source", []string{"sources", "nope"}, 2, "no source named"},
		{"check good", []string{"check", good}, 0, "qof_prevalence 2022-23, 1 rows read"},
		{"check bad", []string{"check", bad}, 2, "nearest known header: qof_prevalence"},
		{"ingest needs files", []string{"--workspace", filepath.Join(ws, "w"), "ingest"}, 2, "FILE arguments or --inbox"},
		{"ingest bad", []string{"--workspace", filepath.Join(ws, "w"), "ingest", bad}, 2, "quarantined"},
		{"ingest good", []string{"--workspace", filepath.Join(ws, "w"), "ingest", good}, 0, "LOADED"},
		{"ingest again", []string{"--workspace", filepath.Join(ws, "w"), "ingest", good}, 0, "UNCHANGED"},
		{"status", []string{"--workspace", filepath.Join(ws, "w"), "status"}, 0, "qof_prevalence  -        2022-23  1     1"},
		{"status json", []string{"--workspace", filepath.Join(ws, "w"), "status", "--json"}, 0, `"complete_months": []`},
		{"lake drop unknown source", []string{"--workspace", filepath.Join(ws, "w"), "lake", "drop", "nope", "2022-23"}, 2, `no source named "nope"`},
		{"lake drop unknown period", []string{"--workspace", filepath.Join(ws, "w"), "lake", "drop", "qof_prevalence", "2021-22"}, 2, "it holds 2022-23"},
		{"lake drop needs both", []string{"--workspace", filepath.Join(ws, "w"), "lake", "drop", "qof_prevalence"}, 2, "accepts 2 arg"},
		{"lake drop", []string{"--workspace", filepath.Join(ws, "w"), "lake", "drop", "qof_prevalence", "2022-23"}, 0, "DROPPED qof_prevalence 2022-23 (PREVALENCE_2223.csv"},
		{"status after drop", []string{"--workspace", filepath.Join(ws, "w"), "status"}, 0, "empty"},
		{"ingest after drop", []string{"--workspace", filepath.Join(ws, "w"), "ingest", good}, 0, "LOADED"},
		{"missing file", []string{"check", filepath.Join(ws, "nope.csv")}, 1, "no such file"},
		{"sql", []string{"--workspace", filepath.Join(ws, "w"), "sql", "--format", "csv", "-c", "SELECT round(wilson_lower(65, 100), 6) AS lo"}, 0, "0.552544"},
		{"sql error", []string{"--workspace", filepath.Join(ws, "w"), "sql", "-c", "SELECT * FROM nope"}, 1, "nope"},
		{"run needs period", []string{"--workspace", filepath.Join(ws, "w"), "run"}, 2, "--period"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := gplens(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.out) {
				t.Errorf("gplens %v = %d\nstdout: %s\nstderr: %s\nwant %d and %q", tc.args, code, out, errs, tc.code, tc.out)
			}
		})
	}
	if q, _ := filepath.Glob(filepath.Join(ws, "w", "quarantine", "*.reason.json")); len(q) != 1 {
		t.Errorf("quarantine: %v", q)
	}
}
