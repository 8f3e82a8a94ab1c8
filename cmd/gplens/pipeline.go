package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gplens/gplens/schedule"
	"github.com/gplens/gplens/workspace"
)

// runSteps runs steps (ingest, transform, publish or run) for a period. The
// caller holds the workspace lock.
func runSteps(ctx context.Context, g *GlobalOptions, w *workspace.Workspace, steps []string, period string, areas []string, files []string) (int64, error) {
	var rows int64
	want := map[string]bool{}
	for _, s := range steps {
		if s == "run" {
			want["ingest"], want["transform"], want["publish"] = true, true, true
		} else {
			want[s] = true
		}
	}
	if want["ingest"] {
		if len(files) == 0 {
			var err error
			if files, err = inboxFiles(w.Inbox()); err != nil {
				return 0, fmt.Errorf("read inbox: %w", err)
			}
		} else {
			for i, f := range files {
				if !filepath.IsAbs(f) {
					files[i] = filepath.Join(w.Dir, f)
				}
			}
		}
		n, refused, err := ingestFiles(ctx, g, files, ingestOptions(w, g, "", false, true), false)
		rows += n
		if err != nil {
			return rows, err
		}
		// A refused file fails the run (retried, on_failure), after the
		// other files went in: nobody reads the output of an unattended run.
		if len(refused) > 0 {
			return rows, refusedError(refused, len(files), w.Quarantine())
		}
	}
	if want["transform"] {
		if err := transformStep(ctx, g, w, false); err != nil {
			return rows, err
		}
	}
	if want["publish"] {
		if period == "" || period == "latest" {
			period = time.Now().AddDate(0, -1, 0).Format("2006-01")
		}
		if err := runPublish(ctx, g, w, period, areas, nil); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// lockWorkspace takes the workspace lock (schedule package) for one command.
func lockWorkspace(dir, command string) (func(), error) {
	l, err := schedule.AcquireLock(dir, command)
	if err != nil {
		return nil, err
	}
	return func() { l.Release() }, nil
}
