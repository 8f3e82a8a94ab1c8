package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/workspace"
)

// IngestOptions are the flags of `gplens ingest` and `gplens check`.
type IngestOptions struct {
	Inbox  bool
	Period string
	JSON   bool
}

func newCheckCommand(g *GlobalOptions) *cobra.Command {
	var o IngestOptions
	var lake, repair bool
	cmd := &cobra.Command{
		Use:   "check FILE... | check --lake [--repair]",
		Short: "Validate extracts without writing (or, with --lake, verify the lake against its manifest)",
		Long: `Validate extracts without writing: source, period, rows, rejects and why.

With --lake, recover any interrupted ingest, then verify every partition of
the lake against the manifest (the files it names, their sha256 and row
counts; no partition the manifest does not name). Exit status 1 if they
disagree. --repair fixes what it can first: a partition holding another load
the manifest knows gets a manifest row saying so, a partition whose extract
is still where the manifest says is re-ingested, and a partition the
manifest does not name is moved to quarantine/.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if lake {
				if len(args) > 0 {
					return usagef("--lake takes no FILE arguments")
				}
				return runCheckLake(cmd.Context(), g, repair, o.JSON)
			}
			if repair {
				return usagef("--repair goes with --lake")
			}
			if len(args) == 0 {
				return usagef("give FILE arguments, or --lake")
			}
			return runIngest(cmd.Context(), g, o, args, true)
		},
	}
	cmd.Flags().StringVar(&o.Period, "period", "", "period of the files when they do not say (YYYY-MM or YYYY-YY)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print results as JSON lines")
	cmd.Flags().BoolVar(&lake, "lake", false, "verify every lake partition against the manifest (sha256, rows)")
	cmd.Flags().BoolVar(&repair, "repair", false, "with --lake: fix what can be fixed before verifying")
	return cmd
}

// runCheckLake is `gplens check --lake [--repair]`.
func runCheckLake(ctx context.Context, g *GlobalOptions, repair, asJSON bool) error {
	w, err := g.openWorkspace()
	if err != nil {
		return err
	}
	unlock, err := lockWorkspace(w.Dir, "gplens check --lake")
	if err != nil {
		return err
	}
	defer unlock()
	var fixed []string
	var rep ingest.LakeReport
	if repair {
		fixed, rep, err = ingest.RepairLake(ctx, w.Lake(), ingest.RepairOptions{Quarantine: w.Quarantine(), Version: version})
	} else {
		rep, err = ingest.VerifyLake(w.Lake())
	}
	if err != nil {
		return err
	}
	if asJSON {
		b, _ := json.Marshal(struct {
			ingest.LakeReport
			Repaired []string `json:"repaired,omitempty"`
		}{rep, fixed})
		fmt.Fprintln(g.stdout, string(b))
	} else {
		for _, f := range fixed {
			fmt.Fprintf(g.stdout, "REPAIRED %s\n", f)
		}
		for _, p := range rep.Problems {
			fmt.Fprintf(g.stdout, "MISMATCH %s\n", p)
		}
		fmt.Fprintf(g.stdout, "lake %s: %d partitions, %d files (%.1f MB) verified against the manifest; %d problems\n",
			w.Lake(), rep.Partitions, rep.Files, float64(rep.Bytes)/1e6, len(rep.Problems))
	}
	if len(rep.Problems) > 0 {
		hint := "run `gplens check --lake --repair`, or re-ingest the files named"
		if repair {
			hint = "re-ingest the files named (or fetch them again)"
		}
		return fmt.Errorf("the lake and its manifest disagree on %d partitions; %s", len(rep.Problems), hint)
	}
	return nil
}

// recoverLake finishes or rolls back an ingest interrupted part-way, and
// clears the temporary folders of dead processes, before a command reads or
// writes the lake. A reader without the lock (sql --live) only warns.
func recoverLake(g *GlobalOptions, w *workspace.Workspace, reader bool) error {
	err := ingest.Recover(w.Lake())
	if err != nil && reader {
		g.log.Warn("lake recovery skipped", "err", err)
		return nil
	}
	return err
}

func newIngestCommand(g *GlobalOptions) *cobra.Command {
	var o IngestOptions
	cmd := &cobra.Command{
		Use:   "ingest [FILE...|--inbox]",
		Short: "Validate extracts and write them to the Parquet lake",
		Long: `Validate extracts and write them to the lake (lake/<source>/period=<P>/).
Bad rows go to lake/_rejects with file, line, column and reason; a file that
cannot be read, or whose rejects pass ingest.max_reject_share, is refused whole:
quarantined with a .reason.json, exit status 2, and the lake left as it was.
Re-ingesting the same file is a no-op; a restated file replaces its period.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Inbox == (len(args) > 0) {
				return usagef("give FILE arguments or --inbox (not both)")
			}
			return runIngest(cmd.Context(), g, o, args, false)
		},
	}
	cmd.Flags().BoolVar(&o.Inbox, "inbox", false, "ingest every complete file in the workspace inbox/")
	cmd.Flags().StringVar(&o.Period, "period", "", "period of the files when they do not say (YYYY-MM or YYYY-YY)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print results as JSON lines")
	return cmd
}

