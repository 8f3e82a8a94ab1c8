package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/text/encoding/charmap"

	"github.com/gplens/gplens/data"
	"github.com/gplens/gplens/ingest"
)

// Every heading a source reads has at least one alias, and the table loads.
func TestAliasTableCoversEverySource(t *testing.T) {
	at, err := ingest.LoadAliases("")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ingest.Sources() {
		info := s.Info()
		if info.Headerless > 0 {
			continue
		}
		if len(info.Headings) == 0 {
			t.Errorf("%s declares no headings", info.Name)
		}
		for _, h := range info.Headings {
			if strings.HasSuffix(h.Name, ":*") {
				continue
			}
			if len(at.For(info.Name, h.Name)) == 0 {
				t.Errorf("%s.%s has no alias in %s", info.Name, h.Name, ingest.AliasesFile)
			}
		}
	}
}

// lakeRow is the subset of lake columns the era tests read back.
type lakeRow struct {
	PracticeCode *string  `parquet:"practice_code,optional"`
	SubICBCode   *string  `parquet:"sub_icb_code,optional"`
	ICBCode      *string  `parquet:"icb_code,optional"`
	RegionCode   *string  `parquet:"region_code,optional"`
	Registered   *float64 `parquet:"registered_patients,optional"`
	Component    *string  `parquet:"component,optional"`
	Amount       *float64 `parquet:"amount,optional"`
	Points       *float64 `parquet:"achieved_points,optional"`
	Patients     *int64   `parquet:"patients,optional"`
}

