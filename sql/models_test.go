package sqlmodels

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/synth"
	"github.com/gplens/gplens/transform"
)

// realDir holds the real NHS files (read-only, never copied into the repo).
const realDir = "../../shared/data/real"

// buildFromFiles ingests files into a fresh lake under dir and builds the
// warehouse from the embedded models exactly as `gplens transform` does;
// the caller closes the database.
func buildFromFiles(ctx context.Context, t testing.TB, dir string, files []string) (*sql.DB, transform.Result) {
	t.Helper()
	lake := filepath.Join(dir, "lake")
	for _, f := range files {
		if _, err := ingest.File(ctx, f, ingest.Options{Lake: lake, Quarantine: filepath.Join(dir, "quarantine")}); err != nil {
			t.Fatalf("ingest %s: %v", f, err)
		}
	}
	return buildLake(ctx, t, dir)
}

// buildLake builds the warehouse of dir from the lake already in dir/lake.
func buildLake(ctx context.Context, t testing.TB, dir string) (*sql.DB, transform.Result) {
	t.Helper()
	lake := filepath.Join(dir, "lake")
	p, err := transform.Load(ctx, FS())
	if err != nil {
		t.Fatalf("load models: %v", err)
	}
	tables := lakeTables(lake)
	wh := filepath.Join(dir, "warehouse.duckdb")
	res, err := transform.Build(ctx, p, transform.Options{Warehouse: wh, Lake: tables, Full: true, Threads: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("build warehouse: %v", err)
	}
	db, err := duck.Open(ctx, wh, duck.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open warehouse: %v", err)
	}
	return db, res
}

// lakeTables describes every source's lake table under lake (as
// `gplens transform` does), in name order.
func lakeTables(lake string) []transform.LakeTable {
	cols := ingest.Tables()
	names := make([]string, 0, len(cols))
	for n := range cols {
		names = append(names, n)
	}
	sort.Strings(names)
	var tables []transform.LakeTable
	for _, n := range names {
		glob := transform.LakeGlob(lake, n)
		if s, ok := ingest.Lookup(n); ok && s.Info().Datasets {
			glob = transform.DatasetLakeGlob(lake, n)
		}
		tables = append(tables, transform.LakeTable{Name: n, Glob: glob, Columns: cols[n]})
	}
	return tables
}

// synthetic is one small synthetic England, generated, ingested and built
// once for all the tests that read it.
type synthetic struct {
	db      *sql.DB
	res     transform.Result
	summary synth.Summary
}

var (
	synthOnce sync.Once
	synthWH   *synthetic
	synthErr  error
	synthDir  string
)

func syntheticWarehouse(t *testing.T) *synthetic {
	t.Helper()
	synthOnce.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "sqlmodels-synth-")
		if err != nil {
			synthErr = err
			return
		}
		synthDir = dir
		out := filepath.Join(dir, "extracts")
		sum, err := synth.Generate(ctx, synth.Config{Out: out, Practices: 200, Months: 15, Seed: 7, EndMonth: "2024-03"})
		if err != nil {
			synthErr = err
			return
		}
		var files []string
		for _, f := range sum.Files {
			if !strings.HasPrefix(f.Path, "_truth/") {
				files = append(files, filepath.Join(out, filepath.FromSlash(f.Path)))
			}
		}
		// a failed build calls t.Fatalf on this test, which runs the Once
		db, res := buildFromFiles(ctx, t, dir, files)
		synthWH = &synthetic{db: db, res: res, summary: sum}
	})
	if synthErr != nil {
		t.Fatalf("synthetic warehouse: %v", synthErr)
	}
	if synthWH == nil {
		t.Fatal("synthetic warehouse was not built (an earlier test failed building it)")
	}
	return synthWH
}

func TestMain(m *testing.M) {
	code := m.Run()
	if synthDir != "" {
		if synthWH != nil {
			synthWH.db.Close()
		}
		os.RemoveAll(synthDir)
	}
	os.Exit(code)
}

