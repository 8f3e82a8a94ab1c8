package ingest

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Referrals: no national practice-level file exists, so gplens defines its
// own extract contract, in two shapes (see README "Referral extract
// contract"): aggregated counts by practice, month, specialty (treatment
// function code), priority, age band and sex; and record-level pseudonymised
// referrals, one row each. One file per month.

func init() {
	Register(referrals)
	Register(referralRecords)
}

// Priorities accepted, with the spellings systems export.
var priorities = map[string]string{
	"ROUTINE": "ROUTINE", "R": "ROUTINE",
	"URGENT": "URGENT", "U": "URGENT",
	"2WW": "2WW", "TWO WEEK WAIT": "2WW", "TWO_WEEK_WAIT": "2WW", "TWW": "2WW",
}

var sexes = map[string]string{"MALE": "MALE", "M": "MALE", "1": "MALE", "FEMALE": "FEMALE", "F": "FEMALE", "2": "FEMALE", "UNKNOWN": "UNKNOWN", "U": "UNKNOWN", "9": "UNKNOWN", "0": "UNKNOWN"}

func checkTFC(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var ageBandRE = regexp.MustCompile(`^([0-9]{1,2}_[0-9]{1,2}|[0-9]{1,3}\+|UNKNOWN)$`)

func monthPeriod(field int) func(rec []string, cols []int) (string, error) {
	return func(rec []string, cols []int) (string, error) {
		raw := strings.TrimSpace(rec[cols[field]])
		if t, err := time.Parse("2006-01", raw); err == nil {
			return monthOf(t), nil
		}
		t, ok, err := ParseDate(raw)
		if err != nil || !ok {
			return "", fmt.Errorf("cannot read the month %q (want YYYY-MM)", raw)
		}
		return monthOf(t), nil
	}
}

var referrals = &Simple{
	Meta: Info{
		Name: "referrals", Title: "GP referrals, aggregated (gplens contract)", Cadence: Monthly,
		Patterns: []string{"referrals_aggregated_*.csv", "referrals_agg*.csv"},
		Key:      []string{"practice_code", "month", "treatment_function_code", "priority", "age_band", "sex"},
		Notes:    "PRIORITY ROUTINE, URGENT or 2WW; TREATMENT_FUNCTION_CODE a 3-digit NHS treatment function code; AGE_BAND as registrations (0_4 ... 95+); SEX MALE, FEMALE or UNKNOWN. One month per file.",
	},
	Fields: []Field{
		{Name: "practice_code", Type: String, Check: Practice, Required: true},
		{Name: "month", Type: String, Required: true, Doc: "YYYY-MM"},
		{Name: "treatment_function_code", Type: String, Required: true, Valid: checkTFC, Want: "a 3-digit treatment function code"},
		{Name: "priority", Type: String, Upper: true, Required: true, Values: priorities, Want: "ROUTINE, URGENT or 2WW"},
		{Name: "age_band", Type: String, Upper: true, Required: true, Valid: ageBandRE.MatchString, Want: "a band such as 0_4, 85_89 or 95+"},
		{Name: "sex", Type: String, Upper: true, Required: true, Values: sexes, Want: "MALE, FEMALE or UNKNOWN"},
		{Name: "referrals", Type: Int64, Required: true},
	},
	PeriodOf: monthPeriod(1),
}

var referralRecords = &Simple{
	Meta: Info{
		Name: "referral_records", Title: "GP referrals, record-level pseudonymised (gplens contract)", Cadence: Monthly,
		Patterns: []string{"referrals_records_*.csv", "referral_records*.csv"},
		Key:      []string{"referral_id"},
		Notes:    "One row per referral; REFERRAL_ID an opaque pseudonymous token, unique; REFERRAL_DATE YYYY-MM-DD within the file's month; AGE in whole years.",
	},
	Fields: []Field{
		{Name: "referral_id", Type: String, Required: true},
		{Name: "referral_date", Type: Date, Required: true},
		{Name: "practice_code", Type: String, Check: Practice, Required: true},
		{Name: "age", Type: Int64, Required: true},
		{Name: "sex", Type: String, Upper: true, Required: true, Values: sexes, Want: "MALE, FEMALE or UNKNOWN"},
		{Name: "treatment_function_code", Type: String, Required: true, Valid: checkTFC, Want: "a 3-digit treatment function code"},
		{Name: "priority", Type: String, Upper: true, Required: true, Values: priorities, Want: "ROUTINE, URGENT or 2WW"},
	},
	PeriodOf: datePeriod(1),
}
