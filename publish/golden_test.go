package publish

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden feeds in testdata/golden")

// TestGoldenFeeds compares one sub-ICB pack's CSV feeds built from the small
// fixture with testdata/golden/<area>/ (go test -run TestGoldenFeeds -update
// rewrites them after a deliberate change; review the diff).
func TestGoldenFeeds(t *testing.T) {
	const area = "00S"
	_, out, _ := publishFixture(t, Options{Levels: []string{"sub_icb"}, Areas: []string{area}})
	got := filepath.Join(out, smallFixture.period, area, "feeds")
	golden := filepath.Join("testdata", "golden", area)
	names := []string{"data_dictionary.csv", "indicator_values.csv", "indicators.csv", "inequality.csv", "inequality_deciles.csv", "investment_need.csv", "practices.csv", "summary.csv", "trends.csv"}
	if *update {
		if err := os.MkdirAll(golden, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(got, n))
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(filepath.Join(golden, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(filepath.Join(golden, n))
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if string(b) != string(want) {
			t.Errorf("%s differs from testdata/golden/%s/%s", n, area, n)
		}
	}
}