func queryFloat(t *testing.T, db *sql.DB, q string, args ...any) float64 {
	t.Helper()
	var v sql.NullFloat64
	if err := db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if !v.Valid {
		t.Fatalf("%s %v: NULL", q, args)
	}
	return v.Float64
}

func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var v int64
	if err := db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func TestSyntheticBuildsEveryModel(t *testing.T) {
	s := syntheticWarehouse(t)
	p, err := transform.Load(context.Background(), FS())
	if err != nil {
		t.Fatal(err)
	}
	built := map[string]bool{}
	for _, m := range s.res.Models {
		built[m.Name] = true
	}
	for _, m := range p.Models() {
		if !built[m.Name] {
			t.Errorf("model %s was not built", m.Name)
		}
	}
	if s.res.Tests < 100 {
		t.Errorf("only %d data tests ran; the headers declare many more", s.res.Tests)
	}
	for _, table := range []string{"core.practices", "core.indicators", "core.areas", "marts.indicator_values",
		"marts.inequality", "marts.inequality_deciles", "marts.trends", "marts.area_summary"} {
		if n := queryInt(t, s.db, "SELECT count(*) FROM "+table); n == 0 {
			t.Errorf("%s is empty", table)
		}
	}
}

// contract lists the warehouse columns publish, query and the server read
// (.brief/marts.md), with their DuckDB types.
var contract = map[string]map[string]string{
	"core.indicators": {
		"indicator_id": "VARCHAR", "name": "VARCHAR", "domain": "VARCHAR", "source": "VARCHAR", "statistic": "VARCHAR",
		"unit": "VARCHAR", "multiplier": "DOUBLE", "polarity": "VARCHAR", "cadence": "VARCHAR", "public": "BOOLEAN",
		"description": "VARCHAR",
	},
	"core.practices": {
		"period": "VARCHAR", "practice_code": "VARCHAR", "practice_name": "VARCHAR", "postcode": "VARCHAR",
		"pcn_code": "VARCHAR", "pcn_name": "VARCHAR", "sub_icb_code": "VARCHAR", "sub_icb_name": "VARCHAR",
		"icb_code": "VARCHAR", "icb_name": "VARCHAR", "region_code": "VARCHAR", "region_name": "VARCHAR",
		"open_date": "DATE", "close_date": "DATE", "status": "VARCHAR", "list_size": "BIGINT",
		"weighted_list_size": "DOUBLE", "imd_score": "DOUBLE", "imd_decile": "INTEGER", "imd_quintile": "INTEGER",
	},
	"core.areas": {
		"area_level": "VARCHAR", "area_code": "VARCHAR", "area_name": "VARCHAR", "parent_level": "VARCHAR",
		"parent_code": "VARCHAR", "period": "VARCHAR",
	},
	"marts.indicator_values": {
		"indicator_id": "VARCHAR", "period": "VARCHAR", "area_level": "VARCHAR", "area_code": "VARCHAR",
		"area_name": "VARCHAR", "practice_code": "VARCHAR", "pcn_code": "VARCHAR", "sub_icb_code": "VARCHAR",
		"icb_code": "VARCHAR", "region_code": "VARCHAR", "numerator": "DOUBLE", "denominator": "DOUBLE",
		"value": "DOUBLE", "lower95": "DOUBLE", "upper95": "DOUBLE", "lower998": "DOUBLE", "upper998": "DOUBLE",
		"england_value": "DOUBLE", "icb_value": "DOUBLE", "sub_icb_value": "DOUBLE", "comparison": "VARCHAR",
		"funnel_significance": "VARCHAR", "funnel_significance_od": "VARCHAR", "funnel_lower95": "DOUBLE",
		"funnel_upper95": "DOUBLE", "funnel_lower998": "DOUBLE", "funnel_upper998": "DOUBLE",
		"imd_decile": "INTEGER", "peer_mean": "DOUBLE", "opportunity": "DOUBLE", "suppressed": "BOOLEAN",
		"dq_flag": "VARCHAR",
	},
	"marts.inequality": {
		"indicator_id": "VARCHAR", "period": "VARCHAR", "area_level": "VARCHAR", "area_code": "VARCHAR",
		"area_name": "VARCHAR", "sii": "DOUBLE", "sii_lower": "DOUBLE", "sii_upper": "DOUBLE", "rii": "DOUBLE",
		"rii_lower": "DOUBLE", "rii_upper": "DOUBLE", "q1_value": "DOUBLE", "q5_value": "DOUBLE",
		"quintile_gap": "DOUBLE", "quintile_ratio": "DOUBLE",
	},
	"marts.inequality_deciles": {
		"indicator_id": "VARCHAR", "period": "VARCHAR", "area_level": "VARCHAR", "area_code": "VARCHAR",
		"imd_decile": "INTEGER", "numerator": "DOUBLE", "denominator": "DOUBLE", "value": "DOUBLE",
		"lower95": "DOUBLE", "upper95": "DOUBLE", "practices": "INTEGER",
	},
	"marts.trends": {
		"indicator_id": "VARCHAR", "area_level": "VARCHAR", "area_code": "VARCHAR", "area_name": "VARCHAR",
		"practice_code": "VARCHAR", "period": "VARCHAR", "month": "DATE", "value": "DOUBLE", "mean": "DOUBLE",
		"lpl": "DOUBLE", "upl": "DOUBLE", "near_lpl": "DOUBLE", "near_upl": "DOUBLE", "point_type": "VARCHAR",
		"variation_icon": "VARCHAR",
	},
	"marts.area_summary": {
		"area_level": "VARCHAR", "area_code": "VARCHAR", "area_name": "VARCHAR", "period": "VARCHAR",
		"practices": "INTEGER", "list_size": "BIGINT", "weighted_list_size": "DOUBLE", "qof_fy": "VARCHAR",
		"qof_achievement_pct": "DOUBLE", "qof_points_per_practice": "DOUBLE", "payments_fy": "VARCHAR",
		"total_payments": "DOUBLE", "payments_per_weighted_patient": "DOUBLE",
		"payments_per_registered_patient": "DOUBLE", "gp_fte_per_10k": "DOUBLE", "nurse_fte_per_10k": "DOUBLE",
		"dpc_fte_per_10k": "DOUBLE", "admin_fte_per_10k": "DOUBLE", "referrals": "BIGINT",
		"referral_rate_per_1000": "DOUBLE", "twoww_rate_per_1000": "DOUBLE", "imd_score": "DOUBLE",
	},
}