func readLake(t *testing.T, lake, source, period string) []lakeRow {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(ingest.PartitionPath(lake, source, "", period), "*.parquet"))
	if len(files) != 1 {
		t.Fatalf("%s/%s: %d parquet files", source, period, len(files))
	}
	rows, err := parquet.ReadFile[lakeRow](files[0])
	if err != nil {
		t.Fatalf("read %s: %v", files[0], err)
	}
	return rows
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// Headers built the way each naming era spelled them ingest to the same
// lake columns; a year not seen before, spelled with known eras' headings,
// ingests too.
func TestAliasesAcrossEras(t *testing.T) {
	cases := []struct {
		name    string
		file    string // name, under a folder giving the period
		header  string
		row     string
		cp1252  bool
		source  string
		era     string
		check   func(t *testing.T, rows []lakeRow)
		rows    int64
		period  string
		subICB  string
		regCode string
	}{
		{name: "payments 2015-16 CamelCase, cp1252 £", file: "nhspaymentsgp-15-16-csv.csv", cp1252: true,
			header: "NHSEnglandRegionCode,CCGCode,PracticeCode,NumberOfRegisteredPatientsLastKnownFigure,NumberOfWeightedPatientsLastKnownFigure,GlobalSum_£,ExtendedHoursAccess_£",
			row:    "Q71,08A,H85001,\"5,120\",\"5,301.5\",\"400,000.10\",2000",
			source: "payments", era: "CamelCase (2015-16)", period: "2015-16", subICB: "08A", regCode: "Q71", rows: 2},
		{name: "payments 2017-18 area team/local office, CCG", file: "nhspaymentsgp-17-18-csv.csv",
			header: "\"NHS England (Region, local office) Code\",CCG Code,Practice Code,Number of Registered Patients (Last Known Figure),Number of Weighted Patients (Last Known Figure),Global Sum,Extended Hours Access",
			row:    "Q71,08A,H85001,5120,5301.5,400000.10,2000",
			source: "payments", era: "last known figure", period: "2017-18", subICB: "08A", regCode: "Q71", rows: 2},
		{name: "payments 2019-20 average patients with footnote digits", file: "nhspaymentsgp-19-20-prac-csv.csv",
			header: "NHS England and NHS Improvement Region Code,CCG Code,PCN Code,Practice Code,Average number of registered patients1,Average number of weighted patients1,Global Sum,Extended Hours Access4",
			row:    "Y56,08A,U12345,H85001,5120,5301.5,400000.10,2000",
			source: "payments", era: "average patients", period: "2019-20", subICB: "08A", regCode: "Y56", rows: 2},
		{name: "payments 2022-23 sub-ICB, GP Extended Hours Access renamed", file: "nhspaymentsgp-22-23-prac-csv.csv",
			header: "NHS England (Region) code,Sub ICB Code,Sub ICB NAME,Practice Code,Average Number of Registered Patients,Average Number of Weighted Patients,Global Sum,GP Extended Hours Access",
			row:    "Y56,93C,NHS North Central London ICB - 93C,H85001,5120,5301.5,400000.10,2000",
			source: "payments", era: "sub-ICB/ICB", period: "2022-23", subICB: "93C", regCode: "Y56", rows: 2},
		{name: "payments 2023-24, a year not seen: known headings, a new payment line", file: "nhspaymentsgp-23-24-prac-csv.csv",
			header: "NHS England (Region) code,Sub ICB Location Code,Practice Code,Number of Registered Patients (Last Known Figure),Average Number of Weighted Patients,Global Sum,GP Extended Hours Access,Capacity and Access Improvement Payment",
			row:    "Y56,93C,H85001,5120,5301.5,400000.10,2000,1500",
			source: "payments", era: "sub-ICB/ICB", period: "2023-24", subICB: "93C", regCode: "Y56", rows: 3},
		{name: "registrations, CCG headings (to 2022)", file: "2021-01/gp-reg-pat-prac-all.csv",
			header: "PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS",
			row:    "GP_PRAC_PAT_LIST,01JAN2021,GP,00C,E38000042,A83005,DL1 3RT,ALL,ALL,11826",
			source: "registrations", era: "CCG", period: "2021-01", subICB: "00C", rows: 1},
		{name: "registrations, sub-ICB headings (from July 2022)", file: "2023-04/gp-reg-pat-prac-all.csv",
			header: "PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS",
			row:    "GP_PRAC_PAT_LIST,01APR2023,GP,00L,E38000130,A83005,DL1 3RT,ALL,ALL,11826",
			source: "registrations", era: "sub-ICB/ICB", period: "2023-04", subICB: "00L", rows: 1},
		{name: "QOF geography, CCG/STP headings", file: "2023-24/QOF_MANUAL_MAPPINGS.csv",
			header: "PRACTICE_CODE,PRACTICE_NAME,PCN_ODS_CODE,PCN_NAME,CCG_ODS_CODE,CCG_ONS_CODE,CCG_NAME,STP_ODS_CODE,STP_ONS_CODE,STP_NAME,REGION_ODS_CODE,REGION_ONS_CODE,REGION_NAME",
			row:    "A81001,THE DENSHAM SURGERY,U00351,PCN A,16C,E38000247,CCG A,QHM,E54000050,STP A,Y63,E40000012,NORTH EAST AND YORKSHIRE",
			source: "qof_geography", era: "CCG", period: "2023-24", subICB: "16C", regCode: "Y63", rows: 1},
		{name: "QOF geography, sub-ICB/ICB headings, new year", file: "2024-25/MAPPING_NHS_GEOGRAPHIES_2425.csv",
			header: "REGION_ODS_CODE,REGION_ONS_CODE,REGION_NAME,ICB_ODS_CODE,ICB_ONS_CODE,ICB_NAME,SUB_ICB_ODS_CODE,SUB_ICB_ONS_CODE,SUB_ICB_NAME,PCN_ODS_CODE,PCN_NAME,PRACTICE_CODE,PRACTICE_NAME",
			row:    "Y63,E40000012,North East and Yorkshire,QHM,E54000050,ICB A,16C,E38000247,SUB A,U00351,PCN A,A81001,THE DENSHAM SURGERY",
			source: "qof_geography", era: "sub-ICB/ICB", period: "2024-25", subICB: "16C", regCode: "Y63", rows: 1},
		{name: "QOF points 2017-18 (max. 559), CCG", file: "QOF 2017-18.csv",
			header: "Region code,STP code,CCG code,Practice code,Practice name,All ages,Achievement score (max. 559)",
			row:    "Y54,QHM,00C,A81001,THE DENSHAM SURGERY,4200,540.2",
			source: "qof_points", era: "CCG", period: "2017-18", subICB: "00C", rows: 1},
		{name: "QOF points 2020-21 (567 max), a wording not seen", file: "QOF 2020-21.csv",
			header: "Sub ICB Location ODS code,Practice code,Practice name,List size,Achievement score (567 max)",
			row:    "00C,A81001,THE DENSHAM SURGERY,4200,550.0",
			source: "qof_points", era: "sub-ICB/ICB", period: "2020-21", subICB: "00C", rows: 1},
		{name: "QOF points 2022-23, line breaks inside headings", file: "QOF 2022-23.csv",
			header: "\"Sub ICB Loc \nODS code\",PCN ODS code,Practice code,Practice name,List size,Achievement score (635 max)",
			row:    "00C,U00351,A81001,THE DENSHAM SURGERY,4200,600.5",
			source: "qof_points", era: "sub-ICB/ICB", period: "2022-23", subICB: "00C", rows: 1},
		{name: "practice map, CCG/STP (to 2022)", file: "2021-04/gp-reg-pat-prac-map.csv",
			header: "PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,PCN_CODE,CCG_CODE,STP_CODE,COMM_REGION_CODE",
			row:    "GP_PRAC_MAP,01APR2021,A81001,SURGERY,U00351,00K,QHM,Y63",
			source: "practice_map", era: "CCG", period: "2021-04", subICB: "00K", regCode: "Y63", rows: 1},
		{name: "workforce, CCG/STP headings", file: "GPW Practice Level September 2019.csv",
			header: "PRAC_CODE,PRAC_NAME,CCG_CODE,STP_CODE,COMM_REGION_CODE,TOTAL_GP_HC,TOTAL_NURSE_FTE",
			row:    "A81001,SURGERY,00K,QHM,Y63,4,2.5",
			source: "workforce", era: "CCG", period: "2019-09", subICB: "00K", regCode: "Y63", rows: 2},
		{name: "workforce, sub-ICB/ICB headings", file: "GPW Practice Level - Detailed March 2024.csv",
			header: "PRAC_CODE,PRAC_NAME,SUB_ICB_CODE,ICB_CODE,REGION_CODE,TOTAL_PATIENTS,TOTAL_GP_HC,TOTAL_GP_FTE",
			row:    "A81001,SURGERY,16C,QHM,Y63,4200,4,3.2",
			source: "workforce", era: "sub-ICB/ICB", period: "2024-03", subICB: "16C", regCode: "Y63", rows: 2},
	}
	lake := filepath.Join(t.TempDir(), "lake")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			os.MkdirAll(filepath.Dir(path), 0o755)
			body := []byte(tc.header + "\r\n" + tc.row + "\r\n")
			if tc.cp1252 {
				enc, err := charmap.Windows1252.NewEncoder().Bytes(body)
				if err != nil {
					t.Fatal(err)
				}
				body = enc
			}
			if err := os.WriteFile(path, body, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := ingest.File(context.Background(), path, ingest.Options{Lake: lake, Version: "test"})
			if err != nil {
				t.Fatalf("ingest: %v (rejects %v)", err, res.Rejects)
			}
			if res.Source != tc.source || res.Period != tc.period || res.Era != tc.era {
				t.Errorf("source/period/era = %s %s %q, want %s %s %q", res.Source, res.Period, res.Era, tc.source, tc.period, tc.era)
			}
			if res.RowsRejected != 0 || res.RowsWritten != tc.rows {
				t.Errorf("written %d (want %d), rejected %d: %v", res.RowsWritten, tc.rows, res.RowsRejected, res.Rejects)
			}
			for _, r := range readLake(t, lake, tc.source, tc.period) {
				if tc.subICB != "" && str(r.SubICBCode) != tc.subICB {
					t.Errorf("sub_icb_code = %s, want %s", str(r.SubICBCode), tc.subICB)
				}
				if tc.regCode != "" && str(r.RegionCode) != tc.regCode {
					t.Errorf("region_code = %s, want %s", str(r.RegionCode), tc.regCode)
				}
				if tc.source == "payments" {
					if r.Registered == nil || *r.Registered != 5120 {
						t.Errorf("registered_patients = %v, want 5120", r.Registered)
					}
					// Every era's extended hours heading is one component.
					if c := str(r.Component); c != "global_sum" && c != "extended_hours_access" && c != "capacity_and_access_improvement_payment" {
						t.Errorf("component %q", c)
					}
				}
			}
		})
	}
}

