package ingest

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Check applied to a field's value.
type Check int

// Checks.
const (
	NoCheck  Check = iota
	Practice       // an English GP practice code (A81001)
	Org            // any ODS organisation code
	LSOA           // an LSOA code
)

// Field maps a published column to a lake column, for the many sources that
// are one row in, one row out.
type Field struct {
	Name     string // lake column; its published headings are in data/header_aliases.csv
	Pos      int    // headerless sources: the column's position (0-based)
	Type     Type
	Check    Check
	Optional bool // the column may be missing from the file
	Required bool // a blank value rejects the row
	Negative bool // numbers may be negative
	Flag     bool // also write <name>_suppressed
	Derived  bool // computed (by After), never read from the file
	Upper    bool
	Doc      string
	// Values, when set, are the accepted spellings (upper-case keys; a value
	// is looked up as it is, then upper-cased) and what each is stored as.
	Values map[string]string
	// Valid, when set, must accept the (normalised) value.
	Valid func(string) bool
	// Want says what Values or Valid expect, for the reject reason.
	Want string
}

// Simple is a source whose rows map one-to-one onto lake rows.
type Simple struct {
	Meta   Info
	Fields []Field
	// PeriodOf returns the period of a row ("" when rows carry none); the
	// file's period is the first one seen, and rows of another are rejected.
	PeriodOf func(rec []string, cols []int) (string, error)
	// FilePeriod decides the period from the file context and all rows'
	// periods seen when PeriodOf is nil (for example the latest date).
	FilePeriod func(fc *FileContext, latest time.Time) (string, error)
	// Row may skip or adjust a record before mapping (total rows etc).
	Skip func(rec []string, cols []int) string
	// After may add derived columns or data-quality flags to a row.
	After func(rec []string, cols []int, row *Row, s *Schema)
	// LatestPeriod, when set, gives each row's period; the file's period is
	// the latest (greatest) of them.
	LatestPeriod func(rec []string, cols []int) string
	// DateForPeriod names the Date field whose latest value FilePeriod sees.
	DateForPeriod []string
	// DatasetOf, when set, names what a row holds (a Fingertips indicator
	// id); the file's dataset is every name seen, plus the earliest row
	// period when the file spans several (see Dataset).
	DatasetOf func(rec []string, cols []int) string
}

// Info implements Source.
func (s *Simple) Info() *Info {
	if s.Meta.Columns == nil {
		for _, f := range s.Fields {
			s.Meta.Columns = append(s.Meta.Columns, Column{Name: f.Name, Type: f.Type, Doc: f.Doc})
			if f.Flag {
				s.Meta.Columns = append(s.Meta.Columns, Column{Name: f.Name + "_suppressed", Type: Bool, Doc: "true where the published cell was suppressed or blank (" + f.Name + " is NULL)"})
			}
		}
	}
	if s.Meta.Headings == nil && s.Meta.Headerless == 0 {
		for _, f := range s.Fields {
			if !f.Derived {
				s.Meta.Headings = append(s.Meta.Headings, Heading{Name: f.Name, Required: !f.Optional})
			}
		}
	}
	return &s.Meta
}

type simpleParser struct {
	s       *Simple
	fc      *FileContext
	cols    []int // field -> record index (-1 absent)
	out     []int // field -> lake column index
	flag    []int
	period  string
	latest  time.Time
	dateIdx []int
	sch     *Schema
	ids     map[string]bool
	first   string // earliest LatestPeriod of any row
}

// Begin implements Source.
func (s *Simple) Begin(fc *FileContext) (Parser, error) {
	info := s.Info()
	sch := NewSchema(info.Name, info.Columns)
	p := &simpleParser{s: s, fc: fc, sch: sch}
	for _, f := range s.Fields {
		idx := -1
		switch {
		case f.Derived:
		case info.Headerless > 0:
			idx = f.Pos
		default:
			idx = fc.Col(f.Name)
		}
		if idx < 0 && !f.Optional && !f.Derived {
			return nil, fmt.Errorf("missing column for %s", f.Name)
		}
		p.cols = append(p.cols, idx)
		p.out = append(p.out, sch.Index(f.Name))
		fl := -1
		if f.Flag {
			fl = sch.Index(f.Name + "_suppressed")
		}
		p.flag = append(p.flag, fl)
	}
	for _, d := range s.DateForPeriod {
		for i, f := range s.Fields {
			if f.Name == d {
				p.dateIdx = append(p.dateIdx, i)
			}
		}
	}
	return p, nil
}

func (p *simpleParser) heading(i int) string {
	c := p.cols[i]
	if c >= 0 && c < len(p.fc.Header) {
		return p.fc.Header[c]
	}
	return p.s.Fields[i].Name
}

