package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/publish"
	"github.com/gplens/gplens/server"
	"github.com/gplens/gplens/snapshot"
	"github.com/gplens/gplens/workspace"
)

// runPublish writes the packs for a period from the warehouse and
// publishes a read-only snapshot of the warehouse for `gplens sql` and
// `gplens serve`, which move to it without a restart.
func runPublish(ctx context.Context, g *GlobalOptions, w *workspace.Workspace, period string, areas, levels []string) error {
	if _, err := os.Stat(w.Warehouse()); err != nil {
		return fmt.Errorf("no warehouse at %s: run `gplens transform` first", w.Warehouse())
	}
	if len(levels) == 0 {
		levels = w.Config.Publish.Levels
	}
	defer publishGC(w.Config.Publish.MemoryLimit)()
	sources, err := packSources(w)
	if err != nil {
		return err
	}
	models, err := modelVersions(ctx, w)
	if err != nil {
		return err
	}
	db, err := duck.Open(ctx, w.Warehouse(), duck.Options{ReadOnly: true, MemoryLimit: w.Config.Publish.MemoryLimit})
	if err != nil {
		return fmt.Errorf("publish: open the warehouse ([publish] memory_limit %q): %w", w.Config.Publish.MemoryLimit, err)
	}
	// The snapshot is copied while the packs render, each reading the
	// warehouse through its own DuckDB instance, so the copy uses what the
	// packs leave of the cores (little on two busy cores: README,
	// Benchmarks). The packs are
	// committed only once the copy has succeeded, and the snapshot made
	// current only after the packs, so a failure of either publishes
	// neither; a failed copy stops the packs at once.
	snapCtx, stopSnap := context.WithCancel(ctx)
	defer stopSnap()
	packCtx, stopPacks := context.WithCancel(ctx)
	defer stopPacks()
	snapDone := make(chan struct{})
	var pending *snapshot.Pending
	var snapErr error
	go func() {
		defer close(snapDone)
		pending, snapErr = snapshot.Prepare(snapCtx, w.Dir, w.Warehouse(), period,
			snapshot.Options{Logger: g.log, Scopes: serveScopes(g, w), Remarks: publish.ColumnRemarks, MemoryLimit: copierMemory(w.Config.Publish.MemoryLimit)})
		if snapErr != nil {
			stopPacks() // they could not be committed anyway
		}
	}()
	waitSnap := func() error {
		<-snapDone
		if snapErr != nil {
			return fmt.Errorf("snapshot for sql/serve: %w", snapErr)
		}
		return nil
	}
	sc := w.Config.Publish.Suppression
	opts := publish.Options{
		Period: period, Areas: areas, Levels: levels, Version: version, Workspace: w.Dir,
		Sources: sources, Models: models, Seed: w.Config.Publish.Seed, Logger: g.log,
		Suppression: publish.SuppressionConfig{MinCount: sc.MinCount, Secondary: sc.Secondary}, KeyIndicators: w.Config.Publish.KeyIndicators,
		ListDownTo: w.Config.Publish.ListDownTo,
		Dest:       gatedDest{Destination: publish.LocalDir{Root: w.Packs()}, wait: waitSnap},
	}
	if g.tty {
		opts.Progress = g.stderr // a line per pack with an ETA, only on a terminal
	}
	res, err := publish.Publish(packCtx, db, opts)
	db.Close()
	if err != nil {
		snapFailed := false // on its own, before being stopped: the cause
		select {
		case <-snapDone:
			snapFailed = snapErr != nil
		default:
		}
		stopSnap()
		<-snapDone
		pending.Abort()
		if snapFailed {
			return waitSnap()
		}
		return err
	}
	// Publish committed the packs, so the snapshot was prepared.
	if err := waitSnap(); err != nil {
		return err
	}
	snap, err := pending.Commit(ctx)
	if err != nil {
		return fmt.Errorf("packs written, but publishing the snapshot failed: %w", err)
	}
	sup := res.Suppressed
	fmt.Fprintf(g.stdout, "published %d packs for %s in %s (%d files, %.1f MB; cells withheld: %s primary, %s secondary, %s by the models)\nsnapshot for sql/serve: %s\n",
		len(res.Packs), period, w.Packs()+"/"+period, res.Files, float64(res.Bytes)/1e6,
		commas(int64(sup.Primary)), commas(int64(sup.Secondary)), commas(int64(sup.Upstream)), snap.Path)
	return nil
}

// copierMemory is the snapshot copier's share of [publish] memory_limit. It
// runs beside the DuckDB the packs read through, and a copy streams table by
// table: with the whole limit each, the first publish after a full build
// held both (England, 27 months, 1GB: 2.88 GB peak RSS against 1.96 GB when
// the snapshot is kept), and with a quarter the copy took no longer (76.6 s
// against 79.1 s for the publish) at 2.22 GB. At least 128 MB, never more
// than the limit; "" keeps DuckDB's default.
func copierMemory(limit string) string {
	n, err := duck.ParseBytes(limit)
	if limit == "" || err != nil {
		return limit // checked when the warehouse is opened
	}
	share := min(n, max(n/4, 128_000_000))
	return fmt.Sprintf("%dMB", share/1_000_000)
}

// publishGCPercent is the Go collector's target while packs render: they
// allocate and drop many short-lived buffers, and at 200 the collector
// runs half as often, saving about 5% of the command's CPU. The heap's
// soft limit (publishHeapLimit) keeps it from growing to three times
// what is live.
const publishGCPercent = 200

