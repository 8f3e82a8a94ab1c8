package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gplens/gplens/ingest"
	sqlmodels "github.com/gplens/gplens/sql"
	"github.com/gplens/gplens/transform"
	"github.com/gplens/gplens/workspace"
)

// transformStep builds the warehouse and says what it did: the step shared
// by `gplens transform`, `gplens run`, the scheduler and the demo.
func transformStep(ctx context.Context, g *GlobalOptions, w *workspace.Workspace, full bool) error {
	res, err := buildWarehouse(ctx, g, w, full)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "warehouse %s: %s in %s\n", w.Warehouse(), res.Summary(), res.Duration.Round(1e6))
	return nil
}

// loadProject reads the embedded models with the workspace's sql/ folder
// (if any) laid over them.
func loadProject(ctx context.Context, w *workspace.Workspace) (*transform.Project, error) {
	var fsys fs.FS = sqlmodels.FS()
	if w != nil {
		if st, err := os.Stat(filepath.Join(w.Dir, "sql")); err == nil && st.IsDir() {
			fsys = transform.Overlay(fsys, os.DirFS(filepath.Join(w.Dir, "sql")))
		}
	}
	return transform.Load(ctx, fsys)
}

// lakeTables describes every source's lake table for the engine.
func lakeTables(w *workspace.Workspace) []transform.LakeTable {
	cols := ingest.Tables()
	names := make([]string, 0, len(cols))
	for n := range cols {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []transform.LakeTable
	for _, n := range names {
		glob := transform.LakeGlob(w.Lake(), n)
		if s, ok := ingest.Lookup(n); ok && s.Info().Datasets {
			glob = transform.DatasetLakeGlob(w.Lake(), n)
		}
		out = append(out, transform.LakeTable{Name: n, Glob: glob, Columns: cols[n]})
	}
	return out
}

func buildWarehouse(ctx context.Context, g *GlobalOptions, w *workspace.Workspace, full bool) (transform.Result, error) {
	if err := recoverLake(g, w, false); err != nil {
		return transform.Result{}, err
	}
	p, err := loadProject(ctx, w)
	if err != nil {
		return transform.Result{}, err
	}
	o := transform.Options{
		Warehouse: w.Warehouse(), Lake: lakeTables(w), Full: full, Logger: g.log,
		MemoryLimit: w.Config.Transform.MemoryLimit, Threads: w.Config.Transform.Threads,
		Vars: disclosureVars(w.Config.Publish.Suppression),
	}
	if g.tty {
		o.Progress = g.stderr // a line per model with an ETA, only on a terminal
	}
	return transform.Build(ctx, p, o)
}

// disclosureVars hands [publish.suppression] to the release models
// (sql/disclosure/cells.sql), where it overrides the * row of
// data/disclosure.csv.
func disclosureVars(sc workspace.SuppressionConfig) map[string]string {
	v := map[string]string{
		"disclosure_secondary":     strconv.FormatBool(sc.Secondary),
		"disclosure_suppress_zero": strconv.FormatBool(sc.SuppressZero),
	}
	if sc.MinCount > 0 {
		v["disclosure_min_count"] = strconv.Itoa(sc.MinCount)
	}
	if sc.RoundTo > 0 {
		v["disclosure_round_to"] = strconv.Itoa(sc.RoundTo)
	}
	return v
}

// TransformOptions are the flags of `gplens transform`.
type TransformOptions struct {
	Full bool
}

// AddFlags adds the options' flags to fs.
func (o *TransformOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Full, "full", false, "rebuild every model (default: only what changed)")
}

func newTransformCommand(g *GlobalOptions) *cobra.Command {
	var o TransformOptions
	cmd := &cobra.Command{
		Use:   "transform",
		Short: "Build the DuckDB warehouse from the lake: SQL models in dependency order, with data tests",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTransform(cmd.Context(), g, o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runTransform(ctx context.Context, g *GlobalOptions, o TransformOptions) error {
	w, err := g.openWorkspace()
	if err != nil {
		return err
	}
	unlock, err := lockWorkspace(w.Dir, "gplens transform")
	if err != nil {
		return err
	}
	defer unlock()
	res, err := buildWarehouse(ctx, g, w, o.Full)
	if err != nil {
		return err
	}
	if g.Verbose > 0 {
		for _, m := range res.Models {
			fmt.Fprintf(g.stdout, "  %-40s %-9s %10s rows  %s\n", m.Name, m.Action, commas(m.Rows), m.Duration.Round(1e6))
		}
	}
	fmt.Fprintf(g.stdout, "warehouse %s: %s in %s\n", w.Warehouse(), res.Summary(), res.Duration.Round(1e6))
	return nil
}
