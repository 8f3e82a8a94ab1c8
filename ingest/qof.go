package ingest

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// QOF: the Quality and Outcomes Framework raw data files (annual, by
// financial year), their metadata mappings, and the published total-points
// tables (a cross-check of achieved points).

func init() {
	Register(qofAchievement)
	Register(qofPrevalence)
	Register(qofIndicators)
	Register(qofGeography)
	Register(qofPCAMapping)
	Register(qofOrgReference)
	Register(qofValidation)
	Register(qofPoints)
}

var qofAchievement = &Simple{
	Meta: Info{
		Name: "qof_achievement", Title: "QOF achievement (long: practice, indicator, measure, value)", Cadence: Annual,
		Patterns: []string{"ACHIEVEMENT_*.csv"},
		Key:      []string{"practice_code", "indicator_code", "measure"},
		Notes:    "MEASURE is REGISTER, ACHIEVED_POINTS, NUMERATOR, DENOMINATOR or PCAS (EXCEPTIONS before 2019-20); DENOMINATOR already excludes PCAs. Period from the file name (ACHIEVEMENT_2223 = 2022-23).",
	},
	Fields: []Field{
		{Name: "practice_code", Type: String, Check: Practice, Required: true, Doc: "GP practice ODS code"},
		{Name: "indicator_code", Type: String, Upper: true, Required: true, Doc: "QOF indicator code, e.g. DM012"},
		{Name: "measure", Type: String, Upper: true, Required: true, Doc: "REGISTER, ACHIEVED_POINTS, NUMERATOR, DENOMINATOR, PCAS or EXCEPTIONS"},
		{Name: "value", Type: Float64, Flag: true, Doc: "the measure's value (points may be fractional)"},
	},
}

var qofPrevalence = &Simple{
	Meta: Info{
		Name: "qof_prevalence", Title: "QOF prevalence (registers and list sizes)", Cadence: Annual,
		Patterns: []string{"PREVALENCE_*.csv"},
		Key:      []string{"practice_code", "group_code"},
		Notes:    "PATIENT_LIST_TYPE is TOTAL or the age-specific list the register counts against (06OV, 17OV, 18OV, 50OV ...); PRACTICE_LIST_SIZE is that list. A register larger than its list is kept and flagged.",
	},
	Fields: []Field{
		{Name: "practice_code", Type: String, Check: Practice, Required: true, Doc: "GP practice ODS code"},
		{Name: "group_code", Type: String, Upper: true, Required: true, Doc: "QOF register (indicator group), e.g. DM"},
		{Name: "register", Type: Int64, Flag: true, Doc: "patients on the disease register"},
		{Name: "patient_list_type", Type: String, Upper: true, Doc: "TOTAL or the age-specific list, e.g. 17OV"},
		{Name: "practice_list_size", Type: Int64, Flag: true, Doc: "the list (of that type) the register is a share of"},
		{Name: "dq_flag", Type: String, Optional: true, Derived: true, Doc: "data-quality note, e.g. register exceeds list size"},
	},
	After: func(rec []string, cols []int, row *Row, s *Schema) {
		reg, _, _ := ParseNumber(rec[cols[2]])
		list, ok, _ := ParseNumber(rec[cols[4]])
		if ok && reg > list {
			row.Str(s.Index("dq_flag"), "register exceeds list size")
		}
	},
}

// previousYear: NHS Digital's PREVIOUS_INDICATOR_MAPPINGS.csv, shipped with
// a year's code, describes the year before it.
func qofMappingPeriod(fc *FileContext, _ time.Time) (string, error) {
	if fy, ok := periodFromPath(fc.Path, Annual); ok {
		if strings.HasPrefix(strings.ToUpper(fc.Name), "PREVIOUS_") {
			var y int
			fmt.Sscanf(fy, "%d", &y)
			return FinancialYear(y - 1), nil
		}
		return fy, nil
	}
	return "", nil
}

var qofIndicators = &Simple{
	Meta: Info{
		Name: "qof_indicators", Title: "QOF indicator mapping (indicator, group, domain, points)", Cadence: Annual,
		Patterns: []string{"*INDICATOR_MAPPINGS*.csv", "MAPPING_INDICATORS_*.csv"},
		Key:      []string{"indicator_code"},
		Notes:    "PREVIOUS_INDICATOR_MAPPINGS.csv in a year's folder describes the year before.",
	},
	Fields: []Field{
		{Name: "indicator_code", Type: String, Upper: true, Required: true},
		{Name: "indicator_description", Type: String, Optional: true},
		{Name: "point_value", Type: Float64, Doc: "maximum points"},
		{Name: "group_code", Type: String, Upper: true, Required: true},
		{Name: "group_description", Type: String, Optional: true},
		{Name: "domain_code", Type: String, Upper: true},
		{Name: "domain_description", Type: String, Optional: true},
		{Name: "patient_list_type", Type: String, Upper: true, Optional: true},
	},
	FilePeriod: qofMappingPeriod,
}

