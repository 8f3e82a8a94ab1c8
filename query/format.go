package query

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/width"
)

// Format is an output format for query results.
type Format string

// The output formats.
const (
	FormatTable    Format = "table"
	FormatCSV      Format = "csv"
	FormatJSON     Format = "json"
	FormatMarkdown Format = "markdown"
)

// Formats lists the accepted format names, for flag help.
var Formats = []Format{FormatTable, FormatCSV, FormatJSON, FormatMarkdown}

// ParseFormat accepts a format name ("" means table; "md" markdown).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "table", "box", "duckbox":
		return FormatTable, nil
	case "csv":
		return FormatCSV, nil
	case "json":
		return FormatJSON, nil
	case "markdown", "md":
		return FormatMarkdown, nil
	}
	return "", fmt.Errorf("unknown format %q (want table, csv, json or markdown)", s)
}

var (
	markdownEscaper = strings.NewReplacer("|", `\|`, "\r\n", "<br>", "\n", "<br>")
	tableEscaper    = strings.NewReplacer("\r", `\r`, "\n", `\n`, "\t", " ")
)

// maxCellWidth caps a table cell so one long text does not push the box
// off the screen; the other formats never truncate.
const maxCellWidth = 80

// resultWriter receives one result as it is read.
type resultWriter interface {
	begin(cols []Column) error
	row(vals []any) error
	end() error
}

func newResultWriter(f Format, w io.Writer, maxRows int) resultWriter {
	switch f {
	case FormatCSV:
		return &csvWriter{w: csv.NewWriter(w)}
	case FormatJSON:
		return &jsonWriter{w: bufio.NewWriter(w)}
	case FormatMarkdown:
		return &gridWriter{w: w, markdown: true}
	default:
		return &gridWriter{w: w, maxRows: maxRows}
	}
}

// csvWriter streams RFC 4180 CSV with a header; NULL is an empty field.
type csvWriter struct {
	w    *csv.Writer
	cols []Column
	rec  []string
}

