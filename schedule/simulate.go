package schedule

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// List returns the job's next n run times after from, in its time zone
// (an @every job counts from from). It returns fewer when the schedule
// ends (a date that never comes again).
func List(job *Job, from time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for t := from; len(out) < n; {
		t = job.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// Mark says what Simulate found about one scheduled run.
type Mark string

// The marks of Simulate.
const (
	// MarkNormal is a run at its scheduled time.
	MarkNormal Mark = "normal"
	// MarkDSTGap is a run whose wall time did not exist (the clock sprang
	// forward over it): it starts at the first instant after the jump.
	MarkDSTGap Mark = "dst-gap"
	// MarkDSTRepeatSkipped is the second occurrence of a wall time the
	// clock fell back over: it already ran at the first, so it does not run.
	MarkDSTRepeatSkipped Mark = "dst-repeat-skipped"
	// MarkOverlapSkipped is a run due while the job was still running (or,
	// with OverlapQueue, while a run was already waiting): it does not run.
	MarkOverlapSkipped Mark = "overlap-skipped"
	// MarkQueued is a run due while the job was still running, which starts
	// when that run ends (OverlapQueue).
	MarkQueued Mark = "queued"
	// MarkMissed is a run due while the machine was suspended that does
	// not start when it wakes: a later run was due too, or it is older
	// than the job's starting deadline.
	MarkMissed Mark = "missed"
	// MarkLate is the latest run due while the machine was suspended,
	// within the job's starting deadline: it starts when the machine wakes.
	MarkLate Mark = "late"
)

// SimOptions are what Simulate assumes besides the schedules.
type SimOptions struct {
	// Durations is how long each job's runs last, by job name: 0 when
	// absent, and at most the job's timeout.
	Durations map[string]time.Duration
	// Suspended are the times when the machine is asleep (or the
	// scheduler's process is stopped with SIGSTOP): when it wakes, each
	// job's latest run due meanwhile starts if it is within the job's
	// starting deadline, and the others are missed, as Scheduler does.
	Suspended []Window
}

// Window is the time from From to To.
type Window struct{ From, To time.Time }

// SimRun is one run that Simulate found.
type SimRun struct {
	// Job is the job's name.
	Job string
	// Scheduled is when the run is due, in the job's time zone.
	Scheduled time.Time
	// Start and End bound the run; both are zero when it does not run.
	Start, End time.Time
	// Mark says how the run went.
	Mark Mark
	// Note explains a mark other than MarkNormal, for people.
	Note string
}

// Simulate returns every run the jobs' schedules make with a due time in
// [from, to), sorted by due time then job, without running anything. A run
// of job J lasts opts.Durations[J], at most J's timeout; the overlap policy
// then decides what happens to runs due while it lasts. Runs due while the
// machine is suspended (opts.Suspended) are missed or start late. Jitter,
// retries and failures are not simulated.
func Simulate(jobs []*Job, from, to time.Time, opts SimOptions) []SimRun {
	var out []SimRun
	asleep := mergeWindows(opts.Suspended)
	for _, j := range jobs {
		out = append(out, simulateJob(j, from, to, opts.Durations[j.Name()], asleep)...)
	}
	slices.SortStableFunc(out, func(a, b SimRun) int {
		if c := a.Scheduled.Compare(b.Scheduled); c != 0 {
			return c
		}
		return cmp.Compare(a.Job, b.Job)
	})
	return out
}

// simulateJob is Simulate for one job; asleep are sorted, disjoint windows.
func simulateJob(j *Job, from, to time.Time, dur time.Duration, asleep []Window) []SimRun {
	dur = min(max(dur, 0), j.spec.Timeout)
	var out []SimRun
	// last is the latest run that starts or started: [lastStart, lastEnd).
	var lastStart, lastEnd time.Time
	first := from.Add(-time.Nanosecond) // a cron run due at from is in the window
	if j.every > 0 {
		first = from // an @every job's first run is one interval after it starts
	}
	for occ := j.next(first); !occ.at.IsZero() && occ.at.Before(to); occ = j.next(occ.at) {
		r := SimRun{Job: j.Name(), Scheduled: occ.at, Mark: MarkNormal}
		if occ.gap {
			r.Mark = MarkDSTGap
			r.Note = fmt.Sprintf("%s does not exist on %s in %s (the clock sprang forward); runs at %s",
				occ.nominal.Format("15:04:05"), occ.nominal.Format("2006-01-02"), j.loc, occ.at.Format("15:04:05 MST"))
		}
		start := occ.at
		if w, ok := windowAt(asleep, occ.at); ok {
			wake := w.To.In(j.loc).Format("15:04:05 MST")
			next := j.Next(occ.at)
			switch {
			case !next.IsZero() && !next.After(w.To):
				r.Mark, r.Note = MarkMissed, fmt.Sprintf("the machine is asleep until %s, and a later run is due by then", wake)
			case w.To.Sub(occ.at) > j.spec.StartingDeadline:
				r.Mark, r.Note = MarkMissed, fmt.Sprintf("the machine is asleep until %s, past the starting deadline of %s", wake, j.spec.StartingDeadline)
			default:
				start, r.Mark = w.To, MarkLate
				r.Note = fmt.Sprintf("the machine is asleep; starts when it wakes at %s, within the starting deadline of %s", wake, j.spec.StartingDeadline)
			}
			if r.Mark == MarkMissed {
				out = append(out, r)
				continue
			}
		}
		switch {
		case !start.Before(lastEnd):
			r.Start = start
		case j.spec.Overlap == OverlapQueue && !start.Before(lastStart):
			r.Start, r.Mark = lastEnd, MarkQueued
			r.Note = fmt.Sprintf("the run of %s is still going; starts when it ends at %s",
				lastStart.Format("15:04:05 MST"), lastEnd.Format("15:04:05 MST"))
		default:
			r.Mark = MarkOverlapSkipped
			r.Note = fmt.Sprintf("the run of %s is still going until %s", lastStart.Format("15:04:05 MST"), lastEnd.Format("15:04:05 MST"))
			if lastStart.After(start) {
				r.Note = fmt.Sprintf("a run is already waiting to start at %s", lastStart.Format("15:04:05 MST"))
			}
		}
		if !r.Start.IsZero() {
			r.End = r.Start.Add(dur)
			lastStart, lastEnd = r.Start, r.End
		}
		out = append(out, r)
	}
	for _, at := range j.repeatedRuns(from, to) {
		out = append(out, SimRun{Job: j.Name(), Scheduled: at, Mark: MarkDSTRepeatSkipped,
			Note: fmt.Sprintf("%s occurs twice on %s in %s (the clock fell back); it ran at the first",
				at.Format("15:04:05"), at.Format("2006-01-02"), j.loc)})
	}
	return out
}

// mergeWindows returns ws sorted, without empty windows, and with those
// that overlap or touch merged.
func mergeWindows(ws []Window) []Window {
	var out []Window
	for _, w := range slices.SortedFunc(slices.Values(ws), func(a, b Window) int { return a.From.Compare(b.From) }) {
		switch {
		case !w.From.Before(w.To):
		case len(out) > 0 && !w.From.After(out[len(out)-1].To):
			if last := &out[len(out)-1]; w.To.After(last.To) {
				last.To = w.To
			}
		default:
			out = append(out, w)
		}
	}
	return out
}

// windowAt returns the window of ws that holds t.
func windowAt(ws []Window, t time.Time) (Window, bool) {
	for _, w := range ws {
		if !t.Before(w.From) && t.Before(w.To) {
			return w, true
		}
	}
	return Window{}, false
}
