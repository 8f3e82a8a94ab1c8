package publish

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	kflate "github.com/klauspost/compress/flate"
	"github.com/xuri/excelize/v2"
)

// comparison labels and their fills; the label text is always written too,
// so colour is never the only signal.
var comparisonFill = map[string]string{
	"better": "#C6E9D3", "significantly better": "#8FD0A8",
	"worse": "#F8D0C8", "significantly worse": "#EE9F90",
	"similar": "#FFF2B3",
	"higher":  "#CFE0F3", "significantly higher": "#9FC3E8",
	"lower": "#E3D6EE", "significantly lower": "#C7AEDD",
}

type xlStyles struct {
	title, header, text, star int
	dec                       [7]int // number formats with 0..6 decimals
	cmp                       map[string]int
}

func newXLStyles(f *excelize.File) (*xlStyles, error) {
	s := &xlStyles{cmp: map[string]int{}}
	var err error
	mk := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	border := []excelize.Border{{Type: "bottom", Color: "#4A4A4A", Style: 1}}
	s.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	s.header = mk(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#DCE6F1"}},
		Border: border, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	s.text = mk(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top"}})
	s.star = mk(&excelize.Style{Alignment: &excelize.Alignment{Horizontal: "right"}})
	for dp := range s.dec {
		f := "#,##0"
		if dp > 0 {
			f += "." + strings.Repeat("0", dp)
		}
		s.dec[dp] = mk(&excelize.Style{CustomNumFmt: ptr(f)})
	}
	for _, k := range sortedKeys(comparisonFill) {
		s.cmp[k] = mk(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{comparisonFill[k]}}})
	}
	return s, err
}

func (s *xlStyles) num(dp int) int { return s.dec[max(0, min(dp, len(s.dec)-1))] }

func ptr[T any](v T) *T { return &v }

// sheetWriter streams one sheet row by row (excelize's StreamWriter keeps
// memory flat for sheets of a few hundred thousand rows).
type sheetWriter struct {
	ctx  context.Context
	sw   *excelize.StreamWriter
	st   *xlStyles
	name string
	row  int
	err  error
	head int // header row of the sheet's table (0: none)
	cols int
	zs   *rowSplicer // the workbook's zip writer, which puts in the sheet's dimension
	sp   *rowSplicer // zs when it also takes the deferred rows (spliceSections); nil: every row through SetRow
	last int         // the widest row's cells, for the sheet's dimension
}

// newSheetWriter starts a sheet whose table header is row head (0: no
// table), written through zs; the panes freeze below it (the StreamWriter
// wants them first).
func newSheetWriter(ctx context.Context, f *excelize.File, st *xlStyles, zs *rowSplicer, name string, head int) *sheetWriter {
	s := &sheetWriter{ctx: ctx, st: st, name: name, head: head, zs: zs}
	if spliceSections {
		s.sp = zs
	}
	s.sw, s.err = f.NewStreamWriter(name)
	if s.err == nil && head > 0 {
		top, _ := excelize.CoordinatesToCellName(1, head+1)
		s.err = s.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: head, TopLeftCell: top, ActivePane: "bottomLeft"})
	}
	return s
}

// widths sets the column widths (before any row).
func (s *sheetWriter) widths(ws ...float64) {
	for i, w := range ws {
		if s.err == nil {
			s.err = s.sw.SetColWidth(i+1, i+1, w)
		}
	}
}

// put writes the next row; a value may be an excelize.Cell with a style.
func (s *sheetWriter) put(vals ...any) {
	if s.err != nil {
		return
	}
	s.row++
	s.last = max(s.last, len(vals))
	if s.row%4096 == 0 && s.ctx.Err() != nil {
		s.err = s.ctx.Err()
		return
	}
	cell, _ := excelize.CoordinatesToCellName(1, s.row)
	s.err = s.sw.SetRow(cell, vals)
}

func (s *sheetWriter) title(text string) { s.put(excelize.Cell{StyleID: s.st.title, Value: text}) }

