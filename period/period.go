// Package period reads the two shapes of period gplens's sources carry: a
// month "YYYY-MM" and an NHS financial year "YYYY-YY" (April to March, the
// second part the next year's last two digits). It is the Go side of the
// SQL macros in sql/functions/periods.sql (is_fy, fy_of_month,
// period_last_month); ingest, transform, publish and schedule all ask it,
// so that a period means one thing wherever it is read.
package period

import "fmt"

// digits reads s[i:j] as a non-negative decimal; false if any byte is not
// a digit.
func digits(s string, i, j int) (int, bool) {
	n := 0
	for k := i; k < j; k++ {
		c := s[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// split reads "NNNN-NN" into its two numbers.
func split(p string) (y, n int, ok bool) {
	if len(p) != 7 || p[4] != '-' {
		return 0, 0, false
	}
	y, ok1 := digits(p, 0, 4)
	n, ok2 := digits(p, 5, 7)
	return y, n, ok1 && ok2
}

// IsMonth: p is a month "YYYY-MM" (01 to 12).
func IsMonth(p string) bool {
	_, m, ok := split(p)
	return ok && m >= 1 && m <= 12
}

// IsYear: p is a financial year "YYYY-YY" whose second part follows the
// first and is above 12, so never a month, as is_fy reads it: "2012-13" to
// "2098-99" ("2011-12" is December 2011; no source holds earlier years).
func IsYear(p string) bool {
	y, z, ok := split(p)
	return ok && z == (y+1)%100 && z > 12
}

// YearOf is the financial year month m falls in: "2024-05" is in
// "2024-25", "2024-02" in "2023-24" (fy_of_month).
func YearOf(m string) (string, bool) {
	if !IsMonth(m) {
		return "", false
	}
	y, mo, _ := split(m)
	if mo < 4 {
		y--
	}
	return fmt.Sprintf("%04d-%02d", y, (y+1)%100), true
}

// LastMonth is the last month of period p: a month itself, March of a
// financial year ("2022-23" -> "2023-03", period_last_month); false for
// anything else.
func LastMonth(p string) (string, bool) {
	if IsMonth(p) {
		return p, true
	}
	if !IsYear(p) {
		return "", false
	}
	y, _, _ := split(p)
	return fmt.Sprintf("%04d-03", y+1), true
}

// AddMonths moves month m by n months (n may be negative); false if m is
// not a month or the result leaves years 0000-9999.
func AddMonths(m string, n int) (string, bool) {
	if !IsMonth(m) {
		return "", false
	}
	y, mo, _ := split(m)
	k := y*12 + (mo - 1) + n
	if k < 0 || k >= 10000*12 {
		return "", false
	}
	return fmt.Sprintf("%04d-%02d", k/12, k%12+1), true
}
