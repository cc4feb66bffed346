package schedule

import "time"

// occurrence is one time a job's schedule fires.
type occurrence struct {
	at time.Time // the instant, in the job's zone; zero when there is none
	// gap is set when the wall time fell in a spring-forward gap and the
	// run was moved to the first instant after it; nominal is that wall
	// time (its fields read in UTC).
	gap     bool
	nominal time.Time
}

// Next returns the first time after t at which the job runs, in the job's
// time zone, or the zero time if there is none within five years. See the
// package documentation for how daylight-saving changes are handled.
func (j *Job) Next(t time.Time) time.Time {
	return j.next(t).at
}

// next is Next with the reason of the time.
func (j *Job) next(t time.Time) occurrence {
	if j.every > 0 {
		return occurrence{at: t.Add(j.every - time.Duration(t.Nanosecond())).In(j.loc)}
	}
	// Walk the zone's periods of constant UTC offset from t onwards. Within
	// one period wall time and instants map one to one; at the edges the
	// gap and repeat rules apply.
	cur, strict := t, true
	for range 1000 {
		local := cur.In(j.loc)
		_, off := local.Zone()
		start, end := local.ZoneBounds()
		from := wallOf(cur, off)
		if !j.hourly && !start.IsZero() {
			if _, prev := start.Add(-time.Nanosecond).In(j.loc).Zone(); prev > off {
				// The clock fell back at start: wall times before
				// repeatEnd already had their run in the previous period.
				if repeatEnd := wallOf(start, prev); from.Before(repeatEnd) {
					from, strict = repeatEnd, false
				}
			}
		}
		w := j.matchWall(from, strict)
		if w.IsZero() {
			return occurrence{}
		}
		at := time.Unix(w.Unix()-int64(off), 0)
		if end.IsZero() || at.Before(end) {
			return occurrence{at: at.In(j.loc)}
		}
		if _, next := end.In(j.loc).Zone(); !j.hourly && next > off && w.Before(wallOf(end, next)) {
			// w does not exist: the clock sprang forward over it.
			return occurrence{at: end.In(j.loc), gap: true, nominal: w}
		}
		cur, strict = end, false
	}
	return occurrence{}
}

// matchWall returns the first wall time matching the cron fields after
// from (at or after it unless strict). Wall times are read in UTC.
func (j *Job) matchWall(from time.Time, strict bool) time.Time {
	if !strict {
		from = from.Add(-time.Nanosecond)
	}
	return j.cron.Next(from)
}

// wallOf returns the wall time of t at UTC offset off seconds, as a time
// whose UTC fields are that wall time.
func wallOf(t time.Time, off int) time.Time {
	return time.Unix(t.Unix()+int64(off), int64(t.Nanosecond())).UTC()
}

// repeatedRuns returns the runs a fall-back transition took from the job in
// [from, to): the second occurrences of wall times that already ran.
// Jobs that match every hour and @every jobs lose none.
func (j *Job) repeatedRuns(from, to time.Time) []time.Time {
	if j.every > 0 || j.hourly {
		return nil
	}
	var out []time.Time
	for cur := from; cur.Before(to); {
		local := cur.In(j.loc)
		_, off := local.Zone()
		start, end := local.ZoneBounds()
		if !start.IsZero() {
			if _, prev := start.Add(-time.Nanosecond).In(j.loc).Zone(); prev > off {
				repeatEnd := wallOf(start, prev)
				for w := j.matchWall(wallOf(start, off), false); !w.IsZero() && w.Before(repeatEnd); w = j.matchWall(w, true) {
					at := time.Unix(w.Unix()-int64(off), 0)
					if !at.Before(from) && at.Before(to) {
						out = append(out, at.In(j.loc))
					}
				}
			}
		}
		if end.IsZero() {
			break
		}
		cur = end
	}
	return out
}