// A header that cannot be mapped is refused naming the lake columns it
// lacks, the nearest source and era, and the headings known for them.
func TestUnmappableHeaderRefused(t *testing.T) {
	cases := []struct {
		name, file, header string
		want               []string
	}{
		{"payments without patient counts", "nhspaymentsgp-23-24-prac-csv.csv",
			"NHS England (Region) code,Sub ICB Code,Practice Code,List Size,Weighted list,Global Sum",
			[]string{"nearest known header: payments", `era "sub-ICB/ICB"`, "the header lacks lake columns registered_patients", `"Average Number of Registered Patients"`}},
		{"registrations with a renamed practice column", "gp-reg-pat-prac-all.csv",
			"PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ORGANISATION,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS",
			[]string{"nearest known header: registrations", `era "sub-ICB/ICB"`, "practice_code", `"CODE"`}},
		{"QOF geography in an unknown naming", "MAPPING_NHS_GEOGRAPHIES_2425.csv",
			"PRACTICE_CODE,PRACTICE_NAME,PCN_ODS_CODE,PCN_NAME,LOCALITY_CODE,LOCALITY_NAME,SYSTEM_CODE,SYSTEM_NAME,REGION_ODS_CODE,REGION_ONS_CODE,REGION_NAME",
			[]string{"nearest known header: qof_geography", "sub_icb_code", "icb_code", `"SUB_ICB_ODS_CODE"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			os.WriteFile(path, []byte(tc.header+"\nA,B,C,D,E,F,G,H,I,J,K\n"), 0o644)
			_, err := ingest.File(context.Background(), path, ingest.Options{Check: true})
			if !ingest.IsRefused(err) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %s:\n%v", w, err)
				}
			}
		})
	}
}

// A workspace's reviewed override of the alias file is read: a local
// heading becomes known without a change to Go; a bad row is refused with
// its line.
func TestAliasOverride(t *testing.T) {
	base, err := data.Read("", ingest.AliasesFile)
	if err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	os.MkdirAll(filepath.Join(ws, "data"), 0o755)
	file := filepath.Join(t.TempDir(), "nhspaymentsgp-23-24-prac-csv.csv")
	os.WriteFile(file, []byte("Practice Code,Patients on list,Weighted patients on list,Global Sum\nH85001,5120,5301.5,400000\n"), 0o644)
	if _, err := ingest.File(context.Background(), file, ingest.Options{Check: true, Workspace: ws}); !ingest.IsRefused(err) {
		t.Fatalf("before the override: err = %v, want a refusal", err)
	}
	local := string(base) + "payments,registered_patients,Patients on list,all,local export\npayments,weighted_patients,Weighted patients on list,all,local export\n"
	os.WriteFile(filepath.Join(ws, "data", ingest.AliasesFile), []byte(local), 0o644)
	res, err := ingest.File(context.Background(), file, ingest.Options{Check: true, Workspace: ws})
	if err != nil || res.Source != "payments" || res.RowsWritten != 1 {
		t.Fatalf("with the override: %+v, %v", res, err)
	}

	for _, bad := range []struct{ row, want string }{
		{"nope,practice_code,X,all,", `no source named "nope"`},
		{"payments,no_such_column,X,all,", `no lake column "no_such_column"`},
		{"payments,practice_name,Practice Code,all,", "already an alias of practice_code"},
		{"ods_practices,name,NAME,all,", "no header row"},
		{"payments,practice_code,,all,", "must all be given"},
	} {
		os.WriteFile(filepath.Join(ws, "data", ingest.AliasesFile), []byte(string(base)+bad.row+"\n"), 0o644)
		_, err := ingest.LoadAliases(ws)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "line ") {
			t.Errorf("row %q: err = %v, want %q with its line", bad.row, err, bad.want)
		}
	}
}
