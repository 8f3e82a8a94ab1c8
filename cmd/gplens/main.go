// Command gplens is the NHS general-practice quality and investment
// pipeline: ingest, transform, metrics, publish, schedule and query.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/workspace"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit statuses, documented in the README.
const (
	exitOK      = 0
	exitFailed  = 1 // a run failed (I/O, a data test, a busy workspace)
	exitBadData = 2 // bad usage or bad input (refused file, unknown flag)
)

// usageError marks errors that are the caller's to fix: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// GlobalOptions are the flags every command takes.
type GlobalOptions struct {
	Workspace string
	LogFormat string
	Verbose   int
	// workspaceFrom says where Workspace came from, for error messages.
	workspaceFrom string
	stdout        io.Writer
	stderr        io.Writer
	log           *slog.Logger
	tty           bool
}

func (g *GlobalOptions) setup() error {
	level := slog.LevelWarn
	switch {
	case g.Verbose == 1:
		level = slog.LevelInfo
	case g.Verbose >= 2:
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.LogFormat {
	case "text", "":
		g.log = slog.New(slog.NewTextHandler(g.stderr, opts))
	case "json":
		g.log = slog.New(slog.NewJSONHandler(g.stderr, opts))
	default:
		return usagef("--log-format must be text or json, not %q", g.LogFormat)
	}
	slog.SetDefault(g.log)
	if f, ok := g.stderr.(*os.File); ok {
		g.tty = term.IsTerminal(int(f.Fd()))
	}
	return nil
}

// openWorkspace opens the workspace named by --workspace / GPLENS_HOME,
// which must exist: a forgotten --workspace should say so, not query or
// fill an empty folder.
func (g *GlobalOptions) openWorkspace() (*workspace.Workspace, error) {
	w, err := workspace.Open(g.Workspace)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(w.Dir); err != nil || !st.IsDir() {
		return nil, usagef("no workspace at %s (%s): create it with `gplens init %s`, or name another with --workspace DIR or GPLENS_HOME",
			w.Dir, g.workspaceFrom, g.Workspace)
	}
	return w, nil
}

// workspaceOrDefaults opens the workspace if it exists, else the default
// settings at that path, for commands that write nothing there.
func (g *GlobalOptions) workspaceOrDefaults() (*workspace.Workspace, error) {
	return workspace.Open(g.Workspace)
}

func newRootCommand(g *GlobalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:           "gplens",
		Short:         "NHS general-practice quality and investment analytics",
		Long:          "gplens ingests NHS extracts into a Parquet lake, builds a DuckDB warehouse of SQL models with the\nstatistics analysts trust, and publishes monthly data packs per area.",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case cmd.Flags().Changed("workspace"):
				g.workspaceFrom = "from --workspace"
			case os.Getenv("GPLENS_HOME") != "":
				g.workspaceFrom = "from GPLENS_HOME"
			default:
				g.workspaceFrom = "the default; no --workspace or GPLENS_HOME given"
			}
			return g.setup()
		},
	}
	def := os.Getenv("GPLENS_HOME")
	if def == "" {
		def = "gplens-data"
	}
	root.PersistentFlags().StringVar(&g.Workspace, "workspace", def, "workspace folder (env GPLENS_HOME)")
	root.PersistentFlags().StringVar(&g.LogFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().CountVarP(&g.Verbose, "verbose", "v", "more logging (-v info, -vv debug)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newInitCommand(g),
		newSourcesCommand(g),
		newCheckCommand(g),
		newIngestCommand(g),
		newStatusCommand(g),
		newLakeCommand(g),
		newGenerateCommand(g),
		newDemoCommand(g),
		newTransformCommand(g),
		newModelsCommand(g),
		newPublishCommand(g),
		newPacksCommand(g),
		newRunCommand(g),
		newSQLCommand(g),
		newServeCommand(g),
		newScheduleCommand(g),
		newRunsCommand(g),
		newTriggerCommand(g),
	)
	return root
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &GlobalOptions{stdout: stdout, stderr: stderr}
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "gplens:", err)
	return exitCode(err)
}

func exitCode(err error) int {
	var ue usageError
	switch {
	case errors.As(err, &ue), ingest.IsRefused(err):
		return exitBadData
	}
	// cobra's own argument errors (unknown command, wrong arg count).
	if isCobraUsage(err) {
		return exitBadData
	}
	return exitFailed
}

// isCobraUsage recognises cobra's own usage errors, which it returns as
// plain errors.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
