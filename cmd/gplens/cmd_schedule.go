package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/schedule"
	"github.com/gplens/gplens/workspace"
)

func loadJobs(w *workspace.Workspace) (schedule.Config, error) {
	cfg, err := schedule.LoadConfig(filepath.Join(w.Dir, "gplens.toml"))
	if err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

func newDaemon(g *GlobalOptions, w *workspace.Workspace, command string) (*schedule.Daemon, error) {
	cfg, err := loadJobs(w)
	if err != nil {
		return nil, err
	}
	// A refused file leaves the inbox for quarantine, so a retry would not
	// see it; the run remembers it, and every attempt fails with it.
	var mu sync.Mutex
	refusedBy := map[string]error{}
	d, err := schedule.New(cfg, schedule.Deps{
		Workspace: w.Dir,
		Logger:    g.log,
		Command:   command,
		Runner: func(ctx context.Context, r schedule.RunRequest) (schedule.RunOutcome, error) {
			rows, err := runSteps(ctx, g, w, r.Steps, r.Period, r.Areas, r.Files)
			mu.Lock()
			defer mu.Unlock()
			if ingest.IsRefused(err) {
				refusedBy[r.RunID] = err
			} else if prev := refusedBy[r.RunID]; prev != nil && err == nil {
				err = fmt.Errorf("an earlier attempt of this run refused files: %w", prev)
			}
			return schedule.RunOutcome{Rows: rows}, err
		},
	})
	if err != nil {
		return nil, usageError{err}
	}
	return d, nil
}

func newScheduleCommand(g *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "schedule",
		Short: "Run the scheduler in the foreground: the [[jobs]] of gplens.toml, with history, locking and retries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.openWorkspace()
			if err != nil {
				return err
			}
			d, err := newDaemon(g, w, "gplens schedule")
			if err != nil {
				return err
			}
			if err := schedule.WritePlan(g.stdout, d.Plan(time.Now())); err != nil {
				return err
			}
			return d.Run(cmd.Context())
		},
	}
}

func newRunsCommand(g *GlobalOptions) *cobra.Command {
	var f schedule.Filter
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "Show the run history",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.openWorkspace()
			if err != nil {
				return err
			}
			runs, err := schedule.History(w.Dir).List(f)
			if err != nil {
				return err
			}
			if len(runs) == 0 {
				fmt.Fprintln(g.stdout, "no runs recorded")
				return nil
			}
			loc, _ := time.LoadLocation("Europe/London")
			return schedule.WriteRuns(g.stdout, runs, loc)
		},
	}
	cmd.Flags().StringVar(&f.Job, "job", "", "only this job")
	cmd.Flags().BoolVar(&f.FailedOnly, "failed", false, "only failed, timed-out and interrupted runs")
	cmd.Flags().IntVar(&f.Limit, "limit", 50, "at most this many runs (0: all)")
	return cmd
}

func newTriggerCommand(g *GlobalOptions) *cobra.Command {
	var o schedule.TriggerOptions
	cmd := &cobra.Command{
		Use:   "trigger JOB",
		Short: "Run a scheduled job now, through the same path as the scheduler",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.openWorkspace()
			if err != nil {
				return err
			}
			d, err := newDaemon(g, w, "gplens trigger")
			if err != nil {
				return err
			}
			cfg, _ := loadJobs(w)
			if !contains(cfg.JobNames(), args[0]) {
				return usagef("no job named %q in %s/gplens.toml (jobs: %s)", args[0], w.Dir, strings.Join(cfg.JobNames(), ", "))
			}
			s, err := d.Trigger(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s %s: %s (%d rows, %s)\n", s.Job, s.Period, s.Status, s.Rows, s.End.Sub(s.Start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Period, "period", "", "period (YYYY-MM) or rule (previous-month); default the job's")
	cmd.Flags().StringSliceVar(&o.Areas, "area", nil, "area codes (repeat or comma-separate); default the job's")
	// --areas was this flag's first name; --area as in publish and run.
	cmd.Flags().StringSliceVar(&o.Areas, "areas", nil, "")
	cmd.Flags().MarkDeprecated("areas", "use --area")
	return cmd
}

func newRunCommand(g *GlobalOptions) *cobra.Command {
	var period string
	var areas []string
	cmd := &cobra.Command{
		Use:   "run --period YYYY-MM [--area CODE ...]",
		Short: "Ingest the inbox, build the warehouse and publish the packs, in one go",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if period == "" {
				return usagef("--period YYYY-MM is required")
			}
			if _, err := time.Parse("2006-01", period); err != nil {
				return usagef("--period %q is not YYYY-MM", period)
			}
			w, err := g.openWorkspace()
			if err != nil {
				return err
			}
			// In the run history like a scheduled run, under the lock.
			m, err := schedule.BeginManual(w.Dir, "gplens run", "run", period, []string{"run"}, g.log)
			if err != nil {
				return err
			}
			rows, err := runSteps(cmd.Context(), g, w, []string{"run"}, period, areas, nil)
			if ferr := m.Finish(rows, err); ferr != nil {
				g.log.Error("record the run", "run", m.ID(), "err", ferr)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&period, "period", "", "the month to publish (YYYY-MM)")
	cmd.Flags().StringSliceVar(&areas, "area", nil, "only these area codes (repeat or comma-separate; default every area)")
	return cmd
}
