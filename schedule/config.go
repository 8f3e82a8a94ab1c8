// Package schedule runs gplens jobs on cron schedules: the foreground daemon
// behind `gplens schedule`, manual triggers, run history under <ws>/runs/, the
// per-workspace lock that keeps one pipeline run at a time, catch-up of missed
// runs, an inbox watcher and success/failure hooks.
package schedule

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/robfig/cron/v3"

	"github.com/gplens/gplens/period"
)

// Defaults applied to omitted job fields.
const (
	DefaultTimezone    = "Europe/London"
	DefaultPeriod      = "previous-month"
	DefaultBackoff     = 30 * time.Second
	DefaultBackoffMax  = 10 * time.Minute
	DefaultTimeout     = 2 * time.Hour
	DefaultHookTimeout = 30 * time.Second
)

// Step names a job may list in steps. StepRun means the whole pipeline.
const (
	StepIngest    = "ingest"
	StepTransform = "transform"
	StepPublish   = "publish"
	StepRun       = "run"
)

// Period rules besides a literal YYYY-MM.
const (
	PeriodPreviousMonth = "previous-month"
	PeriodCurrentMonth  = "current-month"
	PeriodLatest        = "latest"
)

// Config is the scheduler part of gplens.toml: the [[jobs]] tables.
type Config struct {
	Jobs []Job `toml:"jobs"`
}

// Job is one [[jobs]] table. Durations are strings ("30s", "2h") so that
// validation can report every bad value at once instead of failing the decode.
type Job struct {
	Name        string   `toml:"name"`
	Schedule    string   `toml:"schedule"`
	Timezone    string   `toml:"timezone"`
	Steps       []string `toml:"steps"`
	Period      string   `toml:"period"`
	Areas       []string `toml:"areas"`
	Retries     int      `toml:"retries"`
	Backoff     string   `toml:"backoff"`
	BackoffMax  string   `toml:"backoff_max"`
	Timeout     string   `toml:"timeout"`
	CatchUp     bool     `toml:"catch_up"`
	WatchInbox  bool     `toml:"watch_inbox"`
	OnFailure   string   `toml:"on_failure"`
	OnSuccess   string   `toml:"on_success"`
	HookTimeout string   `toml:"hook_timeout"`
}

// ConfigError lists every problem found in a Config.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid schedule config: " + e.Problems[0]
	}
	return fmt.Sprintf("invalid schedule config (%d problems):\n  - %s",
		len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// ParseConfig decodes the [[jobs]] tables of a gplens.toml document and
// validates them. Unknown keys inside [[jobs]] are reported as problems (a
// typo such as "catchup" would otherwise be silently ignored); other top-level
// tables belong to other packages and are left alone.
func ParseConfig(data string) (Config, error) {
	var cfg Config
	md, err := toml.Decode(data, &cfg)
	if err != nil {
		return Config{}, fmt.Errorf("decode schedule config: %w", err)
	}
	var problems []string
	for _, k := range md.Undecoded() {
		if len(k) >= 2 && k[0] == "jobs" {
			problems = append(problems, fmt.Sprintf("jobs: unknown key %q", k[len(k)-1]))
		}
	}
	if _, err := compile(cfg); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			problems = append(problems, ce.Problems...)
		} else {
			return Config{}, err
		}
	}
	if len(problems) > 0 {
		return Config{}, &ConfigError{Problems: problems}
	}
	return cfg, nil
}

// LoadConfig reads gplens.toml at path and returns its validated [[jobs]].
// A missing file is an empty config (no jobs).
func LoadConfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("read schedule config: %w", err)
	}
	cfg, err := ParseConfig(string(raw))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Validate checks the config and returns a *ConfigError naming every bad job
// field, or nil.
func (c Config) Validate() error {
	_, err := compile(c)
	return err
}

// job is a validated Job with parsed values.
type job struct {
	Job
	loc         *time.Location
	sched       cron.Schedule
	steps       []string
	period      string
	backoff     time.Duration
	backoffMax  time.Duration
	timeout     time.Duration
	hookTimeout time.Duration
}

