package ingest_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/zeebo/xxh3"

	"github.com/gplens/gplens/ingest"
)

const realDir = "../../shared/data/real"

func needReal(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(realDir); err != nil {
		t.Skip("real NHS files not found at " + realDir)
	}
}

// Row counts come from ../shared/data/real/SOURCES.md (counted there with a
// CSV parser), not from gplens.
var realFiles = []struct {
	path    string
	source  string
	dataset string // Fingertips: what the export holds
	period  string
	rows    int64
	written int64 // 0: same as rows
	skipped int64
}{
	{"qof/2022-23/PREVALENCE_2223.csv", "qof_prevalence", "", "2022-23", 133938, 0, 0},
	{"qof/2022-23/MAPPING_NHS_GEOGRAPHIES_2223.csv", "qof_geography", "", "2022-23", 6378, 0, 0},
	{"qof/2023-24/QOF_MANUAL_MAPPINGS.csv", "qof_geography", "", "2023-24", 6410, 0, 0},
	{"qof/2018-19/INDICATOR_MAPPINGS_1819_v2.csv", "qof_indicators", "", "2018-19", 77, 0, 0},
	{"qof/2020-21/MAPPING_INDICATORS_2021_v2.csv", "qof_indicators", "", "2020-21", 68, 0, 0},
	{"qof/2023-24/PREVIOUS_INDICATOR_MAPPINGS.csv", "qof_indicators", "", "2022-23", 76, 0, 0},
	{"qof/2020-21/MAPPING_PCAS_EXCL_TO_INDICATOR_2021_v2.csv", "qof_pca_mapping", "", "2020-21", 362, 0, 0},
	{"qof/2020-21/ORGANISATION_REFERENCE_2021.csv", "qof_org_reference", "", "2020-21", 6571, 0, 0},
	{"qof/2020-21/PRACTICE_VALIDATION_OUTCOMES_2021.csv", "qof_validation", "", "2020-21", 209, 0, 0},
	{"qof/2017-18/QOF 2017-18.csv", "qof_points", "", "2017-18", 7100, 0, 0},
	{"qof/2018-19/QOF 2018-19.csv", "qof_points", "", "2018-19", 6873, 0, 0},
	{"qof/2021-22/QOF 2021-22.csv", "qof_points", "", "2021-22", 6470, 0, 0},
	{"qof/2022-23/QOF 2022-23.csv", "qof_points", "", "2022-23", 6378, 0, 0},
	{"qof/fingertips/smok_qof_prev.csv", "fingertips", "91547_from_2013-14", "2023-24", 17627, 0, 0},
	{"nhs_payments_gp/nhspaymentsgp-15-16-csv.csv", "payments", "", "2015-16", 7841, -1, 0},
	{"nhs_payments_gp/nhspaymentsgp-17-18-csv.csv", "payments", "", "2017-18", 7543, -1, 0},
	{"nhs_payments_gp/nhspaymentsgp-18-19-csv.csv", "payments", "", "2018-19", 7279, -1, 0},
	{"nhs_payments_gp/nhspaymentsgp-19-20-prac-csv.csv", "payments", "", "2019-20", 7001, -1, 0},
	{"nhs_payments_gp/nhspaymentsgp-21-22-prac-csv-v2.csv", "payments", "", "2021-22", 6758, -1, 0},
	{"nhs_payments_gp/nhspaymentsgp-22-23-prac-csv.csv", "payments", "", "2022-23", 6669, -1, 0},
	{"nhs_payments_gp/heec_harmonised/14-15.csv", "payments", "", "2014-15", 7959, -1, 0},
	{"gp_registrations/gp-reg-pat-prac-all.csv", "registrations", "", "2021-01", 6658, 0, 0},
	{"gp_registrations/openprescribing_fixture/gp-reg-pat-prac-quin-age.csv", "registrations_age", "", "2017-09", 172, 0, 0},
	{"ods/epraccur.csv", "ods_practices", "", "2020-01", 14357, 0, 0},
	{"ods/2025-12/eccg.csv", "ods_sub_icbs", "", "2025-12", 320, 0, 0},
	{"imd2019/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv", "imd_ranks", "", "2019", 32844, 0, 0},
	{"imd2019/File_2_-_IoD2019_Domains_of_Deprivation.csv", "imd_domains", "", "2019", 32844, -1, 0},
	{"imd2019/File_6_-_IoD2019_Population_Denominators.csv", "imd_population", "", "2019", 32844, 0, 0},
	{"deprivation/indicator-data.csv", "fingertips", "93553", "2019", 6547, 0, 0},
	{"deprivation/fingertips_multi_year/IMD_raw.csv", "fingertips", "93553_from_2010", "2019", 23080, 0, 0},
}