func TestContractColumns(t *testing.T) {
	s := syntheticWarehouse(t)
	for table, cols := range contract {
		schema, name, _ := strings.Cut(table, ".")
		rows, err := s.db.Query(`SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = ? AND table_name = ?`, schema, name)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for rows.Next() {
			var c, typ string
			if err := rows.Scan(&c, &typ); err != nil {
				t.Fatal(err)
			}
			got[c] = typ
		}
		rows.Close()
		for c, want := range cols {
			if got[c] != want {
				t.Errorf("%s.%s: type %q, want %q", table, c, got[c], want)
			}
		}
	}
}

// Area rows must be sums of their practices' numerators and denominators.
func TestAreaRowsAreSumsOfPractices(t *testing.T) {
	s := syntheticWarehouse(t)
	for _, tc := range []struct{ level, code string }{
		{"pcn", "cp.pcn_code"}, {"sub_icb", "cp.sub_icb_code"}, {"icb", "cp.icb_code"}, {"region", "cp.region_code"}, {"england", "'E92000001'"},
	} {
		t.Run(tc.level, func(t *testing.T) {
			q := `WITH p AS (
				SELECT indicator_id, period, ` + tc.code + ` AS area_code, sum(numerator) AS num, sum(denominator) AS den, count(*) AS n
				FROM marts.indicator_values v
				LEFT JOIN (SELECT period, practice_code, pcn_code, sub_icb_code, icb_code, region_code FROM core.practices) AS cp
					USING (period, practice_code)
				WHERE v.area_level = 'practice'
				GROUP BY ALL)
			SELECT count(*) FILTER (WHERE abs(a.numerator - p.num) > 1e-6 * greatest(1, abs(p.num))
			                          OR abs(a.denominator - p.den) > 1e-6 * greatest(1, abs(p.den))
			                          OR p.num IS NULL),
			       count(*)
			FROM marts.indicator_values a
			LEFT JOIN p ON p.indicator_id = a.indicator_id AND p.period = a.period AND p.area_code = a.area_code
			WHERE a.area_level = ?`
			var bad, n int64
			if err := s.db.QueryRow(q, tc.level).Scan(&bad, &n); err != nil {
				t.Fatal(err)
			}
			if n == 0 || bad > 0 {
				t.Errorf("%d of %d %s rows differ from the sums of their practices", bad, n, tc.level)
			}
		})
	}
	// and values are ratios of the sums, not means of practice values
	bad := queryInt(t, s.db, `SELECT count(*) FROM marts.indicator_values v JOIN core.indicators i USING (indicator_id)
		WHERE v.denominator > 0 AND abs(v.value - v.numerator / v.denominator * i.multiplier) > 1e-9 * greatest(1, abs(v.value))`)
	if bad > 0 {
		t.Errorf("%d rows whose value is not numerator / denominator x multiplier", bad)
	}
}

