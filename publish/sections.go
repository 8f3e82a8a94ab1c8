package publish

import (
	"embed"
	"fmt"
	"strings"

	"github.com/gplens/gplens/period"
)

// A pack section is one SQL query over the marts (publish/sections/<name>.sql)
// computed by DuckDB for every pack of a level at once: its first column is
// pack_area (the pack's area code) and the rows come ordered by it, so one
// pass streams every pack's rows in turn. The Go side is a render spec: the
// columns with their feed type, precision, disclosure control and meaning.
// Each section becomes feeds/<name>.csv and .parquet (and a data-dictionary
// block); a Sheet spec adds a long sheet to the workbook as well.
//
// To add a section: write sections/<name>.sql (placeholders below; the
// columns after pack_area in the order of Columns), append a Section to
// sections, and give it a Sheet if the workbook should show it.
//
// Placeholders, filled in before the query runs (values are validated or
// quoted, never raw user input):
//
//	{{schema}}          the schema read (Options.Schema: marts, or release)
//	{{members}}         every area each pack shows (sections/members.sql)
//	{{chosen}}          (indicator_id, period): the period shown per indicator
//	{{chosen_periods}}  the distinct periods of chosen, as an IN list: ('2023-24', '2024-04')
//	{{level}}           the level of the packs, quoted
//	{{period}}          the pack month, quoted
//	{{practice_period}} the practice-dimension month used, quoted
//	{{trend_start}}     the month before the 24-month trend window, quoted
//	{{area_filter}}     AND pack_area IN (...) when --area limits the packs
//	{{deepest}}         the lowest level the packs list (Options.ListDownTo), quoted
//
//go:embed sections/*.sql
var sectionFS embed.FS

// Column types in feeds (DuckDB names, as the data dictionary states).
const (
	tVarchar = "VARCHAR"
	tDouble  = "DOUBLE"
	tBigint  = "BIGINT"
	tInteger = "INTEGER"
	tBool    = "BOOLEAN"
)

// Precision of a DOUBLE column: a fixed number of decimals (0..), or taken
// from the row's indicator unit (data/publish_precision.csv).
const (
	dpValue       = -1 // the unit's value_dp: values, limits, comparators
	dpNumerator   = -2 // the unit's numerator_dp: counts, pounds, FTE
	dpDenominator = -3 // the unit's denominator_dp: patients, weighted patients
	dpAsIs        = -9 // not rounded (identifiers only; no DOUBLE uses it)
)

// Column is one column of a section.
type Column struct {
	Name string
	Type string
	// DP: decimals for DOUBLE columns (see dpValue...).
	DP int
	// SDC: withheld with its row by disclosure control (the release
	// schema's flags, read into the section's hidden withheld column):
	// published as NULL with <name>_suppressed = true and the row's
	// suppression_reason.
	SDC bool
	// Hidden columns are read for rendering and disclosure control only.
	Hidden bool
	Desc   string
}

// Sheet is a long workbook sheet drawn from a section.
type Sheet struct {
	Name, About string
	// Domains keeps only rows whose indicator is of these domains (empty:
	// every row); the sheet's period is theirs.
	Domains []string
	// Cols are the columns shown, by section column name, with headers.
	Cols []SheetCol
}

// SheetCol is one workbook column: the section column, its header and width.
type SheetCol struct {
	Col, Head string
	Width     float64
}

// Section is one pack section: a query and its render spec.
type Section struct {
	Name    string
	Columns []Column
	// Sheets drawn from the section (none: feed only).
	Sheets []Sheet
	// Optional sections may be missing from the schema (the query is
	// skipped when its table, or any of its space-separated tables, is
	// absent).
	Optional string
	// colIdx maps a column name to its index (built in init: col runs
	// for every cell a pack writes).
	colIdx map[string]int
}

func init() {
	for _, s := range sections {
		s.colIdx = make(map[string]int, len(s.Columns))
		for i, c := range s.Columns {
			if _, dup := s.colIdx[c.Name]; !dup {
				s.colIdx[c.Name] = i
			}
		}
	}
}

func (s *Section) sql() (string, error) {
	b, err := sectionFS.ReadFile("sections/" + s.Name + ".sql")
	if err != nil {
		return "", fmt.Errorf("section %s: %w", s.Name, err)
	}
	return string(b), nil
}

