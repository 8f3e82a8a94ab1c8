package publish

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestXLRowsAsSetRow encodes awkward values with xlRows and with excelize's
// StreamWriter.SetRow and wants the same sheet XML, but for the cell
// references xlRows leaves out (those of cells that follow the cell before).
func TestXLRowsAsSetRow(t *testing.T) {
	long := strings.Repeat("a£", 20000) // past Excel's 32,767 characters
	strs := []string{"", "plain", "A&B <c> \"q\" 'a'", " lead", "trail ", "\ttab", "line\nbreak", "cr\rhere",
		"£ sterling", "Ynys Môn", "bad\xffutf8", "ctrl\x01x", "_x0041_", "_x005F_x0041_", "a_x005F_", "_xZZZZ_", "_x",
		"gplens-rows-000001", long}
	nums := []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1 + 0.2, 1234567.891, 1e21, 1e-7, 123456789012345678,
		1.234567890123456789, 98765432109876543210.5, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1)}
	var cells []xlCell
	for i, s := range strs {
		cells = append(cells, xlStr(i%3*7, s))
	}
	for i, v := range nums {
		cells = append(cells, xlNum(i%2*5, v))
	}
	cells = append(cells, xlCell{}, xlStr(0, "after a gap"))

	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	slots := make([]excelize.Cell, len(cells))
	vals := make([]any, len(cells))
	for row := 1; row <= 3; row++ {
		for i, c := range cells {
			vals[i] = c.setRowValue(&slots[i])
		}
		if err := sw.SetRow("A"+strconv.Itoa(row), vals); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	sheet := zipEntry(t, buf.Bytes(), "xl/worksheets/sheet1.xml")
	m := regexp.MustCompile(`(?s)<sheetData>(.*)</sheetData>`).FindSubmatch(sheet)
	if m == nil {
		t.Fatalf("no sheetData in %.300s", sheet)
	}
	x := newXLRows(len(cells))
	for row := 1; row <= 3; row++ {
		x.begin(row)
		for i, c := range cells {
			x.cell(i, c)
		}
		x.end()
	}
	// ours keeps just the references of the cells after the gap, one a row
	refs := 0
	sheetCells(t, x.b, func(_ []int, col int, ref, _ bool) {
		if ref {
			refs++
			if col != len(cells) {
				t.Errorf("a reference on column %d", col)
			}
		}
	})
	if refs != 3 {
		t.Errorf("%d cell references in three rows with a gap each, want 3", refs)
	}
	want := dropImpliedRefs(t, m[1])
	if !bytes.Equal(x.b, want) {
		t.Fatalf("xlRows differs from SetRow (ours first) %s", firstDiff(string(x.b), string(want)))
	}
}

func zipEntry(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			out, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	t.Fatalf("no %s in the zip", name)
	return nil
}

// TestSpliceEntryChunks writes a sheet through spliceEntry cut at every
// size, with a look-alike of the mark in the text: the placeholder row is
// replaced by its block wherever the cuts fall, and nothing else changes.
func TestSpliceEntryChunks(t *testing.T) {
	for chunk := 1; chunk <= 200; chunk++ {
		sp := &rowSplicer{}
		sp.add(1, func(w io.Writer) error { _, err := io.WriteString(w, "<row>ignored</row>"); return err }) // another sheet's
		mark := sp.add(3, func(w io.Writer) error {
			_, err := io.WriteString(w, `<row r="3">rows</row><row r="4">more</row>`)
			return err
		})
		sp.blocks[0].done = true
		head := `<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>gplens-rows-000001 &lt;row</t></is></c></row>` +
			`<row r="2"><c r="A2" t="inlineStr"><is><t>gplens-rows-00</t></is></c></row>`
		in := head + `<row r="3"><c r="A3" t="inlineStr"><is><t>` + mark + `</t></is></c></row></sheetData><tableParts/>`
		want := head + `<row r="3">rows</row><row r="4">more</row></sheetData><tableParts/>`
		var out bytes.Buffer
		e := &spliceEntry{w: &out, s: sp}
		for i := 0; i < len(in); i += chunk {
			if _, err := e.Write([]byte(in[i:min(len(in), i+chunk)])); err != nil {
				t.Fatal(err)
			}
		}
		out.Write(e.carry)
		if out.String() != want {
			t.Fatalf("chunk %d:\n got %s\nwant %s", chunk, out.String(), want)
		}
		if !sp.blocks[1].done {
			t.Fatalf("chunk %d: block not written", chunk)
		}
	}
}

