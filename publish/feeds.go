package publish

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// The feeds are long, tidy tables with stable column names and types. Each
// is a struct: the parquet tag names the column, desc describes it for the
// data dictionary, and sdc marks columns withheld (shown '*' in CSV, NULL in
// Parquet) when the row's suppressed flag is set.

type valueFeed struct {
	IndicatorID    string   `parquet:"indicator_id" desc:"Indicator identifier (core.indicators)"`
	IndicatorName  string   `parquet:"indicator_name" desc:"Indicator name"`
	Domain         string   `parquet:"domain" desc:"qof, prevalence, investment, workforce or referrals"`
	Unit           string   `parquet:"unit" desc:"Unit of value, e.g. %, per 1,000"`
	Polarity       string   `parquet:"polarity" desc:"higher_is_better, lower_is_better or no_judgement"`
	Period         string   `parquet:"period" desc:"Period of the value: YYYY-MM (monthly) or YYYY-YY (financial year)"`
	AreaLevel      string   `parquet:"area_level" desc:"england, region, icb, sub_icb, pcn or practice"`
	AreaCode       string   `parquet:"area_code" desc:"ODS code of the area (practice code at practice level)"`
	AreaName       string   `parquet:"area_name" desc:"Area name"`
	PracticeCode   *string  `parquet:"practice_code,optional" desc:"Practice ODS code; empty unless practice level"`
	PCNCode        *string  `parquet:"pcn_code,optional" desc:"Primary care network code"`
	SubICBCode     *string  `parquet:"sub_icb_code,optional" desc:"Sub-ICB location code"`
	ICBCode        *string  `parquet:"icb_code,optional" desc:"Integrated care board code"`
	RegionCode     *string  `parquet:"region_code,optional" desc:"NHS England region code"`
	Numerator      *float64 `parquet:"numerator,optional" sdc:"1" desc:"Numerator (count); withheld when suppressed"`
	Denominator    *float64 `parquet:"denominator,optional" desc:"Denominator (population or eligible patients)"`
	Value          *float64 `parquet:"value,optional" sdc:"1" desc:"Value in the indicator's unit (85.2 means 85.2%)"`
	Lower95        *float64 `parquet:"lower95,optional" sdc:"1" desc:"Lower 95% confidence limit"`
	Upper95        *float64 `parquet:"upper95,optional" sdc:"1" desc:"Upper 95% confidence limit"`
	Lower998       *float64 `parquet:"lower998,optional" sdc:"1" desc:"Lower 99.8% confidence limit"`
	Upper998       *float64 `parquet:"upper998,optional" sdc:"1" desc:"Upper 99.8% confidence limit"`
	EnglandValue   *float64 `parquet:"england_value,optional" desc:"England value of the indicator"`
	ICBValue       *float64 `parquet:"icb_value,optional" desc:"Value of the row's ICB"`
	SubICBValue    *float64 `parquet:"sub_icb_value,optional" desc:"Value of the row's sub-ICB"`
	Comparison     string   `parquet:"comparison" desc:"Comparison with England by confidence interval, read with polarity (better/worse/similar/higher/lower, significantly ..., not compared)"`
	Funnel         *string  `parquet:"funnel_significance,optional" sdc:"1" desc:"Funnel plot position: Low/High (0.025 = outside 95%, 0.001 = outside 99.8%) or Not significant"`
	FunnelOD       *string  `parquet:"funnel_significance_od,optional" sdc:"1" desc:"Funnel position with overdispersion-adjusted limits"`
	FunnelLower95  *float64 `parquet:"funnel_lower95,optional" sdc:"1" desc:"Funnel 95% lower limit at this denominator"`
	FunnelUpper95  *float64 `parquet:"funnel_upper95,optional" sdc:"1" desc:"Funnel 95% upper limit at this denominator"`
	FunnelLower998 *float64 `parquet:"funnel_lower998,optional" sdc:"1" desc:"Funnel 99.8% lower limit at this denominator"`
	FunnelUpper998 *float64 `parquet:"funnel_upper998,optional" sdc:"1" desc:"Funnel 99.8% upper limit at this denominator"`
	IMDDecile      *int32   `parquet:"imd_decile,optional" desc:"National IMD 2019 decile of the practice (1 = most deprived)"`
	PeerMean       *float64 `parquet:"peer_mean,optional" desc:"Mean of the practice's 10 most similar practices"`
	Opportunity    *float64 `parquet:"opportunity,optional" sdc:"1" desc:"Patients, pounds or referrals the gap to the best peers stands for"`
	Suppressed     bool     `parquet:"suppressed" desc:"True when disclosure control withheld the count and everything computed from it"`
	Suppression    *string  `parquet:"suppression,optional" desc:"Why withheld: primary (count 1..min_count-1), secondary (protects a primary cell), upstream (the models)"`
	DQFlag         *string  `parquet:"dq_flag,optional" desc:"Data-quality note, e.g. numerator exceeds denominator"`
}