// publishHeapLimit is the Go heap's soft limit while packs render: half of
// [publish] memory_limit, at least 512 MiB. At publishGCPercent the heap
// grew to three times what was live (England: 125-200 MB live, 690 MB
// peaks) beside DuckDB's own limit; held at 512 MiB, four publishes of
// April 2024 peaked at 1.72 GB (snapshot kept) and 2.01-2.02 GB (copied
// afresh) against 1.88-1.97 and 2.20 GB, in no more time. "" (no limit
// configured) leaves Go's alone.
func publishHeapLimit(limit string) (int64, bool) {
	n, err := duck.ParseBytes(limit)
	if limit == "" || err != nil {
		return 0, false
	}
	return max(n/2, 512<<20), true
}

// publishGC sets publishGCPercent unless GOGC says otherwise, and the
// heap's soft limit (publishHeapLimit) unless GOMEMLIMIT does, and returns
// the function that restores the previous settings.
func publishGC(memoryLimit string) (restore func()) {
	var undo []func()
	if os.Getenv("GOGC") == "" {
		prev := debug.SetGCPercent(publishGCPercent)
		undo = append(undo, func() { debug.SetGCPercent(prev) })
	}
	if lim, ok := publishHeapLimit(memoryLimit); ok {
		undo = append(undo, softHeapLimit(lim))
	}
	return func() {
		for _, f := range undo {
			f()
		}
	}
}

// gatedDest holds a publication's commit until wait, the snapshot copy
// running beside the packs, has succeeded; its error aborts the stage.
type gatedDest struct {
	publish.Destination
	wait func() error
}

func (d gatedDest) Begin(ctx context.Context, period string) (publish.Stage, error) {
	st, err := d.Destination.Begin(ctx, period)
	if err != nil {
		return nil, err
	}
	return gatedStage{Stage: st, wait: d.wait}, nil
}

type gatedStage struct {
	publish.Stage
	wait func() error
}

func (s gatedStage) Commit(ctx context.Context) error {
	if err := s.wait(); err != nil {
		return err
	}
	return s.Stage.Commit(ctx)
}

// serveScopes are the row-level scopes of the serve tokens, whose copies
// publish builds so `gplens serve` never builds one on a first query. A
// token configuration serve would refuse builds none (serve reports it).
func serveScopes(g *GlobalOptions, w *workspace.Workspace) []snapshot.Scope {
	var toks []server.Token
	for _, t := range w.Config.Serve.Tokens {
		toks = append(toks, server.Token{Name: t.Name, Token: t.Token, ICB: t.ICB, SubICB: t.SubICB})
	}
	scopes, err := server.Scopes(toks, w.Config.Serve.TokenFile)
	if err != nil {
		g.log.Warn("serve tokens: scoped copies not built", "err", err)
		return nil
	}
	return scopes
}

// packSources lists the lake files behind the warehouse, for each pack's
// manifest: the current load of every source and period.
func packSources(w *workspace.Workspace) ([]publish.SourceFile, error) {
	// The manifest read must describe the lake: finish any interrupted ingest first.
	if err := ingest.Recover(w.Lake()); err != nil {
		return nil, err
	}
	entries, err := ingest.ReadManifest(w.Lake())
	if err != nil {
		return nil, err
	}
	var out []publish.SourceFile
	for _, e := range ingest.Latest(entries) {
		out = append(out, publish.SourceFile{Name: e.Source + "/" + e.File, SHA256: e.SHA256, Period: e.Period})
	}
	return out, nil
}

func modelVersions(ctx context.Context, w *workspace.Workspace) ([]publish.ModelVersion, error) {
	p, err := loadProject(ctx, w)
	if err != nil {
		return nil, err
	}
	var out []publish.ModelVersion
	for _, m := range p.Models() {
		h := sha256.Sum256([]byte(m.SQL))
		out = append(out, publish.ModelVersion{Name: m.Name, SHA256: hex.EncodeToString(h[:])})
	}
	return out, nil
}

func newPublishCommand(g *GlobalOptions) *cobra.Command {
	var period string
	var areas, levels []string
	cmd := &cobra.Command{
		Use:   "publish --period YYYY-MM [--area CODE ...] [--level region|icb|sub_icb|pcn]",
		Short: "Write the monthly data packs (xlsx, html, feeds, manifest) for every area, atomically",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := time.Parse("2006-01", period); err != nil {
				return usagef("--period YYYY-MM is required (got %q)", period)
			}
			for _, l := range levels {
				if !contains([]string{"region", "icb", "sub_icb", "pcn"}, l) {
					return usagef("--level %q: want region, icb, sub_icb or pcn", l)
				}
			}
			w, err := g.openWorkspace()
			if err != nil {
				return err
			}
			unlock, err := lockWorkspace(w.Dir, "gplens publish")
			if err != nil {
				return err
			}
			defer unlock()
			return runPublish(cmd.Context(), g, w, period, areas, levels)
		},
	}
	cmd.Flags().StringVar(&period, "period", "", "the month of the packs (YYYY-MM)")
	cmd.Flags().StringSliceVar(&areas, "area", nil, "only these area codes (repeat or comma-separate)")
	cmd.Flags().StringSliceVar(&levels, "level", nil, "area levels: region, icb, sub_icb, pcn (default publish.levels)")
	return cmd
}

func newPacksCommand(g *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "packs",
		Short: "List the published packs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.openWorkspace()
			if err != nil {
				return err
			}
			packs, err := publish.List(w.Packs())
			if err != nil {
				return err
			}
			if len(packs) == 0 {
				fmt.Fprintf(g.stdout, "no packs in %s\n", w.Packs())
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PERIOD\tLEVEL\tAREA\tNAME\tPRACTICES\tFILES\tMB")
			for _, p := range packs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%.1f\n", p.Period, p.Level, p.Area, strings.TrimSpace(p.AreaName), p.Practices, p.Files, float64(p.Bytes)/1e6)
			}
			return tw.Flush()
		},
	}
}