// header writes the table header (at the row given to newSheetWriter);
// finish adds the filterable table over it and the rows below.
func (s *sheetWriter) header(cols ...string) {
	s.subhead(cols...)
	if s.err == nil && s.row != s.head {
		s.err = fmt.Errorf("table header at row %d, expected row %d", s.row, s.head)
	}
	s.cols = len(cols)
}

// subhead writes a styled header row that starts no table.
func (s *sheetWriter) subhead(cols ...string) {
	vals := make([]any, len(cols))
	for i, c := range cols {
		vals[i] = excelize.Cell{StyleID: s.st.header, Value: c}
	}
	s.put(vals...)
}

// finish adds the filterable table over the header and its rows, flushes.
func (s *sheetWriter) finish() error {
	if s.err == nil && s.cols > 0 && s.row > s.head {
		a, _ := excelize.CoordinatesToCellName(1, s.head)
		b, _ := excelize.CoordinatesToCellName(s.cols, s.row)
		off := false
		s.err = s.sw.AddTable(&excelize.Table{Range: a + ":" + b, Name: "t_" + strings.ReplaceAll(s.name, " ", "_"),
			StyleName: "TableStyleLight1", ShowRowStripes: &off})
	}
	if s.err == nil && s.row > 0 {
		// StreamWriter writes the sheet's <dimension> (its used range) when
		// it starts, as A1; readers that trust it (openpyxl's read-only
		// mode: one row) then miss the data. The splicer puts the real
		// range in when the sheet is written into the zip.
		end, _ := excelize.CoordinatesToCellName(max(1, s.last, s.cols), s.row)
		s.zs.dimension(s.sw.SheetID, "A1:"+end)
	}
	if s.err == nil {
		s.err = s.sw.Flush()
	}
	if s.err != nil {
		return fmt.Errorf("xlsx %s: %w", s.name, s.err)
	}
	return nil
}

// cellNum is a styled number, "*" when withheld, or empty when missing.
func (s *sheetWriter) cellNum(n Num, withheld bool, dp int) any {
	if withheld {
		return excelize.Cell{StyleID: s.st.star, Value: "*"}
	}
	if !n.Valid {
		return nil
	}
	return excelize.Cell{StyleID: s.st.num(dp), Value: n.V}
}

// xlSheet is one sheet of a pack's workbook, in Contents order.
type xlSheet struct {
	name, about, period string
	head                int // row of the table header (0: none)
	write               func(*sheetWriter) error
}

// renderXLSX builds pack.xlsx; it returns the workbook and the number of
// data rows written. Sheets with no data are left out, with their Contents
// line.
func renderXLSX(ctx context.Context, p *pack, pl *plan, opts *Options) ([]byte, int, error) {
	f := excelize.NewFile()
	defer f.Close()
	// zs writes the zip: the sheets' dimensions, and with spliceSections
	// their section rows
	zs := &rowSplicer{}
	f.SetZipWriter(zs.zipWriter)
	st, err := newXLStyles(f)
	if err != nil {
		return nil, 0, fmt.Errorf("xlsx styles: %w", err)
	}
	stamp := p.Period + "-01T00:00:00Z" // fixed, so the same inputs give the same bytes
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "gplens", LastModifiedBy: "gplens", Created: stamp, Modified: stamp,
		Title: fmt.Sprintf("GP data pack: %s, %s", p.Area.Name, p.Period), Language: "en-GB", Version: opts.Version}); err != nil {
		return nil, 0, fmt.Errorf("xlsx properties: %w", err)
	}
	rows := 0
	sheets := packSheets(p, pl, opts, &rows)
	if err := f.SetSheetName("Sheet1", "Contents"); err != nil {
		return nil, 0, fmt.Errorf("xlsx: %w", err)
	}
	// Before the other sheets exist: SetActiveSheet visits every sheet, and
	// on a streamed one it parses the whole streamed XML back (only to drop
	// it, as the stream is what gets written) — most of a pack's time.
	f.SetActiveSheet(0)
	for _, s := range sheets {
		if _, err := f.NewSheet(s.name); err != nil {
			return nil, 0, fmt.Errorf("xlsx sheet %s: %w", s.name, err)
		}
	}
	if err := writeContents(f, st, p, opts, sheets); err != nil {
		return nil, 0, err
	}
	for _, s := range sheets {
		w := newSheetWriter(ctx, f, st, zs, s.name, s.head)
		if err := s.write(w); err != nil {
			return nil, 0, fmt.Errorf("xlsx %s: %w", s.name, err)
		}
		if err := w.finish(); err != nil {
			return nil, 0, err
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, 0, fmt.Errorf("xlsx write: %w", err)
	}
	b, err := sortZip(buf.Bytes())
	if err != nil {
		return nil, 0, fmt.Errorf("xlsx write: %w", err)
	}
	return b, rows, nil
}

