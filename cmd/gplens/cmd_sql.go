package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/query"
	"github.com/gplens/gplens/snapshot"
)

// SQLOptions are the flags of `gplens sql`.
type SQLOptions struct {
	Commands []string
	File     string
	Format   string
	Out      string
	Live     bool
	MaxRows  int
	Timeout  time.Duration
}

// AddFlags adds the options' flags to fs.
func (o *SQLOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&o.Commands, "command", "c", nil, "run these statements (or dot commands) and exit; repeat to run several in order")
	fs.StringVarP(&o.File, "file", "f", "", "run the statements in this file and exit")
	fs.StringVar(&o.Format, "format", "table", "output: table, csv, json or markdown")
	fs.StringVar(&o.Out, "out", "", "write the last result to a file (.parquet, .csv, .json, .ndjson)")
	fs.BoolVar(&o.Live, "live", false, "query the warehouse being built instead of the published snapshot")
	fs.IntVar(&o.MaxRows, "max-rows", query.DefaultMaxRows, "rows shown in table mode (0: all)")
	fs.DurationVar(&o.Timeout, "timeout", 0, "per-statement time limit (0: none)")
}

func newSQLCommand(g *GlobalOptions) *cobra.Command {
	var o SQLOptions
	cmd := &cobra.Command{
		Use:   "sql [-c SQL ... | -f FILE.sql]",
		Short: "Query the warehouse in SQL (the metrics functions included): a prompt, -c, -f or standard input",
		Long: `Query the last published snapshot (or, with --live, the warehouse being built) in SQL.
With no -c or -f: an interactive prompt on a terminal, else statements from standard input.
The analyst views (variation, inequality, investment, workforce, referrals, trends, practices,
areas) and the metrics functions (wilson_lower, funnel_significance, sii, spc_xmr ...) are there.
Dot commands (.tables, .schema NAME, .mode csv ...) work at the prompt and in -c and -f.
When nothing is published yet, the live warehouse is read (a note on standard error says so);
in a workspace with neither, queries run on an empty in-memory database (the functions work).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSQL(cmd.Context(), g, o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runSQL(ctx context.Context, g *GlobalOptions, o SQLOptions) error {
	f, err := query.ParseFormat(o.Format)
	if err != nil {
		return usageError{err}
	}
	if len(o.Commands) > 0 && o.File != "" {
		return usagef("give -c or -f, not both")
	}
	if o.MaxRows <= 0 {
		o.MaxRows = -1 // query.Options: negative is no limit
	}
	w, err := g.openWorkspace()
	if err != nil {
		return err
	}
	if o.Live {
		// The live warehouse's lake views read the lake's files.
		_ = recoverLake(g, w, true)
	}
	db, err := openForSQL(ctx, g, w.Dir, w.Warehouse(), o.Live)
	if err != nil {
		return err
	}
	defer db.Close()
	qo := query.Options{Format: f, Out: o.Out, MaxRows: o.MaxRows, Timeout: o.Timeout, SearchPath: query.DefaultSearchPath}
	switch {
	case len(o.Commands) > 0:
		// All on one connection, in order, as one script would be; --out
		// takes the last statement of the last -c.
		for i, c := range o.Commands {
			qi := qo
			if i < len(o.Commands)-1 {
				qi.Out = ""
			}
			if err := query.Run(ctx, db, c, qi, g.stdout); err != nil {
				if len(o.Commands) > 1 {
					return fmt.Errorf("-c #%d: %w", i+1, err)
				}
				return err
			}
		}
		return nil
	case o.File != "":
		return query.RunFile(ctx, db, o.File, qo, g.stdout)
	}
	return query.Shell(ctx, db, os.Stdin, g.stdout, query.ShellOptions{Format: f, MaxRows: o.MaxRows, Timeout: o.Timeout,
		SearchPath: query.DefaultSearchPath, HistoryFile: filepath.Join(w.Dir, ".gplens_history"), ErrOut: g.stderr})
}

// openForSQL opens the published snapshot (read-only), the live warehouse
// with --live or when nothing is published yet, or an in-memory database
// when the workspace has neither; the last two say so on standard error.
func openForSQL(ctx context.Context, g *GlobalOptions, dir, warehouse string, live bool) (*sql.DB, error) {
	wst, werr := os.Stat(warehouse)
	path := ""
	switch info, serr := snapshot.Current(dir); {
	case live && werr != nil:
		return nil, fmt.Errorf("no warehouse at %s: run `gplens transform` first", warehouse)
	case live:
		path = warehouse
	case serr == nil:
		path = info.Path
		// After `gplens transform`, the snapshot lags the warehouse until
		// the next publish: say so, since the new models are not there yet.
		if sst, err := os.Stat(info.Path); err == nil && werr == nil && wst.ModTime().After(sst.ModTime()) {
			fmt.Fprintf(g.stderr, "note: reading the snapshot published %s; the warehouse was rebuilt since (--live reads it)\n",
				sst.ModTime().Format("2006-01-02 15:04"))
		}
	case werr == nil:
		fmt.Fprintf(g.stderr, "note: nothing published in %s yet; reading the live warehouse %s (`gplens publish` makes a snapshot)\n",
			filepath.Join(dir, "published"), warehouse)
		path = warehouse
	default:
		fmt.Fprintf(g.stderr, "note: no warehouse in %s yet (run `gplens transform`, or `gplens demo` for a synthetic one); querying an empty in-memory database\n", dir)
	}
	db, err := duck.Open(ctx, path, duck.Options{ReadOnly: path != ""})
	if err != nil && path == warehouse && strings.Contains(err.Error(), "Could not set lock") {
		// An incremental build changes the warehouse in place and holds it
		// until it commits; the published snapshot is never locked.
		return nil, fmt.Errorf("the warehouse is being changed by a build (gplens transform) that holds it until it finishes: query the published snapshot (without --live), or run this again when the build is done: %w", err)
	}
	return db, err
}
