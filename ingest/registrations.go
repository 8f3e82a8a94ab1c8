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
		Variants: []Variant{
			{Name: "to 2022 (CCG_CODE, ONS_CCG_CODE)", Required: []string{"extract_date", "ccg_code", "code", "sex", "age", "number_of_patients"}},
			{Name: "from July 2022 (SUB_ICB_LOCATION_CODE)", Required: []string{"extract_date", "sub_icb_location_code", "code", "sex", "age", "number_of_patients"}},
		},
		Notes: "Period from EXTRACT_DATE (01JAN2021 = 2021-01).",
	},
	Fields: []Field{
		{Name: "extract_date", Aliases: []string{"extract_date"}, Type: Date, Required: true},
		{Name: "org_type", Aliases: []string{"type", "org_type"}, Type: String, Upper: true, Optional: true},
		{Name: "sub_icb_code", Aliases: []string{"sub_icb_location_code", "ccg_code"}, Type: String, Upper: true},
		{Name: "sub_icb_ons_code", Aliases: []string{"ons_sub_icb_location_code", "ons_ccg_code"}, Type: String, Upper: true, Optional: true},
		{Name: "practice_code", Aliases: []string{"code", "practice_code"}, Type: String, Check: Org, Required: true},
		{Name: "postcode", Aliases: []string{"postcode"}, Type: String, Optional: true},
		{Name: "sex", Aliases: []string{"sex"}, Type: String, Upper: true, Required: true},
		{Name: "age", Aliases: []string{"age"}, Type: String, Upper: true, Required: true},
		{Name: "patients", Aliases: []string{"number_of_patients"}, Type: Int64, Required: true},
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
		{Name: "extract_date", Aliases: []string{"extract_date"}, Type: Date, Required: true},
		{Name: "org_type", Aliases: []string{"org_type"}, Type: String, Upper: true},
		{Name: "practice_code", Aliases: []string{"org_code"}, Type: String, Check: Org, Required: true},
		{Name: "ons_code", Aliases: []string{"ons_code"}, Type: String, Upper: true, Optional: true},
		{Name: "postcode", Aliases: []string{"postcode"}, Type: String, Optional: true},
		{Name: "sex", Aliases: []string{"sex"}, Type: String, Upper: true, Required: true},
		{Name: "age_band", Aliases: []string{"age_group_5"}, Type: String, Upper: true, Required: true},
		{Name: "patients", Aliases: []string{"number_of_patients"}, Type: Int64, Required: true},
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
		{Name: "extract_date", Aliases: []string{"extract_date"}, Type: Date, Required: true},
		{Name: "practice_name", Aliases: []string{"practice_name"}, Type: String, Optional: true},
		{Name: "practice_code", Aliases: []string{"practice_code"}, Type: String, Check: Org, Required: true},
		{Name: "postcode", Aliases: []string{"postcode"}, Type: String, Optional: true},
		{Name: "sex", Aliases: []string{"sex"}, Type: String, Upper: true, Required: true},
		{Name: "lsoa_code", Aliases: []string{"lsoa_code", "lsoa_code_2011", "lsoa_code_2021"}, Type: String, Check: LSOA, Required: true},
		{Name: "patients", Aliases: []string{"number_of_patients"}, Type: Int64, Required: true},
	},
	PeriodOf: datePeriod(0),
}

var practiceMap = &Simple{
	Meta: Info{
		Name: "practice_map", Title: "GP practice to PCN, sub-ICB location, ICB and region (registrations map file)", Cadence: Monthly,
		Patterns: []string{"gp-reg-pat-prac-map*.csv"},
		Key:      []string{"practice_code"},
		Variants: []Variant{
			{Name: "to 2022 (CCG, STP)", Required: []string{"extract_date", "practice_code", "pcn_code", "ccg_code", "stp_code", "comm_region_code"}},
			{Name: "from July 2022 (SUB_ICB_LOCATION, ICB)", Required: []string{"extract_date", "practice_code", "pcn_code", "sub_icb_location_code", "icb_code", "comm_region_code"}},
		},
	},
	Fields: []Field{
		{Name: "extract_date", Aliases: []string{"extract_date"}, Type: Date, Required: true},
		{Name: "practice_code", Aliases: []string{"practice_code"}, Type: String, Check: Org, Required: true},
		{Name: "practice_name", Aliases: []string{"practice_name"}, Type: String},
		{Name: "postcode", Aliases: []string{"practice_postcode"}, Type: String, Optional: true},
		{Name: "pcn_code", Aliases: []string{"pcn_code"}, Type: String, Upper: true},
		{Name: "pcn_name", Aliases: []string{"pcn_name"}, Type: String, Optional: true},
		{Name: "sub_icb_code", Aliases: []string{"sub_icb_location_code", "ccg_code"}, Type: String, Upper: true},
		{Name: "sub_icb_name", Aliases: []string{"sub_icb_location_name", "ccg_name"}, Type: String, Optional: true},
		{Name: "sub_icb_ons_code", Aliases: []string{"ons_sub_icb_location_code", "ons_ccg_code"}, Type: String, Upper: true, Optional: true},
		{Name: "icb_code", Aliases: []string{"icb_code", "stp_code"}, Type: String, Upper: true},
		{Name: "icb_name", Aliases: []string{"icb_name", "stp_name"}, Type: String, Optional: true},
		{Name: "icb_ons_code", Aliases: []string{"ons_icb_code", "ons_stp_code"}, Type: String, Upper: true, Optional: true},
		{Name: "region_code", Aliases: []string{"comm_region_code"}, Type: String, Upper: true},
		{Name: "region_name", Aliases: []string{"comm_region_name"}, Type: String, Optional: true},
		{Name: "region_ons_code", Aliases: []string{"ons_comm_region_code"}, Type: String, Upper: true, Optional: true},
		{Name: "supplier_name", Aliases: []string{"supplier_name"}, Type: String, Optional: true},
	},
	PeriodOf: datePeriod(0),
}
