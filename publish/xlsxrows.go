package publish

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
)

// A section sheet's rows (an ICB pack's QOF sheet is 30,000 rows of 16
// cells) are most of a workbook, and excelize's StreamWriter.SetRow spent
// most of a pack's CPU on them: a cell name built as a string, an xlsxC
// struct, the text escaped through strings.Builder and a regexp, per cell.
// Instead the sheet is streamed with one placeholder row after its header;
// when excelize writes that sheet into the zip, the placeholder is replaced
// by the rows, encoded straight from the section's columns into the
// compressor: the same bytes SetRow would have written (tested against it),
// never held whole in memory or spilled to excelize's temporary files.

// spliceSections turns the splice off (tests compare the two paths).
var spliceSections = true

// rowSplicer holds a workbook's deferred row blocks; its zipWriter is
// excelize's ZipWriter for that workbook.
type rowSplicer struct {
	blocks []*rowBlock
	dims   map[string][]byte // a sheet's XML path -> its <dimension> element
}

// dimensionA1 is the <dimension> element StreamWriter starts a sheet with.
var dimensionA1 = []byte(`<dimension ref="A1">`)

// dimension records the used range of the sheet excelize numbers id
// (xl/worksheets/sheet<id>.xml), to replace dimensionA1 there.
func (s *rowSplicer) dimension(id int, ref string) {
	if s.dims == nil {
		s.dims = map[string][]byte{}
	}
	s.dims[fmt.Sprintf("xl/worksheets/sheet%d.xml", id)] = []byte(`<dimension ref="` + ref + `">`)
}

// rowBlock is one sheet's rows, written by gen from row first on.
type rowBlock struct {
	first  int
	needle []byte // the placeholder row as excelize writes it
	markAt int    // where spliceMark starts in needle
	gen    func(w io.Writer) error
	done   bool
}

// spliceMark prefixes a placeholder's text; a fixed-width block number
// follows. Text from the data can never match a whole placeholder row: its
// '<' are escaped.
const spliceMark = "gplens-rows-"

var spliceMarkBytes = []byte(spliceMark)

// add registers a block whose first row is first and returns the text of
// the placeholder cell to write (alone, in column A) at that row.
func (s *rowSplicer) add(first int, gen func(w io.Writer) error) string {
	text := fmt.Sprintf("%s%06d", spliceMark, len(s.blocks))
	prefix := fmt.Sprintf(`<row r="%d"><c r="A%d" t="inlineStr"><is><t>`, first, first)
	needle := prefix + text + `</t></is></c></row>`
	s.blocks = append(s.blocks, &rowBlock{first: first, needle: []byte(needle), markAt: len(prefix), gen: gen})
	return text
}

// zipWriter is newZipWriter whose entries are scanned for placeholders.
func (s *rowSplicer) zipWriter(w io.Writer) excelize.ZipWriter {
	return &splicingZip{ZipWriter: newZipWriter(w), s: s}
}

type splicingZip struct {
	excelize.ZipWriter
	s   *rowSplicer
	cur *spliceEntry
	dim *dimEntry
}

func (z *splicingZip) Create(name string) (io.Writer, error) {
	if err := z.end(); err != nil {
		return nil, err
	}
	w, err := z.ZipWriter.Create(name)
	if err != nil {
		return w, err
	}
	if el, ok := z.s.dims[name]; ok {
		z.dim = &dimEntry{w: w, el: el}
		w = z.dim
	}
	if len(z.s.blocks) == 0 || !strings.HasPrefix(name, "xl/worksheets/sheet") {
		return w, nil
	}
	z.cur = &spliceEntry{w: w, s: z.s}
	return z.cur, nil
}

func (z *splicingZip) end() error {
	e, d := z.cur, z.dim
	z.cur, z.dim = nil, nil
	if e != nil {
		if e.err != nil {
			return e.err
		}
		if _, err := e.w.Write(e.carry); err != nil {
			return err
		}
	}
	if d != nil {
		return d.flush()
	}
	return nil
}

