package ingest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzReader: whatever the bytes, the CSV reader returns records or a clear
// error, never panics or loops. The seed corpus runs under go test.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"A,B\n1,2\n",
		"\xef\xbb\xbfA,B\r\n1,2\r\n",
		"A,B\n\"1\n2\",3\n",
		"A,B\n\"unterminated\n",
		"A,\xa3B\n\xa31,2\n",
		"A,B\n,,\n\n\n1,2,3\n",
		"PK\x03\x04",
		"\x00\x01",
		"",
		"\xef\xbb\xbf",
		"A\n\xe2\x82",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "f.csv")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenCSV(p, false)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("open error is not a FileError: %v", err)
			}
			return
		}
		defer r.Close()
		for i := 0; i < 100000; i++ {
			rec, line, err := r.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				return
			}
			if line < 1 || len(rec) == 0 {
				t.Fatalf("record %v at line %d", rec, line)
			}
		}
		t.Fatal("reader did not finish")
	})
}

func TestParseValues(t *testing.T) {
	nums := []struct {
		in   string
		v    float64
		ok   bool
		fail bool
	}{
		{"1,234.50", 1234.5, true, false}, {"£12", 12, true, false}, {"-£3.5", -3.5, true, false}, {"(1,000)", -1000, true, false},
		{"*", 0, false, false}, {"-", 0, false, false}, {"", 0, false, false}, {":", 0, false, false}, {"ND", 0, false, false},
		{"12%", 12, true, false}, {"abc", 0, false, true}, {"1e400", 0, false, true}, {" 7 ", 7, true, false},
	}
	for _, n := range nums {
		v, ok, err := ParseNumber(n.in)
		if (err != nil) != n.fail || ok != n.ok || v != n.v {
			t.Errorf("ParseNumber(%q) = %v %v %v", n.in, v, ok, err)
		}
	}
	dates := map[string]string{"20200101": "2020-01-01", "01/04/1974": "1974-04-01", "01JAN2021": "2021-01-01", "2023-09-30": "2023-09-30", "36251": "1999-04-01"}
	for in, want := range dates {
		d, ok, err := ParseDate(in)
		if err != nil || !ok || d.Format("2006-01-02") != want {
			t.Errorf("ParseDate(%q) = %v %v %v, want %s", in, d, ok, err, want)
		}
	}
	if _, _, err := ParseDate("31/02/2020"); err == nil {
		t.Error("31/02/2020 should not parse")
	}
	heads := map[string]string{"Sub ICB Loc \nODS code": "sub_icb_loc_ods_code", "GlobalSum_£": "globalsum", "Average number of registered patients1": "average_number_of_registered_patients",
		"LSOA code (2011)": "lsoa_code_2011", "\ufeffPRACTICE_CODE": "practice_code"}
	for in, want := range heads {
		if got := normHeader(in); got != want {
			t.Errorf("normHeader(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"qof/2023-24/x.csv": "2023-24", "ACHIEVEMENT_2223.csv": "2022-23", "nhspaymentsgp-19-20-prac-csv.csv": "2019-20", "MAPPING_INDICATORS_2021_v2.csv": "2020-21"} {
		if got, ok := periodFromPath(in, Annual); !ok || got != want {
			t.Errorf("periodFromPath(%q) = %q, want %q", in, got, want)
		}
	}
	if got, ok := monthFromName("1 General Practice - September 2023 Practice Level - Detailed.csv"); !ok || got != "2023-09" {
		t.Errorf("monthFromName = %q", got)
	}
}

// monthOf answers from its table where it can and by formatting elsewhere;
// both read as time.Format would, at the table's edges too.
func TestMonthOf(t *testing.T) {
	for _, ymd := range [][3]int{
		{1989, 12, 31}, {1990, 1, 1}, {2024, 1, 29}, {2024, 12, 1}, {2109, 12, 31}, {2110, 1, 1},
		{999, 6, 1}, {1000, 1, 1}, {9999, 12, 31}, {10000, 1, 1},
	} {
		d := time.Date(ymd[0], time.Month(ymd[1]), ymd[2], 0, 0, 0, 0, time.UTC)
		if got, want := monthOf(d), d.Format("2006-01"); got != want {
			t.Errorf("monthOf(%s) = %q, want %q", d.Format("2006-01-02"), got, want)
		}
	}
}

// plainDecimal reads what it accepts to the bit as strconv.ParseFloat does
// (signed zeros, points at either end, 15 digits), and leaves the rest to
// ParseNumber's long way: more digits, exponents, markers, spaces.
func TestPlainDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []string{"0", "-0", "-0.0", "1.", ".5", "-.5", "210.0", "5.0", "0.1", "0.3", "999999999999999", "99999999999999.9", "0.00000000000001", "123456.789012345"}
	for i := 0; i < 200000; i++ {
		n := 1 + rng.IntN(15)
		b := make([]byte, 0, n+2)
		if rng.IntN(4) == 0 {
			b = append(b, '-')
		}
		p := rng.IntN(n + 2) // the point's place, or none
		for j := 0; j < n; j++ {
			if j == p {
				b = append(b, '.')
			}
			b = append(b, byte('0'+rng.IntN(10)))
		}
		if p == n {
			b = append(b, '.')
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		got, ok := plainDecimal(s)
		want, err := strconv.ParseFloat(s, 64)
		if !ok || err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("plainDecimal(%q) = %v %v, strconv %v %v", s, got, ok, want, err)
		}
		if v, ok, err := ParseNumber(s); !ok || err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("ParseNumber(%q) = %v %v %v, want %v", s, v, ok, err, want)
		}
	}
	for _, s := range []string{"", "-", ".", "-.", "1234567890123456", "0.000000000000001", "1e5", "+1", "1,000", " 1", "1 ", "1.2.3", "*", "£5", "(5)", "1%", "0x10", "NaN", "Inf"} {
		if got, ok := plainDecimal(s); ok {
			t.Errorf("plainDecimal(%q) = %v, want it left to ParseNumber", s, got)
		}
	}
}