// The synthetic world has prevalence rising and QOF achievement and GP FTE
// falling with deprivation; the SII runs from most to least deprived.
func TestInequalityDirection(t *testing.T) {
	s := syntheticWarehouse(t)
	fy := s.summary.FinancialYears[len(s.summary.FinancialYears)-1]
	month := s.summary.Months[len(s.summary.Months)-1]
	for _, tc := range []struct {
		indicator, period string
		sign              float64
	}{
		{"qof_prev_DM", fy, -1},
		{"qof_points_pct", fy, +1},
		{"ref_isr", month, -1},
		{"wf_gp_fte_per_10k", month, +1},
	} {
		t.Run(tc.indicator, func(t *testing.T) {
			var sii, lo, hi sql.NullFloat64
			err := s.db.QueryRow(`SELECT sii, sii_lower, sii_upper FROM marts.inequality
				WHERE area_level = 'england' AND indicator_id = ? AND period = ?`, tc.indicator, tc.period).Scan(&sii, &lo, &hi)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.indicator, tc.period, err)
			}
			if !sii.Valid || !lo.Valid || !hi.Valid {
				t.Fatalf("%s %s: SII not computed", tc.indicator, tc.period)
			}
			if sii.Float64*tc.sign <= 0 {
				t.Errorf("%s %s: SII %.3f, want sign %+.0f", tc.indicator, tc.period, sii.Float64, tc.sign)
			}
			if !(lo.Float64 <= sii.Float64 && sii.Float64 <= hi.Float64) {
				t.Errorf("%s: SII %.3f outside its limits %.3f-%.3f", tc.indicator, sii.Float64, lo.Float64, hi.Float64)
			}
		})
	}
	// most deprived quintile has higher diabetes prevalence than the least
	gap := queryFloat(t, s.db, `SELECT quintile_gap FROM marts.inequality WHERE area_level = 'england' AND indicator_id = 'qof_prev_DM' AND period = ?`, fy)
	if gap <= 0 {
		t.Errorf("qof_prev_DM quintile gap %.3f, want > 0 (more diabetes where more deprived)", gap)
	}
}

