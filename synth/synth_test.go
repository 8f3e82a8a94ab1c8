package synth

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestDeterministic(t *testing.T) {
	cfg := Config{Practices: 40, Months: 3, Seed: 42, ReferralRows: 3000, EndMonth: "2023-05"}
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	cfg.Out = a
	sa, err := Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Out = b
	if _, err := Generate(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Out, cfg.Seed = c, 43
	if _, err := Generate(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	differ := 0
	for _, f := range sa.Files {
		x, err := os.ReadFile(filepath.Join(a, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(x)) != f.Bytes {
			t.Errorf("%s: summary says %d bytes, file has %d", f.Path, f.Bytes, len(x))
		}
		y, err := os.ReadFile(filepath.Join(b, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", f.Path)
		}
		if z, err := os.ReadFile(filepath.Join(c, f.Path)); err != nil || !bytes.Equal(x, z) {
			differ++
		}
	}
	// the indicator mapping and thresholds do not depend on the seed; nearly all else does
	if differ < len(sa.Files)-3 {
		t.Errorf("only %d of %d files changed with another seed", differ, len(sa.Files))
	}
}

func TestHeadersAndStyle(t *testing.T) {
	dir, sum := smallRun(t)
	cases := []struct {
		pattern    string
		header     string // "" for no header
		bom, crlf  bool
		minFiles   int
		allQuoted  bool
		fieldCount int
	}{
		{`^qof/2023-24/ACHIEVEMENT_2324\.csv$`, qofAchievementHeader, false, false, 1, false, 4},
		{`^qof/2023-24/PREVALENCE_2324\.csv$`, qofPrevalenceHeader, false, false, 1, false, 5},
		{`^qof/2023-24/MAPPING_INDICATORS_2324\.csv$`, qofMappingHeader, false, false, 1, false, 8},
		{`^qof/2023-24/MAPPING_NHS_GEOGRAPHIES_2324\.csv$`, qofGeoHeader, false, false, 1, false, 16},
		{`^payments/nhspaymentsgp-23-24-prac-csv\.csv$`, PaymentsHeader, true, true, 1, false, 75},
		{`^workforce/\d{4}-\d\d/1 General Practice - [A-Z][a-z]+ \d{4} Practice Level - Detailed\.csv$`, WorkforceHeader, false, true, 6, false, 58},
		{`^registrations/\d{4}-\d\d/gp-reg-pat-prac-all\.csv$`, regAllHeader, false, true, 6, false, 10},
		{`^registrations/\d{4}-\d\d/gp-reg-pat-prac-quin-age\.csv$`, regQuinHeader, false, true, 6, false, 9},
		{`^registrations/\d{4}-(01|04|07|10)/gp-reg-pat-prac-lsoa-all\.csv$`, regLSOAHeader, false, true, 2, false, 8},
		{`^registrations/\d{4}-\d\d/gp-reg-pat-prac-map\.csv$`, regMapHeader, false, true, 6, false, 17},
		{`^ods/epraccur\.csv$`, "", false, true, 1, true, 27},
		{`^deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation\.csv$`, imdFile1Header, true, true, 1, false, 6},
		{`^deprivation/File_5_-_IoD2019_Scores\.csv$`, imdFile5Header, true, true, 1, false, 12},
		{`^referrals/\d{4}-\d\d/referrals_aggregated_\d{4}-\d\d\.csv$`, referralsAggHeader, false, false, 6, false, 7},
		{`^referrals/\d{4}-\d\d/referrals_records_\d{4}-\d\d\.csv$`, referralsRecHeader, false, false, 6, false, 7},
	}
	matched := map[string]bool{}
	for _, tc := range cases {
		re := regexp.MustCompile(tc.pattern)
		n := 0
		for _, f := range sum.Files {
			if !re.MatchString(f.Path) {
				continue
			}
			n++
			matched[f.Path] = true
			b, err := os.ReadFile(filepath.Join(dir, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}); got != tc.bom {
				t.Errorf("%s: BOM %v, want %v", f.Path, got, tc.bom)
			}
			if got := bytes.Contains(b, []byte("\r\n")); got != tc.crlf {
				t.Errorf("%s: CRLF %v, want %v", f.Path, got, tc.crlf)
			}
			if tc.crlf && bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
				t.Errorf("%s: mixed line endings", f.Path)
			}
			hdr, rows := readCSV(t, filepath.Join(dir, f.Path), tc.header != "")
			if tc.header != "" {
				want, _ := readCSVString(t, tc.header)
				if strings.Join(hdr, "|") != strings.Join(want, "|") {
					t.Errorf("%s: header\n got %q\nwant %q", f.Path, hdr, want)
				}
			}
			if int64(len(rows)) != f.Rows {
				t.Errorf("%s: %d rows, summary says %d", f.Path, len(rows), f.Rows)
			}
			for i, r := range rows {
				if len(r) != tc.fieldCount {
					t.Fatalf("%s row %d: %d fields, want %d", f.Path, i+1, len(r), tc.fieldCount)
				}
			}
			if tc.allQuoted {
				for _, line := range strings.Split(strings.TrimSpace(string(b)), "\r\n")[:5] {
					if strings.Count(line, `","`) != tc.fieldCount-1 || !strings.HasPrefix(line, `"`) {
						t.Errorf("%s: not fully quoted: %s", f.Path, line)
					}
				}
			}
		}
		if n < tc.minFiles {
			t.Errorf("%s: %d files, want at least %d", tc.pattern, n, tc.minFiles)
		}
	}
	for _, f := range sum.Files {
		if !matched[f.Path] && !strings.HasPrefix(f.Path, "_truth/") {
			t.Errorf("unexpected file %s", f.Path)
		}
	}
}

func readCSVString(t *testing.T, s string) ([]string, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "h.csv")
	if err := os.WriteFile(p, []byte(s+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, rows := readCSV(t, p, false)
	return rows[0], nil
}

// The contract headers must equal the real published files where we have them.
func TestHeadersMatchRealFiles(t *testing.T) {
	real := "../../shared/data/real"
	if _, err := os.Stat(real); err != nil {
		t.Skip("real files not available")
	}
	cases := []struct{ file, header string }{
		{"nhs_payments_gp/nhspaymentsgp-22-23-prac-csv.csv", PaymentsHeader},
		{"qof/2022-23/PREVALENCE_2223.csv", qofPrevalenceHeader},
		{"qof/2022-23/MAPPING_NHS_GEOGRAPHIES_2223.csv", qofGeoHeader},
		{"qof/2018-19/INDICATOR_MAPPINGS_1819_v2.csv", qofMappingHeader},
		{"imd2019/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv", imdFile1Header},
		{"gp_registrations/openprescribing_fixture/gp-reg-pat-prac-quin-age.csv", regQuinHeader},
	}
	for _, tc := range cases {
		b, err := os.ReadFile(filepath.Join(real, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
		line, _, _ := strings.Cut(string(b), "\n")
		if got := strings.TrimSuffix(line, "\r"); got != tc.header {
			t.Errorf("%s: real header\n%q\nours\n%q", tc.file, got, tc.header)
		}
	}
	// our indicator set is the real 2022-23 one
	_, rows := readCSV(t, filepath.Join(real, "qof/2023-24/PREVIOUS_INDICATOR_MAPPINGS.csv"), true)
	if len(rows) != len(Indicators) {
		t.Fatalf("%d real indicators, %d ours", len(rows), len(Indicators))
	}
	for i, r := range rows {
		ind := Indicators[i]
		if r[0] != ind.Code || num(t, r[1]) != ind.Points || r[2] != ind.Group || r[4] != ind.Domain || r[6] != ind.ListType || r[7] != ind.AddListType {
			t.Errorf("indicator %d: real %v, ours %+v", i, r, ind)
		}
	}
	// the prevalence groups and list types are the real file's
	_, prev := readCSV(t, filepath.Join(real, "qof/2022-23/PREVALENCE_2223.csv"), true)
	for i, g := range PrevalenceGroups {
		if prev[i][1] != g.Code || prev[i][3] != g.ListType {
			t.Errorf("group %d: real %s/%s, ours %s/%s", i, prev[i][1], prev[i][3], g.Code, g.ListType)
		}
	}
}

func TestRowCounts(t *testing.T) {
	dir, sum := smallRun(t)
	byPath := map[string]FileInfo{}
	for _, f := range sum.Files {
		byPath[f.Path] = f
	}
	if len(sum.Months) != 6 || sum.Months[0] != "2023-10" || sum.Months[5] != "2024-03" {
		t.Fatalf("months %v", sum.Months)
	}
	if len(sum.FinancialYears) != 1 || sum.FinancialYears[0] != "2023-24" {
		t.Fatalf("financial years %v", sum.FinancialYears)
	}
	for _, m := range sum.Months {
		all := byPath["registrations/"+m+"/gp-reg-pat-prac-all.csv"]
		quin := byPath["registrations/"+m+"/gp-reg-pat-prac-quin-age.csv"]
		mp := byPath["registrations/"+m+"/gp-reg-pat-prac-map.csv"]
		if all.Rows < 280 || all.Rows > 310 {
			t.Errorf("%s: %d practices", m, all.Rows)
		}
		if quin.Rows != all.Rows*(1+2*(nBands+1)) {
			t.Errorf("%s: quinary rows %d, want %d", m, quin.Rows, all.Rows*43)
		}
		if mp.Rows != all.Rows {
			t.Errorf("%s: map rows %d, want %d", m, mp.Rows, all.Rows)
		}
		_, lsoa := byPath["registrations/"+m+"/gp-reg-pat-prac-lsoa-all.csv"]
		if q := strings.HasSuffix(m, "-01") || strings.HasSuffix(m, "-10"); lsoa != q {
			t.Errorf("%s: LSOA file present %v, want %v", m, lsoa, q)
		}
	}
	// QOF: 21 prevalence rows per practice; achievement measures per indicator kind
	prev := byPath["qof/2023-24/PREVALENCE_2324.csv"]
	geo := byPath["qof/2023-24/MAPPING_NHS_GEOGRAPHIES_2324.csv"]
	if prev.Rows != geo.Rows*int64(len(PrevalenceGroups)) {
		t.Errorf("prevalence rows %d, want %d", prev.Rows, geo.Rows*21)
	}
	var per int64
	for _, ind := range Indicators {
		switch ind.Kind {
		case KindRegister:
			per += 2
		case KindPercent:
			per += 4
		default:
			per++
		}
	}
	if ach := byPath["qof/2023-24/ACHIEVEMENT_2324.csv"]; ach.Rows != geo.Rows*per {
		t.Errorf("achievement rows %d, want %d", ach.Rows, geo.Rows*per)
	}
	if n := byPath["qof/2023-24/MAPPING_INDICATORS_2324.csv"].Rows; n != 76 {
		t.Errorf("indicator mapping rows %d", n)
	}
	// record-level referrals add up to ReferralRows
	var rec int64
	for _, f := range sum.Files {
		if strings.Contains(f.Path, "referrals_records_") {
			rec += f.Rows
		}
	}
	if rec != smallConfig("").ReferralRows {
		t.Errorf("record rows %d, want %d", rec, smallConfig("").ReferralRows)
	}
	// IMD: about 5.2 LSOAs per practice, ranks 1..n
	_, imd := readCSV(t, filepath.Join(dir, "deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv"), true)
	if len(imd) < 1200 || len(imd) > 1900 {
		t.Errorf("%d LSOAs for 300 practices", len(imd))
	}
	seen := make([]bool, len(imd)+1)
	for _, r := range imd {
		k := int(num(t, r[4]))
		if k < 1 || k > len(imd) || seen[k] {
			t.Fatalf("bad or repeated rank %s", r[4])
		}
		seen[k] = true
		if d := int(num(t, r[5])); d != int(math.Ceil(float64(k)*10/float64(len(imd)))) {
			t.Errorf("rank %d decile %d", k, d)
		}
	}
	// ODS: a closed practice and some non-practice settings
	_, ods := readCSV(t, filepath.Join(dir, "ods/epraccur.csv"), false)
	var closed, other int
	for _, r := range ods {
		if r[12] == "C" && r[11] != "" {
			closed++
		}
		if r[25] != "4" {
			other++
		}
	}
	if closed == 0 || other == 0 {
		t.Errorf("epraccur: %d closed, %d non-practice rows", closed, other)
	}
}

func TestRegistrationsConsistent(t *testing.T) {
	dir, _ := smallRun(t)
	_, all := readCSV(t, filepath.Join(dir, "registrations/2024-01/gp-reg-pat-prac-all.csv"), true)
	_, quin := readCSV(t, filepath.Join(dir, "registrations/2024-01/gp-reg-pat-prac-quin-age.csv"), true)
	_, lsoa := readCSV(t, filepath.Join(dir, "registrations/2024-01/gp-reg-pat-prac-lsoa-all.csv"), true)
	total := map[string]float64{}
	for _, r := range all {
		total[r[5]] = num(t, r[9])
	}
	bands := map[string]float64{}
	for _, r := range quin {
		if r[6] != "ALL" && r[7] != "ALL" {
			bands[r[3]] += num(t, r[8])
		}
	}
	lsoas := map[string]float64{}
	var unknown, n float64
	for _, r := range lsoa {
		lsoas[r[3]] += num(t, r[7])
		n += num(t, r[7])
		if r[6] == "NO2011" {
			unknown += num(t, r[7])
		}
	}
	for p, v := range total {
		if bands[p] != v || lsoas[p] != v {
			t.Errorf("%s: total %v, bands %v, LSOAs %v", p, v, bands[p], lsoas[p])
		}
	}
	if unknown == 0 || unknown/n > 0.02 {
		t.Errorf("unknown LSOA share %v", unknown/n)
	}
}

func TestQOFConsistent(t *testing.T) {
	dir, _ := smallRun(t)
	_, ach := readCSV(t, filepath.Join(dir, "qof/2023-24/ACHIEVEMENT_2324.csv"), true)
	_, prev := readCSV(t, filepath.Join(dir, "qof/2023-24/PREVALENCE_2324.csv"), true)
	inds := map[string]Indicator{}
	for _, ind := range Indicators {
		inds[ind.Code] = ind
	}
	register := map[string]float64{}
	for _, r := range prev {
		register[r[0]+"/"+r[1]] = num(t, r[2])
	}
	type key struct{ p, i string }
	vals := map[key]map[string]float64{}
	for _, r := range ach {
		k := key{r[0], r[1]}
		if vals[k] == nil {
			vals[k] = map[string]float64{}
		}
		vals[k][r[2]] = num(t, r[3])
	}
	checked := 0
	for k, v := range vals {
		ind := inds[k.i]
		if v["ACHIEVED_POINTS"] < 0 || v["ACHIEVED_POINTS"] > ind.Points {
			t.Errorf("%v: points %v of %v", k, v["ACHIEVED_POINTS"], ind.Points)
		}
		switch ind.Kind {
		case KindRegister:
			if v["REGISTER"] != register[k.p+"/"+ind.Group] {
				t.Errorf("%v: register %v, prevalence file %v", k, v["REGISTER"], register[k.p+"/"+ind.Group])
			}
		case KindPercent:
			if v["NUMERATOR"] > v["DENOMINATOR"] {
				t.Errorf("%v: numerator %v > denominator %v", k, v["NUMERATOR"], v["DENOMINATOR"])
			}
			if v["DENOMINATOR"] > 0 {
				want := round(Points(ind, 100*v["NUMERATOR"]/v["DENOMINATOR"]), 2)
				if math.Abs(want-v["ACHIEVED_POINTS"]) > 0.0051 {
					t.Errorf("%v: points %v, formula gives %v", k, v["ACHIEVED_POINTS"], want)
				}
				checked++
			}
		}
	}
	if checked < 1000 {
		t.Errorf("only %d percentage indicators checked", checked)
	}
}

func TestPaymentsAddUp(t *testing.T) {
	dir, _ := smallRun(t)
	hdr, rows := readCSV(t, filepath.Join(dir, "payments/nhspaymentsgp-23-24-prac-csv.csv"), true)
	col := map[string]int{}
	for i, h := range hdr {
		col[h] = i
	}
	first, last := col["Global Sum"], col["Other Payments"]
	tot := col["Total NHS Payments to General Practice"]
	if last-first+1 != nPayLines || tot != last+1 {
		t.Fatalf("payment line columns %d..%d, total %d", first, last, tot)
	}
	var seps int
	for _, r := range rows {
		var s float64
		for i := first; i <= last; i++ {
			s += num(t, r[i])
			if strings.Contains(r[i], ",") {
				seps++
			}
		}
		total := num(t, r[tot])
		if math.Abs(s-total) > 0.01 {
			t.Errorf("%s: lines add to %.2f, total %.2f", r[6], s, total)
		}
		ded := num(t, r[tot+1])
		if ded > 0 || math.Abs(total+ded-num(t, r[tot+2])) > 0.011 {
			t.Errorf("%s: deductions %v, minus deductions %v", r[6], ded, r[tot+2])
		}
		var pcn, covid float64
		for i := col["PCN Leadership"]; i <= col["PCN Enhanced Access"]; i++ {
			pcn += num(t, r[i])
		}
		for i := col["Covid Immunisation"]; i <= col["Long Covid"]; i++ {
			covid += num(t, r[i])
		}
		if math.Abs(total+covid+pcn-num(t, r[tot+5])) > 0.011 {
			t.Errorf("%s: covid+PCN total mismatch", r[6])
		}
		if reg := num(t, r[col["Average Number of Registered Patients"]]); reg > 0 {
			if got := num(t, r[col["Average payments per registered patient"]]); math.Abs(got-total/reg) > 0.006 {
				t.Errorf("%s: per patient %v, want %v", r[6], got, total/reg)
			}
		}
	}
	if seps == 0 {
		t.Error("no amounts with thousands separators")
	}
}

func TestReferralRecordsMatchAggregate(t *testing.T) {
	dir, sum := smallRun(t)
	ids := map[string]bool{}
	for _, m := range sum.Months {
		_, recs := readCSV(t, filepath.Join(dir, "referrals", m, "referrals_records_"+m+".csv"), true)
		_, agg := readCSV(t, filepath.Join(dir, "referrals", m, "referrals_aggregated_"+m+".csv"), true)
		counts := map[string]int{}
		for _, r := range recs {
			if ids[r[0]] || len(r[0]) != 16 {
				t.Fatalf("bad or repeated id %q", r[0])
			}
			ids[r[0]] = true
			if !strings.HasPrefix(r[1], m+"-") {
				t.Fatalf("%s: date %s outside the month", m, r[1])
			}
			age := int(num(t, r[3]))
			band := age / 5
			if band >= nBands {
				band = nBands - 1
			}
			counts[strings.Join([]string{r[2], r[5], r[6], AgeBands[band], r[4]}, "|")]++
		}
		if len(agg) != len(counts) {
			t.Errorf("%s: %d aggregated rows, records give %d cells", m, len(agg), len(counts))
		}
		for _, r := range agg {
			k := strings.Join([]string{r[0], r[2], r[3], r[4], r[5]}, "|")
			if r[1] != m || int(num(t, r[6])) != counts[k] || counts[k] < 1 {
				t.Errorf("%s: %v: records give %d", m, r, counts[k])
			}
		}
	}
}

// The relationships the metrics must find, computed from the generated rows.
func TestRelationships(t *testing.T) {
	dir, sum := smallRun(t)
	imd := practiceIMD(t, dir, "2024-01")
	if len(imd) < 280 {
		t.Fatalf("IMD for %d practices", len(imd))
	}
	var xs []float64
	var codes []string
	for p, v := range imd {
		codes = append(codes, p)
		xs = append(xs, v)
	}
	outlier := map[string]string{}
	for _, o := range sum.Outliers {
		outlier[o.Practice] = o.Kind
	}
	// prevalence of DM, COPD and MH
	_, prev := readCSV(t, filepath.Join(dir, "qof/2023-24/PREVALENCE_2324.csv"), true)
	prevBy := map[string]float64{}
	for _, r := range prev {
		prevBy[r[0]+"/"+r[1]] = num(t, r[2]) / num(t, r[4])
	}
	// achievement: sum of numerators / sum of denominators
	_, ach := readCSV(t, filepath.Join(dir, "qof/2023-24/ACHIEVEMENT_2324.csv"), true)
	numer, denom := map[string]float64{}, map[string]float64{}
	for _, r := range ach {
		switch r[2] {
		case "NUMERATOR":
			numer[r[0]] += num(t, r[3])
		case "DENOMINATOR":
			denom[r[0]] += num(t, r[3])
		}
	}
	// GP FTE per 10,000 patients
	wf := filepath.Join(dir, "workforce/2024-01", WorkforceFileName(2024, "January"))
	hdr, wrows := readCSV(t, wf, true)
	fteCol := indexOf(hdr, "TOTAL_GP_FTE")
	fte := map[string]float64{}
	for _, r := range wrows {
		fte[r[0]] = num(t, r[fteCol]) / num(t, r[10]) * 10000
	}
	// referrals per 1,000 patients over the months
	refs, pats := map[string]float64{}, map[string]float64{}
	for _, m := range sum.Months {
		_, agg := readCSV(t, filepath.Join(dir, "referrals", m, "referrals_aggregated_"+m+".csv"), true)
		for _, r := range agg {
			refs[r[0]] += num(t, r[6])
		}
		_, all := readCSV(t, filepath.Join(dir, "registrations", m, "gp-reg-pat-prac-all.csv"), true)
		for _, r := range all {
			pats[r[5]] += num(t, r[9])
		}
	}
	// payments per weighted patient
	phdr, pay := readCSV(t, filepath.Join(dir, "payments/nhspaymentsgp-23-24-prac-csv.csv"), true)
	perW := map[string]float64{}
	for _, r := range pay {
		if r[indexOf(phdr, "Atypical characteristics")] == "" {
			perW[r[6]] = num(t, r[indexOf(phdr, "Average payments per weighted patient")])
		}
	}
	series := func(f func(p string) float64, skipKind string) float64 {
		ys := make([]float64, len(codes))
		for i, p := range codes {
			ys[i] = f(p)
			if skipKind != "" && outlier[p] == skipKind {
				ys[i] = math.NaN()
			}
		}
		return corr(xs, ys)
	}
	get := func(m map[string]float64) func(string) float64 {
		return func(p string) float64 {
			if v, ok := m[p]; ok {
				return v
			}
			return math.NaN()
		}
	}
	tests := []struct {
		name     string
		r        float64
		min, max float64
	}{
		{"DM prevalence", series(func(p string) float64 { return get(prevBy)(p + "/DM") }, ""), 0.2, 1},
		{"COPD prevalence", series(func(p string) float64 { return get(prevBy)(p + "/COPD") }, ""), 0.2, 1},
		{"MH prevalence", series(func(p string) float64 { return get(prevBy)(p + "/MH") }, ""), 0.2, 1},
		{"QOF achievement", series(func(p string) float64 { return numer[p] / denom[p] }, OutlierLowQOF), -1, -0.15},
		{"GP FTE per 10k", series(get(fte), OutlierLowGPFTE), -1, -0.1},
		{"referrals per 1k", series(func(p string) float64 { return refs[p] / pats[p] }, OutlierHighReferrals), 0.1, 1},
		{"payments per weighted patient", series(get(perW), ""), -0.35, 0.35},
	}
	for _, tc := range tests {
		t.Logf("corr(IMD, %s) = %.3f", tc.name, tc.r)
		if math.IsNaN(tc.r) || tc.r < tc.min || tc.r > tc.max {
			t.Errorf("corr(IMD, %s) = %.3f, want in [%v, %v]", tc.name, tc.r, tc.min, tc.max)
		}
	}
	// the planted outliers stand out on their own measure
	for p, kind := range outlier {
		var v, all []float64
		switch kind {
		case OutlierLowQOF:
			v, all = []float64{numer[p] / denom[p]}, ratios(numer, denom)
		case OutlierHighReferrals:
			v, all = []float64{refs[p] / pats[p]}, ratios(refs, pats)
		case OutlierLowGPFTE:
			v, all = []float64{fte[p]}, values(fte)
		}
		sort.Float64s(all)
		rank := sort.SearchFloat64s(all, v[0])
		pct := float64(rank) / float64(len(all))
		if (kind == OutlierHighReferrals && pct < 0.97) || (kind != OutlierHighReferrals && pct > 0.03) {
			t.Errorf("outlier %s (%s) is at the %.2f quantile", p, kind, pct)
		}
	}
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

func ratios(a, b map[string]float64) []float64 {
	var out []float64
	for k, v := range a {
		if b[k] > 0 {
			out = append(out, v/b[k])
		}
	}
	return out
}

func values(m map[string]float64) []float64 {
	var out []float64
	for _, v := range m {
		if !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

func TestCancelLeavesNoPartialFiles(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := Config{Out: dir, Practices: 200, Months: 4, Seed: 3, ReferralRows: 50000}
	calls := 0
	cfg.Progress = func(string, int64) {
		calls++
		if calls == 5 {
			cancel()
		}
	}
	sum, err := Generate(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	listed := map[string]bool{}
	for _, f := range sum.Files {
		listed[f.Path] = true
	}
	err = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if strings.HasSuffix(rel, ".tmp") {
			t.Errorf("temporary file left: %s", rel)
		}
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("file %s on disk but not in the summary", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Files) != 5 {
		t.Errorf("%d files completed, want 5", len(sum.Files))
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []Config{
		{Out: "", Practices: 10, Months: 1},
		{Out: "x", Practices: 3, Months: 1},
		{Out: "x", Practices: 10, Months: -1},
		{Out: "x", Practices: 10, Months: 1, EndMonth: "2024-13"},
		{Out: "x", Practices: 10, Months: 1, EndMonth: "March 2024"},
		{Out: "x", Practices: 10, Months: 1, ReferralRows: -5},
	}
	for _, c := range bad {
		if _, err := Generate(context.Background(), c); err == nil {
			t.Errorf("config %+v: no error", c)
		}
	}
}

func TestFinancialYears(t *testing.T) {
	cases := []struct {
		end    string
		months int
		want   string
	}{
		{"2024-03", 60, "2019-20 2020-21 2021-22 2022-23 2023-24"},
		{"2024-03", 12, "2023-24"},
		{"2024-04", 2, "2023-24 2024-25"},
		{"2023-09", 1, "2023-24"},
		{"2024-03", 13, "2022-23 2023-24"},
	}
	for _, tc := range cases {
		end, err := parseMonth(tc.end)
		if err != nil {
			t.Fatal(err)
		}
		w := &World{End: end, Start: end - month(tc.months) + 1}
		var got []string
		for _, fy := range w.financialYears() {
			got = append(got, fyLabel(fy))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s x%d: %v, want %s", tc.end, tc.months, got, tc.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	cases := []struct{ got, want string }{
		{fmtThousands(1234.5), "1,234.5"},
		{fmtThousands(-1234567.891), "-1,234,567.89"},
		{fmtThousands(999), "999"},
		{fmtNum(438099.78, 2), "438099.78"},
		{fmtNum(2520, 2), "2520"},
		{fmtNum(-0.001, 2), "0"},
		{fmtQOF(12), "12.0"},
		{fmtQOF(5.891), "5.89"},
		{fmtPointOne(112), "112.0"},
		{month(2023*12 + 8).extractDate(), "01SEP2023"},
		{PaymentsFileName(2023), "nhspaymentsgp-23-24-prac-csv.csv"},
		{WorkforceFileName(2023, "September"), "1 General Practice - September 2023 Practice Level - Detailed.csv"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "ods", ".epraccur.csv.12345.tmp")
	keep := filepath.Join(dir, "ods", "notes.tmp")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{stale, keep} {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Generate(context.Background(), Config{Out: dir, Practices: 10, Months: 1, SkipTruth: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp file still there: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("unrelated file removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "_truth")); !os.IsNotExist(err) {
		t.Errorf("_truth written with SkipTruth")
	}
}

func TestReferralRecordTotalsExact(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Practices: 25, Months: 2, Seed: 5}
	w, err := BuildWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{0, 1, 7, 999, 12345} {
		g := &gen{ctx: context.Background(), cfg: cfg, w: w}
		if err := g.writeReferralMonth(w.End, n); err != nil {
			t.Fatal(err)
		}
		var rec, agg int64
		for _, f := range g.sum.Files {
			if strings.Contains(f.Path, "records") {
				rec = f.Rows
			}
		}
		_, rows := readCSV(t, filepath.Join(cfg.Out, "referrals", w.End.String(), "referrals_aggregated_"+w.End.String()+".csv"), true)
		for _, r := range rows {
			agg += int64(num(t, r[6]))
		}
		if rec != n || agg != n {
			t.Errorf("asked %d records: wrote %d, aggregate counts %d", n, rec, agg)
		}
	}
}
