package ingest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Suppressed reports whether a raw cell is one of the publishers' markers
// for a value that is not given: blank, '*', '-', '.', 'ND', 'NA', 'N/A', 'x',
// 'c' (ONS style). Such cells become NULL with a flag, never zero.
func Suppressed(s string) bool {
	s = strings.TrimSpace(s)
	switch strings.ToUpper(s) {
	case "", "*", "-", "–", ".", "..", ":", "~", "ND", "NA", "N/A", "X", "C", "NULL", "#N/A":
		return true
	}
	return false
}

var errNotNumber = errors.New("not a number")

// ParseNumber reads a published number: thousands separators, pound signs,
// surrounding spaces, a trailing '%', and accounting negatives "(1,234.00)".
// ok is false for a suppressed marker; err is set when the text is no number.
func ParseNumber(s string) (v float64, ok bool, err error) {
	if v, ok := plainDecimal(s); ok {
		return v, true, nil
	}
	if Suppressed(s) {
		return 0, false, nil
	}
	t := strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(t, "(") && strings.HasSuffix(t, ")") {
		neg = true
		t = t[1 : len(t)-1]
	}
	if strings.IndexByte(t, ',') >= 0 || strings.Contains(t, "£") || strings.IndexByte(t, ' ') >= 0 || strings.HasSuffix(t, "%") {
		t = strings.NewReplacer(",", "", "£", "", " ", "", "%", "").Replace(t)
	}
	if strings.HasPrefix(t, "-£") {
		t = "-" + t[len("-£"):]
	}
	v, err = strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, errNotNumber
	}
	if neg {
		v = -v
	}
	return v, true, nil
}

// plainDecimal reads the commonest number, digits with at most one point
// and a leading minus ("210.0", "-3", "0.25"), without ParseNumber's
// checks for markers, spaces and pounds (a fifth of its time on a QOF
// year). Up to 15 digits the digits are an exact integer and the power of
// ten exact, so one division rounds as strconv.ParseFloat does; ok is
// false for anything else, which ParseNumber reads the long way.
func plainDecimal(s string) (float64, bool) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		i, neg = 1, true
	}
	var mant uint64
	digits, frac, point := 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	v := float64(mant) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

var pow10 = [16]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// ParseCount reads a non-negative whole number (a count of patients, staff,
// referrals). "112.0" is accepted as 112, as QOF files write registers so.
func ParseCount(s string) (v int64, ok bool, err error) {
	f, ok, err := ParseNumber(s)
	if err != nil || !ok {
		return 0, ok, err
	}
	if f < 0 {
		return 0, false, errors.New("negative count")
	}
	if f != math.Trunc(f) {
		return 0, false, errors.New("count is not a whole number")
	}
	return int64(f), true, nil
}

// ymd builds a date from digit strings, checking it exists. The day is
// counted by calendar arithmetic, not time.Date and Day: a record-level
// referral file asks twice a row (its period and its date), and those two
// were a twentieth of ingest's CPU.
func ymd(y, m, d string) (time.Time, bool) {
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			if !isDigit(s[i]) {
				return -1
			}
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	yy, mm, dd := num(y), num(m), num(d)
	if yy < 1800 || mm < 1 || mm > 12 || dd < 1 || dd > daysIn(yy, mm) {
		return time.Time{}, false
	}
	return time.Unix(civilDays(yy, mm, dd)*86400, 0).UTC(), true
}