// zipLevel is the workbook's deflate level (klauspost/compress: a region
// pack's sheets are ~370 MB of XML; the standard library's level 6 took 4.7 s
// on the largest sheet, this 1.2 s for a file 2% larger).
const zipLevel = 6

// newZipWriter is excelize's zip writer with a faster deflate.
func newZipWriter(w io.Writer) excelize.ZipWriter {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		fw, ok := flateWriters.Get().(*kflate.Writer)
		if ok {
			fw.Reset(out)
		} else {
			var err error
			if fw, err = kflate.NewWriter(out, zipLevel); err != nil {
				return nil, err
			}
		}
		return &pooledFlate{fw}, nil
	})
	return zw
}

// flateWriters are reused across a workbook's parts and packs: a new
// level-6 compressor allocates about 1.5 MB of tables, which was nearly
// half of everything publish allocated. Reset gives the same state (and
// bytes) as a new one.
var flateWriters sync.Pool

type pooledFlate struct{ fw *kflate.Writer }

func (p *pooledFlate) Write(b []byte) (int, error) { return p.fw.Write(b) }

func (p *pooledFlate) Close() error {
	err := p.fw.Close()
	if err == nil { // a failed writer is dropped, not reused
		flateWriters.Put(p.fw)
	}
	p.fw = nil
	return err
}