type inequalityFeed struct {
	IndicatorID   string   `parquet:"indicator_id" desc:"Indicator identifier"`
	Period        string   `parquet:"period" desc:"Period of the indicator"`
	AreaLevel     string   `parquet:"area_level" desc:"Level of the area"`
	AreaCode      string   `parquet:"area_code" desc:"Area code"`
	AreaName      string   `parquet:"area_name" desc:"Area name"`
	SII           *float64 `parquet:"sii,optional" desc:"Slope index of inequality (least minus most deprived, in the indicator's unit)"`
	SIILower      *float64 `parquet:"sii_lower,optional" desc:"SII lower 95% limit (simulation)"`
	SIIUpper      *float64 `parquet:"sii_upper,optional" desc:"SII upper 95% limit (simulation)"`
	RII           *float64 `parquet:"rii,optional" desc:"Relative index of inequality"`
	RIILower      *float64 `parquet:"rii_lower,optional" desc:"RII lower 95% limit"`
	RIIUpper      *float64 `parquet:"rii_upper,optional" desc:"RII upper 95% limit"`
	Q1Value       *float64 `parquet:"q1_value,optional" desc:"Value in the most deprived quintile"`
	Q5Value       *float64 `parquet:"q5_value,optional" desc:"Value in the least deprived quintile"`
	QuintileGap   *float64 `parquet:"quintile_gap,optional" desc:"Gap between quintiles 1 and 5"`
	QuintileRatio *float64 `parquet:"quintile_ratio,optional" desc:"Ratio of quintile 1 to quintile 5"`
}

type decileFeed struct {
	IndicatorID string   `parquet:"indicator_id" desc:"Indicator identifier"`
	Period      string   `parquet:"period" desc:"Period of the indicator"`
	AreaLevel   string   `parquet:"area_level" desc:"Level of the area"`
	AreaCode    string   `parquet:"area_code" desc:"Area code"`
	IMDDecile   int32    `parquet:"imd_decile" desc:"Practice IMD decile (1 = most deprived)"`
	Numerator   *float64 `parquet:"numerator,optional" sdc:"1" desc:"Numerator summed over the decile's practices"`
	Denominator *float64 `parquet:"denominator,optional" desc:"Denominator summed over the decile's practices"`
	Value       *float64 `parquet:"value,optional" sdc:"1" desc:"Value for the decile"`
	Lower95     *float64 `parquet:"lower95,optional" sdc:"1" desc:"Lower 95% limit"`
	Upper95     *float64 `parquet:"upper95,optional" sdc:"1" desc:"Upper 95% limit"`
	Practices   int32    `parquet:"practices" desc:"Practices in the decile"`
	Suppressed  bool     `parquet:"suppressed" desc:"True when disclosure control withheld the count"`
}

type trendFeed struct {
	IndicatorID  string   `parquet:"indicator_id" desc:"Indicator identifier"`
	AreaLevel    string   `parquet:"area_level" desc:"Level of the area"`
	AreaCode     string   `parquet:"area_code" desc:"Area code"`
	AreaName     string   `parquet:"area_name" desc:"Area name"`
	PracticeCode *string  `parquet:"practice_code,optional" desc:"Practice code at practice level"`
	Period       string   `parquet:"period" desc:"Month, YYYY-MM"`
	Month        string   `parquet:"month" desc:"First day of the month, YYYY-MM-DD"`
	Value        *float64 `parquet:"value,optional" sdc:"1" desc:"Value in the month"`
	Mean         *float64 `parquet:"mean,optional" desc:"SPC centre line"`
	LPL          *float64 `parquet:"lpl,optional" desc:"SPC lower process limit"`
	UPL          *float64 `parquet:"upl,optional" desc:"SPC upper process limit"`
	NearLPL      *float64 `parquet:"near_lpl,optional" desc:"Two-sigma lower limit"`
	NearUPL      *float64 `parquet:"near_upl,optional" desc:"Two-sigma upper limit"`
	PointType    *string  `parquet:"point_type,optional" sdc:"1" desc:"common_cause, special_cause_improvement, special_cause_concern, special_cause_neutral_high/low"`
	Icon         *string  `parquet:"variation_icon,optional" desc:"Making Data Count variation icon (last point of a series only)"`
	Suppressed   bool     `parquet:"suppressed" desc:"True when disclosure control withheld the value"`
}