// Each planted outlier practice must be flagged on its indicator.
func TestPlantedOutliersFlagged(t *testing.T) {
	s := syntheticWarehouse(t)
	if len(s.summary.Outliers) == 0 {
		t.Fatal("the synthetic data has no planted outliers")
	}
	fy := s.summary.FinancialYears[len(s.summary.FinancialYears)-1]
	month := s.summary.Months[len(s.summary.Months)-1]
	for _, o := range s.summary.Outliers {
		t.Run(o.Kind+"_"+o.Practice, func(t *testing.T) {
			var indicator, period, column, want string
			switch o.Kind {
			case synth.OutlierLowQOF:
				indicator, period, column, want = "qof_ach_DM012", fy, "funnel_significance", "Low (0.001)"
			case synth.OutlierHighReferrals:
				indicator, period, column, want = "ref_isr", month, "funnel_significance_od", "High (0.001)"
			case synth.OutlierLowGPFTE:
				indicator, period, column, want = "wf_gp_fte_per_10k", month, "funnel_significance_od", "Low (0.001)"
			default:
				t.Skipf("no check for outlier kind %q", o.Kind)
			}
			var got sql.NullString
			err := s.db.QueryRow(`SELECT `+column+` FROM marts.indicator_values
				WHERE area_level = 'practice' AND practice_code = ? AND indicator_id = ? AND period = ?`,
				o.Practice, indicator, period).Scan(&got)
			if err != nil {
				t.Fatalf("%s %s %s: %v", o.Practice, indicator, period, err)
			}
			if got.String != want {
				t.Errorf("%s %s %s: %s = %q, want %q", o.Practice, indicator, period, column, got.String, want)
			}
		})
	}
	// and not everybody is an outlier
	share := queryFloat(t, s.db, `SELECT avg(CASE WHEN funnel_significance_od LIKE '%(0.001)' THEN 1.0 ELSE 0 END)
		FROM marts.indicator_values WHERE area_level = 'practice' AND indicator_id = 'ref_isr' AND period = ?`, month)
	if share > 0.1 {
		t.Errorf("%.0f%% of practices are overdispersion-adjusted 99.8%% outliers on ref_isr; want a few", share*100)
	}
}

// The indirectly standardised ratio is 1 for England by construction.
func TestStandardisedRatioEngland(t *testing.T) {
	s := syntheticWarehouse(t)
	bad := queryInt(t, s.db, `SELECT count(*) FROM marts.indicator_values
		WHERE area_level = 'england' AND indicator_id LIKE 'ref_isr%' AND abs(value - 1) > 1e-9`)
	n := queryInt(t, s.db, `SELECT count(*) FROM marts.indicator_values WHERE area_level = 'england' AND indicator_id LIKE 'ref_isr%'`)
	if n == 0 || bad > 0 {
		t.Errorf("%d of %d England standardised ratios differ from 1", bad, n)
	}
}

// Every monthly series has SPC limits and exactly one variation icon, on its last point.
func TestTrendsIcons(t *testing.T) {
	s := syntheticWarehouse(t)
	bad := queryInt(t, s.db, `SELECT count(*) FROM (
		SELECT indicator_id, area_level, area_code, count(variation_icon) AS icons,
			max(period) AS last, max(period) FILTER (WHERE variation_icon IS NOT NULL) AS icon_period
		FROM marts.trends GROUP BY ALL)
		WHERE icons <> 1 OR icon_period <> last`)
	if bad > 0 {
		t.Errorf("%d series without exactly one variation icon on their last point", bad)
	}
	months := queryInt(t, s.db, `SELECT count(*) FROM marts.trends WHERE area_level = 'england' AND indicator_id = 'wf_gp_fte_per_10k'`)
	if months != int64(len(s.summary.Months)) {
		t.Errorf("England GP FTE series has %d months, want %d", months, len(s.summary.Months))
	}
}

// --- real files ---

// readCSV reads a published CSV (UTF-8, maybe with a BOM) into a header and rows.
func readCSV(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3) // the BOM would hide an opening quote from encoding/csv
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for i, h := range header {
		header[i] = strings.Join(strings.Fields(h), " ")
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, rec)
	}
	return header, rows
}

func column(t *testing.T, header []string, match func(string) bool) int {
	t.Helper()
	for i, h := range header {
		if match(h) {
			return i
		}
	}
	t.Fatalf("no matching column in %q", header)
	return -1
}