// daysIn is the number of days of month m (1-12) of year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// civilDays is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (H. Hinnant's days_from_civil), for y >= 0.
func civilDays(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// shortMonth is the two-digit number of a month's three-letter name, in
// any case (as time.Parse reads "Jan"); "" for anything else.
func shortMonth(s string) string {
	if len(s) != 3 {
		return ""
	}
	b := [3]byte{s[0] | 0x20, s[1] | 0x20, s[2] | 0x20} // ASCII lower case
	switch string(b[:]) {
	case "jan":
		return "01"
	case "feb":
		return "02"
	case "mar":
		return "03"
	case "apr":
		return "04"
	case "may":
		return "05"
	case "jun":
		return "06"
	case "jul":
		return "07"
	case "aug":
		return "08"
	case "sep":
		return "09"
	case "oct":
		return "10"
	case "nov":
		return "11"
	case "dec":
		return "12"
	}
	return ""
}

var dateLayouts = []string{"20060102", "2006-01-02", "02/01/2006", "02Jan2006", "2/1/2006", "02-Jan-2006", "02-01-2006", "2006-01-02T15:04:05"}

// ParseDate reads the date styles NHS files use: YYYYMMDD (ODS), dd/mm/yyyy
// (payments), 01JAN2021 (registrations), ISO. ok is false for a blank.
func ParseDate(s string) (t time.Time, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" || Suppressed(s) {
		return time.Time{}, false, nil
	}
	// Excel serial day numbers, left by CSV exports of workbooks (payments
	// 2017-18 to 2019-20 write open dates so): 36251 = 1999-04-01.
	if len(s) == 5 && s[0] >= '1' && s[0] <= '7' {
		if n, err := strconv.Atoi(s); err == nil {
			return time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n), true, nil
		}
	}
	// Fast paths for the two commonest layouts, without time.Parse.
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		if t, ok := ymd(s[0:4], s[5:7], s[8:10]); ok {
			return t, true, nil
		}
	}
	if len(s) == 8 && isDigit(s[0]) {
		if t, ok := ymd(s[0:4], s[4:6], s[6:8]); ok {
			return t, true, nil
		}
	}
	// And for payments' dd/mm/yyyy and registrations' 01JAN2024, which
	// time.Parse reached only after failing the layouts before them (its
	// errors were a fifth of the CPU of ingesting registrations by LSOA).
	if len(s) == 10 && s[2] == '/' && s[5] == '/' {
		if t, ok := ymd(s[6:10], s[3:5], s[0:2]); ok {
			return t, true, nil
		}
	}
	if len(s) == 9 && isDigit(s[0]) && isDigit(s[1]) {
		if m := shortMonth(s[2:5]); m != "" {
			if t, ok := ymd(s[5:9], m, s[0:2]); ok {
				return t, true, nil
			}
		}
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true, nil
		}
		// 01JAN2021: Go wants "Jan"; try title-casing the month.
		if l == "02Jan2006" && len(s) == 9 {
			if t, err := time.Parse(l, s[:2]+s[2:3]+strings.ToLower(s[3:5])+s[5:]); err == nil {
				return t, true, nil
			}
		}
	}
	return time.Time{}, false, fmt.Errorf("not a date (want YYYYMMDD, DD/MM/YYYY, DDMONYYYY or YYYY-MM-DD)")
}

// NormCode upper-cases and trims an organisation code (without allocating
// when it is already clean, as nearly all are).
func NormCode(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' || c >= 0x80 {
			return strings.ToUpper(s)
		}
	}
	return s
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// ValidPractice reports whether s (normalised) is an English GP practice ODS
// code: a letter and five digits.
func ValidPractice(s string) bool {
	if len(s) != 6 || !isUpper(s[0]) {
		return false
	}
	for i := 1; i < 6; i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// ValidOrg reports whether s looks like any ODS organisation code: mapping
// files also carry Welsh, prison and other codes, so any 3-8 alphanumerics.
func ValidOrg(s string) bool {
	if len(s) < 3 || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isUpper(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// ValidLSOA reports whether s is an LSOA code (England or Wales, 2011/2021).
func ValidLSOA(s string) bool {
	if len(s) != 9 || (s[0] != 'E' && s[0] != 'W') || s[1] != '0' || (s[2] != '0' && s[2] != '1') {
		return false
	}
	for i := 3; i < 9; i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// normHeader turns a published column heading into a comparable key:
// lower case, the pound sign and footnote digits dropped, runs of anything
// else collapsed to '_'. "Sub ICB Loc \nODS code" -> "sub_icb_loc_ods_code",
// "GlobalSum_£" -> "globalsum", "Average number of registered patients1" ->
// "average_number_of_registered_patients".
func normHeader(h string) string {
	h = strings.TrimPrefix(h, "\ufeff")
	h = strings.ToLower(strings.TrimSpace(h))
	var b strings.Builder
	us := false
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			us = false
		case r == '£' || r == '\uFFFD':
		default:
			if !us && b.Len() > 0 {
				b.WriteByte('_')
				us = true
			}
		}
	}
	out := strings.TrimRight(b.String(), "_")
	// Footnote markers: payments 2019-20 writes "...patients1". Only a single
	// digit straight after a letter is a footnote; "lsoa_code_2011" keeps its year.
	if n := len(out); n >= 2 && out[n-1] >= '0' && out[n-1] <= '9' && out[n-2] >= 'a' && out[n-2] <= 'z' {
		out = out[:n-1]
	}
	return out
}