// inboxFiles lists complete files in the inbox, skipping names still being
// written (*.part, *.tmp, dotfiles).
func inboxFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		n := d.Name()
		if d.IsDir() {
			// _truth/ holds the generator's answers, not extracts.
			if p != dir && (strings.HasPrefix(n, ".") || n == "_truth") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".part") || strings.HasSuffix(n, ".tmp") || strings.HasSuffix(n, ".crdownload") {
			return nil
		}
		out = append(out, p)
		return nil
	})
	sort.Strings(out)
	return out, err
}

func runIngest(ctx context.Context, g *GlobalOptions, o IngestOptions, files []string, check bool) error {
	open := g.openWorkspace
	if check { // check writes nothing, so needs no workspace
		open = g.workspaceOrDefaults
	}
	w, err := open()
	if err != nil {
		return err
	}
	if !check {
		unlock, err := lockWorkspace(w.Dir, "gplens ingest")
		if err != nil {
			return err
		}
		defer unlock()
		if err := recoverLake(g, w, false); err != nil {
			return err
		}
	}
	move := false
	if o.Inbox {
		if files, err = inboxFiles(w.Inbox()); err != nil {
			return fmt.Errorf("read inbox: %w", err)
		}
		move = true
		if len(files) == 0 {
			fmt.Fprintf(g.stdout, "inbox %s is empty\n", w.Inbox())
			return nil
		}
	}
	opts := ingestOptions(w, g, o.Period, check, move)
	if g.tty && !o.JSON {
		opts.Progress = progressPrinter(g)
	}
	_, refused, err := ingestFiles(ctx, g, files, opts, o.JSON)
	switch {
	case err != nil:
		return err
	case len(refused) > 0:
		return refusedError(refused, len(files), w.Quarantine())
	}
	return nil
}

// refusedError says which files were refused (quoted: a name may hold a
// newline or an escape sequence) and where they went.
func refusedError(refused []string, of int, quarantine string) error {
	names := make([]string, len(refused))
	for i, f := range refused {
		names[i] = fmt.Sprintf("%q", filepath.Base(f))
	}
	return &ingest.RefusedError{Err: fmt.Errorf("%d of %d files refused (%s); see %s", len(refused), of, strings.Join(names, ", "), quarantine)}
}

func ingestOptions(w *workspace.Workspace, g *GlobalOptions, period string, check, fromInbox bool) ingest.Options {
	return ingest.Options{
		Lake: w.Lake(), Workspace: w.Dir, Quarantine: w.Quarantine(), MaxRejectShare: w.Config.Ingest.MaxRejectShare,
		Period: period, Version: version, Check: check, Move: fromInbox, Logger: g.log,
	}
}

