package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/query"
	"github.com/gplens/gplens/snapshot"
)

// SQLOptions are the flags of `gplens sql`.
type SQLOptions struct {
	Command string
	File    string
	Format  string
	Out     string
	Live    bool
	MaxRows int
	Timeout time.Duration
}

func newSQLCommand(g *GlobalOptions) *cobra.Command {
	var o SQLOptions
	cmd := &cobra.Command{
		Use:   "sql [-c SQL | -f FILE.sql]",
		Short: "Query the warehouse in SQL (the metrics functions included): a prompt, -c, -f or standard input",
		Long: `Query the last published snapshot (or, with --live, the warehouse being built) in SQL.
With no -c or -f: an interactive prompt on a terminal, else statements from standard input.
The analyst views (variation, inequality, investment, workforce, referrals, trends, practices,
areas) and the metrics functions (wilson_lower, funnel_significance, sii, spc_xmr ...) are there.
Without a workspace warehouse, queries run on an empty in-memory database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := query.ParseFormat(o.Format)
			if err != nil {
				return usageError{err}
			}
			if o.Command != "" && o.File != "" {
				return usagef("give -c or -f, not both")
			}
			db, closeDB, err := openForSQL(cmd, g, o)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			qo := query.Options{Format: f, Out: o.Out, MaxRows: o.MaxRows, Timeout: o.Timeout, SearchPath: query.DefaultSearchPath}
			switch {
			case o.Command != "":
				err = query.Run(ctx, db, o.Command, qo, g.stdout)
			case o.File != "":
				err = query.RunFile(ctx, db, o.File, qo, g.stdout)
			default:
				hist := ""
				if w, werr := g.openWorkspace(); werr == nil {
					hist = filepath.Join(w.Dir, ".gplens_history")
				}
				err = query.Shell(ctx, db, os.Stdin, g.stdout, query.ShellOptions{Format: f, MaxRows: o.MaxRows, Timeout: o.Timeout,
					SearchPath: query.DefaultSearchPath, HistoryFile: hist, ErrOut: g.stderr})
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&o.Command, "command", "c", "", "run these statements and exit")
	cmd.Flags().StringVarP(&o.File, "file", "f", "", "run the statements in this file and exit")
	cmd.Flags().StringVar(&o.Format, "format", "table", "output: table, csv, json or markdown")
	cmd.Flags().StringVar(&o.Out, "out", "", "write the last result to a file (.parquet, .csv, .json, .ndjson)")
	cmd.Flags().BoolVar(&o.Live, "live", false, "query the warehouse being built instead of the published snapshot")
	cmd.Flags().IntVar(&o.MaxRows, "max-rows", query.DefaultMaxRows, "rows shown in table mode (-1: all)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, "per-statement time limit (0: none)")
	return cmd
}

// openForSQL opens the published snapshot (read-only), the live warehouse
// with --live, or an in-memory database when the workspace has neither.
func openForSQL(cmd *cobra.Command, g *GlobalOptions, o SQLOptions) (*sql.DB, func(), error) {
	ctx := cmd.Context()
	w, err := g.openWorkspace()
	if err != nil {
		return nil, nil, err
	}
	path := ""
	if o.Live {
		// The live warehouse's lake views read the lake's files.
		_ = recoverLake(g, w, true)
		if _, err := os.Stat(w.Warehouse()); err != nil {
			return nil, nil, fmt.Errorf("no warehouse at %s: run `gplens transform` first", w.Warehouse())
		}
		path = w.Warehouse()
	} else if info, err := snapshot.Current(w.Dir); err == nil {
		path = info.Path
	} else if _, serr := os.Stat(w.Warehouse()); serr == nil {
		g.log.Info("nothing published yet; reading the live warehouse", "warehouse", w.Warehouse())
		path = w.Warehouse()
	}
	opts := duck.Options{ReadOnly: path != ""}
	db, err := duck.Open(ctx, path, opts)
	if err != nil {
		return nil, nil, err
	}
	return db, func() { db.Close() }, nil
}
