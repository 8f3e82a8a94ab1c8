package schedule

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseConfigExample(t *testing.T) {
	raw, err := os.ReadFile("testdata/jobs.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(string(raw))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if got := cfg.JobNames(); strings.Join(got, ",") != "monthly-packs,inbox-ingest" {
		t.Fatalf("jobs = %v", got)
	}
	jobs, err := compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := jobs["monthly-packs"]
	if m.backoff != time.Minute || m.backoffMax != 30*time.Minute || m.timeout != 3*time.Hour || !m.CatchUp || m.Retries != 3 {
		t.Errorf("monthly-packs decoded wrong: %+v", m)
	}
	if m.loc.String() != "Europe/London" || strings.Join(m.Areas, ",") != "QHM,QOQ" {
		t.Errorf("monthly-packs zone/areas wrong: %s %v", m.loc, m.Areas)
	}
	in := jobs["inbox-ingest"]
	if in.sched != nil || !in.WatchInbox || in.period != PeriodLatest || in.loc.String() != DefaultTimezone {
		t.Errorf("inbox-ingest decoded wrong: %+v", in)
	}
	if in.backoff != DefaultBackoff || in.hookTimeout != DefaultHookTimeout {
		t.Errorf("defaults not applied: backoff %s hook timeout %s", in.backoff, in.hookTimeout)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	cfg := Config{Jobs: []Job{
		{Name: "a", Schedule: "61 * * * *", Timezone: "Mars/Olympus", Steps: []string{"ingest", "bake", "ingest"},
			Period: "2024-13", Retries: -1, Backoff: "soon", Timeout: "-5m", OnFailure: "https://"},
		{Name: "a", Schedule: "@daily"},
		{Name: "", Schedule: "@weekly", Steps: []string{"run", "publish"}, BackoffMax: "1s", Backoff: "1m"},
		{Name: "c"},
		{Name: "d", Schedule: "CRON_TZ=UTC 0 6 * * *"},
		{Name: "e", Schedule: "0 6 30 2 *"},
	}}
	err := cfg.Validate()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Validate() = %v, want *ConfigError", err)
	}
	want := []string{
		`job "a": schedule: "61 * * * *"`,
		`job "a": timezone: unknown IANA zone "Mars/Olympus"`,
		`job "a": steps: unknown step "bake"`,
		`job "a": steps: step "ingest" listed twice`,
		`job "a": period: "2024-13"`,
		`job "a": retries: must be between 0 and 100`,
		`job "a": backoff: "soon" is not a duration`,
		`job "a": timeout: must be positive`,
		`job "a": on_failure: "https://" is not a valid webhook URL`,
		`job "a": name: duplicate job name`,
		`job "#3": name: is required`,
		`job "#3": steps: "run" already means every step`,
		`job "#3": backoff_max: 1s is less than backoff 1m0s`,
		`job "c": schedule: is required`,
		`job "d": schedule: "CRON_TZ=UTC 0 6 * * *": set the zone with the timezone key`,
		`job "e": schedule: "0 6 30 2 *" never fires`,
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q\nfull error:\n%s", w, msg)
		}
	}
	if len(ce.Problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(ce.Problems), len(want), msg)
	}
}

func TestParseConfigUnknownKeys(t *testing.T) {
	_, err := ParseConfig(`
[[jobs]]
name = "x"
schedule = "@daily"
catchup = true
timezone = "Nowhere/Land"
`)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConfigError", err)
	}
	msg := err.Error()
	for _, w := range []string{`unknown key "catchup"`, `timezone: unknown IANA zone`} {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q: %s", w, msg)
		}
	}
}

func TestResolvePeriod(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	tests := []struct {
		rule string
		fire time.Time
		want string
	}{
		{"previous-month", time.Date(2024, 4, 1, 5, 0, 0, 0, time.UTC), "2024-03"},
		{"", time.Date(2024, 1, 2, 6, 0, 0, 0, time.UTC), "2023-12"},
		{"current-month", time.Date(2024, 4, 1, 5, 0, 0, 0, time.UTC), "2024-04"},
		// 23:30 UTC on 31 March is 00:30 BST on 1 April in London.
		{"current-month", time.Date(2024, 3, 31, 23, 30, 0, 0, time.UTC), "2024-04"},
		{"previous-month", time.Date(2024, 3, 31, 23, 30, 0, 0, time.UTC), "2024-03"},
		{"latest", time.Date(2024, 4, 1, 5, 0, 0, 0, time.UTC), "latest"},
		{"2023-09", time.Date(2024, 4, 1, 5, 0, 0, 0, time.UTC), "2023-09"},
	}
	for _, tc := range tests {
		if got := ResolvePeriod(tc.rule, tc.fire, london); got != tc.want {
			t.Errorf("ResolvePeriod(%q, %s) = %q, want %q", tc.rule, tc.fire, got, tc.want)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig("testdata/jobs.toml")
	if err != nil || len(cfg.Jobs) != 2 {
		t.Fatalf("LoadConfig = %+v, %v", cfg, err)
	}
	cfg, err = LoadConfig("testdata/does-not-exist.toml")
	if err != nil || len(cfg.Jobs) != 0 {
		t.Errorf("missing file = %+v, %v", cfg, err)
	}
}
