package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestWriteRunsAndPlan(t *testing.T) {
	start := utcTime(2024, 4, 1, 5, 0)
	runs := []Run{
		{ID: "r2", Job: "packs", Trigger: TriggerManual, Period: "2024-03", Attempt: 2, Start: start, End: start.Add(90 * time.Second),
			Status: StatusFailed, Error: "ingest qof:\n  bad header " + strings.Repeat("x", 100)},
		{ID: "r1", Job: "packs", Trigger: TriggerSchedule, Period: "2024-03", Attempt: 1, Start: start, Status: StatusRunning},
	}
	var b strings.Builder
	if err := WriteRuns(&b, runs, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "RUN ID") {
		t.Fatalf("table:\n%s", b.String())
	}
	for _, want := range []string{"r2", "2024-04-01 05:00:00", "1m30s", "failed", "ingest qof: bad header xxx", "…"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row %q lacks %q", lines[1], want)
		}
	}
	if !strings.Contains(lines[2], " - ") || !strings.Contains(lines[2], "running") {
		t.Errorf("running row %q", lines[2])
	}

	london, _ := time.LoadLocation("Europe/London")
	b.Reset()
	err := WritePlan(&b, []Planned{
		{Job: "packs", Schedule: "0 6 2 * *", Timezone: "Europe/London", Next: time.Date(2024, 5, 2, 6, 0, 0, 0, london)},
		{Job: "inbox", Timezone: "Europe/London"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "2024-05-02 06:00 BST") || !strings.Contains(b.String(), "inbox only") {
		t.Errorf("plan:\n%s", b.String())
	}
}
