package ingest

import (
	"fmt"
	"strings"
	"unicode"
)

// NHS Payments to General Practice: one wide row per practice a year, its
// columns renamed and added almost every year. Known attribute columns are
// mapped by alias; every other column is a payment line, reshaped to one
// long row per practice and component, named after its heading so a new
// line next year arrives as a new component instead of failing the file.

func init() { Register(payments) }

// paymentsAttrs are the practice attributes repeated on every component
// row; their headings across the years are in data/header_aliases.csv.
var paymentsAttrs = []struct {
	name     string
	typ      Type
	required bool
}{
	{"region_code", String, false},
	{"region_name", String, false},
	{"sub_icb_code", String, false},
	{"sub_icb_name", String, false},
	{"pcn_code", String, false},
	{"pcn_name", String, false},
	{"practice_code", String, true},
	{"practice_name", String, false},
	{"practice_address", String, false},
	{"postcode", String, false},
	{"open_date", Date, false},
	{"close_date", Date, false},
	{"contract_type", String, false},
	{"dispensing_practice", String, false},
	{"practice_type", String, false},
	{"rurality", String, false},
	{"atypical_characteristics", String, false},
	{"patient_data_quarter", String, false},
	{"registered_patients", Float64, true},
	{"weighted_patients", Float64, false},
}

var payments = &paymentsSource{}

type paymentsSource struct{ info *Info }

func (s *paymentsSource) Info() *Info {
	if s.info != nil {
		return s.info
	}
	cols := []Column{}
	var heads []Heading
	for _, a := range paymentsAttrs {
		cols = append(cols, Column{Name: a.name, Type: a.typ})
		heads = append(heads, Heading{Name: a.name, Required: a.required})
	}
	// Renamed payment lines: "component:<name>" aliases keep one component name across years.
	heads = append(heads, Heading{Name: "component:*"})
	cols = append(cols,
		Column{Name: "component", Type: String, Doc: "payment line, snake_case of its heading (stable across years where the heading is)"},
		Column{Name: "component_label", Type: String, Doc: "the heading as published"},
		Column{Name: "component_group", Type: String, Doc: "global_sum, qof, enhanced_services, premises, pcn, covid, prescribing_dispensing, other"},
		Column{Name: "kind", Type: String, Doc: "payment (a line), total (a published total), deduction"},
		Column{Name: "amount", Type: Float64, Doc: "pounds"},
		Column{Name: "amount_suppressed", Type: Bool},
	)
	s.info = &Info{
		Name: "payments", Title: "NHS Payments to General Practice (wide, reshaped to practice x payment component)", Cadence: Annual,
		Patterns: []string{"nhspaymentsgp-*.csv", "nhs-payments-gp-*.csv", "[0-9][0-9]-[0-9][0-9].csv"},
		Key:      []string{"practice_code", "component"},
		Columns:  cols,
		Headings: heads,
		Notes:    "Averages per patient are derived and not kept. Unknown money columns become components named after their heading. Period from the file name (nhspaymentsgp-22-23 = 2022-23).",
	}
	return s.info
}

type paymentsParser struct {
	fc      *FileContext
	sch     *Schema
	attr    []int // attribute -> record index
	comps   []paymentComp
	compIdx struct{ component, label, group, kind, amount, suppressed int }
}

type paymentComp struct {
	col                      int
	name, label, group, kind string
}

func (s *paymentsSource) Begin(fc *FileContext) (Parser, error) {
	info := s.Info()
	p := &paymentsParser{fc: fc, sch: NewSchema(info.Name, info.Columns)}
	used := map[int]bool{}
	for _, a := range paymentsAttrs {
		i := fc.Col(a.name)
		p.attr = append(p.attr, i)
		if i >= 0 {
			used[i] = true
		}
	}
	if p.attr[6] < 0 {
		return nil, fmt.Errorf("missing column %q", "Practice Code")
	}
	seen := map[string]string{}
	renames := map[string]string{}
	if fc.Aliases != nil {
		renames = fc.Aliases.Prefixed("payments", "component:")
	}
	for i, h := range fc.Header {
		if used[i] {
			continue
		}
		name := componentName(h, renames)
		if name == "" || strings.HasPrefix(name, "average_payment") {
			continue // derived per-patient averages
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("columns %q and %q both read as payment component %s", prev, h, name)
		}
		seen[name] = h
		p.comps = append(p.comps, paymentComp{col: i, name: name, label: strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), group: componentGroup(name), kind: componentKind(name)})
	}
	c := &p.compIdx
	c.component, c.label, c.group, c.kind, c.amount, c.suppressed = p.sch.Index("component"), p.sch.Index("component_label"), p.sch.Index("component_group"), p.sch.Index("kind"), p.sch.Index("amount"), p.sch.Index("amount_suppressed")
	return p, nil
}

