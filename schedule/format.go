package schedule

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteRuns prints runs as the `gplens runs` table. Times are shown in loc
// (nil means UTC).
func WriteRuns(w io.Writer, runs []Run, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN ID\tJOB\tTRIGGER\tPERIOD\tTRY\tSTARTED\tTOOK\tSTATUS\tROWS\tERROR")
	for _, r := range runs {
		took := "-"
		if !r.End.IsZero() {
			took = roundDuration(r.Duration()).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\n",
			r.ID, r.Job, r.Trigger, r.Period, r.Attempt, r.Start.In(loc).Format("2006-01-02 15:04:05"),
			took, r.Status, r.Rows, oneLine(r.Error, 80))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write runs table: %w", err)
	}
	return nil
}

// WritePlan prints each job's schedule and next fire time for `gplens
// schedule` to show at start-up (or with a --list flag).
func WritePlan(w io.Writer, plan []Planned) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSCHEDULE\tTIMEZONE\tNEXT RUN")
	for _, p := range plan {
		next, sched := "inbox only", p.Schedule
		if !p.Next.IsZero() {
			next = p.Next.Format("2006-01-02 15:04 MST")
		}
		if sched == "" {
			sched = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Job, sched, p.Timezone, next)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write schedule table: %w", err)
	}
	return nil
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// roundDuration keeps short runs readable (1.2s) and long ones tidy (1h2m3s).
func roundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
