package ingest

import (
	"fmt"
	"strings"
	"time"
)

// English Indices of Deprivation 2019 (MHCLG) by LSOA, and OHID Fingertips
// exports (practice-level IMD 2019 score, QOF prevalences and others).
// IoD files are static: period 2019.

func init() {
	Register(imdRanks)
	Register(imdScores)
	Register(imdDomains)
	Register(imdPopulation)
	Register(fingertips)
}

func staticPeriod(p string) func(*FileContext, time.Time) (string, error) {
	return func(*FileContext, time.Time) (string, error) { return p, nil }
}

var lsoaFields = []Field{
	{Name: "lsoa_code", Type: String, Check: LSOA, Required: true},
	{Name: "lsoa_name", Type: String},
	{Name: "lad_code", Type: String, Upper: true},
	{Name: "lad_name", Type: String},
}

func withLSOA(f ...Field) []Field { return append(append([]Field(nil), lsoaFields...), f...) }

var imdRanks = &Simple{
	Meta: Info{
		Name: "imd_ranks", Title: "IMD 2019 rank and decile by LSOA (File 1)", Cadence: Static,
		Patterns: []string{"File_1_*IMD2019*.csv", "*File_1*.csv"},
		Key:      []string{"lsoa_code"},
		Notes:    "Rank 1 is the most deprived of 32,844 LSOAs; decile 1 the most deprived 10%. Ranks carry thousands separators (\"29,199\").",
	},
	Fields: withLSOA(
		Field{Name: "imd_rank", Type: Int64, Required: true},
		Field{Name: "imd_decile", Type: Int64, Required: true},
	),
	FilePeriod: staticPeriod("2019"),
}

var imdScores = &Simple{
	Meta: Info{
		Name: "imd_scores", Title: "IMD 2019 and domain scores by LSOA (File 5)", Cadence: Static,
		Patterns: []string{"File_5_*Scores*.csv", "*File_5*.csv", "File_7_*.csv"},
		Key:      []string{"lsoa_code"},
		Notes:    "Higher scores are more deprived. The practice IMD score is the LSOA score weighted by the practice's registered patients living there.",
	},
	Fields: withLSOA(
		Field{Name: "imd_score", Type: Float64, Required: true},
		Field{Name: "income_score", Type: Float64, Optional: true},
		Field{Name: "employment_score", Type: Float64, Optional: true},
		Field{Name: "education_score", Type: Float64, Optional: true},
		Field{Name: "health_score", Type: Float64, Optional: true, Negative: true},
		Field{Name: "crime_score", Type: Float64, Optional: true, Negative: true},
		Field{Name: "barriers_score", Type: Float64, Optional: true},
		Field{Name: "living_environment_score", Type: Float64, Optional: true},
	),
	FilePeriod: staticPeriod("2019"),
}

var imdPopulation = &Simple{
	Meta: Info{
		Name: "imd_population", Title: "IoD 2019 population denominators by LSOA (File 6)", Cadence: Static,
		Patterns: []string{"File_6_*.csv", "*File_6*.csv"},
		Key:      []string{"lsoa_code"},
	},
	Fields: withLSOA(
		Field{Name: "population", Type: Int64, Required: true},
		Field{Name: "children_0_15", Type: Int64},
		Field{Name: "aged_16_59", Type: Int64},
		Field{Name: "aged_60_plus", Type: Int64},
		Field{Name: "working_age", Type: Int64, Optional: true},
	),
	FilePeriod: staticPeriod("2019"),
}

// imdDomains reshapes File 2 (rank and decile for each domain) to long rows.
var imdDomains = &domainsSource{}

type domainsSource struct{ info *Info }

func (s *domainsSource) Info() *Info {
	if s.info == nil {
		s.info = &Info{
			Name: "imd_domains", Title: "IoD 2019 domain ranks and deciles by LSOA (File 2), long", Cadence: Static,
			Patterns: []string{"File_2_*.csv", "*File_2*.csv"},
			Key:      []string{"lsoa_code", "domain"},
			// Income's rank column marks File 2; every "<domain> Rank" column becomes a domain row.
			Headings: []Heading{{Name: "lsoa_code", Required: true}, {Name: "lad_code"}, {Name: "domain:income", Required: true}},
			Columns: []Column{{Name: "lsoa_code", Type: String}, {Name: "lad_code", Type: String}, {Name: "domain", Type: String, Doc: "snake_case domain, e.g. income, index_of_multiple_deprivation_imd"},
				{Name: "rank", Type: Int64}, {Name: "decile", Type: Int64}},
		}
	}
	return s.info
}

type domainsParser struct {
	lsoa, lad int
	doms      []struct {
		name         string
		rank, decile int
	}
}