// sortZip rewrites a zip with its entries in name order ([Content_Types].xml
// first), copying them as they are: excelize writes streamed sheets in map
// order, which would make the bytes differ from run to run.
func sortZip(b []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	files := slices.Clone(zr.File)
	slices.SortFunc(files, func(x, y *zip.File) int {
		if (x.Name == "[Content_Types].xml") != (y.Name == "[Content_Types].xml") {
			if x.Name == "[Content_Types].xml" {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Name, y.Name)
	})
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range files {
		if err := zw.Copy(f); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// packSheets lists the sheets the pack has data for.
func packSheets(p *pack, pl *plan, opts *Options, rows *int) []xlSheet {
	var out []xlSheet
	if sum := p.summary(); len(sum) > 0 {
		out = append(out, xlSheet{"Summary", "Headline figures for the area, its parent area and England, each with its period", "", 2,
			func(w *sheetWriter) error { return writeSummary(w, p, pl, sum, rows) }})
	}
	if p.section("practices") != nil { // none when the pack does not list its practices (list_down_to)
		out = append(out, xlSheet{"Practices", "One row per practice with the key indicators and how each compares with England", periodLabel(pl.practicePeriod), 1,
			func(w *sheetWriter) error { return writePractices(w, p, pl, rows) }})
	}
	for _, s := range sections {
		t := p.section(s.Name)
		if t == nil {
			continue
		}
		for _, sh := range s.Sheets {
			keep := sheetRows(p, t, sh)
			if len(keep) == 0 {
				continue // a section with no data for the month is left out
			}
			out = append(out, xlSheet{sh.Name, sh.About, p.sectionPeriod(t, keep), 2,
				func(w *sheetWriter) error { return writeSection(w, p, pl, t, sh, keep, rows) }})
		}
	}
	out = append(out, xlSheet{"Notes", "Sources with periods and checksums, the period of every section, methods, disclosure control", "", 0,
		func(w *sheetWriter) error { return writeNotes(w, p, opts) }})
	return out
}

// sheetRows picks a section's rows for a sheet (by indicator domain).
func sheetRows(p *pack, t *table, sh Sheet) []int {
	var keep []int
	domains := map[string]bool{}
	for _, in := range p.Indicators {
		if len(sh.Domains) == 0 || slices.Contains(sh.Domains, in.Domain) {
			domains[in.ID] = true
		}
	}
	hasID := t.sec.col("indicator_id") >= 0
	for r := 0; r < t.n; r++ {
		if len(sh.Domains) == 0 && !hasID || domains[t.str(r, "indicator_id")] {
			keep = append(keep, r)
		}
	}
	return keep
}

func writeContents(f *excelize.File, st *xlStyles, p *pack, opts *Options, sheets []xlSheet) error {
	put := func(row int, vals ...any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return f.SetSheetRow("Contents", cell, &vals)
	}
	errs := []error{
		put(1, fmt.Sprintf("GP data pack: %s (%s %s), %s", p.Area.Name, levelLabel(p.Area.Level), p.Area.Code, p.Period)),
		f.SetCellStyle("Contents", "A1", "A1", st.title),
		put(2, "Produced by gplens "+opts.Version+". Figures marked * are withheld to protect confidentiality; see Notes."),
		put(4, "Sheet", "What it holds", "Period of the data"),
		f.SetCellStyle("Contents", "A4", "C4", st.header),
		f.SetColWidth("Contents", "A", "A", 22), f.SetColWidth("Contents", "B", "B", 90), f.SetColWidth("Contents", "C", "C", 30),
	}
	for i, s := range sheets {
		cell, _ := excelize.CoordinatesToCellName(1, 5+i)
		errs = append(errs, put(5+i, s.name, s.about, s.period), f.SetCellHyperLink("Contents", cell, "'"+s.name+"'!A1", "Location"))
	}
	// its used range, which excelize leaves at A1 (the streamed sheets get theirs in finish)
	errs = append(errs, f.SetSheetDimension("Contents", fmt.Sprintf("A1:C%d", 4+len(sheets))))
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("xlsx contents: %w", err)
		}
	}
	return nil
}

// summaryMeasures are the Summary's rows: a measure of the summary section
// (an indicator id or a practice-dimension measure) and its label.
var summaryMeasures = []struct{ measure, label string }{
	{"practices", "Practices"},
	{"list_size", "Registered patients"},
	{"weighted_list_size", "Weighted patients"},
	{"qof_points_pct", "QOF achievement (% of points)"},
	{"qof_points_per_practice", "QOF points per practice"},
	{"total_payments", "Total NHS payments (£)"},
	{"pay_total_per_weighted", "Payments per weighted patient (£)"},
	{"pay_total_per_registered", "Payments per registered patient (£)"},
	{"wf_gp_fte_per_10k", "GP FTE per 10,000 patients"},
	{"wf_nurse_fte_per_10k", "Nurse FTE per 10,000 patients"},
	{"wf_dpc_fte_per_10k", "Direct patient care FTE per 10,000"},
	{"wf_admin_fte_per_10k", "Admin FTE per 10,000 patients"},
	{"referrals", "Referrals in the month"},
	{"ref_rate_per_1000", "Referrals per 1,000 patients"},
	{"ref_2ww_rate_per_1000", "Two-week-wait referrals per 1,000"},
	{"imd_score", "IMD 2019 score (population weighted)"},
}

// summaryColumns are the areas the Summary compares: the pack's area, its
// parent (unless England) and England.
func summaryColumns(p *pack) []areaRef {
	cols := []areaRef{p.Area}
	if par := p.parent(); par.Level != "england" {
		cols = append(cols, par)
	}
	return append(cols, areaRef{Level: "england", Name: "England"})
}

func summaryKey(a areaRef, measure string) string {
	code := a.Code
	if a.Level == "england" {
		code = ""
	}
	return a.Level + "|" + code + "|" + measure
}

// measureDP is the precision of a Summary measure.
func measureDP(pl *plan, measure string) int {
	if pl.byID[measure] != nil {
		return pl.dp(pl.unitOf(measure), dpValue)
	}
	return pl.dp("measure:"+measure, dpValue)
}

// summaryPeriod is the period of a measure's figures (the area's, else any).
func summaryPeriod(sum map[string]summaryValue, cols []areaRef, measure string) (string, bool) {
	for _, a := range cols {
		if v, ok := sum[summaryKey(a, measure)]; ok && (v.V.Valid || v.Withheld) {
			return v.Period, true
		}
	}
	return "", false
}

func writeSummary(w *sheetWriter, p *pack, pl *plan, sum map[string]summaryValue, rows *int) error {
	cols := summaryColumns(p)
	w.widths(36, 14, 20, 20, 20)
	w.title(fmt.Sprintf("Summary: %s, %s", p.Area.Name, p.Period))
	head := []string{"Measure", "Period"}
	for _, a := range cols {
		head = append(head, a.Name)
	}
	w.header(head...)
	for _, m := range summaryMeasures {
		period, ok := summaryPeriod(sum, cols, m.measure)
		if !ok {
			continue // no figure at all: the row is left out, never shown empty
		}
		vals := []any{m.label, periodLabel(period)}
		for _, a := range cols {
			v := sum[summaryKey(a, m.measure)]
			vals = append(vals, w.cellNum(v.V, v.Withheld, measureDP(pl, m.measure)))
		}
		w.put(vals...)
		*rows++
	}
	return w.err
}

// practiceValues indexes the pack's practice rows of the key indicators.
func (p *pack) practiceValues() map[string]*ivRow {
	m := map[string]*ivRow{}
	for _, in := range p.Key {
		for _, r := range p.values(in.ID) {
			if r.AreaLevel == "practice" {
				m[in.ID+"|"+r.PracticeCode] = r
			}
		}
	}
	return m
}

func writePractices(w *sheetWriter, p *pack, pl *plan, rows *int) error {
	widths := []float64{10, 36, 30, 11, 12}
	hdr := []string{"Practice code", "Practice name", "PCN", "List size", "IMD decile (1 = most deprived)"}
	for _, in := range p.Key {
		hdr = append(hdr, fmt.Sprintf("%s (%s)", in.Name, in.Unit), in.Name+": compared with England")
		widths = append(widths, 14, 22)
	}
	w.widths(widths...)
	w.header(hdr...)
	vals := p.practiceValues()
	t := p.section("practices")
	for r := 0; t != nil && r < t.n; r++ {
		code := t.str(r, "practice_code")
		row := []any{code, t.str(r, "practice_name"), t.str(r, "pcn_name"), w.cellNum(t.num(r, "list_size"), false, 0), w.cellNum(t.num(r, "imd_decile"), false, 0)}
		for _, in := range p.Key {
			v := vals[in.ID+"|"+code]
			switch {
			case v == nil:
				row = append(row, nil, "no data")
			case v.Suppressed:
				row = append(row, w.cellNum(Num{}, true, 0), "withheld (*)")
			default:
				row = append(row, w.cellNum(v.Value, false, pl.dp(in.Unit, dpValue)), excelize.Cell{StyleID: w.st.cmp[v.Comparison], Value: v.Comparison})
			}
		}
		w.put(row...)
		*rows++
	}
	return w.err
}

// sectionPeriod states the periods of a section's rows, e.g. "QOF 2022-23".
func (p *pack) sectionPeriod(t *table, keep []int) string {
	if t.sec.col("indicator_id") < 0 {
		return plainPeriods(t, keep)
	}
	ids := map[string]bool{}
	idCol := t.idx("indicator_id")
	for _, r := range keep {
		ids[t.strAt(r, idCol)] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, in := range p.Indicators {
		if ids[in.ID] {
			l := domainWord(in.Domain) + " " + periodLabel(in.Period)
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// plainPeriods states the distinct periods of a section without
// indicators (its period column), e.g. "2023-24"; "" without one.
func plainPeriods(t *table, keep []int) string {
	if t.sec.col("period") < 0 {
		return ""
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range keep {
		l := periodLabel(t.str(r, "period"))
		if l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// domainWord names a domain's source in a period label.
func domainWord(domain string) string {
	switch domain {
	case "qof", "prevalence":
		return "QOF"
	case "investment":
		return "payments"
	}
	return domain
}

// writeSection writes a section's rows as a long sheet, per its spec.
func writeSection(w *sheetWriter, p *pack, pl *plan, t *table, sh Sheet, keep []int, rows *int) error {
	ws := make([]float64, len(sh.Cols))
	for i, c := range sh.Cols {
		ws[i] = c.Width
	}
	w.widths(ws...)
	w.title(sh.Name + ": " + p.sectionPeriod(t, keep))
	head := make([]string, len(sh.Cols))
	for i, c := range sh.Cols {
		head[i] = c.Head
	}
	w.header(head...)
	idCol := t.sec.col("indicator_id")
	cis := make([]int, len(sh.Cols)) // section column of each sheet column (-1: from the catalogue)
	for i, c := range sh.Cols {
		cis[i] = -1
		if c.Col != "indicator_name" && c.Col != "unit" {
			cis[i] = t.idx(c.Col)
		}
	}
	// cell is column i of section row r; the catalogue's decimals are looked
	// up once per indicator (rows come grouped by indicator).
	var rc rowCtx
	cell := func(n, r, i int) xlCell {
		if i == 0 {
			id := ""
			if idCol >= 0 {
				id = t.strAt(r, idCol)
			}
			if n == 0 || id != rc.id {
				rc = rowCtx{id: id, in: pl.byID[id]}
				unit := pl.unitOf(id)
				for k := range rc.dp {
					rc.dp[k] = pl.dp(unit, -1-k)
				}
			}
		}
		return w.sectionCell(&rc, t, r, sh.Cols[i].Col, cis[i])
	}
	*rows += len(keep)
	if last := w.row + len(keep); last > excelize.TotalRows {
		return fmt.Errorf("%d rows, more than a worksheet holds (%d)", last, excelize.TotalRows)
	}
	if w.sp != nil && w.err == nil {
		// the rows go straight into the zip when excelize writes the sheet
		first := w.row + 1
		mark := w.sp.add(first, func(out io.Writer) error {
			x := newXLRows(len(sh.Cols))
			for n, r := range keep {
				if err := checkCtx(w.ctx, n); err != nil {
					return err
				}
				x.begin(first + n)
				for i := range sh.Cols {
					x.cell(i, cell(n, r, i))
				}
				x.end()
				if err := x.flush(out, 64<<10); err != nil {
					return err
				}
			}
			return x.flush(out, 0)
		})
		w.put(mark)
		w.row += len(keep) - 1
		if len(keep) > 0 {
			w.last = max(w.last, len(sh.Cols))
		}
		return w.err
	}
	vals := make([]any, len(sh.Cols)) // SetRow copies the values out
	cells := make([]excelize.Cell, len(sh.Cols))
	for n, r := range keep {
		for i := range sh.Cols {
			vals[i] = cell(n, r, i).setRowValue(&cells[i])
		}
		w.put(vals...)
	}
	return w.err
}

// rowCtx is what the cells of a section row share: its indicator and the
// decimals of its unit (by -kind: dpValue, dpNumerator, dpDenominator).
type rowCtx struct {
	id string
	in *indicator
	dp [3]int
}

// sectionCell is one cell of a section sheet: column ci of row r, whose
// indicator is rc's; indicator_name and unit (ci -1) come from the
// catalogue.
func (w *sheetWriter) sectionCell(rc *rowCtx, t *table, r int, col string, ci int) xlCell {
	switch col {
	case "indicator_name", "unit":
		in := rc.in
		if in == nil {
			return xlCell{}
		}
		if col == "unit" {
			return xlStr(0, in.Unit)
		}
		return xlStr(0, in.Name)
	case "area_level":
		return xlStr(0, levelLabel(t.strAt(r, ci)))
	}
	c := &t.sec.Columns[ci]
	withheld := c.SDC && t.withheld[r] != ""
	if withheld {
		return xlStr(w.st.star, "*")
	}
	switch c.Type {
	case tDouble, tBigint, tInteger:
		dp := c.DP
		if dp < 0 {
			dp = rc.dp[-1-dp]
		}
		if c.Type != tDouble {
			dp = 0
		}
		n := t.numAt(r, ci)
		if !n.Valid {
			return xlCell{}
		}
		return xlNum(w.st.num(dp), n.V)
	}
	s := t.strAt(r, ci)
	if col == "comparison" {
		if style, ok := w.st.cmp[s]; ok {
			return xlStr(style, s)
		}
	}
	return xlStr(0, s)
}

func writeNotes(w *sheetWriter, p *pack, opts *Options) error {
	w.widths(40, 24, 66, 10, 12, 18, 22, 60)
	w.title("Notes")
	w.put()
	w.title("Indicators and the period shown")
	w.subhead("Indicator", "Name", "Domain", "Period", "Unit", "Polarity", "Public", "Description")
	for _, in := range p.Indicators {
		pub := "yes"
		if !in.Public {
			pub = "no (disclosure control)"
		}
		w.put(in.ID, in.Name, in.Domain, periodLabel(in.Period), in.Unit, strings.ReplaceAll(in.Polarity, "_", " "), pub, in.Description)
	}
	w.put()
	w.title("Sources")
	w.subhead("File", "Period", "SHA-256")
	for _, src := range opts.Sources {
		w.put(src.Name, src.Period, src.SHA256)
	}
	if len(opts.Sources) == 0 {
		w.put("(no source list was given to the publisher)")
	}
	if len(opts.Models) > 0 {
		w.put()
		w.title("Model versions")
		for _, m := range opts.Models {
			w.put(m.Name, m.SHA256)
		}
	}
	w.put()
	w.title("Methods")
	for _, line := range methodNotes(opts.need) {
		w.put(line)
	}
	w.put()
	w.title("Disclosure control")
	w.put(sdcRule(opts.Suppression))
	w.put("Cells withheld in this pack", fmt.Sprintf("primary %d, secondary %d, upstream %d", p.Counts.Primary, p.Counts.Secondary, p.Counts.Upstream))
	return w.err
}

// methodNotes are the method notes of the workbook and the page, the need
// model's with the parameters the warehouse applied.
func methodNotes(m needModel) []string {
	return append(append(append([]string(nil), methodNotesFixed[:5]...), m.methodLines()...), methodNotesFixed[5:]...)
}

var methodNotesFixed = []string{
	"Proportions have Wilson score intervals; counts and rates exact Poisson (under 10) or Byar's intervals, at 95% and 99.8%.",
	"Compared with England: England's value inside the practice's 95% interval is similar; outside it higher or lower, outside the 99.8% interval significantly so; read as better or worse where the indicator has a polarity.",
	"Funnel plots: limits around the England value at each denominator (95% and 99.8%); overdispersion-adjusted positions are in the feeds.",
	"Inequality: slope (SII) and relative (RII) index of inequality across practice deprivation deciles (IMD 2019), limits by seeded simulation.",
	"Trends: XmR statistical process control charts (Making Data Count): special causes are points outside the limits, trends of 7, 2 of 3 beyond two sigma, runs of 7.",
	"Each section shows one period of its source: the latest available at the pack's month (monthly data up to the month, a financial year from its last month, March, on); the Contents sheet and the table above give each period. A section with no data by then is left out.",
	"Figures are rounded to the precision stated in feeds/data_dictionary.csv (by indicator unit); the warehouse keeps full precision.",
}

func levelLabel(l string) string {
	switch l {
	case "icb":
		return "ICB"
	case "sub_icb":
		return "sub-ICB"
	case "pcn":
		return "PCN"
	case "england":
		return "England"
	}
	return l
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
