package ingest

import (
	"fmt"
	"strings"
	"time"
)

// ODS reference files: epraccur (GP practices) and eccg (CCGs / sub-ICB
// locations), published with no header row, 27 quoted columns. They give
// practices' open and close dates and status. The period is the month of
// the latest date in the file (the file says nothing else about when it was
// cut), or a period in its folder name.

func init() {
	Register(odsPractices)
	Register(odsSubICBs)
}

func odsFields(codeCheck Check) []Field {
	return []Field{
		{Name: "org_code", Pos: 0, Type: String, Check: codeCheck, Required: true},
		{Name: "name", Pos: 1, Type: String},
		{Name: "national_grouping", Pos: 2, Type: String, Upper: true, Doc: "region (Y-code)"},
		{Name: "health_geography", Pos: 3, Type: String, Upper: true, Doc: "high-level health geography (ICB / former area team)"},
		{Name: "address_1", Pos: 4, Type: String},
		{Name: "address_2", Pos: 5, Type: String},
		{Name: "address_3", Pos: 6, Type: String},
		{Name: "address_4", Pos: 7, Type: String},
		{Name: "address_5", Pos: 8, Type: String},
		{Name: "postcode", Pos: 9, Type: String},
		{Name: "open_date", Pos: 10, Type: Date},
		{Name: "close_date", Pos: 11, Type: Date},
		{Name: "status", Pos: 12, Type: String, Upper: true, Doc: "A active, C closed, D dormant, P proposed"},
		{Name: "org_sub_type", Pos: 13, Type: String, Upper: true},
		{Name: "commissioner", Pos: 14, Type: String, Upper: true, Doc: "parent (sub-ICB location / CCG)"},
		{Name: "join_parent_date", Pos: 15, Type: Date},
		{Name: "left_parent_date", Pos: 16, Type: Date},
		{Name: "phone", Pos: 17, Type: String},
		{Name: "amended_record", Pos: 21, Type: String},
		{Name: "provider_purchaser", Pos: 23, Type: String, Upper: true},
		{Name: "prescribing_setting", Pos: 25, Type: String, Doc: "4 = GP practice"},
	}
}

func odsPeriod(fc *FileContext, latest time.Time) (string, error) {
	if p, ok := periodFromPath(fc.Path, Monthly); ok {
		return p, nil
	}
	if latest.IsZero() {
		return "", fmt.Errorf("no dates in the file")
	}
	return monthOf(latest), nil
}

var odsDates = []string{"open_date", "close_date", "join_parent_date", "left_parent_date"}

var odsPractices = &Simple{
	Meta: Info{
		Name: "ods_practices", Title: "ODS GP practices (epraccur): open/close dates, status, commissioner", Cadence: Monthly,
		Patterns: []string{"epraccur*.csv"}, Headerless: 27, Key: []string{"org_code"},
		Notes: "No header row. Period: a YYYY-MM folder, else the month of the latest date in the file. Status A active, C closed, D dormant, P proposed; prescribing setting 4 is a GP practice.",
	},
	Fields:        odsFields(Org),
	FilePeriod:    odsPeriod,
	DateForPeriod: odsDates,
	Skip: func(rec []string, cols []int) string {
		if strings.TrimSpace(rec[0]) == "" {
			return "blank code"
		}
		return ""
	},
}

var odsSubICBs = &Simple{
	Meta: Info{
		Name: "ods_sub_icbs", Title: "ODS sub-ICB locations / CCGs (eccg)", Cadence: Monthly,
		Patterns: []string{"eccg*.csv"}, Headerless: 27, Key: []string{"org_code"},
		Notes: "No header row, same layout as epraccur.",
	},
	Fields:        odsFields(Org),
	FilePeriod:    odsPeriod,
	DateForPeriod: odsDates,
}