// componentName gives a heading a stable snake_case name across the years'
// spellings ("GlobalSum_£", "Global Sum", "GP Extended Hours Access").
func componentName(h string, renames map[string]string) string {
	h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	if !strings.ContainsAny(h, " ") {
		// 2015-16 CamelCase: split words before an upper-case letter that
		// follows a lower-case one.
		var b strings.Builder
		rs := []rune(h)
		for i, r := range rs {
			if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
		}
		h = b.String()
	}
	n := normHeader(h)
	if name, ok := renames[n]; ok {
		return name
	}
	return n
}

func componentKind(n string) string {
	switch {
	case strings.HasPrefix(n, "total_nhs_payments"):
		return "total"
	case strings.HasPrefix(n, "deductions"):
		return "deduction"
	}
	return "payment"
}

func componentGroup(n string) string {
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(n, x) {
				return true
			}
		}
		return false
	}
	switch {
	case componentKind(n) != "payment":
		return "total"
	case has("covid"):
		return "covid"
	case strings.HasPrefix(n, "pcn_") || has("network_participation", "pcn_participation"):
		return "pcn"
	case has("global_sum", "mpig", "pms"):
		return "global_sum"
	case has("qof"):
		return "qof"
	case has("premises"):
		return "premises"
	case has("prescribing", "dispensing", "drugs"):
		return "prescribing_dispensing"
	case has("vaccin", "immunis", "extended_hours", "learning_disab", "minor_surgery", "violent", "meningitis", "pertussis", "rotavirus", "alcohol", "dementia", "avoiding", "weight_management", "out_of_area", "medical_assessment", "influenza", "local_incentive", "enhanced"):
		return "enhanced_services"
	}
	return "other"
}

func (p *paymentsParser) Record(rec []string, line int, out *Emitter) error {
	code := NormCode(rec[p.attr[6]])
	if code == "" || strings.HasPrefix(code, "TOTAL") || code == "ENGLAND" {
		out.Skip("total or blank practice row")
		return nil
	}
	if !ValidOrg(code) {
		out.Reject(p.fc.Header[p.attr[6]], rec[p.attr[6]], "not an ODS practice code")
		return nil
	}
	// Attribute values, parsed once and repeated on each component row.
	type av struct {
		s  string
		f  float64
		ok bool
	}
	vals := make([]av, len(paymentsAttrs))
	for i, a := range paymentsAttrs {
		c := p.attr[i]
		if c < 0 {
			continue
		}
		raw := strings.TrimSpace(rec[c])
		switch a.typ {
		case String:
			if a.name == "pcn_code" || a.name == "pcn_name" {
				if strings.HasPrefix(strings.ToLower(raw), "unknown") {
					continue
				}
			}
			if strings.HasSuffix(a.name, "_code") {
				raw = NormCode(raw)
			}
			vals[i] = av{s: raw, ok: raw != ""}
		case Float64:
			v, ok, err := ParseNumber(raw)
			if err != nil {
				out.Reject(p.fc.Header[c], raw, "not a number")
				return nil
			}
			if v < 0 {
				out.Reject(p.fc.Header[c], raw, "negative patient count")
				return nil
			}
			vals[i] = av{f: v, ok: ok}
		case Date:
			if _, ok, err := ParseDate(raw); err != nil {
				out.Reject(p.fc.Header[c], raw, err.Error())
				return nil
			} else if ok {
				vals[i] = av{s: raw, ok: true}
			}
		}
	}
	vals[6] = av{s: code, ok: true}
	for _, comp := range p.comps {
		raw := rec[comp.col]
		amt, ok, err := ParseNumber(raw)
		if err != nil {
			out.Reject(p.fc.Header[comp.col], raw, "not an amount")
			continue
		}
		row := out.Row()
		for i, a := range paymentsAttrs {
			if !vals[i].ok {
				continue
			}
			switch a.typ {
			case String:
				row.Str(i, vals[i].s)
			case Float64:
				row.Float(i, vals[i].f)
			case Date:
				t, _, _ := ParseDate(vals[i].s)
				row.Date(i, t)
			}
		}
		c := p.compIdx
		row.Str(c.component, comp.name)
		row.Str(c.label, comp.label)
		row.Str(c.group, comp.group)
		row.Str(c.kind, comp.kind)
		if ok {
			row.Float(c.amount, amt)
		}
		row.Bool(c.suppressed, !ok)
		out.Emit()
	}
	return nil
}

// Period: the file says nothing of its year, so the caller's fallback to
// the file name and folder decides (nhspaymentsgp-22-23 = 2022-23).
func (p *paymentsParser) Period() (string, error) {
	return "", fmt.Errorf("no financial year in the file name (nhspaymentsgp-YY-YY-...)")
}
