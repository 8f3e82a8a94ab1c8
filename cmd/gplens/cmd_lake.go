package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gplens/gplens/ingest"
)

// LakeDropOptions are the flags of `gplens lake drop`.
type LakeDropOptions struct {
	Dataset string
}

// AddFlags adds the options' flags to fs.
func (o *LakeDropOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Dataset, "dataset", "", "the dataset, for sources that hold several (see gplens status)")
}

func newLakeCommand(g *GlobalOptions) *cobra.Command {
	var o LakeDropOptions
	cmd := &cobra.Command{
		Use:   "lake",
		Short: "Manage the lake's partitions (drop)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("say what to do: gplens lake drop SOURCE PERIOD")
		},
	}
	// A persistent flag of `lake`, so `gplens lake --help` lists it too.
	o.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(newLakeDropCommand(g, &o))
	return cmd
}

func newLakeDropCommand(g *GlobalOptions, o *LakeDropOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drop SOURCE PERIOD [--dataset D]",
		Short: "Remove one partition from the lake, recorded in the manifest (status dropped)",
		Long: `Remove lake/<source>/period=<P> (and its rejects) atomically and record the drop in the
manifest, so the next transform rebuilds without it. Ingesting the same file again loads it afresh.
Sources holding several datasets (fingertips) take --dataset when the period has more than one.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLakeDrop(g, *o, args[0], args[1])
		},
	}
	return cmd
}

func runLakeDrop(g *GlobalOptions, o LakeDropOptions, source, period string) error {
	w, err := g.openWorkspace()
	if err != nil {
		return err
	}
	unlock, err := lockWorkspace(w.Dir, "gplens lake drop")
	if err != nil {
		return err
	}
	defer unlock()
	e, err := ingest.Drop(w.Lake(), source, period, ingest.DropOptions{Dataset: o.Dataset, Version: version})
	if ingest.IsNotFound(err) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	what := e.Source + " " + e.Period
	if e.Dataset != "" {
		what = e.Source + " dataset " + e.Dataset + " " + e.Period
	}
	fmt.Fprintf(g.stdout, "DROPPED %s (%s, sha256 %.12s); run gplens transform to rebuild without it\n", what, e.File, e.ReplacesSHA)
	return nil
}
