package ingest

// Patients registered at a GP practice (NHS Digital, monthly): totals,
// five-year age bands by sex, by LSOA (quarterly), and the practice 'map'
// to PCN, sub-ICB location, ICB and region. The same file names recur each
// month; the period comes from EXTRACT_DATE.

func init() {
	Register(registrations)
	Register(registrationsAge)
	Register(registrationsLSOA)
	Register(practiceMap)
}

var registrations = &Simple{
	Meta: Info{
		Name: "registrations", Title: "Patients registered at a GP practice: totals", Cadence: Monthly,
		Patterns: []string{"gp-reg-pat-prac-all*.csv"},
		Key:      []string{"practice_code", "sex", "age"},
		Notes:    "Period from EXTRACT_DATE (01JAN2021 = 2021-01).",
	},
	Fields: []Field{
		{Name: "extract_date", Type: Date, Required: true},
		{Name: "org_type", Type: String, Upper: true, Optional: true},
		{Name: "sub_icb_code", Type: String, Upper: true},
		{Name: "sub_icb_ons_code", Type: String, Upper: true, Optional: true},
		{Name: "practice_code", Type: String, Check: Org, Required: true},
		{Name: "postcode", Type: String, Optional: true},
		{Name: "sex", Type: String, Upper: true, Required: true},
		{Name: "age", Type: String, Upper: true, Required: true},
		{Name: "patients", Type: Int64, Required: true},
	},
	PeriodOf: datePeriod(0),
}

var registrationsAge = &Simple{
	Meta: Info{
		Name: "registrations_age", Title: "Patients registered at a GP practice: five-year age bands by sex", Cadence: Monthly,
		Patterns: []string{"gp-reg-pat-prac-quin-age*.csv"},
		Key:      []string{"practice_code", "sex", "age_band"},
		Notes:    "Rows for SEX=ALL and AGE_GROUP_5=ALL are kept beside the bands: sum bands or take ALL, never both. Only ORG_TYPE GP rows are loaded.",
	},
	Fields: []Field{
		{Name: "extract_date", Type: Date, Required: true},
		{Name: "org_type", Type: String, Upper: true},
		{Name: "practice_code", Type: String, Check: Org, Required: true},
		{Name: "ons_code", Type: String, Upper: true, Optional: true},
		{Name: "postcode", Type: String, Optional: true},
		{Name: "sex", Type: String, Upper: true, Required: true},
		{Name: "age_band", Type: String, Upper: true, Required: true},
		{Name: "patients", Type: Int64, Required: true},
	},
	PeriodOf: datePeriod(0),
	Skip: func(rec []string, cols []int) string {
		if t := NormCode(rec[cols[1]]); t != "GP" && t != "" {
			return "organisation type " + t + " (only GP practices are loaded)"
		}
		return ""
	},
}

var registrationsLSOA = &Simple{
	Meta: Info{
		Name: "registrations_lsoa", Title: "Patients registered at a GP practice: by LSOA of residence", Cadence: Quarterly,
		Patterns: []string{"gp-reg-pat-prac-lsoa*.csv"},
		Key:      []string{"practice_code", "sex", "lsoa_code"},
		Notes:    "LSOA_CODE NO2011 (or NO2021) counts patients with no known LSOA.",
	},
	Fields: []Field{
		{Name: "extract_date", Type: Date, Required: true},
		{Name: "practice_name", Type: String, Optional: true},
		{Name: "practice_code", Type: String, Check: Org, Required: true},
		{Name: "postcode", Type: String, Optional: true},
		{Name: "sex", Type: String, Upper: true, Required: true},
		{Name: "lsoa_code", Type: String, Check: LSOA, Required: true},
		{Name: "patients", Type: Int64, Required: true},
	},
	PeriodOf: datePeriod(0),
}

var practiceMap = &Simple{
	Meta: Info{
		Name: "practice_map", Title: "GP practice to PCN, sub-ICB location, ICB and region (registrations map file)", Cadence: Monthly,
		Patterns: []string{"gp-reg-pat-prac-map*.csv"},
		Key:      []string{"practice_code"},
	},
	Fields: []Field{
		{Name: "extract_date", Type: Date, Required: true},
		{Name: "practice_code", Type: String, Check: Org, Required: true},
		{Name: "practice_name", Type: String},
		{Name: "postcode", Type: String, Optional: true},
		{Name: "pcn_code", Type: String, Upper: true},
		{Name: "pcn_name", Type: String, Optional: true},
		{Name: "sub_icb_code", Type: String, Upper: true},
		{Name: "sub_icb_name", Type: String, Optional: true},
		{Name: "sub_icb_ons_code", Type: String, Upper: true, Optional: true},
		{Name: "icb_code", Type: String, Upper: true},
		{Name: "icb_name", Type: String, Optional: true},
		{Name: "icb_ons_code", Type: String, Upper: true, Optional: true},
		{Name: "region_code", Type: String, Upper: true},
		{Name: "region_name", Type: String, Optional: true},
		{Name: "region_ons_code", Type: String, Upper: true, Optional: true},
		{Name: "supplier_name", Type: String, Optional: true},
	},
	PeriodOf: datePeriod(0),
}
