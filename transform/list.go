package transform

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteList prints the models in dependency order, one per line, for
// `gplens models`: name, materialisation, incremental column, what it reads,
// its tests and its description.
func (p *Project) WriteList(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tMATERIALIZED\tINCREMENTAL\tREADS\tTESTS\tDESCRIPTION")
	for _, m := range p.models {
		reads := append(append([]string(nil), m.Inputs...), m.Deps...)
		tests := make([]string, len(m.Tests))
		for i, t := range m.Tests {
			tests[i] = t.Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Materialized, dash(m.Incremental),
			dash(strings.Join(reads, ", ")), dash(strings.Join(tests, "; ")), dash(m.Description))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("list models: %w", err)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