type summaryFeed struct {
	AreaLevel        string   `parquet:"area_level" desc:"Level of the area"`
	AreaCode         string   `parquet:"area_code" desc:"Area code"`
	AreaName         string   `parquet:"area_name" desc:"Area name"`
	Period           string   `parquet:"period" desc:"Pack month, YYYY-MM"`
	Practices        *int64   `parquet:"practices,optional" desc:"Practices in the area"`
	ListSize         *int64   `parquet:"list_size,optional" desc:"Registered patients"`
	Weighted         *float64 `parquet:"weighted_list_size,optional" desc:"Weighted (Carr-Hill) list size"`
	QOFFY            *string  `parquet:"qof_fy,optional" desc:"Financial year of the QOF figures"`
	QOFAch           *float64 `parquet:"qof_achievement_pct,optional" desc:"QOF points achieved as % of available"`
	QOFPoints        *float64 `parquet:"qof_points_per_practice,optional" desc:"Mean QOF points per practice"`
	PaymentsFY       *string  `parquet:"payments_fy,optional" desc:"Financial year of the payments figures"`
	TotalPayments    *float64 `parquet:"total_payments,optional" desc:"Total NHS payments to general practice (£)"`
	PayPerWeighted   *float64 `parquet:"payments_per_weighted_patient,optional" desc:"£ per weighted patient"`
	PayPerRegistered *float64 `parquet:"payments_per_registered_patient,optional" desc:"£ per registered patient"`
	GPFTE            *float64 `parquet:"gp_fte_per_10k,optional" desc:"GP FTE per 10,000 patients"`
	NurseFTE         *float64 `parquet:"nurse_fte_per_10k,optional" desc:"Nurse FTE per 10,000 patients"`
	DPCFTE           *float64 `parquet:"dpc_fte_per_10k,optional" desc:"Direct patient care FTE per 10,000 patients"`
	AdminFTE         *float64 `parquet:"admin_fte_per_10k,optional" desc:"Admin FTE per 10,000 patients"`
	Referrals        *int64   `parquet:"referrals,optional" sdc:"1" desc:"Referrals in the month"`
	ReferralRate     *float64 `parquet:"referral_rate_per_1000,optional" sdc:"1" desc:"Referrals per 1,000 patients"`
	TwoWWRate        *float64 `parquet:"twoww_rate_per_1000,optional" sdc:"1" desc:"Two-week-wait referrals per 1,000 patients"`
	IMDScore         *float64 `parquet:"imd_score,optional" desc:"Population-weighted IMD 2019 score"`
	Suppressed       bool     `parquet:"suppressed" desc:"True when disclosure control withheld the referral figures"`
}

type practiceFeed struct {
	PracticeCode string   `parquet:"practice_code" desc:"Practice ODS code"`
	PracticeName string   `parquet:"practice_name" desc:"Practice name"`
	Postcode     *string  `parquet:"postcode,optional" desc:"Practice postcode"`
	PCNCode      *string  `parquet:"pcn_code,optional" desc:"Primary care network code"`
	PCNName      *string  `parquet:"pcn_name,optional" desc:"Primary care network name"`
	SubICBCode   *string  `parquet:"sub_icb_code,optional" desc:"Sub-ICB location code"`
	SubICBName   *string  `parquet:"sub_icb_name,optional" desc:"Sub-ICB location name"`
	ICBCode      *string  `parquet:"icb_code,optional" desc:"ICB code"`
	ICBName      *string  `parquet:"icb_name,optional" desc:"ICB name"`
	RegionCode   *string  `parquet:"region_code,optional" desc:"Region code"`
	RegionName   *string  `parquet:"region_name,optional" desc:"Region name"`
	Status       string   `parquet:"status" desc:"active, closed, dormant or proposed"`
	OpenDate     *string  `parquet:"open_date,optional" desc:"Open date, YYYY-MM-DD"`
	CloseDate    *string  `parquet:"close_date,optional" desc:"Close date, YYYY-MM-DD"`
	ListSize     *int64   `parquet:"list_size,optional" desc:"Registered patients"`
	Weighted     *float64 `parquet:"weighted_list_size,optional" desc:"Weighted list size"`
	IMDScore     *float64 `parquet:"imd_score,optional" desc:"IMD 2019 score of the practice population"`
	IMDDecile    *int32   `parquet:"imd_decile,optional" desc:"National IMD decile (1 = most deprived)"`
	IMDQuintile  *int32   `parquet:"imd_quintile,optional" desc:"National IMD quintile (1 = most deprived)"`
}

