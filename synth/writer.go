package synth

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// csvFile streams one CSV extract to a temporary name in its final folder and
// renames it into place on Close, so a killed run never leaves a half file
// under the final name.
type csvFile struct {
	rel   string // path relative to the output folder, with forward slashes
	final string
	f     *os.File
	bw    *bufio.Writer
	crlf  bool
	rows  int64
	bytes int64
	line  []byte
	nf    int // fields in the current row
}

// fileOpts is the byte-level style of one real extract.
type fileOpts struct {
	bom  bool
	crlf bool
}

func createCSV(out, rel string, o fileOpts) (*csvFile, error) {
	final := filepath.Join(out, filepath.FromSlash(rel))
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create folder %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(final)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create temp file for %s: %w", rel, err)
	}
	w := &csvFile{rel: rel, final: final, f: f, bw: bufio.NewWriterSize(f, 256<<10), crlf: o.crlf, line: make([]byte, 0, 1024)}
	if o.bom {
		w.write([]byte{0xEF, 0xBB, 0xBF})
	}
	return w, nil
}

func (w *csvFile) write(b []byte) {
	n, _ := w.bw.Write(b) // the error is sticky in bufio and surfaces at Flush
	w.bytes += int64(n)
}

// header writes a literal header line (not counted as a row).
func (w *csvFile) header(h string) {
	w.write([]byte(h))
	w.eol()
}

func (w *csvFile) eol() {
	if w.crlf {
		w.write([]byte{'\r', '\n'})
	} else {
		w.write([]byte{'\n'})
	}
}

func (w *csvFile) sep() {
	if w.nf > 0 {
		w.line = append(w.line, ',')
	}
	w.nf++
}

// str appends a field, quoting it only when CSV needs quotes.
func (w *csvFile) str(s string) *csvFile {
	w.sep()
	if needsQuote(s) {
		w.appendQuoted(s)
	} else {
		w.line = append(w.line, s...)
	}
	return w
}

func needsQuote(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	return false
}

// quoted appends a field that is always quoted (epraccur, thousands separators).
func (w *csvFile) quoted(s string) *csvFile {
	w.sep()
	w.appendQuoted(s)
	return w
}

func (w *csvFile) appendQuoted(s string) {
	w.line = append(w.line, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			w.line = append(w.line, '"')
		}
		w.line = append(w.line, s[i])
	}
	w.line = append(w.line, '"')
}

// raw appends a field known to need no quoting (IDs, dates) without allocating.
func (w *csvFile) raw(b []byte) *csvFile {
	w.sep()
	w.line = append(w.line, b...)
	return w
}

func (w *csvFile) int(n int64) *csvFile {
	w.sep()
	w.line = strconv.AppendInt(w.line, n, 10)
	return w
}

// end finishes the current row.
func (w *csvFile) end() {
	w.write(w.line)
	w.eol()
	w.line = w.line[:0]
	w.nf = 0
	w.rows++
}

// close flushes, syncs and renames the file into place.
func (w *csvFile) close() (FileInfo, error) {
	info := FileInfo{Path: w.rel, Rows: w.rows, Bytes: w.bytes}
	if err := w.bw.Flush(); err != nil {
		w.abort()
		return info, fmt.Errorf("write %s: %w", w.rel, err)
	}
	if err := w.f.Sync(); err != nil {
		w.abort()
		return info, fmt.Errorf("sync %s: %w", w.rel, err)
	}
	tmp := w.f.Name()
	if err := w.f.Close(); err != nil {
		_ = os.Remove(tmp)
		return info, fmt.Errorf("close %s: %w", w.rel, err)
	}
	if err := os.Rename(tmp, w.final); err != nil {
		_ = os.Remove(tmp)
		return info, fmt.Errorf("rename %s: %w", w.rel, err)
	}
	return info, nil
}

// abort drops the temporary file (used on errors and cancellation).
func (w *csvFile) abort() {
	name := w.f.Name()
	_ = w.f.Close()
	_ = os.Remove(name)
}

// fmtNum formats a non-negative or negative amount with at most dp decimals
// and no trailing zeros, as the NHS files do ("438099.78", "0", "2520").
func fmtNum(x float64, dp int) string {
	s := strconv.FormatFloat(round(x, dp), 'f', dp, 64)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// fmtPointOne formats counts in QOF style: "112.0".
func fmtPointOne(n int64) string {
	return strconv.FormatInt(n, 10) + ".0"
}

// fmtQOF formats a QOF value: at most 2 decimals, at least one ("5.89", "12.0").
func fmtQOF(x float64) string {
	s := fmtNum(x, 2)
	if strings.IndexByte(s, '.') < 0 {
		s += ".0"
	}
	return s
}

// fmtThousands formats an amount with thousands separators ("1,234.56").
func fmtThousands(x float64) string {
	s := fmtNum(x, 2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}
