package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gplens/gplens/ingest"
)

// StatusOptions are the flags of `gplens status`.
type StatusOptions struct {
	JSON bool
}

// AddFlags adds the options' flags to fs.
func (o *StatusOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.JSON, "json", false, "print as JSON")
}

func newStatusCommand(g *GlobalOptions) *cobra.Command {
	var o StatusOptions
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "What the lake holds per source and period, and for which months a complete pack can be built",
		Long: `What the lake holds: for each source (and dataset) and period, the rows, the Parquet files,
the extract loaded and when. Then the months a pack could be asked for and whether it would be
complete: every required source of data/pack_sources.csv has data for the month (a monthly
partition for that month, or for annual sources a financial year that ended before it).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(g, o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runStatus(g *GlobalOptions, o StatusOptions) error {
	w, err := g.openWorkspace()
	if err != nil {
		return err
	}
	st, err := ingest.LakeStatus(w.Lake(), w.Dir)
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(g.stdout, "lake %s:\n", st.Lake)
	if len(st.Partitions) == 0 {
		fmt.Fprintln(g.stdout, "  empty (ingest some files: gplens ingest FILE...)")
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	if len(st.Partitions) > 0 {
		fmt.Fprintln(tw, "SOURCE\tDATASET\tPERIOD\tROWS\tFILES\tLOADED (UTC)\tFROM")
	}
	for _, p := range st.Partitions {
		files := fmt.Sprint(p.Files)
		if p.Missing {
			files = "missing: ingest " + p.File + " again"
		}
		ds := p.Dataset
		if ds == "" {
			ds = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s (%s)\n", p.Source, ds, p.Period, commas(p.Rows), files,
			p.LoadedAt.UTC().Format("2006-01-02 15:04"), p.File, p.Status)
	}
	tw.Flush()
	fmt.Fprintf(g.stdout, "\npack months (requirements from data/%s):\n", ingest.PackSourcesFile)
	if len(st.Months) == 0 {
		fmt.Fprintln(g.stdout, "  none: no monthly or annual source in the lake yet")
	}
	tw = tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	for _, m := range st.Months {
		state := "complete"
		if !m.Complete {
			state = "incomplete: no " + strings.Join(m.Missing, ", no ")
		}
		extra := ""
		if len(m.Optional) > 0 {
			extra = " (left out: " + strings.Join(m.Optional, ", ") + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s%s\n", m.Month, state, extra)
	}
	tw.Flush()
	if len(st.Complete) > 0 {
		fmt.Fprintf(g.stdout, "a complete pack can be built for: %s\n", strings.Join(st.Complete, ", "))
	} else {
		fmt.Fprintln(g.stdout, "no month has every required source yet")
	}
	return nil
}
