package publish

import "testing"

func TestColumnRemarks(t *testing.T) {
	desc := func(feed, col string) string {
		for _, s := range sections {
			if s.Name != feed {
				continue
			}
			for _, c := range s.published() {
				if c.Name == col {
					return c.Desc
				}
			}
		}
		t.Fatalf("feed %s has no column %s", feed, col)
		return ""
	}
	cases := []struct {
		rel, col, want string
	}{
		// a relation named like a feed: that feed's text, even where
		// indicator_values says otherwise
		{"trends", "period", desc("trends", "period")},
		{"inequality_deciles", "value", desc("inequality_deciles", "value")},
		{"indicator_values", "value_suppressed", desc("indicator_values", "value_suppressed")},
		// other relations: indicator_values' vocabulary
		{"variation", "value", desc("indicator_values", "value")},
		{"peer_comparisons", "area_code", desc("indicator_values", "area_code")},
		// else a column only one feed describes
		{"areas", "indicator_name", desc("indicators", "indicator_name")},
		// nothing to say
		{"variation", "no_such_column", ""},
	}
	for _, c := range cases {
		if c.want == "" && c.col != "no_such_column" {
			t.Fatalf("%s.%s: empty expectation", c.rel, c.col)
		}
		if got := ColumnRemarks(c.rel, c.col); got != c.want {
			t.Errorf("ColumnRemarks(%s, %s) = %q, want %q", c.rel, c.col, got, c.want)
		}
	}
	if desc("trends", "period") == desc("indicator_values", "period") {
		t.Fatal("fixture no longer tells the feed rule from the fallback")
	}
}
