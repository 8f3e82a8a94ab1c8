package ingest

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// General Practice Workforce, practice level (NHS Digital): hundreds of
// columns of headcount (_HC) and full-time equivalent (_FTE) by staff group
// and role, reshaped to one long row per practice, role and measure. Annual
// (September) 2015-2020, quarterly to June 2021, monthly since.

func init() { Register(workforce) }

// workforceAttrs are the practice attributes repeated on every role row;
// their headings across the years are in data/header_aliases.csv.
var workforceAttrs = []string{"practice_code", "practice_name", "sub_icb_code", "sub_icb_name", "icb_code", "icb_name",
	"region_code", "region_name", "pcn_code", "pcn_name"}

var workforce = &workforceSource{}

type workforceSource struct{ info *Info }

func (s *workforceSource) Info() *Info {
	if s.info != nil {
		return s.info
	}
	var cols []Column
	var heads []Heading
	for _, a := range workforceAttrs {
		cols = append(cols, Column{Name: a, Type: String})
		heads = append(heads, Heading{Name: a, Required: a == "practice_code"})
	}
	// The GP headcount column marks a workforce file; every _HC/_FTE column becomes a role row.
	heads = append(heads, Heading{Name: "total_patients"}, Heading{Name: "role:GP", Required: true})
	cols = append(cols,
		Column{Name: "total_patients", Type: Int64, Doc: "registered patients (TOTAL_PATIENTS)"},
		Column{Name: "staff_group", Type: String, Doc: "GP, NURSE, DPC (direct patient care), ADMIN"},
		Column{Name: "role", Type: String, Doc: "the column stem, e.g. GP_EXTGL (fully qualified GPs excl. trainees and locums), N_PRAC_NURSE; the group total is e.g. GP"},
		Column{Name: "measure", Type: String, Doc: "HC (headcount) or FTE"},
		Column{Name: "value", Type: Float64},
		Column{Name: "value_suppressed", Type: Bool, Doc: "true where the cell was blank or not collected (ND)"},
	)
	s.info = &Info{
		Name: "workforce", Title: "General Practice Workforce, practice level (wide HC/FTE, reshaped long)", Cadence: Monthly,
		Patterns: []string{"*Practice Level*Detailed*.csv", "*Practice Level*.csv", "GPW*Practice*.csv"},
		Key:      []string{"practice_code", "role", "measure"},
		Columns:  cols,
		Headings: heads,
		Notes:    "Period from the month and year in the file name (\"... September 2023 Practice Level ...\") or a YYYY-MM folder.",
	}
	return s.info
}

type wfCol struct {
	col                  int
	group, role, measure string
}

type workforceParser struct {
	fc       *FileContext
	attr     []int
	patients int
	cols     []wfCol
}

func (s *workforceSource) Begin(fc *FileContext) (Parser, error) {
	p := &workforceParser{fc: fc, patients: fc.Col("total_patients")}
	for _, a := range workforceAttrs {
		p.attr = append(p.attr, fc.Col(a))
	}
	if p.attr[0] < 0 {
		return nil, fmt.Errorf("missing column %q", "PRAC_CODE")
	}
	for i, k := range fc.Keys {
		var measure string
		switch {
		case strings.HasSuffix(k, "_hc"):
			measure = "HC"
		case strings.HasSuffix(k, "_fte"):
			measure = "FTE"
		default:
			continue
		}
		stem := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(k, "_hc"), "_fte"))
		role := strings.TrimPrefix(stem, "TOTAL_")
		p.cols = append(p.cols, wfCol{col: i, group: staffGroup(role), role: role, measure: measure})
	}
	if len(p.cols) == 0 {
		return nil, fmt.Errorf("no _HC or _FTE columns")
	}
	return p, nil
}

func staffGroup(role string) string {
	switch {
	case strings.HasPrefix(role, "GP"):
		return "GP"
	case strings.HasPrefix(role, "NURSE"), strings.HasPrefix(role, "N_"):
		return "NURSE"
	case strings.HasPrefix(role, "DPC"):
		return "DPC"
	case strings.HasPrefix(role, "ADMIN"):
		return "ADMIN"
	}
	return "OTHER"
}

func (p *workforceParser) Record(rec []string, line int, out *Emitter) error {
	code := NormCode(rec[p.attr[0]])
	if code == "" || strings.HasPrefix(code, "TOTAL") || code == "ENGLAND" {
		out.Skip("total or blank practice row")
		return nil
	}
	if !ValidOrg(code) {
		out.Reject(p.fc.Header[p.attr[0]], rec[p.attr[0]], "not an ODS practice code")
		return nil
	}
	var patients int64
	hasPatients := false
	if p.patients >= 0 {
		v, ok, err := ParseCount(rec[p.patients])
		if err != nil {
			out.Reject(p.fc.Header[p.patients], rec[p.patients], err.Error())
			return nil
		}
		patients, hasPatients = v, ok
	}
	for _, c := range p.cols {
		raw := rec[c.col]
		v, ok, err := ParseNumber(raw)
		if err != nil {
			out.Reject(p.fc.Header[c.col], raw, "not a number")
			return nil
		}
		if v < 0 {
			out.Reject(p.fc.Header[c.col], raw, "negative staff count")
			return nil
		}
		row := out.Row()
		for i, a := range p.attr {
			if a >= 0 {
				val := strings.TrimSpace(rec[a])
				if i == 0 {
					val = code
				} else if strings.HasSuffix(workforceAttrs[i], "_code") {
					val = NormCode(val)
				}
				if val != "" {
					row.Str(i, val)
				}
			}
		}
		n := len(workforceAttrs)
		if hasPatients {
			row.Int(n, patients)
		}
		row.Str(n+1, c.group)
		row.Str(n+2, c.role)
		row.Str(n+3, c.measure)
		if ok {
			row.Float(n+4, v)
		}
		row.Bool(n+5, !ok)
		out.Emit()
	}
	return nil
}

var monthNameRE = regexp.MustCompile(`(?i)(january|february|march|april|may|june|july|august|september|october|november|december)[ _-]*(20[0-9]{2})`)

// monthFromName reads "September 2023" in a file name as 2023-09.
func monthFromName(name string) (string, bool) {
	m := monthNameRE.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	t, err := time.Parse("January 2006", strings.ToUpper(m[1][:1])+strings.ToLower(m[1][1:])+" "+m[2])
	if err != nil {
		return "", false
	}
	return monthOf(t), true
}

func (p *workforceParser) Period() (string, error) {
	if m, ok := monthFromName(p.fc.Name); ok {
		return m, nil
	}
	// Else the caller falls back to a YYYY-MM folder.
	return "", fmt.Errorf("no month in the file name (\"... September 2023 Practice Level ...\")")
}