func number(s string) (float64, bool) {
	s = strings.TrimSpace(strings.NewReplacer(",", "", "£", "").Replace(s))
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// TestRealFilesAgreeWithPublisher builds the warehouse from real published
// files and checks England's figures equal the files' own sums.
func TestRealFilesAgreeWithPublisher(t *testing.T) {
	if _, err := os.Stat(realDir); err != nil {
		t.Skipf("real NHS files not available: %v", err)
	}
	prevalence := filepath.Join(realDir, "qof/2022-23/PREVALENCE_2223.csv")
	points := filepath.Join(realDir, "qof/2022-23/QOF 2022-23.csv")
	payments := map[string]string{
		"2022-23": filepath.Join(realDir, "nhs_payments_gp/nhspaymentsgp-22-23-prac-csv.csv"),
		"2021-22": filepath.Join(realDir, "nhs_payments_gp/nhspaymentsgp-21-22-prac-csv-v2.csv"),
	}
	files := []string{prevalence, points, filepath.Join(realDir, "qof/2022-23/MAPPING_NHS_GEOGRAPHIES_2223.csv"),
		payments["2022-23"], payments["2021-22"]}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("real file missing: %v", err)
		}
	}
	db, _ := buildFromFiles(context.Background(), t, t.TempDir(), files)
	t.Cleanup(func() { db.Close() })

	t.Run("prevalence registers and list sizes", func(t *testing.T) {
		header, rows := readCSV(t, prevalence)
		g := column(t, header, func(h string) bool { return h == "GROUP_CODE" })
		reg := column(t, header, func(h string) bool { return h == "REGISTER" })
		list := column(t, header, func(h string) bool { return h == "PRACTICE_LIST_SIZE" })
		registers, lists := map[string]float64{}, map[string]float64{}
		for _, r := range rows {
			if v, ok := number(r[reg]); ok {
				registers[r[g]] += v
			}
			if v, ok := number(r[list]); ok {
				lists[r[g]] += v
			}
		}
		if len(registers) < 10 {
			t.Fatalf("only %d registers in %s", len(registers), prevalence)
		}
		for group, want := range registers {
			num, den := englandFigure(t, db, "qof_prev_"+group, "2022-23")
			if !near(num, want) || !near(den, lists[group]) {
				t.Errorf("%s: warehouse England register %.0f / list %.0f, file %.0f / %.0f", group, num, den, want, lists[group])
			}
		}
	})

	t.Run("total NHS payments", func(t *testing.T) {
		for fy, path := range payments {
			header, rows := readCSV(t, path)
			c := column(t, header, func(h string) bool { return strings.EqualFold(h, "Total NHS Payments to General Practice") })
			code := column(t, header, func(h string) bool { return strings.EqualFold(h, "Practice Code") })
			var want float64
			for _, r := range rows {
				if strings.TrimSpace(r[code]) == "" {
					continue // a totals row, if any
				}
				if v, ok := number(r[c]); ok {
					want += v
				}
			}
			for _, ind := range []string{"pay_total_per_registered", "pay_total_per_weighted"} {
				if num, _ := englandFigure(t, db, ind, fy); !near(num, want) {
					t.Errorf("%s %s: warehouse England total £%.2f, file £%.2f", fy, ind, num, want)
				}
			}
		}
	})

	t.Run("QOF achieved points", func(t *testing.T) {
		header, rows := readCSV(t, points)
		c := column(t, header, func(h string) bool { return strings.HasPrefix(h, "Achievement score") })
		code := column(t, header, func(h string) bool { return strings.EqualFold(h, "Practice code") })
		var want float64
		for _, r := range rows {
			if strings.TrimSpace(r[code]) == "" {
				continue
			}
			if v, ok := number(r[c]); ok {
				want += v
			}
		}
		if num, _ := englandFigure(t, db, "qof_points_pct", "2022-23"); !near(num, want) {
			t.Errorf("warehouse England QOF points %.2f, file %.2f", num, want)
		}
	})
}

// englandFigure is an indicator's England numerator and denominator in a
// period, as the warehouse has it.
func englandFigure(t *testing.T, db *sql.DB, indicator, period string) (num, den float64) {
	t.Helper()
	if err := db.QueryRow(`SELECT numerator, denominator FROM marts.indicator_values
		WHERE area_level = 'england' AND indicator_id = ? AND period = ?`, indicator, period).Scan(&num, &den); err != nil {
		t.Fatalf("England %s %s: %v", indicator, period, err)
	}
	return num, den
}