func f64(n Num) *float64 {
	if !n.Valid {
		return nil
	}
	v := n.V
	return &v
}

func i64(n Num) *int64 {
	if !n.Valid {
		return nil
	}
	v := int64(n.V)
	return &v
}

func i32(n Num) *int32 {
	if !n.Valid {
		return nil
	}
	v := int32(n.V)
	return &v
}

func sp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// feedFile is one encoded feed.
type feedFile struct {
	name         string
	csv, parquet []byte
	rows         int
	dictionary   [][]string
}

// encodeFeed writes rows as CSV (UTF-8 with BOM, for Excel) and Parquet.
func encodeFeed[T any](name string, rows []T) (feedFile, error) {
	ff := feedFile{name: name, rows: len(rows)}
	t := reflect.TypeFor[T]()
	type col struct {
		idx       int
		name, typ string
		sdc       bool
	}
	var cols []col
	supIdx := -1
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		n, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		c := col{idx: i, name: n, typ: sqlType(f.Type), sdc: f.Tag.Get("sdc") == "1"}
		cols = append(cols, c)
		if n == "suppressed" {
			supIdx = i
		}
		ff.dictionary = append(ff.dictionary, []string{name, n, c.typ, f.Tag.Get("desc")})
	}
	var b bytes.Buffer
	b.WriteString("\ufeff")
	cw := csv.NewWriter(&b)
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c.name
	}
	if err := cw.Write(rec); err != nil {
		return ff, fmt.Errorf("feed %s: %w", name, err)
	}
	for _, r := range rows {
		v := reflect.ValueOf(r)
		sup := supIdx >= 0 && v.Field(supIdx).Bool()
		for i, c := range cols {
			fv := v.Field(c.idx)
			if sup && c.sdc && fv.Kind() == reflect.Pointer && fv.IsNil() {
				rec[i] = "*"
				continue
			}
			rec[i] = csvText(fv)
		}
		if err := cw.Write(rec); err != nil {
			return ff, fmt.Errorf("feed %s: %w", name, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return ff, fmt.Errorf("feed %s csv: %w", name, err)
	}
	ff.csv = b.Bytes()

	var pb bytes.Buffer
	pw := parquet.NewGenericWriter[T](&pb, parquet.Compression(&parquet.Snappy), parquet.CreatedBy("gplens", "", ""))
	if len(rows) > 0 {
		if _, err := pw.Write(rows); err != nil {
			return ff, fmt.Errorf("feed %s parquet: %w", name, err)
		}
	}
	if err := pw.Close(); err != nil {
		return ff, fmt.Errorf("feed %s parquet: %w", name, err)
	}
	ff.parquet = pb.Bytes()
	return ff, nil
}

func sqlType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "VARCHAR"
	case reflect.Float64:
		return "DOUBLE"
	case reflect.Int64:
		return "BIGINT"
	case reflect.Int32:
		return "INTEGER"
	case reflect.Bool:
		return "BOOLEAN"
	}
	return t.String()
}

func csvText(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	}
	return fmt.Sprint(v.Interface())
}