// TestSpliceSameWorkbooks publishes the fixture with the rows spliced into
// the zip and through SetRow: every workbook holds the same parts in the
// same order, each the same to the byte but for the cell references the
// splice leaves out.
func TestSpliceSameWorkbooks(t *testing.T) {
	run := func(splice bool) string {
		old := spliceSections
		spliceSections = splice
		defer func() { spliceSections = old }()
		_, out, res := publishFixture(t, Options{})
		if len(res.Packs) < 3 {
			t.Fatalf("%d packs", len(res.Packs))
		}
		return out
	}
	a, b := run(false), run(true)
	n := 0
	err := filepath.WalkDir(a, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".xlsx" {
			return err
		}
		rel, _ := filepath.Rel(a, path)
		x, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if d := sameWorkbook(t, x, y); d != "" {
			t.Errorf("%s differs between SetRow and the splice: %s", rel, d)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("compared %d workbooks", n)
	}
}

// TestSheetDimensions: every sheet of every workbook states its used range
// in <dimension> (StreamWriter starts each at A1, and openpyxl's read-only
// mode, among others, reads only that range), from A1 to its last row and
// its widest row's last column.
func TestSheetDimensions(t *testing.T) {
	_, out, res := publishFixture(t, Options{})
	if len(res.Packs) < 3 {
		t.Fatalf("%d packs", len(res.Packs))
	}
	dimRe := regexp.MustCompile(`<dimension ref="([A-Z0-9:]+)"`)
	rowRe := regexp.MustCompile(`<row r="(\d+)"`)
	sheets := 0
	err := filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".xlsx" {
			return err
		}
		zr, err := zip.OpenReader(path)
		if err != nil {
			return err
		}
		defer zr.Close()
		for _, zf := range zr.File {
			if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				return err
			}
			x, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return err
			}
			lastRow, lastCol := 0, 0
			for _, m := range rowRe.FindAllSubmatch(x, -1) {
				n, _ := strconv.Atoi(string(m[1]))
				lastRow = max(lastRow, n)
			}
			sheetCells(t, x, func(_ []int, col int, _, _ bool) { lastCol = max(lastCol, col) })
			end, _ := excelize.CoordinatesToCellName(lastCol, lastRow)
			want := "A1:" + end
			if m := dimRe.FindSubmatch(x); m == nil || string(m[1]) != want {
				t.Errorf("%s %s: dimension %q, want %q", filepath.Base(filepath.Dir(path)), zf.Name, m, want)
			}
			sheets++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sheets < 10 {
		t.Fatalf("%d sheets checked", sheets)
	}
}

// cellRefRe finds a row's start and each cell's start, with its reference
// when it has one.
var cellRefRe = regexp.MustCompile(`<row[ >]|<c(?: r="([A-Z]+)(\d+)")?[ >/]`)

var rowNumRe = regexp.MustCompile(`^<row r="(\d+)"`)

// sheetCells calls fn with the column (1-based) of each cell of a sheet's
// XML as a reader places it (a cell without a reference follows the one
// before it in its row), whether it has a reference, and whether it follows
// the cell before it (or starts its row in column A). A reference naming
// another row than the cell's is an error.
func sheetCells(t *testing.T, x []byte, fn func(m []int, col int, ref, follows bool)) {
	t.Helper()
	row, next := 0, 1
	for _, m := range cellRefRe.FindAllSubmatchIndex(x, -1) {
		if x[m[0]+1] == 'r' {
			rm := rowNumRe.FindSubmatch(x[m[0]:])
			if rm == nil {
				t.Fatalf("a row without r in %.200q", x[m[0]:])
			}
			row, _ = strconv.Atoi(string(rm[1]))
			next = 1
			continue
		}
		col, ref := next, m[2] >= 0
		if ref {
			c, err := excelize.ColumnNameToNumber(string(x[m[2]:m[3]]))
			r, _ := strconv.Atoi(string(x[m[4]:m[5]]))
			if err != nil || r != row {
				t.Fatalf("cell %s in row %d", x[m[2]:m[5]], row)
			}
			col = c
		}
		fn(m, col, ref, col == next)
		next = col + 1
	}
}

// dropImpliedRefs removes the references of the cells that follow the cell
// before them in their row, as xlRows leaves them out.
func dropImpliedRefs(t *testing.T, x []byte) []byte {
	t.Helper()
	var out []byte
	at := 0
	sheetCells(t, x, func(m []int, _ int, ref, follows bool) {
		if ref && follows {
			out = append(out, x[at:m[0]+2]...) // up to "<c"
			at = m[5] + 1                      // past the reference's closing quote
		}
	})
	return append(out, x[at:]...)
}

// sameWorkbook compares two workbooks part by part: "" when they hold the
// same parts in the same order with the same content, the sheets taken
// without the references a reader infers (which SetRow writes and the
// splice leaves out).
func sameWorkbook(t *testing.T, a, b []byte) string {
	t.Helper()
	parts := func(x []byte) []*zip.File {
		zr, err := zip.NewReader(bytes.NewReader(x), int64(len(x)))
		if err != nil {
			t.Fatal(err)
		}
		return zr.File
	}
	pa, pb := parts(a), parts(b)
	if len(pa) != len(pb) {
		return fmt.Sprintf("%d parts against %d", len(pa), len(pb))
	}
	for i := range pa {
		if pa[i].Name != pb[i].Name {
			return fmt.Sprintf("part %d: %s against %s", i, pa[i].Name, pb[i].Name)
		}
		x, y := zipEntry(t, a, pa[i].Name), zipEntry(t, b, pb[i].Name)
		if strings.HasPrefix(pa[i].Name, "xl/worksheets/sheet") {
			x, y = dropImpliedRefs(t, x), dropImpliedRefs(t, y)
		}
		if !bytes.Equal(x, y) {
			return pa[i].Name
		}
	}
	// and a reader places every cell alike
	open := func(x []byte) *excelize.File {
		f, err := excelize.OpenReader(bytes.NewReader(x))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	fa, fb := open(a), open(b)
	defer fa.Close()
	defer fb.Close()
	for _, sh := range fa.GetSheetList() {
		ra, err := fa.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := fb.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(ra, rb, slices.Equal) {
			return "sheet " + sh + " as excelize reads it"
		}
	}
	return ""
}

// firstDiff shows where two texts first differ.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-80)
	return fmt.Sprintf("at byte %d:\n %q\n %q", i, a[from:min(len(a), i+120)], b[from:min(len(b), i+120)])
}
