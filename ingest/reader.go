package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encoding names reported for a file.
const (
	EncUTF8    = "utf-8"
	EncUTF8BOM = "utf-8 (BOM)"
	EncCP1252  = "windows-1252"
)

// ErrNotCSV is returned for files that are not text CSV at all.
var ErrNotCSV = errors.New("not a CSV file")

// FileError is a problem with a whole file: it names the file and, where
// known, the line and column, and says what to do.
type FileError struct {
	File   string
	Line   int
	Column string
	Err    error
	Hint   string
}

func (e *FileError) Error() string {
	s := e.File
	if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		s = strconv.Quote(s) // a newline or escape in a name must not fake output lines
	}
	if e.Line > 0 {
		s += fmt.Sprintf(" line %d", e.Line)
	}
	if e.Column != "" {
		s += fmt.Sprintf(" column %q", e.Column)
	}
	s += ": " + e.Err.Error()
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *FileError) Unwrap() error { return e.Err }

// decoder passes valid UTF-8 through and reads any byte that is not valid
// UTF-8 as Windows-1252, so a cp1252 pound sign in an otherwise UTF-8 (or
// ASCII) file is read correctly wherever it appears, not only in a sample.
type decoder struct {
	r       io.Reader
	pending []byte // read, not yet decoded (an incomplete sequence at most, between reads)
	spare   []byte // the other pending buffer: valid text is handed out in place
	out     []byte // decoded bytes not yet returned
	conv    []byte // holds out when bytes needed the fallback
	cp1252  bool   // some byte needed the fallback
	n       int64  // raw bytes consumed
	eof     bool
}

const decodeChunk = 256 << 10

func newDecoder(r io.Reader) *decoder {
	return &decoder{r: r, pending: make([]byte, 0, decodeChunk+4), spare: make([]byte, 0, decodeChunk+4)}
}

func (d *decoder) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.eof && len(d.pending) == 0 {
			return 0, io.EOF
		}
		if !d.eof {
			// Read straight after the kept tail (a bufio.Reader under us
			// reads a big request straight from the file).
			n, err := d.r.Read(d.pending[len(d.pending):cap(d.pending)])
			d.n += int64(n)
			d.pending = d.pending[:len(d.pending)+n]
			if err == io.EOF {
				d.eof = true
			} else if err != nil {
				return 0, err
			}
		}
		d.decode()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *decoder) decode() {
	src := d.pending
	// Keep an incomplete multi-byte sequence at the end for the next read.
	keep := 0
	if !d.eof {
		for i := len(src) - 1; i >= 0 && i >= len(src)-3; i-- {
			if utf8.RuneStart(src[i]) {
				if !utf8.FullRune(src[i:]) {
					keep = len(src) - i
				}
				break
			}
		}
	}
	body := src[:len(src)-keep]
	if utf8.Valid(body) {
		d.out = body // handed out in place; pending moves to the spare buffer
	} else {
		out := d.conv[:0]
		for i := 0; i < len(body); {
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				d.cp1252 = true
				out = utf8.AppendRune(out, charmap.Windows1252.DecodeByte(body[i]))
				i++
				continue
			}
			out = append(out, body[i:i+size]...)
			i += size
		}
		d.conv, d.out = out, out
	}
	// decode runs only once out is used up, so the spare buffer is free.
	d.pending, d.spare = append(d.spare[:0], src[len(src)-keep:]...), src
}

// Reader reads one published CSV extract record by record, with line numbers.
type Reader struct {
	Path     string
	Header   []string // as published (BOM removed)
	Keys     []string // normalised headings (see normHeader)
	Encoding string

	f   *os.File
	dec *decoder
	br  *bufio.Reader // the decoded text; csv reads from it directly
	csv *csv.Reader
	// nextLine is the line number of the first line after the header.
	nextLine int
	size     int64
	endsNL   bool
}

// OpenCSV opens path, sniffs it (empty, binary, BOM) and, unless headerless,
// reads the header row.
func OpenCSV(path string, headerless bool) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	r := &Reader{Path: path, f: f, size: st.Size(), Encoding: EncUTF8}
	fail := func(err error, hint string) (*Reader, error) {
		f.Close()
		return nil, &FileError{File: path, Err: err, Hint: hint}
	}
	if st.Size() == 0 {
		return fail(errors.New("file is empty"), "the download may have failed; fetch it again")
	}
	head := make([]byte, 8192)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return fail(fmt.Errorf("%w: it is a zip or Excel (xlsx) file", ErrNotCSV), "unzip it or save the sheet as CSV")
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return fail(fmt.Errorf("%w: it holds binary data", ErrNotCSV), "gplens reads the CSV files as published")
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")))) == 0 {
		return fail(errors.New("file has no data (only blank lines)"), "the download may have failed; fetch it again")
	}
	// Does the file end with a newline? A file cut short mid-row is truncated.
	tail := make([]byte, 1)
	if _, err := f.ReadAt(tail, st.Size()-1); err == nil {
		r.endsNL = tail[0] == '\n' || tail[0] == '\r'
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err, "")
	}
	br := bufio.NewReaderSize(f, 256<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		r.Encoding = EncUTF8BOM
	}
	r.dec = newDecoder(br)
	// csv.NewReader uses a *bufio.Reader as it is, so after the header the
	// rest of the text is in r.br for the parallel pipeline.
	r.br = bufio.NewReaderSize(r.dec, 64<<10)
	r.csv = csv.NewReader(r.br)
	r.nextLine = 1
	r.csv.FieldsPerRecord = -1 // field counts are checked per row, so one bad row is a reject, not a failed file
	r.csv.ReuseRecord = true
	if !headerless {
		rec, err := r.csv.Read()
		if err != nil {
			return fail(fmt.Errorf("reading the header: %w", err), "")
		}
		last, _ := r.csv.FieldPos(len(rec) - 1)
		r.nextLine = last + strings.Count(rec[len(rec)-1], "\n") + 1
		r.Header = append([]string(nil), rec...)
		r.Keys = make([]string, len(rec))
		for i, h := range rec {
			r.Keys[i] = normHeader(h)
		}
	}
	return r, nil
}

// Read returns the next non-blank record and its line number. Records with
// every field blank (Excel's ",,,," lines) are skipped like blank lines.
func (r *Reader) Read() (rec []string, line int, err error) {
	for {
		rec, err = r.csv.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, pe.StartLine, &FileError{File: r.Path, Line: pe.StartLine, Err: pe.Err,
					Hint: "the file is malformed or truncated (an unclosed quote); fetch it again"}
			}
			return nil, 0, err
		}
		line, _ = r.csv.FieldPos(0)
		if !blankRecord(rec) {
			return rec, line, nil
		}
	}
}

func isSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' {
			return false
		}
	}
	return true
}

// BytesRead is how much of the raw file has been consumed so far.
func (r *Reader) BytesRead() int64 { return r.dec.n }

// Size of the file in bytes.
func (r *Reader) Size() int64 { return r.size }

// EndsWithNewline reports whether the file's last byte ends a line.
func (r *Reader) EndsWithNewline() bool { return r.endsNL }

// Fallback reports whether any byte was read as Windows-1252.
func (r *Reader) Fallback() bool { return r.dec.cp1252 }

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }

// Col finds the first column whose normalised heading is one of names.
func (r *Reader) Col(names ...string) int { return findCol(r.Keys, names...) }

func findCol(keys []string, names ...string) int {
	for _, n := range names {
		for i, k := range keys {
			if k == n {
				return i
			}
		}
	}
	return -1
}
