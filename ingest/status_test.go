package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gplens/gplens/ingest"
)

const (
	regHeader = "PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"
	payHeader = "Practice Code,Average Number of Registered Patients,Average Number of Weighted Patients,Global Sum\n"
	geoHeader = "PRACTICE_CODE,PRACTICE_NAME,PCN_ODS_CODE,PCN_NAME,SUB_ICB_ODS_CODE,SUB_ICB_ONS_CODE,SUB_ICB_NAME,ICB_ODS_CODE,ICB_ONS_CODE,ICB_NAME,REGION_ODS_CODE,REGION_ONS_CODE,REGION_NAME\n"
	ftHeader  = "Indicator ID,Area Code,Area Type,Time period,Value\n"
)

// A small lake: registrations for March and April 2023 (one practice each),
// QOF prevalence and payments 2021-22 and 2022-23, geography 2022-23, and two
// Fingertips exports of one period.
func smallLake(t *testing.T) (ws, lake string, files map[string]string) {
	t.Helper()
	ws = t.TempDir()
	lake = filepath.Join(ws, "lake")
	in := t.TempDir()
	files = map[string]string{
		"reg 2023-03":  write(t, in, "2023-03/gp-reg-pat-prac-all.csv", regHeader+"GP_PRAC_PAT_LIST,01MAR2023,GP,00L,E38000130,A83005,DL1 3RT,ALL,ALL,11826\n"),
		"reg 2023-04":  write(t, in, "2023-04/gp-reg-pat-prac-all.csv", regHeader+"GP_PRAC_PAT_LIST,01APR2023,GP,00L,E38000130,A83005,DL1 3RT,ALL,ALL,11830\n"),
		"prev 2021-22": write(t, in, "PREVALENCE_2122.csv", prevHeader+"A83005,DM,700,17OV,9000\n"),
		"prev 2022-23": write(t, in, "PREVALENCE_2223.csv", prevHeader+"A83005,DM,712,17OV,9100\nA83006,DM,12,17OV,900\n"),
		"pay 2021-22":  write(t, in, "nhspaymentsgp-21-22-prac-csv.csv", payHeader+"A83005,11800,12000,1000000\n"),
		"geo 2022-23":  write(t, in, "MAPPING_NHS_GEOGRAPHIES_2223.csv", geoHeader+"A83005,SURGERY,U1,PCN,00L,E38000130,SUB,QHM,E54000050,ICB,Y63,E40000012,NEY\n"),
		"ft 93553":     write(t, in, "a/indicator-data.csv", ftHeader+"93553,A83005,GPs,2019,30.5\n"),
		"ft 91547":     write(t, in, "b/indicator-data.csv", ftHeader+"91547,A83005,GPs,2019,12.5\n"),
	}
	for name, f := range files {
		if _, err := ingest.File(context.Background(), f, ingest.Options{Lake: lake, Version: "test"}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return ws, lake, files
}

func TestLakeStatus(t *testing.T) {
	ws, lake, _ := smallLake(t)
	st, err := ingest.LakeStatus(lake, ws)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range st.Partitions {
		got = append(got, p.Describe()+" "+strings.Repeat("#", int(p.Rows))+" "+strings.Repeat("f", p.Files))
		if p.LoadedAt.IsZero() || p.File == "" || p.Missing {
			t.Errorf("%+v", p)
		}
	}
	want := []string{"fingertips/91547/2019 # f", "fingertips/93553/2019 # f", "payments/2021-22 # f", "qof_geography/2022-23 # f",
		"qof_prevalence/2021-22 # f", "qof_prevalence/2022-23 ## f", "registrations/2023-03 # f", "registrations/2023-04 # f"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("partitions:\n got %v\nwant %v", got, want)
	}
	// March 2023: the 2022-23 year has not ended, so QOF and geography are
	// not published and payments 2021-22 is the latest; April: geography and QOF 2022-23 count.
	months := map[string]ingest.MonthStatus{}
	for _, m := range st.Months {
		months[m.Month] = m
	}
	mar, apr := months["2023-03"], months["2023-04"]
	if mar.Complete || !reflect.DeepEqual(mar.Missing, []string{"area hierarchy"}) || mar.Met["QOF"] != "qof_prevalence 2021-22" {
		t.Errorf("2023-03: %+v", mar)
	}
	if !apr.Complete || apr.Met["QOF"] != "qof_prevalence 2022-23" || apr.Met["payments"] != "payments 2021-22" ||
		apr.Met["area hierarchy"] != "qof_geography 2022-23" || apr.Met["deprivation"] != "fingertips 2019" {
		t.Errorf("2023-04: %+v", apr)
	}
	if !reflect.DeepEqual(st.Complete, []string{"2023-04"}) {
		t.Errorf("complete months %v, want [2023-04]", st.Complete)
	}
	if !reflect.DeepEqual(apr.Optional, []string{"workforce", "referrals"}) {
		t.Errorf("optional missing %v", apr.Optional)
	}

	// The requirements are a reviewed data file: a workspace that needs no
	// hierarchy finds March complete too.
	os.MkdirAll(filepath.Join(ws, "data"), 0o755)
	os.WriteFile(filepath.Join(ws, "data", ingest.PackSourcesFile), []byte("requirement,source,role,rule,note\nlists,registrations,required,month,\nqof,qof_prevalence,required,published_year,\n"), 0o644)
	st, err = ingest.LakeStatus(lake, ws)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.Complete, []string{"2023-03", "2023-04"}) {
		t.Errorf("with the override: complete %v", st.Complete)
	}
	os.WriteFile(filepath.Join(ws, "data", ingest.PackSourcesFile), []byte("requirement,source,role,rule,note\nlists,registrations,needed,month,\n"), 0o644)
	if _, err := ingest.LakeStatus(lake, ws); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad role: err = %v", err)
	}
}