var (
	jobNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

func compile(c Config) (map[string]*job, error) {
	var problems []string
	bad := func(name, field, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("job %q: %s: %s", name, field, fmt.Sprintf(format, args...)))
	}
	jobs := make(map[string]*job, len(c.Jobs))
	for i, raw := range c.Jobs {
		name := raw.Name
		label := name
		if label == "" {
			label = fmt.Sprintf("#%d", i+1)
		}
		j := &job{Job: raw}
		switch {
		case name == "":
			bad(label, "name", "is required")
		case !jobNameRE.MatchString(name):
			bad(label, "name", "must be letters, digits, '.', '_' or '-'")
		case jobs[name] != nil:
			bad(label, "name", "duplicate job name")
		}

		tz := raw.Timezone
		if tz == "" {
			tz = DefaultTimezone
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			bad(label, "timezone", "unknown IANA zone %q", tz)
			loc = time.UTC
		}
		j.loc = loc

		if strings.TrimSpace(raw.Schedule) == "" {
			if !raw.WatchInbox {
				bad(label, "schedule", "is required (or set watch_inbox = true for an inbox-only job)")
			}
		} else if s, err := parseSchedule(raw.Schedule, loc); err != nil {
			bad(label, "schedule", "%v", err)
		} else if s.Next(time.Now()).IsZero() {
			bad(label, "schedule", "%q never fires (no such date in the next five years)", raw.Schedule)
		} else {
			j.sched = s
		}

		steps := raw.Steps
		if len(steps) == 0 {
			steps = []string{StepRun}
		}
		seen := map[string]bool{}
		for _, s := range steps {
			switch s {
			case StepIngest, StepTransform, StepPublish, StepRun:
			default:
				bad(label, "steps", "unknown step %q (want ingest, transform, publish or run)", s)
				continue
			}
			if seen[s] {
				bad(label, "steps", "step %q listed twice", s)
			}
			seen[s] = true
		}
		if seen[StepRun] && len(steps) > 1 {
			bad(label, "steps", `"run" already means every step; list it alone`)
		}
		j.steps = steps

		j.period = raw.Period
		if j.period == "" {
			j.period = DefaultPeriod
		}
		switch {
		case j.period == PeriodPreviousMonth, j.period == PeriodCurrentMonth, j.period == PeriodLatest:
		case period.IsMonth(j.period):
		default:
			bad(label, "period", "%q is not previous-month, current-month, latest or YYYY-MM", raw.Period)
		}

		for _, a := range raw.Areas {
			if strings.TrimSpace(a) == "" {
				bad(label, "areas", "empty area code")
			}
		}

		if raw.Retries < 0 || raw.Retries > 100 {
			bad(label, "retries", "must be between 0 and 100, got %d", raw.Retries)
		}
		dur := func(field, v string, def time.Duration, allowZero bool) time.Duration {
			if v == "" {
				return def
			}
			d, err := time.ParseDuration(v)
			if err != nil {
				bad(label, field, "%q is not a duration like 30s or 2h", v)
				return def
			}
			if d < 0 || (d == 0 && !allowZero) {
				bad(label, field, "must be positive, got %s", v)
				return def
			}
			return d
		}
		j.backoff = dur("backoff", raw.Backoff, DefaultBackoff, true)
		j.backoffMax = dur("backoff_max", raw.BackoffMax, DefaultBackoffMax, false)
		if raw.BackoffMax == "" && j.backoffMax < j.backoff {
			j.backoffMax = j.backoff
		}
		if j.backoffMax < j.backoff {
			bad(label, "backoff_max", "%s is less than backoff %s", j.backoffMax, j.backoff)
		}
		j.timeout = dur("timeout", raw.Timeout, DefaultTimeout, false)
		j.hookTimeout = dur("hook_timeout", raw.HookTimeout, DefaultHookTimeout, false)

		for _, h := range []struct{ field, v string }{{"on_failure", raw.OnFailure}, {"on_success", raw.OnSuccess}} {
			if err := checkHook(h.v); err != nil {
				bad(label, h.field, "%v", err)
			}
		}
		if name != "" && jobs[name] == nil {
			jobs[name] = j
		}
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	return jobs, nil
}

func checkHook(h string) error {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil
	}
	if isURLHook(h) {
		u, err := url.Parse(h)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%q is not a valid webhook URL", h)
		}
	}
	return nil
}

func isURLHook(h string) bool {
	l := strings.ToLower(h)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// ResolvePeriod turns a period rule into the period a run works on, judged
// from the fire time in the job's zone: a run at 06:00 on 1 April London time
// with previous-month works on 2024-03. "latest" is passed through for the
// runner to resolve against the data it has.
func ResolvePeriod(rule string, fire time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	f := fire.In(loc)
	first := time.Date(f.Year(), f.Month(), 1, 12, 0, 0, 0, loc)
	switch rule {
	case "", PeriodPreviousMonth:
		return first.AddDate(0, -1, 0).Format("2006-01")
	case PeriodCurrentMonth:
		return first.Format("2006-01")
	default:
		return rule
	}
}

// JobNames lists the configured job names in config order.
func (c Config) JobNames() []string {
	out := make([]string, 0, len(c.Jobs))
	for _, j := range c.Jobs {
		out = append(out, j.Name)
	}
	return out
}

func sortedNames(m map[string]*job) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