func (s *Section) col(name string) int {
	if s.colIdx != nil {
		if i, ok := s.colIdx[name]; ok {
			return i
		}
		return -1
	}
	for i, c := range s.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// published lists the feed columns: every visible column, each withheld
// one followed by its flag, and suppression_reason when any can be withheld.
func (s *Section) published() []Column { return s.columnsOf(feedCols(s)) }

// columnsOf is the published column of each of fcs (feedCols' layout).
func (s *Section) columnsOf(fcs []feedCol) []Column {
	out := make([]Column, 0, len(fcs))
	for _, fc := range fcs {
		switch {
		case fc.ci < 0:
			out = append(out, Column{Name: "suppression_reason", Type: tVarchar,
				Desc: "Why withheld: primary (a count 1..min_count-1), secondary (protects a withheld cell), decile withheld (inequality: computed from a withheld decile), upstream (the models); empty when shown"})
		case fc.flag:
			c := s.Columns[fc.ci]
			out = append(out, Column{Name: c.Name + "_suppressed", Type: tBool,
				Desc: "True when disclosure control withheld " + c.Name + " (then NULL)"})
		default:
			out = append(out, s.Columns[fc.ci])
		}
	}
	return out
}

// feedCol is one published column of a feed: section column ci, or the
// _suppressed flag of an SDC column (flag), or suppression_reason (ci -1).
type feedCol struct {
	ci   int
	flag bool
}

// feedCols lays out a section's published columns: each shown column,
// followed by its _suppressed flag when disclosure control may withhold
// it, and suppression_reason last when any may.
func feedCols(s *Section) []feedCol {
	var out []feedCol
	sdc := false
	for ci, c := range s.Columns {
		if c.Hidden {
			continue
		}
		out = append(out, feedCol{ci: ci})
		if c.SDC {
			sdc = true
			out = append(out, feedCol{ci: ci, flag: true})
		}
	}
	if sdc {
		out = append(out, feedCol{ci: -1})
	}
	return out
}

var iv = []Column{
	{Name: "indicator_id", Type: tVarchar, Desc: "Indicator identifier (feed indicators)"},
	{Name: "period", Type: tVarchar, Desc: "Period of the value: YYYY-MM (monthly) or YYYY-YY (financial year)"},
	{Name: "area_level", Type: tVarchar, Desc: "england, region, icb, sub_icb, pcn or practice"},
	{Name: "area_code", Type: tVarchar, Desc: "ODS code of the area (practice code at practice level)"},
	{Name: "area_name", Type: tVarchar, Desc: "Area name"},
	{Name: "practice_code", Type: tVarchar, Desc: "Practice ODS code; empty unless practice level"},
	{Name: "pcn_code", Type: tVarchar, Desc: "Primary care network code"},
	{Name: "sub_icb_code", Type: tVarchar, Desc: "Sub-ICB location code"},
	{Name: "icb_code", Type: tVarchar, Desc: "Integrated care board code"},
	{Name: "region_code", Type: tVarchar, Desc: "NHS England region code"},
	{Name: "numerator", Type: tDouble, DP: dpNumerator, SDC: true, Desc: "Numerator (count; pounds or FTE for value indicators)"},
	{Name: "denominator", Type: tDouble, DP: dpDenominator, Desc: "Denominator (population or eligible patients)"},
	{Name: "value", Type: tDouble, DP: dpValue, SDC: true, Desc: "Value in the indicator's unit (85.2 means 85.2%)"},
	{Name: "lower95", Type: tDouble, DP: dpValue, SDC: true, Desc: "Lower 95% confidence limit"},
	{Name: "upper95", Type: tDouble, DP: dpValue, SDC: true, Desc: "Upper 95% confidence limit"},
	{Name: "lower998", Type: tDouble, DP: dpValue, SDC: true, Desc: "Lower 99.8% confidence limit"},
	{Name: "upper998", Type: tDouble, DP: dpValue, SDC: true, Desc: "Upper 99.8% confidence limit"},
	{Name: "england_value", Type: tDouble, DP: dpValue, Desc: "England value of the indicator"},
	{Name: "icb_value", Type: tDouble, DP: dpValue, Desc: "Value of the row's ICB"},
	{Name: "sub_icb_value", Type: tDouble, DP: dpValue, Desc: "Value of the row's sub-ICB"},
	{Name: "comparison", Type: tVarchar, SDC: true, Desc: "Comparison with England by confidence interval, read with polarity (better/worse/similar/higher/lower, significantly ..., not compared)"},
	{Name: "funnel_significance", Type: tVarchar, SDC: true, Desc: "Funnel plot position: Low/High (0.025 = outside 95%, 0.001 = outside 99.8%) or Not significant"},
	{Name: "funnel_significance_od", Type: tVarchar, SDC: true, Desc: "Funnel position with overdispersion-adjusted limits"},
	{Name: "funnel_lower95", Type: tDouble, DP: dpValue, Desc: "Funnel 95% lower limit at this denominator (England value and denominator only)"},
	{Name: "funnel_upper95", Type: tDouble, DP: dpValue, Desc: "Funnel 95% upper limit at this denominator"},
	{Name: "funnel_lower998", Type: tDouble, DP: dpValue, Desc: "Funnel 99.8% lower limit at this denominator"},
	{Name: "funnel_upper998", Type: tDouble, DP: dpValue, Desc: "Funnel 99.8% upper limit at this denominator"},
	{Name: "imd_decile", Type: tInteger, Desc: "National IMD 2019 decile of the practice (1 = most deprived)"},
	{Name: "peer_mean", Type: tDouble, DP: dpValue, Desc: "Pooled value of the practice's similar practices (its nearest practices in England, 10 by default, by deprivation, list size, age structure, rurality, dispensing and weighted/registered ratio; marts.peers): their summed numerators over their summed denominators, published ones only; practices only, empty for a practice not compared"},
	{Name: "opportunity", Type: tDouble, DP: dpNumerator, SDC: true, Desc: "What the practice would gain at its similar practices' rate (peer_mean), in numerator units (patients, referrals): peer rate x denominator - numerator where higher is better (the reverse where lower is better), 0 when not behind; empty without a polarity and for payments and FTE"},
	{Name: "dq_flag", Type: tVarchar, Desc: "Data-quality note, e.g. numerator exceeds denominator"},
	withheldCol,
}

// withheldCol is the last column of every section with SDC columns: why
// the row is withheld (the release flags' suppression_reason; upstream when
// the models withheld it without one), NULL when shown. Disclosure control
// is the warehouse's (sql/disclosure, sql/release); publish only follows it.
var withheldCol = Column{Name: "withheld", Type: tVarchar, Hidden: true}

// domainSheet is one workbook sheet of indicator values.
func domainSheet(name, about string, domains ...string) Sheet {
	return Sheet{Name: name, About: about, Domains: domains, Cols: []SheetCol{
		{"indicator_id", "Indicator", 18}, {"indicator_name", "Indicator name", 40}, {"period", "Period", 9},
		{"area_level", "Area level", 10}, {"area_code", "Area code", 10}, {"area_name", "Area name", 30},
		{"numerator", "Numerator", 11}, {"denominator", "Denominator", 11}, {"value", "Value", 10}, {"unit", "Unit", 12},
		{"lower95", "Lower 95%", 10}, {"upper95", "Upper 95%", 10}, {"england_value", "England", 10},
		{"comparison", "Compared with England", 22}, {"funnel_significance", "Funnel plot", 16}, {"dq_flag", "Data quality", 20},
	}}
}

// sections in feed order. packs.sql and members.sql are not sections.
var sections = []*Section{
	{Name: "indicators", Columns: []Column{
		{Name: "indicator_id", Type: tVarchar, Desc: "Indicator identifier (core.indicators)"},
		{Name: "indicator_name", Type: tVarchar, Desc: "Indicator name"},
		{Name: "domain", Type: tVarchar, Desc: "qof, prevalence, investment, workforce or referrals"},
		{Name: "source", Type: tVarchar, Desc: "Source dataset"},
		{Name: "statistic", Type: tVarchar, Desc: "proportion, rate, ratio or value"},
		{Name: "unit", Type: tVarchar, Desc: "Unit of value, e.g. %, per 1,000"},
		{Name: "multiplier", Type: tDouble, DP: 0, Desc: "Multiplier of the statistic (100 for %)"},
		{Name: "polarity", Type: tVarchar, Desc: "higher_is_better, lower_is_better or no_judgement"},
		{Name: "cadence", Type: tVarchar, Desc: "monthly or annual"},
		{Name: "public", Type: tBool, Desc: "False when disclosure control applies"},
		{Name: "period", Type: tVarchar, Desc: "The period this pack shows"},
		{Name: "description", Type: tVarchar, Desc: "What the indicator measures"},
	}},
	{Name: "indicator_values", Columns: iv, Sheets: []Sheet{
		domainSheet("QOF", "Quality and Outcomes Framework achievement and prevalence, by practice", "qof", "prevalence"),
		domainSheet("Investment", "NHS payments to general practice per patient, by practice", "investment"),
		domainSheet("Workforce", "GP, nurse, direct patient care and admin staff per 10,000 patients, by practice", "workforce"),
		domainSheet("Referrals", "Outpatient referral rates, by practice (disclosure control applied)", "referrals"),
	}},
	{Name: "inequality", Optional: "inequality", Columns: []Column{
		{Name: "indicator_id", Type: tVarchar, Desc: "Indicator identifier"},
		{Name: "period", Type: tVarchar, Desc: "Period of the indicator"},
		{Name: "area_level", Type: tVarchar, Desc: "Level of the area"},
		{Name: "area_code", Type: tVarchar, Desc: "Area code"},
		{Name: "area_name", Type: tVarchar, Desc: "Area name"},
		{Name: "sii", Type: tDouble, SDC: true, DP: dpValue, Desc: "Slope index of inequality (least minus most deprived, in the indicator's unit)"},
		{Name: "sii_lower", Type: tDouble, SDC: true, DP: dpValue, Desc: "SII lower 95% limit (simulation)"},
		{Name: "sii_upper", Type: tDouble, SDC: true, DP: dpValue, Desc: "SII upper 95% limit (simulation)"},
		{Name: "rii", Type: tDouble, SDC: true, DP: 3, Desc: "Relative index of inequality"},
		{Name: "rii_lower", Type: tDouble, SDC: true, DP: 3, Desc: "RII lower 95% limit"},
		{Name: "rii_upper", Type: tDouble, SDC: true, DP: 3, Desc: "RII upper 95% limit"},
		{Name: "q1_value", Type: tDouble, SDC: true, DP: dpValue, Desc: "Value in the most deprived quintile"},
		{Name: "q5_value", Type: tDouble, SDC: true, DP: dpValue, Desc: "Value in the least deprived quintile"},
		{Name: "quintile_gap", Type: tDouble, SDC: true, DP: dpValue, Desc: "Gap between quintiles 1 and 5"},
		{Name: "quintile_ratio", Type: tDouble, SDC: true, DP: 3, Desc: "Ratio of quintile 1 to quintile 5"},
		withheldCol,
	}, Sheets: []Sheet{{Name: "Inequality", About: "Slope and relative index of inequality by deprivation", Cols: []SheetCol{
		{"indicator_id", "Indicator", 18}, {"period", "Period", 9}, {"area_level", "Area level", 10}, {"area_code", "Area code", 10},
		{"area_name", "Area name", 30}, {"sii", "SII", 10}, {"sii_lower", "SII lower 95%", 10}, {"sii_upper", "SII upper 95%", 10},
		{"rii", "RII", 10}, {"rii_lower", "RII lower 95%", 10}, {"rii_upper", "RII upper 95%", 10},
		{"q1_value", "Most deprived quintile", 12}, {"q5_value", "Least deprived quintile", 12}, {"quintile_gap", "Quintile gap", 10},
		{"quintile_ratio", "Quintile ratio", 10}}}}},
	{Name: "inequality_deciles", Optional: "inequality_deciles", Columns: []Column{
		{Name: "indicator_id", Type: tVarchar, Desc: "Indicator identifier"},
		{Name: "period", Type: tVarchar, Desc: "Period of the indicator"},
		{Name: "area_level", Type: tVarchar, Desc: "Level of the area"},
		{Name: "area_code", Type: tVarchar, Desc: "Area code"},
		{Name: "imd_decile", Type: tInteger, Desc: "Practice IMD decile (1 = most deprived)"},
		{Name: "numerator", Type: tDouble, DP: dpNumerator, SDC: true, Desc: "Numerator summed over the decile's practices"},
		{Name: "denominator", Type: tDouble, DP: dpDenominator, Desc: "Denominator summed over the decile's practices"},
		{Name: "value", Type: tDouble, DP: dpValue, SDC: true, Desc: "Value for the decile"},
		{Name: "lower95", Type: tDouble, DP: dpValue, SDC: true, Desc: "Lower 95% limit"},
		{Name: "upper95", Type: tDouble, DP: dpValue, SDC: true, Desc: "Upper 95% limit"},
		{Name: "practices", Type: tInteger, Desc: "Practices in the decile"},
		withheldCol,
	}, Sheets: []Sheet{{Name: "Deprivation deciles", About: "Values by practice deprivation decile (1 = most deprived)", Cols: []SheetCol{
		{"indicator_id", "Indicator", 18}, {"period", "Period", 9}, {"area_level", "Area level", 10}, {"area_code", "Area code", 10},
		{"imd_decile", "IMD decile", 8}, {"numerator", "Numerator", 11}, {"denominator", "Denominator", 11}, {"value", "Value", 10},
		{"lower95", "Lower 95%", 10}, {"upper95", "Upper 95%", 10}, {"practices", "Practices", 9}}}}},
	{Name: "trends", Optional: "trends", Columns: []Column{
		{Name: "indicator_id", Type: tVarchar, Desc: "Indicator identifier (list_size: registered patients)"},
		{Name: "area_level", Type: tVarchar, Desc: "Level of the area"},
		{Name: "area_code", Type: tVarchar, Desc: "Area code"},
		{Name: "area_name", Type: tVarchar, Desc: "Area name"},
		{Name: "practice_code", Type: tVarchar, Desc: "Practice code at practice level"},
		{Name: "period", Type: tVarchar, Desc: "Month, YYYY-MM"},
		{Name: "month", Type: tVarchar, Desc: "First day of the month, YYYY-MM-DD"},
		{Name: "value", Type: tDouble, DP: dpValue, SDC: true, Desc: "Value in the month"},
		{Name: "mean", Type: tDouble, DP: dpValue, Desc: "SPC centre line"},
		{Name: "lpl", Type: tDouble, DP: dpValue, Desc: "SPC lower process limit"},
		{Name: "upl", Type: tDouble, DP: dpValue, Desc: "SPC upper process limit"},
		{Name: "near_lpl", Type: tDouble, DP: dpValue, Desc: "Two-sigma lower limit"},
		{Name: "near_upl", Type: tDouble, DP: dpValue, Desc: "Two-sigma upper limit"},
		{Name: "point_type", Type: tVarchar, SDC: true, Desc: "common_cause, special_cause_improvement, special_cause_concern, special_cause_neutral_high/low"},
		{Name: "variation_icon", Type: tVarchar, Desc: "Making Data Count variation icon (last point of a series only)"},
		withheldCol,
	}},
	{Name: "summary", Optional: "area_summary", Columns: []Column{
		{Name: "area_level", Type: tVarchar, Desc: "Level of the area"},
		{Name: "area_code", Type: tVarchar, Desc: "Area code"},
		{Name: "area_name", Type: tVarchar, Desc: "Area name"},
		{Name: "measure", Type: tVarchar, Desc: "Headline measure: practices, list_size, weighted_list_size, imd_score, total_payments, qof_points_per_practice, referrals, or an indicator id"},
		{Name: "indicator_id", Type: tVarchar, Desc: "The indicator the measure comes from (empty for practice-dimension measures)"},
		{Name: "period", Type: tVarchar, Desc: "Period of the figure: the latest available at the pack's month"},
		{Name: "value", Type: tDouble, DP: dpValue, SDC: true, Desc: "The figure (precision by measure, see publish_precision.csv)"},
		withheldCol,
	}},
	{Name: "investment_need", Optional: "investment_need inverse_care peers", Columns: []Column{
		{Name: "part", Type: tVarchar, Desc: "quintile (value per need-weighted patient by deprivation quintile, England and the area) or practice (fair-share gap of each of the area's practices within the area, and its similar practices' value)"},
		{Name: "period", Type: tVarchar, Desc: "Financial year, YYYY-YY: the latest available at the pack's month"},
		{Name: "measure", Type: tVarchar, Desc: "payments (Total NHS Payments to General Practice), gp_fte or clinical_fte"},
		{Name: "unit", Type: tVarchar, Desc: "Unit of the measure's totals and gaps (£ or FTE)"},
		{Name: "area_level", Type: tVarchar, Desc: "Level of the area (practice in part practice)"},
		{Name: "area_code", Type: tVarchar, Desc: "Area code (practice code in part practice)"},
		{Name: "area_name", Type: tVarchar, Desc: "Area name"},
		{Name: "imd_quintile", Type: tInteger, Desc: "National IMD 2019 quintile: of the group (part quintile) or of the practice (1 = most deprived)"},
		{Name: "within_level", Type: tVarchar, Desc: "Level of the area the fair share is taken within (the pack's level; part practice)"},
		{Name: "within_code", Type: tVarchar, Desc: "Code of the area the fair share is taken within (the pack's area; part practice)"},
		{Name: "practices", Type: tInteger, Desc: "Practices in the row (part quintile: the compared practices of the quintile)"},
		{Name: "need_patients", Type: tDouble, DP: 1, Desc: "Need-weighted patients: Carr-Hill weighted list x (1 + g x (5 - IMD quintile) / 4), g the need gradient (data/investment_settings.csv, 0.33 by default), rescaled so England's equal its weighted list"},
		{Name: "per_need_patient", Type: tDouble, DP: 2, Desc: "£ per need-weighted patient (payments) or FTE per 10,000 need-weighted patients"},
		{Name: "lower95", Type: tDouble, DP: 2, Desc: "Lower 95% limit of per_need_patient (part quintile: the ratio estimator's standard error over the group's practices)"},
		{Name: "upper95", Type: tDouble, DP: 2, Desc: "Upper 95% limit of per_need_patient (part quintile)"},
		{Name: "need_index", Type: tDouble, DP: 3, Desc: "Need-weighted patients per registered patient relative to England (1 = average; part practice)"},
		{Name: "fair_share_gap", Type: tDouble, DP: 2, Desc: "Fair-share gap within the area (part practice): actual minus the need-predicted share, expected = the compared practices' total x the practice's need-weighted patients / their need-weighted patients, in unit; negative: below its fair share; the gaps of an area's compared practices add up to 0; empty for a practice not compared"},
		{Name: "fair_share_gap_lower", Type: tDouble, DP: 2, Desc: "Lower end of the gap's model interval: the smallest of the gaps with the deprivation gradient at need_gradient_low (0 by default: the Carr-Hill list alone), need_gradient and need_gradient_high (0.66 by default); a sensitivity, not a sampling, interval"},
		{Name: "fair_share_gap_upper", Type: tDouble, DP: 2, Desc: "Upper end of the gap's model interval: the largest of those gaps"},
		{Name: "fair_share_gap_pct", Type: tDouble, DP: 2, Desc: "Fair-share gap as % of the fair share (expected)"},
		{Name: "peer_practices", Type: tInteger, Desc: "Similar practices (marts.peers: the practice's nearest practices in England, 10 by default, by deprivation, list size, age structure, rurality, dispensing and weighted/registered ratio) compared for the measure in the year (part practice)"},
		{Name: "peer_per_need_patient", Type: tDouble, DP: 2, Desc: "The similar practices' pooled value: their summed measure over their summed need-weighted patients, per need-weighted patient (£) or per 10,000 (FTE)"},
		{Name: "peer_gap", Type: tDouble, DP: 2, Desc: "Actual minus what the practice would have at its similar practices' rate for its need-weighted patients, in unit (negative: less than its peers)"},
		{Name: "in_comparisons", Type: tBool, Desc: "False for a practice not compared (not open all year, or lists outside data/plausibility.csv): counted in the area's totals, no fair share or peer figures"},
		{Name: "dq_flag", Type: tVarchar, Desc: "Why a practice is not compared, e.g. fewer than 1000 registered patients"},
	}, Sheets: []Sheet{{Name: "Investment and need", About: "Funding per need-weighted patient by deprivation quintile, and the fair-share gaps of the area's practices", Cols: []SheetCol{
		{"part", "Part", 9}, {"period", "Period", 9}, {"measure", "Measure", 12}, {"unit", "Unit", 6},
		{"area_level", "Area level", 10}, {"area_code", "Area code", 10}, {"area_name", "Area name", 30},
		{"imd_quintile", "IMD quintile", 8}, {"practices", "Practices", 9}, {"need_patients", "Need-weighted patients", 12},
		{"per_need_patient", "Per need-weighted patient", 12}, {"lower95", "Lower 95%", 10}, {"upper95", "Upper 95%", 10},
		{"need_index", "Need index", 9}, {"fair_share_gap", "Fair-share gap", 12}, {"fair_share_gap_lower", "Gap lower", 12},
		{"fair_share_gap_upper", "Gap upper", 12}, {"fair_share_gap_pct", "Gap %", 8}, {"peer_practices", "Similar practices", 9},
		{"peer_per_need_patient", "Similar practices' value", 12}, {"peer_gap", "Gap to similar practices", 12}, {"dq_flag", "Not compared because", 24}}}}},
	{Name: "practices", Columns: []Column{
		{Name: "practice_code", Type: tVarchar, Desc: "Practice ODS code"},
		{Name: "practice_name", Type: tVarchar, Desc: "Practice name"},
		{Name: "postcode", Type: tVarchar, Desc: "Practice postcode"},
		{Name: "pcn_code", Type: tVarchar, Desc: "Primary care network code"},
		{Name: "pcn_name", Type: tVarchar, Desc: "Primary care network name"},
		{Name: "sub_icb_code", Type: tVarchar, Desc: "Sub-ICB location code"},
		{Name: "sub_icb_name", Type: tVarchar, Desc: "Sub-ICB location name"},
		{Name: "icb_code", Type: tVarchar, Desc: "ICB code"},
		{Name: "icb_name", Type: tVarchar, Desc: "ICB name"},
		{Name: "region_code", Type: tVarchar, Desc: "Region code"},
		{Name: "region_name", Type: tVarchar, Desc: "Region name"},
		{Name: "status", Type: tVarchar, Desc: "active, closed, dormant or proposed"},
		{Name: "open_date", Type: tVarchar, Desc: "Open date, YYYY-MM-DD"},
		{Name: "close_date", Type: tVarchar, Desc: "Close date, YYYY-MM-DD"},
		{Name: "list_size", Type: tBigint, Desc: "Registered patients"},
		{Name: "weighted_list_size", Type: tDouble, DP: 1, Desc: "Weighted (Carr-Hill) list size"},
		{Name: "imd_score", Type: tDouble, DP: 2, Desc: "IMD 2019 score of the practice population"},
		{Name: "imd_decile", Type: tInteger, Desc: "National IMD decile (1 = most deprived)"},
		{Name: "imd_quintile", Type: tInteger, Desc: "National IMD quintile (1 = most deprived)"},
	}},
}

func sectionByName(name string) *Section {
	for _, s := range sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// render fills a section's placeholders for one level.
func (q *queryEnv) render(text string) string {
	trendStart, _ := period.AddMonths(q.period, -24) // q.period is a month (Options.normalise)
	r := strings.NewReplacer(
		"{{members}}", q.members,
		"{{schema}}", q.schema,
		"{{chosen_periods}}", q.chosenPeriods,
		"{{chosen}}", q.chosen,
		"{{level}}", sqlQuote(q.level),
		"{{period}}", sqlQuote(q.period),
		"{{practice_period}}", sqlQuote(q.practicePeriod),
		"{{trend_start}}", sqlQuote(trendStart),
		"{{area_filter}}", q.areaFilter,
		"{{deepest}}", sqlQuote(q.deepest),
	)
	// members itself holds placeholders: fill twice
	return r.Replace(r.Replace(text))
}

// queryEnv is what the section queries of one level are filled with.
type queryEnv struct {
	schema, level, period, practicePeriod string
	members, chosen, areaFilter           string
	// chosenPeriods lists chosen's periods: a filter on the big tables'
	// period column lets DuckDB skip row groups of other periods alone.
	chosenPeriods string
	// deepest is the lowest level the packs list area by area
	// (Options.ListDownTo).
	deepest string
}