// Record implements Parser.
func (p *simpleParser) Record(rec []string, line int, out *Emitter) error {
	if p.s.Skip != nil {
		if why := p.s.Skip(rec, p.cols); why != "" {
			out.Skip(why)
			return nil
		}
	}
	if p.s.PeriodOf != nil {
		per, err := p.s.PeriodOf(rec, p.cols)
		if err != nil {
			out.Reject("", "", err.Error())
			return nil
		}
		if p.period == "" {
			p.period = per
		} else if per != p.period {
			out.Reject("", per, fmt.Sprintf("row is for period %s but the file is for %s", per, p.period))
			return nil
		}
	}
	st := recState{}
	p.rowState(rec, &st)
	p.fold(&st)
	p.fields(rec, out, &st)
	if st.latest.After(p.latest) {
		p.latest = st.latest
	}
	return nil
}

// recState is what one record tells a simple parser about the whole file
// (its period, dataset, latest date): workers compute it in parallel and
// the ordered merge folds it in, in file order (see convert and apply).
type recState struct {
	done      bool   // skipped, or its period unreadable: nothing to fold
	per       string // PeriodOf
	latestPer string // LatestPeriod
	id        string // DatasetOf
	latest    time.Time
}

// rowState computes LatestPeriod and DatasetOf for a record.
func (p *simpleParser) rowState(rec []string, st *recState) {
	if p.s.LatestPeriod != nil {
		st.latestPer = p.s.LatestPeriod(rec, p.cols)
	}
	if p.s.DatasetOf != nil {
		st.id = p.s.DatasetOf(rec, p.cols)
	}
}

// fold adds a record's LatestPeriod and DatasetOf to the file's.
func (p *simpleParser) fold(st *recState) {
	if p.s.LatestPeriod != nil {
		per := st.latestPer
		if per > p.period {
			p.period = per
		}
		if per != "" && (p.first == "" || per < p.first) {
			p.first = per
		}
	}
	if p.s.DatasetOf != nil {
		if id := st.id; id != "" {
			if p.ids == nil {
				p.ids = map[string]bool{}
			}
			p.ids[id] = true
		}
	}
}

// convert is Record's work that depends on the record alone, safe to run
// in parallel workers: everything but the file-level state, which it
// leaves in the returned recState for apply.
func (p *simpleParser) convert(rec []string, out *Emitter) recState {
	var st recState
	if p.s.Skip != nil {
		if why := p.s.Skip(rec, p.cols); why != "" {
			out.Skip(why)
			st.done = true
			return st
		}
	}
	if p.s.PeriodOf != nil {
		per, err := p.s.PeriodOf(rec, p.cols)
		if err != nil {
			out.Reject("", "", err.Error())
			st.done = true
			return st
		}
		st.per = per
	}
	p.rowState(rec, &st)
	p.fields(rec, out, &st)
	return st
}

// apply folds a converted record into the file's state, in file order. A
// non-empty reject means the record is for another period than the file's:
// it replaces whatever convert recorded, as Record would have stopped there.
func (p *simpleParser) apply(st *recState) (value, reject string) {
	if st.done {
		return "", ""
	}
	if p.s.PeriodOf != nil {
		if p.period == "" {
			p.period = st.per
		} else if st.per != p.period {
			return st.per, fmt.Sprintf("row is for period %s but the file is for %s", st.per, p.period)
		}
	}
	p.fold(st)
	if st.latest.After(p.latest) {
		p.latest = st.latest
	}
	return "", ""
}

