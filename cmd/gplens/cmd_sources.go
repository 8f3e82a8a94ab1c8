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

// SourcesOptions are the flags of `gplens sources`.
type SourcesOptions struct {
	JSON bool
}

// AddFlags adds the options' flags to fs.
func (o *SourcesOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.JSON, "json", false, "print as JSON")
}

func newSourcesCommand(g *GlobalOptions) *cobra.Command {
	var o SourcesOptions
	cmd := &cobra.Command{
		Use:   "sources [NAME...]",
		Short: "List the supported sources: cadence, file names and the headers each accepts",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSources(g, o, args)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runSources(g *GlobalOptions, o SourcesOptions, names []string) error {
	var infos []*ingest.Info
	for _, s := range ingest.Sources() {
		info := s.Info()
		if len(names) > 0 && !contains(names, info.Name) {
			continue
		}
		infos = append(infos, info)
	}
	if len(names) > 0 && len(infos) == 0 {
		return usagef("no source named %s (run `gplens sources` for the list)", strings.Join(names, ", "))
	}
	switch {
	case o.JSON:
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	case len(names) == 0:
		tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SOURCE\tCADENCE\tFILES\tDESCRIPTION")
		for _, i := range infos {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", i.Name, i.Cadence, strings.Join(i.Patterns, " "), i.Title)
		}
		tw.Flush()
		fmt.Fprintln(g.stdout, "\n`gplens sources NAME` shows the headers a source accepts and its lake columns.")
		return nil
	}
	for _, i := range infos {
		printSource(g, i)
	}
	return nil
}

// printSource is `gplens sources NAME`: one source in full.
func printSource(g *GlobalOptions, i *ingest.Info) {
	fmt.Fprintf(g.stdout, "%s: %s\n  cadence: %s\n  files:   %s\n", i.Name, i.Title, i.Cadence, strings.Join(i.Patterns, ", "))
	if i.Headerless > 0 {
		fmt.Fprintf(g.stdout, "  header:  none (%d columns, by position)\n", i.Headerless)
	}
	for _, v := range i.Variants {
		fmt.Fprintf(g.stdout, "  header %s: needs %s\n", v.Name, strings.Join(v.Required, ", "))
	}
	if len(i.Key) > 0 {
		fmt.Fprintf(g.stdout, "  unique key: %s\n", strings.Join(i.Key, ", "))
	}
	fmt.Fprintln(g.stdout, "  lake columns:")
	for _, c := range i.Columns {
		fmt.Fprintf(g.stdout, "    %-28s %-8s %s\n", c.Name, c.Type, c.Doc)
	}
	if i.Notes != "" {
		fmt.Fprintf(g.stdout, "  notes: %s\n", i.Notes)
	}
}
