package transform

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
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

// WriteListFit prints the models as WriteList does, but one line each no
// wider than width (a terminal's columns): what a model reads and its tests
// are counted rather than listed, and descriptions are cut with "…".
// WriteList is the full form (`gplens models --wide`).
func (p *Project) WriteListFit(w io.Writer, width int) error {
	rows := [][]string{{"MODEL", "MATERIALIZED", "INCREMENTAL", "READS", "TESTS"}}
	descs := []string{"DESCRIPTION"}
	for _, m := range p.models {
		rows = append(rows, []string{m.Name, m.Materialized, dash(m.Incremental),
			fmt.Sprint(len(m.Inputs) + len(m.Deps)), fmt.Sprint(len(m.Tests))})
		descs = append(descs, dash(m.Description))
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for i, r := range rows {
		b.Reset()
		for j, c := range r {
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c)+2))
		}
		room := width - utf8.RuneCountInString(b.String())
		b.WriteString(cut(descs[i], room))
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return fmt.Errorf("list models: %w", err)
		}
	}
	return nil
}

// cut shortens s to n characters, ending with "…" when it had to.
func cut(s string, n int) string {
	r := []rune(s)
	switch {
	case len(r) <= n:
		return s
	case n <= 0:
		return ""
	}
	return string(r[:n-1]) + "…"
}
