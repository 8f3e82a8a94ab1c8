package schedule

import (
	"testing"
	"time"
)

func TestScheduleDST(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		spec  string
		from  time.Time
		wants []time.Time
	}{
		{"daily 06:00 across spring forward", "0 6 * * *", utc(2024, 3, 29, 12, 0),
			[]time.Time{utc(2024, 3, 30, 6, 0), utc(2024, 3, 31, 5, 0), utc(2024, 4, 1, 5, 0)}},
		{"daily 06:00 across fall back", "0 6 * * *", utc(2024, 10, 26, 0, 0),
			[]time.Time{utc(2024, 10, 26, 5, 0), utc(2024, 10, 27, 6, 0), utc(2024, 10, 28, 6, 0)}},
		// 01:30 does not exist on 31 March 2024: fire once at the change (01:00 UTC).
		{"01:30 in the skipped hour", "30 1 * * *", utc(2024, 3, 30, 2, 0),
			[]time.Time{utc(2024, 3, 31, 1, 0), utc(2024, 4, 1, 0, 30)}},
		// 01:30 happens twice on 27 October 2024: fire only the first time.
		{"01:30 in the repeated hour", "30 1 * * *", utc(2024, 10, 26, 2, 0),
			[]time.Time{utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 1, 30)}},
		{"monthly on the 1st at 06:00", "0 6 1 * *", utc(2024, 2, 15, 0, 0),
			[]time.Time{utc(2024, 3, 1, 6, 0), utc(2024, 4, 1, 5, 0), utc(2024, 5, 1, 5, 0)}},
		{"@monthly is local midnight", "@monthly", utc(2024, 3, 15, 0, 0),
			[]time.Time{utc(2024, 3, 31, 23, 0), utc(2024, 4, 30, 23, 0)}},
		{"@every ignores wall clock", "@every 90m", utc(2024, 3, 31, 0, 0),
			[]time.Time{utc(2024, 3, 31, 1, 30), utc(2024, 3, 31, 3, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSchedule(tc.spec, london)
			if err != nil {
				t.Fatal(err)
			}
			at := tc.from
			for i, want := range tc.wants {
				got := s.Next(at)
				if !got.Equal(want) {
					t.Fatalf("fire %d after %s = %s, want %s", i, at.UTC(), got.UTC(), want)
				}
				at = got
			}
		})
	}
}
