package publish

import (
	"archive/zip"
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestXLRowsAsSetRow encodes awkward values with xlRows and with excelize's
// StreamWriter.SetRow and wants the same sheet XML.
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
	if !bytes.Equal(x.b, m[1]) {
		a, b := string(x.b), string(m[1])
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		t.Fatalf("xlRows differs from SetRow at byte %d:\n ours %.200q\n SetRow %.200q", i, a[i:], b[i:])
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
// the zip and through SetRow: every workbook is the same to the byte.
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
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between SetRow and the splice", rel)
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
	cellRe := regexp.MustCompile(`<c r="([A-Z]+)\d+"`)
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
			for _, m := range cellRe.FindAllSubmatch(x, -1) {
				c, _ := excelize.ColumnNameToNumber(string(m[1]))
				lastCol = max(lastCol, c)
			}
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