// dimEntry passes a sheet's XML through with its first <dimension> element
// (dimensionA1, near the start) replaced by el; it holds the bytes until
// that element has passed or the first 64 KiB have without it.
type dimEntry struct {
	w    io.Writer
	el   []byte
	buf  []byte
	done bool
}

func (d *dimEntry) Write(p []byte) (int, error) {
	if d.done {
		return d.w.Write(p)
	}
	d.buf = append(d.buf, p...)
	i := bytes.Index(d.buf, dimensionA1)
	if i < 0 && len(d.buf) < 64<<10 {
		return len(p), nil
	}
	if i >= 0 {
		d.buf = slices.Concat(d.buf[:i], d.el, d.buf[i+len(dimensionA1):])
	}
	return len(p), d.flush()
}

func (d *dimEntry) flush() error {
	d.done = true
	b := d.buf
	d.buf = nil
	if len(b) == 0 {
		return nil
	}
	_, err := d.w.Write(b)
	return err
}

func (z *splicingZip) Close() error {
	if err := z.end(); err != nil {
		return err
	}
	for _, b := range z.s.blocks {
		if !b.done {
			return fmt.Errorf("xlsx: the rows for row %d were not written (placeholder not found)", b.first)
		}
	}
	return z.ZipWriter.Close()
}

// spliceEntry passes a sheet's XML through, replacing each placeholder row
// with its block's rows. It holds back the last bytes of each write, so a
// placeholder split between writes is still found.
type spliceEntry struct {
	w     io.Writer
	s     *rowSplicer
	carry []byte
	err   error
}

// maxNeedle bounds a placeholder row's length (row numbers up to 10 digits).
const maxNeedle = len(`<row r="1234567890"><c r="A1234567890" t="inlineStr"><is><t>`) + len(spliceMark) + 6 + len(`</t></is></c></row>`)

func (e *spliceEntry) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	buf := p
	if len(e.carry) > 0 {
		buf = append(e.carry, p...)
		e.carry = nil
	}
	for {
		i := bytes.Index(buf, spliceMarkBytes)
		start := len(buf) - min(len(buf), maxNeedle)
		var b *rowBlock
		wait := i < 0
		if i >= 0 {
			b, start, wait = e.placeholder(buf, i)
		}
		switch {
		case wait: // no mark, or one the next write decides: keep the tail
			if err := e.hold(buf, start); err != nil {
				return 0, err
			}
			return len(p), nil
		case b == nil: // not a placeholder: pass the mark through
			if err := e.write(buf[:i+len(spliceMark)]); err != nil {
				return 0, err
			}
			buf = buf[i+len(spliceMark):]
			continue
		}
		if err := e.write(buf[:start]); err != nil {
			return 0, err
		}
		b.done = true
		if err := b.gen(e.w); err != nil {
			e.err = err
			return 0, err
		}
		buf = buf[start+len(b.needle):]
	}
}

// placeholder looks at the mark found at buf[i]: the block whose whole
// placeholder row starts at buf[start], or nil; wait when buf ends before
// that can be told (keep buf[start:] for the next write).
func (e *spliceEntry) placeholder(buf []byte, i int) (b *rowBlock, start int, wait bool) {
	num := i + len(spliceMark)
	if len(buf) < num+6 { // the block number has not arrived
		return nil, max(0, i-maxNeedle), true
	}
	k, err := strconv.Atoi(string(buf[num : num+6]))
	if err != nil || k >= len(e.s.blocks) || e.s.blocks[k].done {
		return nil, 0, false
	}
	b = e.s.blocks[k]
	start = i - b.markAt
	if start < 0 {
		return nil, 0, false
	}
	end := min(len(buf), start+len(b.needle))
	if !bytes.Equal(buf[start:end], b.needle[:end-start]) {
		return nil, 0, false
	}
	return b, start, end < start+len(b.needle)
}

// hold writes buf up to from and keeps the rest for the next write.
func (e *spliceEntry) hold(buf []byte, from int) error {
	if err := e.write(buf[:from]); err != nil {
		return err
	}
	e.carry = append(e.carry[:0:0], buf[from:]...)
	return nil
}

