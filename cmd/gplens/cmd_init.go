package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gplens/gplens/workspace"
)

func newInitCommand(g *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "init [DIR]",
		Short: "Create a workspace with a commented gplens.toml",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := g.Workspace
			if len(args) == 1 {
				dir = args[0]
			}
			return runInit(g, dir)
		},
	}
}

func runInit(g *GlobalOptions, dir string) error {
	w, err := workspace.Init(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "workspace ready: %s\n  config: %s/gplens.toml\n  drop extracts in: %s\n", w.Dir, w.Dir, w.Inbox())
	return nil
}
