package main

import (
	"context"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gplens/gplens/synth"
)

// GenerateOptions are the flags of `gplens generate` (and of `gplens demo`,
// without --out).
type GenerateOptions struct {
	Out          string
	Practices    int
	Months       int
	Seed         int64
	ReferralRows int64
	EndMonth     string
}

// AddFlags adds the generator's flags, with defaults from d.
func (o *GenerateOptions) AddFlags(fs *pflag.FlagSet, d synth.Config) {
	fs.IntVar(&o.Practices, "practices", d.Practices, "practices (about 6,300 for England)")
	fs.IntVar(&o.Months, "months", d.Months, "months of monthly data")
	fs.Int64Var(&o.Seed, "seed", d.Seed, "random seed: the same seed gives byte-identical files")
	fs.Int64Var(&o.ReferralRows, "referral-rows", d.ReferralRows, "record-level referral rows in total (0: aggregated files only)")
	fs.StringVar(&o.EndMonth, "end-month", d.EndMonth, "last month of data (YYYY-MM)")
}

func newGenerateCommand(g *GlobalOptions) *cobra.Command {
	var o GenerateOptions
	cmd := &cobra.Command{
		Use:   "generate --out DIR",
		Short: "Write synthetic England-shaped extracts in the real published formats",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Out == "" {
				return usagef("--out DIR is required")
			}
			sum, err := runGenerate(cmd.Context(), g, o)
			if err != nil {
				return err
			}
			printGenerateSummary(g, o.Out, sum)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Out, "out", "", "folder to write the extracts to")
	o.AddFlags(cmd.Flags(), synth.DefaultConfig())
	return cmd
}

func runGenerate(ctx context.Context, g *GlobalOptions, o GenerateOptions) (synth.Summary, error) {
	cfg := synth.DefaultConfig()
	cfg.Out, cfg.Practices, cfg.Months, cfg.Seed, cfg.ReferralRows = o.Out, o.Practices, o.Months, o.Seed, o.ReferralRows
	if o.EndMonth != "" {
		cfg.EndMonth = o.EndMonth
	}
	if g.tty {
		cfg.Progress = func(file string, rows int64) {
			fmt.Fprintf(g.stderr, "\r\033[Kwrote %s (%s rows)", filepath.Base(file), commas(rows))
		}
	}
	sum, err := synth.Generate(ctx, cfg)
	if g.tty {
		fmt.Fprint(g.stderr, "\r\033[K")
	}
	if err != nil {
		return sum, fmt.Errorf("generate: %w", err)
	}
	return sum, nil
}

func printGenerateSummary(g *GlobalOptions, out string, sum synth.Summary) {
	fmt.Fprintf(g.stdout, "synthetic extracts in %s: %d files, %s rows, %.1f MB; %d practices, %d months (%s to %s), financial years %v\n",
		out, len(sum.Files), commas(sum.TotalRows()), float64(sum.TotalBytes())/1e6, sum.Practices, len(sum.Months), first(sum.Months), last(sum.Months), sum.FinancialYears)
	if g.Verbose > 0 {
		tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		for _, f := range sum.Files {
			fmt.Fprintf(tw, "  %s\t%s rows\n", f.Path, commas(f.Rows))
		}
		tw.Flush()
	}
}