// Every real file in ../shared/data/real that belongs to a source ingests
// with the publisher's row count and no rejects.
func TestRealFilesIngest(t *testing.T) {
	needReal(t)
	lake := t.TempDir()
	for _, tc := range realFiles {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			res, err := ingest.File(context.Background(), filepath.Join(realDir, tc.path), ingest.Options{Lake: lake, Quarantine: t.TempDir(), Version: "test"})
			if err != nil {
				t.Fatalf("ingest: %v (rejects %v)", err, res.Rejects)
			}
			if res.Source != tc.source || res.Dataset != tc.dataset || res.Period != tc.period {
				t.Errorf("source/dataset/period = %s %q %s, want %s %q %s", res.Source, res.Dataset, res.Period, tc.source, tc.dataset, tc.period)
			}
			if res.RowsRead != tc.rows {
				t.Errorf("rows read = %d, want %d (SOURCES.md)", res.RowsRead, tc.rows)
			}
			if res.RowsRejected != 0 {
				t.Errorf("rejected %d rows: %v", res.RowsRejected, res.Rejects)
			}
			switch {
			case tc.written == 0 && res.RowsWritten != tc.rows:
				t.Errorf("rows written = %d, want %d", res.RowsWritten, tc.rows)
			case tc.written == -1 && res.RowsWritten <= tc.rows:
				t.Errorf("reshaped source wrote %d rows from %d records", res.RowsWritten, tc.rows)
			}
			if _, err := os.Stat(ingest.PartitionPath(lake, tc.source, tc.dataset, tc.period)); err != nil {
				t.Errorf("partition missing: %v", err)
			}
		})
	}
	m, err := ingest.ReadManifest(lake)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != len(realFiles) {
		t.Errorf("manifest has %d rows, want %d", len(m), len(realFiles))
	}
}

// Files that belong to no GP source are refused with a clear reason, not
// half-read: trusts (etr) and the prescribing fixture.
func TestRealFilesNotOurs(t *testing.T) {
	needReal(t)
	for _, p := range []string{"ods/2025-12/etr.csv", "prescribing/openprescribing_fixture/epd_201709.csv", "qof/2014-15/qof-1415-prac-asthma.xlsx", "ods/2022-02/ePCN.xlsx"} {
		_, err := ingest.File(context.Background(), filepath.Join(realDir, p), ingest.Options{Check: true})
		if !ingest.IsRefused(err) {
			t.Errorf("%s: err = %v, want a refusal", p, err)
		}
	}
}