// ingestFiles ingests (or checks) files one by one, printing each result,
// and keeps going past refused files. Inbox files (opts.Move) that loaded
// are removed: the lake has them now. It returns the rows written, how many
// files were refused, and the other failures joined.
func ingestFiles(ctx context.Context, g *GlobalOptions, files []string, opts ingest.Options, asJSON bool) (int64, []string, error) {
	defer ingestMemoryLimit()()
	var rows int64
	var refused []string
	var failed []error
	for _, f := range files {
		res, err := ingest.File(ctx, f, opts)
		if asJSON {
			b, _ := json.Marshal(struct {
				ingest.Result
				Error string `json:"error,omitempty"`
			}{res, errString(err)})
			fmt.Fprintln(g.stdout, string(b))
		} else {
			printResult(g, res, err)
		}
		switch {
		case ingest.IsRefused(err):
			refused = append(refused, f)
		case err != nil:
			failed = append(failed, fmt.Errorf("%s: %w", f, err))
			if ctx.Err() != nil {
				return rows, refused, errors.Join(failed...)
			}
		default:
			rows += res.RowsWritten
			if opts.Move && !opts.Check {
				os.Remove(f)
			}
		}
	}
	return rows, refused, errors.Join(failed...)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func printResult(g *GlobalOptions, r ingest.Result, err error) {
	name := filepath.Base(r.File)
	if err != nil && r.Source == "" {
		word := "FAILED"
		if ingest.IsRefused(err) {
			word = "REFUSED"
		}
		fmt.Fprintf(g.stdout, "%s %q\n  %v\n", word, name, err)
		if r.Quarantined != "" {
			fmt.Fprintf(g.stdout, "  quarantined as %q (+ .reason.json)\n", r.Quarantined)
		}
		return
	}
	status := strings.ToUpper(r.Status)
	if status == "" {
		status = "FAILED"
	}
	what := r.Source
	if r.Dataset != "" {
		what += " dataset " + r.Dataset
	}
	if r.Period != "" {
		what += " " + r.Period
	}
	fmt.Fprintf(g.stdout, "%-9s %q: %s, %s rows read, %s written, %s rejected", status, name, what,
		commas(r.RowsRead), commas(r.RowsWritten), commas(r.RowsRejected))
	if r.RowsSkipped > 0 {
		fmt.Fprintf(g.stdout, ", %s skipped", commas(r.RowsSkipped))
	}
	if r.Encoding != "" && r.Status != "unchanged" {
		fmt.Fprintf(g.stdout, " [%s]", r.Encoding)
	}
	fmt.Fprintln(g.stdout)
	for reason, n := range r.SkipReasons {
		fmt.Fprintf(g.stdout, "  skipped %s: %s\n", commas(n), reason)
	}
	for i, rj := range r.Rejects {
		if i == 5 {
			fmt.Fprintf(g.stdout, "  ... (all rejects in lake/_rejects/%s/period=%s)\n", r.Source, r.Period)
			break
		}
		fmt.Fprintf(g.stdout, "  reject %s\n", rj)
	}
	if err != nil {
		fmt.Fprintf(g.stdout, "  %v\n", err)
		if r.Quarantined != "" {
			fmt.Fprintf(g.stdout, "  quarantined as %q (+ .reason.json)\n", r.Quarantined)
		}
	}
}

func progressPrinter(g *GlobalOptions) func(ingest.Progress) {
	var last time.Time
	return func(p ingest.Progress) {
		if !p.Done && time.Since(last) < 250*time.Millisecond {
			return
		}
		last = time.Now()
		secs := p.Elapsed.Seconds()
		if secs <= 0 {
			secs = 1e-9
		}
		pct := 100.0
		if p.Size > 0 {
			pct = 100 * float64(p.Bytes) / float64(p.Size)
		}
		fmt.Fprintf(g.stderr, "\r%s: %5.1f%%  %s rows  %.1f MB/s  %s rows/s ", filepath.Base(p.File), pct, commas(p.Rows),
			float64(p.Bytes)/1e6/secs, commas(int64(float64(p.Rows)/secs)))
		if p.Done {
			fmt.Fprint(g.stderr, "\r\033[K")
		}
	}
}

// commas writes 1234567 as 1,234,567.
func commas(n int64) string { return ukNumbers.Sprintf("%d", n) }

var ukNumbers = message.NewPrinter(language.BritishEnglish)

// ingestHeapLimit is the Go heap's soft limit while files are ingested:
// it keeps the heap near what is live, so ingest's memory stays bounded
// whatever the file size. Only there: the rest of a command (a transform
// whose disclosure control holds a month's cells in Go, the packs) would
// run the collector without pause once its live heap passed it (a full
// England build spent over half its CPU so).
const ingestHeapLimit = 384 << 20

// ingestMemoryLimit sets ingestHeapLimit (softHeapLimit).
func ingestMemoryLimit() (restore func()) { return softHeapLimit(ingestHeapLimit) }

// softHeapLimit sets the Go heap's soft limit to n bytes unless GOMEMLIMIT
// is set, and returns the function that restores the previous limit.
func softHeapLimit(n int64) (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(n)
	return func() { debug.SetMemoryLimit(prev) }
}