// ymd's calendar arithmetic agrees with time.Date on every day of 1800-2400
// (leap centuries included) and refuses exactly the days time.Date would
// move to the next month.
func TestYMDCalendar(t *testing.T) {
	for y := 1800; y <= 2400; y++ {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				got, ok := ymd(fmt.Sprintf("%04d", y), fmt.Sprintf("%02d", m), fmt.Sprintf("%02d", d))
				want := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
				exists := m >= 1 && m <= 12 && d >= 1 && want.Day() == d && int(want.Month()) == m
				if ok != exists || ok && (!got.Equal(want) || got.Location() != time.UTC) {
					t.Fatalf("ymd(%04d-%02d-%02d) = %v %v, want %v %v", y, m, d, got, ok, want, exists)
				}
			}
		}
	}
}

// ParseDate's fast paths read dd/mm/yyyy and ddMONyyyy (any case) as
// time.Parse does, every day of 1990-2035, and leave what they cannot read
// (a 31st of February, a month name misspelt, a year before 1800) to it.
func TestParseDateFastPaths(t *testing.T) {
	for d := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2036; d = d.AddDate(0, 0, 1) {
		for _, in := range []string{d.Format("02/01/2006"), d.Format("02Jan2006"), strings.ToUpper(d.Format("02Jan2006")), strings.ToLower(d.Format("02Jan2006"))} {
			got, ok, err := ParseDate(in)
			if err != nil || !ok || !got.Equal(d) {
				t.Fatalf("ParseDate(%q) = %v %v %v, want %s", in, got, ok, err, d.Format("2006-01-02"))
			}
		}
	}
	for _, in := range []string{"31/02/2024", "30FEB2024", "01JAX2024", "00/01/2024", "01/13/2024", "32JAN2024", "01J\x00N2024"} {
		if got, ok, err := ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q) = %v %v, want an error", in, got, ok)
		}
	}
	// Years time.Parse reads but the fast path leaves to it.
	for _, in := range []string{"01/04/1750", "01APR1750"} {
		if got, ok, err := ParseDate(in); err != nil || !ok || got.Format("2006-01-02") != "1750-04-01" {
			t.Errorf("ParseDate(%q) = %v %v %v, want 1750-04-01", in, got, ok, err)
		}
	}
}
