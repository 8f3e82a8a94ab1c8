package sqlmodels

import (
	"context"
	"math"
	"testing"
)

// TestReferralFactsUnknownSpecialty: core.referral_facts counts a referral
// with no treatment function in every total (all referrals, its priority,
// ref_isr) once and in no specialty's, and one of unknown sex in the rates
// per 1,000 but not in the standardised ratios, whose England figure is 1.
// The model once counted specialty-less referrals twice in ref_isr's
// observed count: with all specialties, and as a specialty of their own.
func TestReferralFactsUnknownSpecialty(t *testing.T) {
	ctx := context.Background()
	db := openParallel(ctx, t)
	src := readSQL(t, "functions/sums.sql", "functions/incremental.sql", "core/referral_facts.sql")
	setup := []string{src[0], src[1], "CREATE SCHEMA staging", "CREATE SCHEMA core",
		`CREATE TABLE staging.registrations AS SELECT * FROM (VALUES ('2024-01', 'A1', 200), ('2024-01', 'B1', 200)) AS t(period, practice_code, patients)`,
		`CREATE TABLE core.population AS SELECT * FROM (VALUES
			('2024-01', 'A1', 'MALE', '0-4', 100), ('2024-01', 'A1', 'FEMALE', '0-4', 100),
			('2024-01', 'B1', 'MALE', '0-4', 50), ('2024-01', 'B1', 'FEMALE', '0-4', 150)) AS t(period, practice_code, sex, age_band, patients)`,
		`CREATE TABLE staging.referrals AS SELECT * FROM (VALUES
			('2024-01', 'A1', '100', 'ROUTINE', '0-4', 'MALE', 3),
			('2024-01', 'A1', NULL, 'URGENT', '0-4', 'FEMALE', 2),
			('2024-01', 'A1', '110', '2WW', '0-4', 'UNKNOWN', 1),
			('2024-01', 'B1', '100', 'ROUTINE', '0-4', 'FEMALE', 4),
			('2024-01', 'B1', NULL, 'ROUTINE', '0-4', 'MALE', 5)) AS t(period, practice_code, treatment_function_code, priority, age_band, sex, referrals)`,
		"CREATE TABLE f AS " + src[2],
	}
	for _, q := range setup {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, c := range []struct {
		indicator, practice string
		want                float64 // numerator; -1: no row
	}{
		{"ref_rate_per_1000", "A1", 6}, {"ref_rate_per_1000", "B1", 9},
		{"ref_routine_rate_per_1000", "A1", 3}, {"ref_urgent_rate_per_1000", "A1", 2}, {"ref_2ww_rate_per_1000", "A1", 1},
		{"ref_routine_rate_per_1000", "B1", 9}, {"ref_urgent_rate_per_1000", "B1", -1},
		{"ref_rate_per_1000_100", "A1", 3}, {"ref_rate_per_1000_100", "B1", 4}, {"ref_rate_per_1000_110", "A1", 1},
		// known sex only; the specialty-less referrals once
		{"ref_isr", "A1", 5}, {"ref_isr", "B1", 9},
		{"ref_isr_100", "A1", 3}, {"ref_isr_100", "B1", 4},
		// only a referral of unknown sex: no England rate, nothing expected
		{"ref_isr_110", "A1", -1},
	} {
		var n int
		var num float64
		if err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(max(numerator), -1) FROM f WHERE indicator_id = ? AND practice_code = ?`,
			c.indicator, c.practice).Scan(&n, &num); err != nil {
			t.Fatal(err)
		}
		if c.want < 0 && n != 0 || c.want >= 0 && (n != 1 || num != c.want) {
			t.Errorf("%s %s: %d rows, numerator %v; want %v", c.indicator, c.practice, n, num, c.want)
		}
	}
	var others int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM f WHERE indicator_id IS NULL OR indicator_id NOT IN (
			'ref_rate_per_1000', 'ref_routine_rate_per_1000', 'ref_urgent_rate_per_1000', 'ref_2ww_rate_per_1000',
			'ref_rate_per_1000_100', 'ref_rate_per_1000_110', 'ref_isr', 'ref_isr_100')`).Scan(&others); err != nil {
		t.Fatal(err)
	}
	if others != 0 {
		t.Errorf("%d rows of other indicators (a specialty '' or NULL)", others)
	}
	rows, err := db.QueryContext(ctx, `SELECT indicator_id, sum(numerator) / sum(denominator) FROM f WHERE indicator_id LIKE 'ref_isr%' GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var ind string
		var ratio float64
		if err := rows.Scan(&ind, &ratio); err != nil {
			t.Fatal(err)
		}
		if math.Abs(ratio-1) > 1e-12 {
			t.Errorf("%s: England's observed / expected %v, want 1", ind, ratio)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