// fields converts and checks each field and emits the row; the latest
// DateForPeriod date goes into st.
func (p *simpleParser) fields(rec []string, out *Emitter, st *recState) {
	row := out.Row()
	for i, f := range p.s.Fields {
		c := p.cols[i]
		if c < 0 {
			continue
		}
		raw := strings.TrimSpace(rec[c])
		oi := p.out[i]
		switch f.Type {
		case String:
			v := raw
			if f.Upper || f.Check != NoCheck {
				v = NormCode(v)
			}
			if v == "" {
				if f.Required {
					out.Reject(p.heading(i), raw, "missing value")
				}
				continue
			}
			if f.Values != nil {
				m, ok := f.Values[v] // most values come as the keys are written
				if !ok {
					m, ok = f.Values[strings.ToUpper(v)]
				}
				if !ok {
					out.Reject(p.heading(i), raw, "not an accepted value ("+f.Want+")")
					continue
				}
				v = m
			}
			if f.Valid != nil && !f.Valid(v) {
				out.Reject(p.heading(i), raw, "not valid ("+f.Want+")")
				continue
			}
			switch f.Check {
			case Practice:
				if !ValidPractice(v) {
					out.Reject(p.heading(i), raw, "not a GP practice ODS code (a letter and five digits)")
					continue
				}
			case Org:
				if !ValidOrg(v) {
					out.Reject(p.heading(i), raw, "not an ODS organisation code")
					continue
				}
			case LSOA:
				if !ValidLSOA(v) && !(strings.HasPrefix(v, "NO") || v == "UNKNOWN") {
					out.Reject(p.heading(i), raw, "not an LSOA code")
					continue
				}
			}
			row.Str(oi, v)
		case Int64, Float64:
			v, ok, err := ParseNumber(raw)
			if err != nil {
				out.Reject(p.heading(i), raw, "not a number")
				continue
			}
			if !ok {
				if f.Required {
					out.Reject(p.heading(i), raw, "missing value")
				}
				if p.flag[i] >= 0 {
					row.Bool(p.flag[i], true)
				}
				continue
			}
			if v < 0 && !f.Negative {
				out.Reject(p.heading(i), raw, "negative value")
				continue
			}
			if f.Type == Int64 {
				if v != float64(int64(v)) {
					out.Reject(p.heading(i), raw, "not a whole number")
					continue
				}
				row.Int(oi, int64(v))
			} else {
				row.Float(oi, v)
			}
			if p.flag[i] >= 0 {
				row.Bool(p.flag[i], false)
			}
		case Date:
			t, ok, err := ParseDate(raw)
			if err != nil {
				out.Reject(p.heading(i), raw, err.Error())
				continue
			}
			if !ok {
				if f.Required {
					out.Reject(p.heading(i), raw, "missing value")
				}
				continue
			}
			row.Date(oi, t)
			for _, d := range p.dateIdx {
				if d == i && t.After(st.latest) {
					st.latest = t
				}
			}
		case Bool:
			switch strings.ToUpper(raw) {
			case "Y", "YES", "TRUE", "1":
				row.Bool(oi, true)
			case "N", "NO", "FALSE", "0":
				row.Bool(oi, false)
			case "":
			default:
				out.Reject(p.heading(i), raw, "not yes/no")
			}
		}
	}
	if p.s.After != nil {
		p.s.After(rec, p.cols, row, p.sch)
	}
	out.Emit()
}

// Period implements Parser.
func (p *simpleParser) Period() (string, error) {
	if p.s.FilePeriod != nil {
		return p.s.FilePeriod(p.fc, p.latest)
	}
	return p.period, nil
}

// Dataset implements DatasetParser: the names seen ("93553", or
// "90453+91547" for a multi-indicator export), with "_from_<earliest>"
// when the file spans several periods, so an export of 2010 to 2019 and
// one of 2019 only are two datasets, and a corrected export of the same
// span is a restatement of its dataset.
func (p *simpleParser) Dataset() string {
	if p.s.DatasetOf == nil {
		return ""
	}
	ids := make([]string, 0, len(p.ids))
	for id := range p.ids {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	d := strings.Join(ids, "+")
	if d == "" {
		d = "unknown"
	}
	if p.first != "" && p.first != p.period {
		d += "_from_" + p.first
	}
	return safeDataset(d)
}

// safeDataset keeps a dataset name to characters safe in a folder name.
func safeDataset(d string) string {
	b := []byte(d)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '+' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// monthOf renders a date as a monthly period (from monthNames: this runs
// for every row of a record-level file).
func monthOf(t time.Time) string {
	y, m, _ := t.Date()
	if y >= monthNamesFrom && y < monthNamesFrom+len(monthNames)/12 {
		return monthNames[(y-monthNamesFrom)*12+int(m)-1]
	}
	return t.Format("2006-01")
}

// monthNames holds monthOf's answers for 1990 to 2109, made once: a
// record-level file asks for one per row, and a new string each time was
// 4% of ingest's CPU.
const monthNamesFrom = 1990

var monthNames = func() []string {
	n := make([]string, 120*12)
	for i := range n {
		y, m := monthNamesFrom+i/12, i%12+1
		n[i] = fmt.Sprintf("%04d-%02d", y, m)
	}
	return n
}()

// datePeriod makes a PeriodOf that reads the month of a date column.
func datePeriod(field int) func(rec []string, cols []int) (string, error) {
	return func(rec []string, cols []int) (string, error) {
		c := cols[field]
		if c < 0 {
			return "", nil
		}
		t, ok, err := ParseDate(rec[c])
		if err != nil || !ok {
			return "", fmt.Errorf("cannot read the date %q", rec[c])
		}
		return monthOf(t), nil
	}
}