var qofGeography = &Simple{
	Meta: Info{
		Name: "qof_geography", Title: "QOF practice geography (practice to PCN, sub-ICB, ICB, region)", Cadence: Annual,
		Patterns: []string{"MAPPING_NHS_GEOGRAPHIES_*.csv", "QOF_MANUAL_MAPPINGS*.csv"},
		Key:      []string{"practice_code"},
	},
	Fields: []Field{
		{Name: "practice_code", Type: String, Check: Org, Required: true},
		{Name: "practice_name", Type: String},
		{Name: "pcn_code", Type: String, Upper: true},
		{Name: "pcn_name", Type: String},
		{Name: "sub_icb_code", Type: String, Upper: true},
		{Name: "sub_icb_ons_code", Type: String, Upper: true},
		{Name: "sub_icb_name", Type: String},
		{Name: "icb_code", Type: String, Upper: true},
		{Name: "icb_ons_code", Type: String, Upper: true},
		{Name: "icb_name", Type: String},
		{Name: "region_code", Type: String, Upper: true},
		{Name: "region_ons_code", Type: String, Upper: true},
		{Name: "region_name", Type: String},
	},
	FilePeriod: qofMappingPeriod,
}

var qofPCAMapping = &Simple{
	Meta: Info{
		Name: "qof_pca_mapping", Title: "QOF personalised care adjustment codes by indicator", Cadence: Annual,
		Patterns: []string{"MAPPING_PCAS_EXCL_TO_INDICATOR_*.csv"},
		Key:      []string{"indicator_code", "pca_name"},
	},
	Fields: []Field{
		{Name: "indicator_code", Type: String, Upper: true, Required: true},
		{Name: "pca_name", Type: String, Required: true},
		{Name: "pca_short_name", Type: String},
		{Name: "pca_description", Type: String},
		{Name: "type", Type: String},
		{Name: "general_specific", Type: String},
		{Name: "pca_category", Type: String},
		{Name: "pca_category_description", Type: String},
	},
	FilePeriod: qofMappingPeriod,
}

var qofOrgReference = &Simple{
	Meta: Info{
		Name: "qof_org_reference", Title: "QOF revised maximum points by practice", Cadence: Annual,
		Patterns: []string{"ORGANISATION_REFERENCE_*.csv"},
		Key:      []string{"practice_code"},
	},
	Fields: []Field{
		{Name: "practice_code", Type: String, Check: Org, Required: true},
		{Name: "revised_maximum_points", Type: Float64, Flag: true},
	},
	FilePeriod: qofMappingPeriod,
}

var qofValidation = &Simple{
	Meta: Info{
		Name: "qof_validation", Title: "QOF practice validation outcomes", Cadence: Annual,
		Patterns: []string{"PRACTICE_VALIDATION_OUTCOMES_*.csv"},
		Key:      []string{"practice_code", "validation_rule"},
	},
	Fields: []Field{
		{Name: "practice_code", Type: String, Check: Org, Required: true},
		{Name: "validation_rule", Type: Int64},
		{Name: "rule_description", Type: String},
	},
	FilePeriod: qofMappingPeriod,
}

// The published workbook's total-points sheet, exported to CSV: a
// cross-check of achieved points. Headings change every year; the 2022-23
// export has line breaks inside quoted headings.
var qofPoints = &Simple{
	Meta: Info{
		Name: "qof_points", Title: "QOF total achievement points by practice (published table)", Cadence: Annual,
		Patterns: []string{"QOF 20??-??.csv", "QOF_20??-??.csv", "qof-*-points*.csv"},
		Key:      []string{"practice_code"},
	},
	Fields: []Field{
		{Name: "practice_code", Type: String, Check: Org, Required: true},
		{Name: "practice_name", Type: String},
		{Name: "sub_icb_code", Type: String, Upper: true},
		{Name: "pcn_code", Type: String, Upper: true, Optional: true},
		{Name: "list_size", Type: Int64, Flag: true},
		{Name: "achieved_points", Type: Float64, Flag: true},
		{Name: "max_points_where_register", Type: Float64, Optional: true},
	},
}

var _ = filepath.Base