func (e *spliceEntry) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := e.w.Write(b)
	if err != nil {
		e.err = err
	}
	return err
}

// xlCell is one cell's content: nothing, a number or a string, with a
// style (0: none).
type xlCell struct {
	kind  byte // 0 none, 'n' number, 's' string
	style int
	v     float64
	s     string
}

func xlNum(style int, v float64) xlCell { return xlCell{kind: 'n', style: style, v: v} }
func xlStr(style int, s string) xlCell  { return xlCell{kind: 's', style: style, s: s} }
func (c xlCell) setRowValue(slot *excelize.Cell) any {
	switch c.kind {
	case 'n':
		*slot = excelize.Cell{StyleID: c.style, Value: c.v}
	case 's':
		*slot = excelize.Cell{StyleID: c.style, Value: c.s}
	default:
		return nil
	}
	return slot
}

// xlRows encodes rows as StreamWriter.SetRow does (excelize v2.11: stream.go
// SetRow and writeCell, cell.go setCellFloat, trimCellValue), into b, but
// for one thing: a cell that directly follows the one before it in its row
// (or starts the row in column A) goes without its reference (r="B7"), which
// the format makes optional and readers infer. Those references
// were a fifth of a section sheet's XML and, being different in every row,
// most of what deflate had to work at: an ICB's largest sheet takes 3.7 MB
// in the workbook instead of 8.0, compressed in less than half the time.
type xlRows struct {
	b    []byte
	cols [][]byte // column letters by index
	row  []byte   // the current row number
	next int      // the column a cell without a reference would be in
}

func newXLRows(ncols int) *xlRows {
	x := &xlRows{cols: make([][]byte, ncols)}
	for i := range ncols {
		name, _ := excelize.ColumnNumberToName(i + 1)
		x.cols[i] = []byte(name)
	}
	return x
}

func (x *xlRows) begin(r int) {
	x.row = strconv.AppendInt(x.row[:0], int64(r), 10)
	x.b = append(x.b, `<row r="`...)
	x.b = append(x.b, x.row...)
	x.b = append(x.b, `">`...)
	x.next = 0
}

func (x *xlRows) end() { x.b = append(x.b, `</row>`...) }

func (x *xlRows) open(col, style int) {
	x.b = append(x.b, `<c`...)
	if col != x.next {
		x.b = append(x.b, ` r="`...)
		x.b = append(x.b, x.cols[col]...)
		x.b = append(x.b, x.row...)
		x.b = append(x.b, '"')
	}
	x.next = col + 1
	if style != 0 {
		x.b = append(x.b, ` s="`...)
		x.b = strconv.AppendInt(x.b, int64(style), 10)
		x.b = append(x.b, '"')
	}
}

// cell writes c in column col (0-based); nothing for an empty cell.
func (x *xlRows) cell(col int, c xlCell) {
	switch c.kind {
	case 'n':
		if math.IsNaN(c.v) || math.IsInf(c.v, 0) {
			x.str(col, c.style, fmt.Sprint(c.v))
			return
		}
		x.open(col, c.style)
		x.b = append(x.b, `><v>`...)
		x.b = appendCellFloat(x.b, c.v)
		x.b = append(x.b, `</v></c>`...)
	case 's':
		x.str(col, c.style, c.s)
	}
}

func (x *xlRows) str(col, style int, s string) {
	x.open(col, style)
	x.b = append(x.b, ` t="inlineStr"><is><t`...)
	if plainText(s) {
		x.b = append(x.b, '>')
		x.b = append(x.b, s...)
	} else {
		v, preserve := trimCellText(s)
		if preserve {
			x.b = append(x.b, ` xml:space="preserve"`...)
		}
		x.b = append(x.b, '>')
		x.b = append(x.b, v...)
	}
	x.b = append(x.b, `</t></is></c>`...)
}

// plainText reports whether s is written as it is: printable ASCII with
// nothing to escape, no leading or trailing white space, no "_x".
func plainText(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' || len(s) > excelize.TotalCellChars {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '&', c == '<', c == '>', c == '"', c == '\'':
			return false
		case c == '_' && i+1 < len(s) && s[i+1] == 'x':
			return false
		}
	}
	return true
}

