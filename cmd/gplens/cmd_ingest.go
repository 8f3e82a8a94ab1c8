package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	cmd := &cobra.Command{
		Use:   "check FILE...",
		Short: "Validate extracts without writing: source, period, rows, rejects and why",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIngest(cmd, g, o, args, true)
		},
	}
	cmd.Flags().StringVar(&o.Period, "period", "", "period of the files when they do not say (YYYY-MM or YYYY-YY)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print results as JSON lines")
	return cmd
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
			return runIngest(cmd, g, o, args, false)
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

func runIngest(cmd *cobra.Command, g *GlobalOptions, o IngestOptions, files []string, check bool) error {
	ctx := cmd.Context()
	w, err := g.openWorkspace()
	if err != nil {
		return err
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
	if !check {
		unlock, err := lockWorkspace(w.Dir, "gplens ingest")
		if err != nil {
			return err
		}
		defer unlock()
	}
	opts := ingestOptions(w, g, o.Period, check, move)
	if g.tty && !o.JSON {
		opts.Progress = progressPrinter(g)
	}
	_, refused, err := ingestFiles(ctx, g, files, opts, o.JSON)
	switch {
	case err != nil:
		return err
	case refused > 0:
		return &ingest.RefusedError{Err: fmt.Errorf("%d of %d files refused; see %s", refused, len(files), w.Quarantine())}
	}
	return nil
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
func ingestFiles(ctx context.Context, g *GlobalOptions, files []string, opts ingest.Options, asJSON bool) (int64, int, error) {
	var rows int64
	var refused int
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
			refused++
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
		fmt.Fprintf(g.stdout, "%s %s\n  %v\n", word, name, err)
		if r.Quarantined != "" {
			fmt.Fprintf(g.stdout, "  quarantined as %s (+ .reason.json)\n", r.Quarantined)
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
	fmt.Fprintf(g.stdout, "%-9s %s: %s, %s rows read, %s written, %s rejected", status, name, what,
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
			fmt.Fprintf(g.stdout, "  quarantined as %s (+ .reason.json)\n", r.Quarantined)
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
