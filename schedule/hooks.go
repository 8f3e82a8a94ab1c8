package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Summary is the JSON a hook receives (on stdin, or as the webhook body)
// describing the final attempt of a job run.
type Summary struct {
	Job       string    `json:"job"`
	RunID     string    `json:"run_id"`
	Trigger   string    `json:"trigger"`
	Period    string    `json:"period"`
	Areas     []string  `json:"areas,omitempty"`
	Steps     []string  `json:"steps"`
	Files     []string  `json:"files,omitempty"`
	Attempts  int       `json:"attempts"`
	Status    string    `json:"status"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Seconds   float64   `json:"duration_seconds"`
	Rows      int64     `json:"rows"`
	Error     string    `json:"error,omitempty"`
	Workspace string    `json:"workspace"`
	Host      string    `json:"host"`
}

// runHook delivers s to hook: an http(s) URL gets a JSON POST, anything else
// runs through /bin/sh -c with the JSON on stdin. Both are bounded by timeout.
func runHook(ctx context.Context, hook string, s Summary, timeout time.Duration) error {
	hook = strings.TrimSpace(hook)
	if hook == "" {
		return nil
	}
	body, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode hook summary: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if isURLHook(hook) {
		return postHook(ctx, hook, body)
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", hook)
	cmd.Stdin = bytes.NewReader(body)
	cmd.Env = append(os.Environ(),
		"GPLENS_JOB="+s.Job, "GPLENS_RUN_ID="+s.RunID, "GPLENS_STATUS="+s.Status,
		"GPLENS_PERIOD="+s.Period, "GPLENS_WORKSPACE="+s.Workspace)
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Run the hook in its own process group so a timeout kills its children
	// too; WaitDelay is the backstop if one escapes and holds the pipes open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("hook command %q timed out after %s", hook, timeout)
		}
		return fmt.Errorf("hook command %q: %w: %s", hook, err, strings.TrimSpace(out.String()))
	}
	return nil
}

func postHook(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", redactURL(url), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gplens-schedule")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, which may hold a secret token.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook %s: %w", redactURL(url), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64*1024))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s: HTTP %s", redactURL(url), resp.Status)
	}
	return nil
}

// redactURL drops the path and query, which often carry a webhook's secret.
func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			return u[:i+3+j] + "/…"
		}
	}
	return u
}

// limitedBuffer keeps the first 4 KiB of a hook's output for the log.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
