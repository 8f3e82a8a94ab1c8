package transform

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The ETA weighs the models to come by their last build's times, scaled by
// how this build compares so far.
func TestProgressETA(t *testing.T) {
	models := []*Model{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	cases := []struct {
		name    string
		last    map[string]time.Duration
		elapsed time.Duration // when a finishes
		want    string
	}{
		// a 10 s, b 30 s, c unknown (their mean, 20 s): 10 s of the last
		// build's 60 done in 5 s, so its 50 to go at twice its pace.
		{"history", map[string]time.Duration{"a": 10 * time.Second, "b": 30 * time.Second}, 5 * time.Second, "ETA 25s"},
		// no history: models count alike, 1 of 3 in 6 s.
		{"none", nil, 6 * time.Second, "ETA 12s"},
		// a took nothing last time: it still counts a little.
		{"zero", map[string]time.Duration{"a": 0, "b": 10 * time.Second, "c": 10 * time.Second}, 1 * time.Second, "ETA 6m40s"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		p := newProgress(&buf, models, c.last)
		start := p.start
		p.now = func() time.Time { return start.Add(c.elapsed) }
		p.step(ModelResult{Name: "a", Action: Rebuilt})
		if got := buf.String(); !strings.Contains(got, "1/3 models (a rebuilt)") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// A build with a progress writer prints a line per model, the ETA from
// the last build's times once there was one.
func TestBuildProgress(t *testing.T) {
	ctx := context.Background()
	p := load(t, "testdata/basic")
	l := newLake(t)
	l.practices(3)
	l.achievement("2024-01", 3, 0)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	line := regexp.MustCompile(`^transform: (\d+)/(\d+) models \(\S+ (rebuilt|copied|refreshed|view)\) elapsed \S+, ETA \S+\x1b\[K$`)
	for i := range 2 {
		var buf bytes.Buffer
		res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet, Progress: &buf, Full: i == 1})
		if err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.HasSuffix(out, "\n") {
			t.Errorf("build %d: progress does not end its line: %q", i, out)
		}
		lines := strings.Split(strings.TrimPrefix(strings.TrimSuffix(out, "\n"), "\r"), "\r")
		if len(lines) != len(res.Models) {
			t.Fatalf("build %d: %d progress lines for %d models: %q", i, len(lines), len(res.Models), out)
		}
		for j, l := range lines {
			m := line.FindStringSubmatch(l)
			if m == nil || m[1] != strconv.Itoa(j+1) || m[2] != strconv.Itoa(len(res.Models)) {
				t.Errorf("build %d: line %d %q", i, j, l)
			}
		}
	}
	// Each build records every model's time for the next one's ETA.
	if got := query(t, wh, "SELECT count(*) FROM _gplens.models WHERE duration_ms >= 0"); len(got) != 1 || got[0] != strconv.Itoa(len(p.Models())) {
		t.Errorf("models with a recorded duration: %v, want %d", got, len(p.Models()))
	}
}