// trimCellText is excelize's trimCellValue(s, true): truncated to Excel's
// limit, escaped for XML (new lines kept), "_xHHHH_" escaped, and whether
// the text needs xml:space="preserve".
func trimCellText(s string) (string, bool) {
	if countUTF16(s) > excelize.TotalCellChars {
		s = truncateUTF16(s, excelize.TotalCellChars)
	}
	preserve := false
	if s != "" {
		for _, c := range []byte{9, 10, 13, 32} {
			if s[0] == c || s[len(s)-1] == c {
				preserve = true
				break
			}
		}
		var buf strings.Builder
		_ = xml.EscapeText(&buf, []byte(s))
		s = strings.ReplaceAll(buf.String(), "&#xA;", "\n")
	}
	return bstrMarshal(s), preserve
}

func countUTF16(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func truncateUTF16(s string, length int) string {
	n := 0
	for i, r := range s {
		if n += utf16.RuneLen(r); n > length {
			return s[:i]
		}
	}
	return s
}

var (
	bstrExp       = regexp.MustCompile(`_x[a-fA-F\d]{4}_`)
	bstrEscapeExp = regexp.MustCompile(`x[a-fA-F\d]{4}_`)
)

// bstrMarshal is excelize's (lib.go): a literal "_xHHHH_" is stored with its
// underscore escaped, so Excel does not read it as an escaped character.
func bstrMarshal(s string) (result string) {
	matches, l, cursor := bstrExp.FindAllStringSubmatchIndex(s, -1), len(s), 0
	for _, match := range matches {
		result += s[cursor:match[0]]
		subStr := s[match[0]:match[1]]
		if subStr == "_x005F_" {
			cursor = match[1]
			if match[1]+6 <= l && bstrEscapeExp.MatchString(s[match[1]:match[1]+6]) {
				_, err := strconv.Unquote(`"\u` + s[match[1]+1:match[1]+5] + `"`)
				if err == nil {
					result += subStr + "x005F" + subStr
					continue
				}
			}
			result += subStr + "x005F_"
			continue
		}
		if bstrExp.MatchString(subStr) {
			cursor = match[1]
			if _, err := strconv.Unquote(`"\u` + s[match[0]+2:match[1]-1] + `"`); err == nil {
				result += "_x005F" + subStr
				continue
			}
		}
	}
	if cursor < l {
		result += s[cursor:]
	}
	return result
}

// appendCellFloat is excelize's formatCellFloat(v, -1, 64): the shortest
// decimal that reads back as v, cut to Excel's 15 significant digits.
func appendCellFloat(b []byte, v float64) []byte {
	start := len(b)
	b = appendShortest(b, v)
	if math.Abs(v) == math.MaxFloat64 {
		return b
	}
	str := b[start:]
	const maxPrec = 15
	decimal := bytes.IndexByte(str, '.')
	significant := 0
	for idx := range str {
		if str[idx] < '0' || str[idx] > '9' || significant == 0 && str[idx] == '0' {
			continue
		}
		significant++
		if significant <= maxPrec {
			continue
		}
		if decimal >= 0 && idx > decimal {
			out := str[:idx]
			if len(out) > 0 && out[len(out)-1] == '.' {
				out = out[:len(out)-1]
			}
			return b[:start+len(out)]
		}
		if decimal < 0 {
			decimal = len(str)
		}
		for ; idx < decimal; idx++ {
			str[idx] = '0'
		}
		return b[:start+decimal]
	}
	return b
}

// flush writes x's buffer to w once it holds more than limit bytes
// (0: always), keeping the buffer for reuse.
func (x *xlRows) flush(w io.Writer, limit int) error {
	if len(x.b) <= limit {
		return nil
	}
	_, err := w.Write(x.b)
	x.b = x.b[:0]
	return err
}

// checkCtx is ctx's error every 4,096 rows.
func checkCtx(ctx context.Context, n int) error {
	if n%4096 == 0 {
		return ctx.Err()
	}
	return nil
}
