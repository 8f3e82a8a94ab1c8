package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/synth"
	"github.com/gplens/gplens/workspace"
)

// DemoOptions are the flags of `gplens demo`: the generator's, without --out
// (the extracts go in the workspace).
type DemoOptions struct {
	Generate GenerateOptions
}

// AddFlags adds the options' flags to fs: a modest synthetic England.
func (o *DemoOptions) AddFlags(fs *pflag.FlagSet) {
	d := synth.DefaultConfig()
	d.Practices, d.Months = 300, 12
	o.Generate.AddFlags(fs, d)
}

func newDemoCommand(g *GlobalOptions) *cobra.Command {
	var o DemoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate a modest synthetic England, run the whole pipeline on it and say where the outputs are",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), g, o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// runDemo is generate, ingest, transform and publish in one workspace.
func runDemo(ctx context.Context, g *GlobalOptions, o DemoOptions) error {
	w, err := workspace.Init(g.Workspace)
	if err != nil {
		return err
	}
	gen := o.Generate
	gen.Out = filepath.Join(w.Dir, "extracts")
	fmt.Fprintf(g.stdout, "1. generating synthetic extracts (%d practices, %d months, seed %d) ...\n", gen.Practices, gen.Months, gen.Seed)
	sum, err := runGenerate(ctx, g, gen)
	if err != nil {
		return err
	}
	printGenerateSummary(g, gen.Out, sum)
	var files []string
	for _, f := range sum.Files {
		if !strings.HasPrefix(f.Path, "_truth/") {
			files = append(files, filepath.Join(gen.Out, filepath.FromSlash(f.Path)))
		}
	}
	fmt.Fprintf(g.stdout, "\n2. ingesting %d files into %s ...\n", len(files), w.Lake())
	quiet := *g
	quiet.stdout = io.Discard
	if err := runIngest(ctx, &quiet, IngestOptions{}, files, false); err != nil {
		return err
	}
	if err := printLakeSummary(g, w); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "\n3. building the warehouse (SQL models and data tests) ...\n")
	if err := transformStep(ctx, g, w, false); err != nil {
		return err
	}
	period := last(sum.Months)
	fmt.Fprintf(g.stdout, "\n4. publishing the %s packs ...\n", period)
	if err := runPublish(ctx, g, w, period, nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, `
outputs, in the workspace %s:
  extracts/          the synthetic files, in the real published formats
  lake/              the Parquet lake (lake/_manifest.parquet: what was ingested)
  warehouse.duckdb   the models (gplens models lists them)
  published/         the read-only snapshot that gplens sql and gplens serve read
  packs/%s/     a pack per region, ICB and sub-ICB: pack.xlsx, pack.html, feeds/, manifest.json
try:
  gplens --workspace %s sql -c "SELECT * FROM variation LIMIT 5"
  gplens --workspace %s packs
`, w.Dir, period, w.Dir, w.Dir)
	return nil
}

// printLakeSummary says what the lake holds, from its manifest.
func printLakeSummary(g *GlobalOptions, w *workspace.Workspace) error {
	entries, err := ingest.ReadManifest(w.Lake())
	if err != nil {
		return err
	}
	type agg struct {
		periods       []string
		rows, rejects int64
	}
	by := map[string]*agg{}
	for _, e := range ingest.Latest(entries) { // sorted by source, then period
		a := by[e.Source]
		if a == nil {
			a = &agg{}
			by[e.Source] = a
		}
		a.periods = append(a.periods, e.Period)
		a.rows += e.RowsWritten
		a.rejects += e.RowsRejected
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(g.stdout, "lake %s:\n", w.Lake())
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "source\tperiods\tfirst\tlast\trows\trejected\t")
	for _, n := range names {
		a := by[n]
		ps := a.periods
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", n, len(ps), ps[0], ps[len(ps)-1], commas(a.rows), commas(a.rejects))
	}
	tw.Flush()
	if q, _ := os.ReadDir(w.Quarantine()); len(q) > 0 {
		fmt.Fprintf(g.stdout, "quarantine: %d files in %s\n", len(q), w.Quarantine())
	}
	return nil
}