// realGPFiles lists every file under ../shared/data/real (sorted) and the
// ones that belong to no GP source.
func realGPFiles(t *testing.T) (all []string, notOurs map[string]bool) {
	t.Helper()
	notOurs = map[string]bool{}
	for _, p := range []string{"ods/2025-12/etr.csv", "prescribing/openprescribing_fixture/epd_201709.csv", "qof/2014-15/qof-1415-prac-asthma.xlsx", "ods/2022-02/ePCN.xlsx"} {
		notOurs[filepath.Join(realDir, p)] = true
	}
	err := filepath.WalkDir(realDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".xlsx")) {
			all = append(all, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(all)
	return all, notOurs
}

// lakeContent fingerprints a lake by what it holds, independent of the
// manifest and of load order: for each partition folder, its row count and
// the sha256 of its rows, sorted.
func lakeContent(t *testing.T, lake string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(lake, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") || filepath.Base(p) == ingest.ManifestFile {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		r := parquet.NewReader(pf)
		defer r.Close()
		var rows []string
		buf := make([]parquet.Row, 1024)
		var b []byte
		for {
			n, err := r.ReadRows(buf)
			for _, row := range buf[:n] {
				b = b[:0]
				for _, v := range row {
					b = append(b, byte(v.Kind()), byte(v.DefinitionLevel()))
					b = append(b, v.Bytes()...)
					b = append(b, 0)
				}
				h := xxh3.Hash128(b).Bytes()
				rows = append(rows, string(h[:]))
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		sort.Strings(rows)
		h := sha256.Sum256([]byte(strings.Join(rows, "\n")))
		rel, _ := filepath.Rel(lake, filepath.Dir(p))
		out[rel] = fmt.Sprintf("%d rows %x", len(rows), h[:8])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every real GP-source file ingested into one lake, twice, in two orders:
// the lake holds the same rows whichever order, the second pass changes
// nothing (UNCHANGED for every file), and the files that belong to no GP
// source are refused as unrecognised each time.
func TestRealLakeSameInAnyOrder(t *testing.T) {
	needReal(t)
	if testing.Short() {
		t.Skip("ingests every real file four times")
	}
	all, notOurs := realGPFiles(t)
	forward := append([]string(nil), all...)
	backward := append([]string(nil), all...)
	sort.Sort(sort.Reverse(sort.StringSlice(backward)))
	ingestAll := func(t *testing.T, lake string, files []string, wantStatus string) {
		t.Helper()
		for _, f := range files {
			res, err := ingest.File(context.Background(), f, ingest.Options{Lake: lake, Quarantine: filepath.Join(lake, "..", "quarantine"), Version: "test"})
			switch {
			case notOurs[f]:
				if !ingest.IsRefused(err) || res.Source != "" {
					t.Errorf("%s: source %q, err %v; want refused as unrecognised", f, res.Source, err)
				}
			case err != nil:
				t.Errorf("%s: %v", f, err)
			case res.RowsRejected != 0:
				t.Errorf("%s: %d rejects", f, res.RowsRejected)
			case wantStatus != "" && res.Status != wantStatus:
				t.Errorf("%s: status %s, want %s", f, res.Status, wantStatus)
			}
		}
	}
	lakes := map[string]map[string]string{}
	for _, order := range []struct {
		name          string
		first, second []string
	}{{"forward then backward", forward, backward}, {"backward then forward", backward, forward}} {
		lake := filepath.Join(t.TempDir(), "lake")
		ingestAll(t, lake, order.first, "loaded")
		// UNCHANGED means nothing was written: the lake is as the first pass left it.
		ingestAll(t, lake, order.second, "unchanged")
		lakes[order.name] = lakeContent(t, lake)
	}
	a, b := lakes["forward then backward"], lakes["backward then forward"]
	if !reflect.DeepEqual(a, b) {
		for k := range a {
			if a[k] != b[k] {
				t.Errorf("partition %s differs by order: %s vs %s", k, a[k], b[k])
			}
		}
		for k := range b {
			if _, ok := a[k]; !ok {
				t.Errorf("partition %s only in one order", k)
			}
		}
	}
	// One partition per real GP file: nothing overwrote anything.
	parts := 0
	for k := range a {
		if !strings.HasPrefix(k, ingest.RejectsTable) {
			parts++
		}
	}
	if want := len(all) - len(notOurs); parts != want {
		t.Errorf("%d partitions for %d GP files: %v", parts, want, a)
	}
}