func TestLakeDrop(t *testing.T) {
	_, lake, files := smallLake(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := ingest.DropOptions{Version: "test", Now: func() time.Time { return now }}

	for _, bad := range []struct {
		source, period, dataset, want string
	}{
		{"nope", "2022-23", "", `no source named "nope"`},
		{"qof_prevalence", "1999-00", "", "holds no qof_prevalence 1999-00 (it holds 2021-22, 2022-23"},
		{"fingertips", "2019", "", "holds 2 datasets (91547, 93553): say which with --dataset"},
		{"fingertips", "2019", "12345", "holds no fingertips 12345/2019"},
	} {
		o := opts
		o.Dataset = bad.dataset
		_, err := ingest.Drop(lake, bad.source, bad.period, o)
		if !ingest.IsNotFound(err) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("drop %s %s %s: err = %v, want %q", bad.source, bad.dataset, bad.period, err, bad.want)
		}
	}

	e, err := ingest.Drop(lake, "qof_prevalence", "2022-23", opts)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != ingest.StatusDropped || e.ReplacesSHA == "" || e.File != "PREVALENCE_2223.csv" {
		t.Errorf("drop entry %+v", e)
	}
	if _, err := os.Stat(ingest.PartitionPath(lake, "qof_prevalence", "", "2022-23")); !os.IsNotExist(err) {
		t.Errorf("partition still there: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(lake, "qof_prevalence", ".*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	m, err := ingest.ReadManifest(lake)
	if err != nil {
		t.Fatal(err)
	}
	if last := m[len(m)-1]; last.Status != ingest.StatusDropped || last.Source != "qof_prevalence" || last.Period != "2022-23" {
		t.Errorf("manifest's last row %+v", last)
	}
	for _, l := range ingest.Latest(m) {
		if l.Source == "qof_prevalence" && l.Period == "2022-23" {
			t.Errorf("dropped partition still current: %+v", l)
		}
	}
	// A Fingertips dataset by name; the other dataset of the period stays.
	o := opts
	o.Dataset = "91547"
	if _, err := ingest.Drop(lake, "fingertips", "2019", o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ingest.PartitionPath(lake, "fingertips", "93553", "2019")); err != nil {
		t.Errorf("the other dataset went too: %v", err)
	}
	// The same file again is loaded afresh, not UNCHANGED.
	res, err := ingest.File(context.Background(), files["prev 2022-23"], ingest.Options{Lake: lake, Version: "test", Now: func() time.Time { return now.Add(time.Hour) }})
	if err != nil || res.Status != "loaded" || res.RowsWritten != 2 {
		t.Errorf("re-ingest after drop: %+v %v", res, err)
	}
	if _, err := ingest.Drop(lake, "qof_prevalence", "2022-23", opts); err != nil {
		t.Errorf("drop again after reloading: %v", err)
	}
	// The lake and its manifest agree, dataset partitions included.
	rep, err := ingest.VerifyLake(lake)
	if err != nil || len(rep.Problems) != 0 || rep.Partitions != 6 {
		t.Errorf("verify after drops: %d partitions, problems %v, %v", rep.Partitions, rep.Problems, err)
	}
	// A partition the manifest does not name, under a dataset, is found.
	os.MkdirAll(ingest.PartitionPath(lake, "fingertips", "99999", "2020"), 0o755)
	if rep, _ := ingest.VerifyLake(lake); len(rep.Problems) != 1 || rep.Problems[0].Dataset != "99999" {
		t.Errorf("stray dataset partition: %v", rep.Problems)
	}
}