func (c *csvWriter) begin(cols []Column) error {
	c.cols = cols
	c.rec = make([]string, len(cols))
	for i, col := range cols {
		c.rec[i] = col.Name
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) row(vals []any) error {
	for i, v := range vals {
		c.rec[i], _ = formatText(v, c.cols[i].Type)
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) end() error {
	c.w.Flush()
	return c.w.Error()
}

// jsonWriter streams an array of objects, one object per line, keys in
// column order; numbers are JSON numbers and NULL is null.
type jsonWriter struct {
	w    *bufio.Writer
	cols []Column
	keys []string
	n    int
}

func (j *jsonWriter) begin(cols []Column) error {
	j.cols = cols
	j.keys = make([]string, len(cols))
	for i, c := range cols {
		j.keys[i] = jsonString(c.Name)
	}
	_, err := j.w.WriteString("[")
	return err
}

func (j *jsonWriter) row(vals []any) error {
	if j.n > 0 {
		j.w.WriteString(",")
	}
	j.n++
	j.w.WriteString("\n{")
	for i, v := range vals {
		if i > 0 {
			j.w.WriteByte(',')
		}
		j.w.WriteString(j.keys[i])
		j.w.WriteByte(':')
		j.w.WriteString(jsonValue(v, j.cols[i].Type))
	}
	_, err := j.w.WriteString("}")
	return err
}

func (j *jsonWriter) end() error {
	if j.n > 0 {
		j.w.WriteString("\n")
	}
	j.w.WriteString("]\n")
	return j.w.Flush()
}

// gridWriter draws a box table like DuckDB's CLI (or a Markdown table):
// it has to see every shown row before it knows the column widths.
type gridWriter struct {
	w        io.Writer
	markdown bool
	maxRows  int // table only; 0 = no limit
	cols     []Column
	rows     [][]string
	total    int
}

func (g *gridWriter) begin(cols []Column) error {
	g.cols = cols
	return nil
}

func (g *gridWriter) row(vals []any) error {
	g.total++
	if g.maxRows > 0 && len(g.rows) >= g.maxRows {
		return nil // counted, not shown
	}
	cells := make([]string, len(vals))
	for i, v := range vals {
		s, ok := formatText(v, g.cols[i].Type)
		switch {
		case !ok && g.markdown:
			s = ""
		case !ok:
			s = "NULL"
		case g.markdown:
			s = markdownEscaper.Replace(s)
		default:
			s = truncate(tableEscaper.Replace(s), maxCellWidth)
		}
		cells[i] = s
	}
	g.rows = append(g.rows, cells)
	return nil
}

func (g *gridWriter) end() error {
	if g.markdown {
		return g.writeMarkdown()
	}
	return g.writeBox()
}

func (g *gridWriter) widths(withTypes bool) []int {
	ws := make([]int, len(g.cols))
	for i, c := range g.cols {
		ws[i] = displayWidth(c.Name)
		if withTypes {
			ws[i] = max(ws[i], displayWidth(strings.ToLower(c.Type)))
		}
		for _, r := range g.rows {
			ws[i] = max(ws[i], displayWidth(r[i]))
		}
	}
	return ws
}

func (g *gridWriter) writeBox() error {
	bw := bufio.NewWriter(g.w)
	ws := g.widths(true)
	rule := func(l, m, r string) {
		bw.WriteString(l)
		for i, w := range ws {
			if i > 0 {
				bw.WriteString(m)
			}
			bw.WriteString(strings.Repeat("─", w+2))
		}
		bw.WriteString(r + "\n")
	}
	line := func(cells []string, align func(i int) byte) {
		bw.WriteString("│")
		for i, c := range cells {
			bw.WriteString(" " + pad(c, ws[i], align(i)) + " │")
		}
		bw.WriteString("\n")
	}
	names := make([]string, len(g.cols))
	types := make([]string, len(g.cols))
	for i, c := range g.cols {
		names[i], types[i] = c.Name, strings.ToLower(c.Type)
	}
	center := func(int) byte { return 'c' }
	rule("┌", "┬", "┐")
	line(names, center)
	line(types, center)
	rule("├", "┼", "┤")
	for _, r := range g.rows {
		line(r, func(i int) byte {
			if g.cols[i].numeric() {
				return 'r'
			}
			return 'l'
		})
	}
	rule("└", "┴", "┘")
	switch {
	case len(g.rows) < g.total:
		fmt.Fprintf(bw, "%s rows (first %s shown)\n", thousands(g.total), thousands(len(g.rows)))
	case g.total == 0:
		bw.WriteString("0 rows\n")
	}
	return bw.Flush()
}

func (g *gridWriter) writeMarkdown() error {
	bw := bufio.NewWriter(g.w)
	ws := g.widths(false)
	for i := range ws {
		ws[i] = max(ws[i], 3) // room for the ---: separator
	}
	bw.WriteString("|")
	for i, c := range g.cols {
		bw.WriteString(" " + pad(strings.ReplaceAll(c.Name, "|", `\|`), ws[i], 'l') + " |")
	}
	bw.WriteString("\n|")
	for i, c := range g.cols {
		if c.numeric() {
			bw.WriteString(" " + strings.Repeat("-", ws[i]-1) + ": |")
		} else {
			bw.WriteString(" " + strings.Repeat("-", ws[i]) + " |")
		}
	}
	bw.WriteString("\n")
	for _, r := range g.rows {
		bw.WriteString("|")
		for i, c := range r {
			a := byte('l')
			if g.cols[i].numeric() {
				a = 'r'
			}
			bw.WriteString(" " + pad(c, ws[i], a) + " |")
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// displayWidth counts terminal cells: East Asian wide runes take two.
func displayWidth(s string) int {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return len(s)
	}
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

func pad(s string, w int, align byte) string {
	gap := w - displayWidth(s)
	if gap <= 0 {
		return s
	}
	switch align {
	case 'r':
		return strings.Repeat(" ", gap) + s
	case 'c':
		left := gap / 2
		return strings.Repeat(" ", left) + s + strings.Repeat(" ", gap-left)
	default:
		return s + strings.Repeat(" ", gap)
	}
}

func truncate(s string, w int) string {
	if displayWidth(s) <= w {
		return s
	}
	var sb strings.Builder
	n := 0
	for _, r := range s {
		rw := displayWidth(string(r))
		if n+rw > w-1 {
			break
		}
		sb.WriteRune(r)
		n += rw
	}
	sb.WriteString("…")
	return sb.String()
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	if len(s) <= 3 {
		return s
	}
	var sb strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		sb.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(s[i : i+3])
	}
	return sb.String()
}
