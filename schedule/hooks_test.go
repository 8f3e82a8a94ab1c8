package schedule

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHooksReceiveSummaryJSON(t *testing.T) {
	got := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
		}
		got <- b
	}))
	defer srv.Close()

	ws := t.TempDir()
	out := filepath.Join(ws, "hook.json")
	jobs := []Job{
		{Name: "good", Schedule: "@daily", OnSuccess: "cat > " + out + "; echo $GPLENS_STATUS >> " + out + ".env", OnFailure: srv.URL + "/never"},
		{Name: "bad", Schedule: "@daily", OnFailure: srv.URL + "/hook/SECRET", OnSuccess: "touch " + out + ".wrong"},
	}
	rec := newRecorder(func(_ context.Context, r RunRequest) (RunOutcome, error) {
		if r.Job == "bad" {
			return RunOutcome{}, errString("source file missing")
		}
		return RunOutcome{Rows: 1234}, nil
	})
	h := newHarness(t, ws, NewFakeClock(utcTime(2024, 4, 2, 7, 0)), jobs, rec)

	if _, err := h.d.Trigger(context.Background(), "good", TriggerOptions{Areas: []string{"QHM"}}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("on_success command did not write its stdin: %v", err)
	}
	var s Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("hook stdin is not JSON: %v: %s", err, raw)
	}
	if s.Job != "good" || s.Status != StatusSucceeded || s.Rows != 1234 || s.Trigger != TriggerManual ||
		s.Period != "2024-03" || s.Attempts != 1 || s.RunID == "" || s.Areas[0] != "QHM" {
		t.Errorf("on_success summary = %+v", s)
	}
	if env, _ := os.ReadFile(out + ".env"); strings.TrimSpace(string(env)) != StatusSucceeded {
		t.Errorf("GPLENS_STATUS = %q", env)
	}

	if _, err := h.d.Trigger(context.Background(), "bad", TriggerOptions{}); err == nil {
		t.Fatal("failing job reported success")
	}
	var body []byte
	select {
	case body = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("webhook not called")
	}
	var f Summary
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatalf("webhook body: %v: %s", err, body)
	}
	if f.Job != "bad" || f.Status != StatusFailed || f.Error != "source file missing" {
		t.Errorf("on_failure summary = %+v", f)
	}
	if _, err := os.Stat(out + ".wrong"); err == nil {
		t.Error("on_success ran for a failed job")
	}
	select {
	case b := <-got:
		t.Errorf("webhook called again: %s", b)
	default:
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestHookTimeoutsAndErrors(t *testing.T) {
	stop := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer slow.Close()
	defer close(stop) // before Close, which waits for handlers
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer failing.Close()
	const short, long = 50 * time.Millisecond, 10 * time.Second
	tests := []struct {
		name, hook string
		timeout    time.Duration
		want       string
	}{
		{"command timeout", "sleep 5", short, "timed out after 50ms"},
		{"command exit status", "echo nope >&2; exit 3", long, "exit status 3: nope"},
		{"webhook timeout", slow.URL + "/secret-token", short, "context deadline exceeded"},
		{"webhook non-2xx", failing.URL + "/secret-token", long, "HTTP 502"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := runHook(context.Background(), tc.hook, Summary{Job: "j"}, tc.timeout)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error leaks the webhook path: %v", err)
			}
		})
	}
}
