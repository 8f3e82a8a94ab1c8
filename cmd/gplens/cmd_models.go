package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// ModelsOptions are the flags of `gplens models`.
type ModelsOptions struct {
	Dot  bool
	Wide bool
}

// AddFlags adds the options' flags to fs.
func (o *ModelsOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Dot, "dot", false, "print the dependency graph in Graphviz DOT")
	fs.BoolVar(&o.Wide, "wide", false, "list every input and test in full, however wide the lines")
}

func newModelsCommand(g *GlobalOptions) *cobra.Command {
	var o ModelsOptions
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the SQL models in build order with their dependencies (--dot for a Graphviz graph)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModels(cmd.Context(), g, o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runModels(ctx context.Context, g *GlobalOptions, o ModelsOptions) error {
	// The list needs no workspace: without one it shows the built-in models.
	w, _ := g.openWorkspace()
	p, err := loadProject(ctx, w)
	if err != nil {
		return err
	}
	switch {
	case o.Dot:
		_, err = fmt.Fprint(g.stdout, p.DOT())
		return err
	case o.Wide:
		return p.WriteList(g.stdout)
	}
	return p.WriteListFit(g.stdout, outputWidth(g))
}

// outputWidth is the terminal's width when standard output is one, else
// 100 columns (a pager or a file still reads best at a fixed width).
func outputWidth(g *GlobalOptions) int {
	if f, ok := g.stdout.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 100
}
