package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parseSchedule parses a 5-field cron expression or a descriptor (@monthly,
// @every 1h, ...) evaluated in loc, wrapped so daylight-saving changes neither
// double-fire nor drop a run.
func parseSchedule(spec string, loc *time.Location) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fmt.Errorf("%q: set the zone with the timezone key, not a TZ= prefix", spec)
	}
	s, err := cron.ParseStandard("CRON_TZ=" + loc.String() + " " + spec)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", spec, err)
	}
	ss, ok := s.(*cron.SpecSchedule)
	if !ok {
		return s, nil // @every: a fixed interval, no wall clock involved
	}
	wall := *ss
	wall.Location = time.UTC
	return &dstSchedule{spec: ss, wall: &wall, loc: loc}, nil
}

// dstSchedule fixes two wall-clock problems of cron.SpecSchedule:
//   - autumn: a time in the repeated hour (01:30 in London on the last Sunday of
//     October) matches twice; only the first occurrence fires.
//   - spring: a time in the skipped hour (01:30 on the last Sunday of March)
//     never exists; like Vixie cron we fire once at the moment of the change.
type dstSchedule struct {
	spec *cron.SpecSchedule
	wall *cron.SpecSchedule // same fields evaluated on wall-clock-as-UTC times
	loc  *time.Location
}

func (d *dstSchedule) Next(t time.Time) time.Time {
	c := d.spec.Next(t)
	for i := 0; i < 4 && !c.IsZero() && d.repeatedWallTime(c); i++ {
		c = d.spec.Next(c)
	}
	if g := d.gapFire(t, c); !g.IsZero() {
		return g
	}
	return c
}

// repeatedWallTime reports whether c's local wall time already happened
// earlier (the second pass through an autumn fall-back hour).
func (d *dstSchedule) repeatedWallTime(c time.Time) bool {
	lc := c.In(d.loc)
	start, _ := lc.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, offAfter := lc.Zone()
	_, offBefore := start.Add(-time.Nanosecond).In(d.loc).Zone()
	shift := time.Duration(offBefore-offAfter) * time.Second
	if shift <= 0 {
		return false
	}
	// c is a repeat when the same wall time existed under the earlier offset.
	return c.Sub(start) < shift
}

// gapFire returns the instant of a spring-forward change between t and c when
// the schedule matches a wall time the change skipped; otherwise zero.
func (d *dstSchedule) gapFire(t, c time.Time) time.Time {
	lt := t.In(d.loc)
	for i := 0; i < 8; i++ {
		_, end := lt.ZoneBounds()
		if end.IsZero() || (!c.IsZero() && !end.Before(c)) {
			return time.Time{}
		}
		_, offBefore := end.Add(-time.Nanosecond).In(d.loc).Zone()
		_, offAfter := end.In(d.loc).Zone()
		if offAfter > offBefore && end.After(t) {
			// Wall times [end in old offset, end in new offset) never happen.
			from := wallAsUTC(end.In(time.FixedZone("", offBefore)))
			to := wallAsUTC(end.In(time.FixedZone("", offAfter)))
			if m := d.wall.Next(from.Add(-time.Second)); !m.IsZero() && m.Before(to) {
				return end
			}
		}
		lt = end.In(d.loc)
	}
	return time.Time{}
}

func wallAsUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}