func (s *domainsSource) Begin(fc *FileContext) (Parser, error) {
	p := &domainsParser{lsoa: fc.Col("lsoa_code"), lad: fc.Col("lad_code")}
	const rk, dk = "_rank_where_1_is_most_deprived", "_decile_where_1_is_most_deprived_10_of_lsoas"
	for i, k := range fc.Keys {
		if strings.HasSuffix(k, rk) {
			name := strings.TrimSuffix(k, rk)
			d := fc.Col(name + dk)
			p.doms = append(p.doms, struct {
				name         string
				rank, decile int
			}{name, i, d})
		}
	}
	if len(p.doms) == 0 {
		return nil, fmt.Errorf("no domain rank columns found")
	}
	return p, nil
}

func (p *domainsParser) Record(rec []string, line int, out *Emitter) error {
	code := NormCode(rec[p.lsoa])
	if !ValidLSOA(code) {
		out.Reject("LSOA code (2011)", rec[p.lsoa], "not an LSOA code")
		return nil
	}
	for _, d := range p.doms {
		rank, ok, err := ParseCount(rec[d.rank])
		if err != nil {
			out.Reject(d.name+" rank", rec[d.rank], err.Error())
			return nil
		}
		row := out.Row()
		row.Str(0, code)
		if p.lad >= 0 {
			row.Str(1, NormCode(rec[p.lad]))
		}
		row.Str(2, d.name)
		if ok {
			row.Int(3, rank)
		}
		if d.decile >= 0 {
			if dec, ok, err := ParseCount(rec[d.decile]); err != nil {
				out.Reject(d.name+" decile", rec[d.decile], err.Error())
				return nil
			} else if ok {
				row.Int(4, dec)
			}
		}
		out.Emit()
	}
	return nil
}

func (p *domainsParser) Period() (string, error) { return "2019", nil }

// An export spans many years; its period is the latest time period in it
// ("2023/24" becomes 2023-24), so a later export of the same indicator
// lands beside the earlier one and staging takes the latest.
func fingertipsPeriod(rec []string, cols []int) string {
	tp := strings.TrimSpace(rec[cols[10]])
	if len(tp) >= 7 && tp[4] == '/' {
		return tp[:4] + "-" + tp[5:7]
	}
	if len(tp) >= 4 {
		return tp[:4]
	}
	return tp
}

var fingertips = &Simple{
	Meta: Info{
		Name: "fingertips", Title: "OHID Fingertips indicator export (e.g. 93553 practice IMD 2019 score)", Cadence: Annual,
		Patterns: []string{"indicator-data*.csv", "*fingertips*.csv", "IMD_raw*.csv", "*_qof_prev*.csv"},
		// Fingertips repeats England under each parent it lists, so the
		// parent is part of the key.
		Key:      []string{"indicator_id", "indicator_name", "parent_code", "area_code", "area_type", "sex", "age", "category_type", "category", "time_period"},
		Datasets: true,
		Notes:    "Each export is a dataset keyed by what it holds: its indicator ids, plus the earliest time period when it spans several (93553, 93553_from_2010), in lake/fingertips/dataset=<D>/period=<P>. Period: the latest time period in the export (2023/24 -> 2023-24). Rows with a blank Indicator ID (appended by some re-publishers) are kept with their name.",
	},
	LatestPeriod: fingertipsPeriod,
	DatasetOf: func(rec []string, cols []int) string {
		if cols[0] < 0 {
			return ""
		}
		return strings.TrimSpace(rec[cols[0]])
	},
	Fields: []Field{
		{Name: "indicator_id", Type: Int64, Doc: "blank in some re-published extracts that append a year; the name is kept"},
		{Name: "indicator_name", Type: String, Optional: true},
		{Name: "parent_code", Type: String, Optional: true},
		{Name: "area_code", Type: String, Upper: true, Required: true},
		{Name: "area_name", Type: String, Optional: true},
		{Name: "area_type", Type: String, Optional: true},
		{Name: "sex", Type: String, Optional: true},
		{Name: "age", Type: String, Optional: true},
		{Name: "category_type", Type: String, Optional: true},
		{Name: "category", Type: String, Optional: true},
		{Name: "time_period", Type: String, Required: true},
		{Name: "value", Type: Float64, Flag: true, Negative: true},
		{Name: "lower95", Type: Float64, Optional: true, Negative: true},
		{Name: "upper95", Type: Float64, Optional: true, Negative: true},
		{Name: "lower998", Type: Float64, Optional: true, Negative: true},
		{Name: "upper998", Type: Float64, Optional: true, Negative: true},
		{Name: "count", Type: Float64, Optional: true},
		{Name: "denominator", Type: Float64, Optional: true},
		{Name: "value_note", Type: String, Optional: true},
		{Name: "is_area_current", Type: Bool, Optional: true},
	},
}