// feeds builds every feed of a pack and the data dictionary.
func (p *pack) feeds(byID map[string]*indicator) ([]feedFile, error) {
	var out []feedFile
	add := func(ff feedFile, err error) error {
		if err != nil {
			return err
		}
		out = append(out, ff)
		return nil
	}
	vals := make([]valueFeed, 0, len(p.Values))
	for _, r := range p.Values {
		in := byID[r.IndicatorID]
		if in == nil {
			in = &indicator{ID: r.IndicatorID}
		}
		vals = append(vals, valueFeed{
			IndicatorID: r.IndicatorID, IndicatorName: in.Name, Domain: in.Domain, Unit: in.Unit, Polarity: in.Polarity,
			Period: r.Period, AreaLevel: r.AreaLevel, AreaCode: r.AreaCode, AreaName: r.AreaName,
			PracticeCode: sp(r.PracticeCode), PCNCode: sp(r.PCN), SubICBCode: sp(r.SubICB), ICBCode: sp(r.ICB), RegionCode: sp(r.Region),
			Numerator: f64(r.Numerator), Denominator: f64(r.Denominator), Value: f64(r.Value),
			Lower95: f64(r.Lower95), Upper95: f64(r.Upper95), Lower998: f64(r.Lower998), Upper998: f64(r.Upper998),
			EnglandValue: f64(r.England), ICBValue: f64(r.ICBValue), SubICBValue: f64(r.SubICBValue),
			Comparison: r.Comparison, Funnel: sp(r.Funnel), FunnelOD: sp(r.FunnelOD),
			FunnelLower95: f64(r.FL95), FunnelUpper95: f64(r.FU95), FunnelLower998: f64(r.FL998), FunnelUpper998: f64(r.FU998),
			IMDDecile: i32(r.IMDDecile), PeerMean: f64(r.PeerMean), Opportunity: f64(r.Opportunity),
			Suppressed: r.Suppressed, Suppression: sp(r.Suppression), DQFlag: sp(r.DQ),
		})
	}
	if err := add(encodeFeed("indicator_values", vals)); err != nil {
		return nil, err
	}
	ineq := make([]inequalityFeed, 0, len(p.Inequality))
	for _, r := range p.Inequality {
		ineq = append(ineq, inequalityFeed{r.IndicatorID, r.Period, r.AreaLevel, r.AreaCode, r.AreaName,
			f64(r.SII), f64(r.SIILower), f64(r.SIIUpper), f64(r.RII), f64(r.RIILower), f64(r.RIIUpper),
			f64(r.Q1), f64(r.Q5), f64(r.Gap), f64(r.Ratio)})
	}
	if err := add(encodeFeed("inequality", ineq)); err != nil {
		return nil, err
	}
	dec := make([]decileFeed, 0, len(p.Deciles))
	for _, r := range p.Deciles {
		dec = append(dec, decileFeed{r.IndicatorID, r.Period, r.AreaLevel, r.AreaCode, int32(r.Decile),
			f64(r.Numerator), f64(r.Denominator), f64(r.Value), f64(r.Lower95), f64(r.Upper95), int32(r.Practices), r.Suppression != ""})
	}
	if err := add(encodeFeed("inequality_deciles", dec)); err != nil {
		return nil, err
	}
	tr := make([]trendFeed, 0, len(p.Trends))
	for _, r := range p.Trends {
		tr = append(tr, trendFeed{r.IndicatorID, r.AreaLevel, r.AreaCode, r.AreaName, sp(r.PracticeCode), r.Period, r.Month,
			f64(r.Value), f64(r.Mean), f64(r.LPL), f64(r.UPL), f64(r.NearLPL), f64(r.NearUPL), sp(r.PointType), sp(r.Icon), r.Suppression != ""})
	}
	if err := add(encodeFeed("trends", tr)); err != nil {
		return nil, err
	}
	sm := make([]summaryFeed, 0, len(p.Summary))
	for _, r := range p.Summary {
		sm = append(sm, summaryFeed{r.AreaLevel, r.AreaCode, r.AreaName, r.Period, i64(r.Practices), i64(r.ListSize), f64(r.Weighted),
			sp(r.QOFFY), f64(r.QOFAch), f64(r.QOFPoints), sp(r.PaymentsFY), f64(r.TotalPayments), f64(r.PayPerWeighted), f64(r.PayPerRegistered),
			f64(r.GPFTE), f64(r.NurseFTE), f64(r.DPCFTE), f64(r.AdminFTE), i64(r.Referrals), f64(r.ReferralRate), f64(r.TwoWWRate),
			f64(r.IMDScore), r.Suppression != ""})
	}
	if err := add(encodeFeed("area_summary", sm)); err != nil {
		return nil, err
	}
	pr := make([]practiceFeed, 0, len(p.Practices))
	for _, r := range p.Practices {
		pr = append(pr, practiceFeed{r.Code, r.Name, sp(r.Postcode), sp(r.PCN), sp(r.PCNName), sp(r.SubICB), sp(r.SubICBName),
			sp(r.ICB), sp(r.ICBName), sp(r.Region), sp(r.RegionName), r.Status, sp(r.OpenDate), sp(r.CloseDate),
			i64(r.ListSize), f64(r.Weighted), f64(r.IMDScore), i32(r.IMDDecile), i32(r.IMDQuintile)})
	}
	if err := add(encodeFeed("practices", pr)); err != nil {
		return nil, err
	}
	return out, nil
}

// dictionaryCSV describes every column of every feed.
func dictionaryCSV(feeds []feedFile) ([]byte, int, error) {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	cw := csv.NewWriter(&b)
	n := 0
	if err := cw.Write([]string{"feed", "column", "type", "description"}); err != nil {
		return nil, 0, err
	}
	for _, f := range feeds {
		for _, d := range f.dictionary {
			if err := cw.Write(d); err != nil {
				return nil, 0, err
			}
			n++
		}
	}
	cw.Flush()
	return b.Bytes(), n, cw.Error()
}
