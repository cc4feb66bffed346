package schedule

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // per-job time zones must load on hosts without a zoneinfo database

	"github.com/robfig/cron/v3"
)

// Defaults applied by Compile to the zero values of a JobSpec.
const (
	// DefaultTimeout is how long a run may take when JobSpec.Timeout is 0.
	DefaultTimeout = 5 * time.Minute
	// DefaultStartingDeadline is how late a run may still start when
	// JobSpec.StartingDeadline is 0. It is far above the milliseconds by
	// which a healthy scheduler is late, and short enough that an
	// announcement is not sent hours late after a laptop wakes up.
	DefaultStartingDeadline = time.Minute
	// DefaultRetryBackoff is the wait before the first retry when
	// JobSpec.RetryBackoff is 0.
	DefaultRetryBackoff = 10 * time.Second
	// MaxRetryBackoff caps the doubling wait between retries.
	MaxRetryBackoff = 10 * time.Minute
	// MaxRetries is the largest JobSpec.Retries accepted.
	MaxRetries = 100
)

// Overlap policies: what happens to a run that is due while the job's
// previous run is still going. A job never has two runs at once.
const (
	// OverlapSkip skips the run that is due (the default).
	OverlapSkip = "skip"
	// OverlapQueue holds the run that is due and starts it as soon as the
	// previous one ends. At most one run is held; a further run due while
	// one is already held is skipped.
	OverlapQueue = "queue"
)

// JobSpec declares one job, as a schedule file states it. Zero values take
// the documented defaults; Compile checks it and returns a Job.
type JobSpec struct {
	// Name identifies the job in logs, metrics and on the command line:
	// letters, digits and `_ . : -`, starting with a letter, digit or `_`.
	Name string
	// Schedule is when the job runs: 5 cron fields (minute hour
	// day-of-month month day-of-week), 6 with a leading seconds field,
	// @hourly, @daily (@midnight), @weekly, @monthly, @yearly (@annually)
	// or `@every 30s` (elapsed time, whole seconds, at least 1s). A
	// `CRON_TZ=Zone ` or `TZ=Zone ` prefix sets the time zone. As in every
	// cron, when both day fields are restricted a day matching either runs.
	Schedule string
	// Timezone is the IANA zone (Europe/Berlin) the schedule is read in;
	// empty means the prefix of Schedule, else the machine's local zone.
	// It may not contradict a prefix.
	Timezone string
	// Timeout bounds one attempt of a run; 0 means DefaultTimeout.
	Timeout time.Duration
	// Overlap is OverlapSkip (also when empty) or OverlapQueue.
	Overlap string
	// Retries is how many times a failed, timed out or killed run is tried
	// again; 0 means never.
	Retries int
	// RetryBackoff is the wait before the first retry, doubling for each
	// further one up to MaxRetryBackoff; 0 means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// Jitter is the most a run's start is delayed at random after its
	// scheduled time, to spread load; 0 means none.
	Jitter time.Duration
	// StartingDeadline is how late after its scheduled time a run may still
	// start when the scheduler finds it late (after a suspend or a clock
	// jump): of the runs missed, only the latest starts, if it is within
	// the deadline; the others are logged as missed. It does not apply to
	// a queued run. 0 means DefaultStartingDeadline.
	StartingDeadline time.Duration

	// File and Line say where the job was declared; when set, Compile's
	// errors start with them.
	File string
	Line int
	// Script and Args are for the Executor (the script a run executes and
	// its arguments); the scheduler does not read them.
	Script string
	Args   []string
}

// Job is a compiled JobSpec: its schedule parsed and its defaults applied.
// It is immutable and safe for concurrent use.
type Job struct {
	spec  JobSpec
	loc   *time.Location
	cron  *cron.SpecSchedule // wall-clock fields; its Location is UTC (naive)
	every time.Duration      // > 0 for @every schedules
	// hourly marks a cron schedule that matches every hour: it runs on the
	// wall clock as it is across daylight-saving changes (ISC's wildcard).
	hourly bool
}

// Name returns the job's name.
func (j *Job) Name() string { return j.spec.Name }

// Spec returns the job's declaration with its defaults applied.
func (j *Job) Spec() JobSpec {
	s := j.spec
	s.Args = append([]string(nil), j.spec.Args...)
	return s
}

// Location returns the time zone the job's schedule is read in.
func (j *Job) Location() *time.Location { return j.loc }

// Timeout returns how long one attempt of a run may take.
func (j *Job) Timeout() time.Duration { return j.spec.Timeout }

var (
	// namePattern has no {0,99}: the regexp package would expand it into
	// 99 copies, over a thousand allocations at the start of every wps.
	// Both are compiled on first use, not at the start of every wps.
	namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:-]*$`) })
	tzPrefix    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:CRON_TZ|TZ)=(\S*)(.*)$`) })
	// parser accepts 5 fields, 6 with seconds first, and descriptors.
	parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
		cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// Compile checks spec, applies its defaults and parses its schedule. Every
// error names the job (and its file and line when the spec has them); a
// schedule that panics the cron parser is an error too.
func Compile(spec JobSpec) (*Job, error) {
	j, err := compile(spec)
	if err != nil {
		return nil, JobError(spec, err)
	}
	return j, nil
}

// CompileAll compiles every spec and rejects duplicate names. It returns
// all the errors, joined, so that a file is fixed in one pass.
func CompileAll(specs []JobSpec) ([]*Job, error) {
	var errs []error
	jobs := make([]*Job, 0, len(specs))
	seen := map[string]JobSpec{}
	for _, spec := range specs {
		if first, dup := seen[spec.Name]; dup {
			err := errors.New("duplicate job name")
			if first.File != "" {
				err = fmt.Errorf("duplicate job name (first declared at %s:%d)", first.File, first.Line)
			}
			errs = append(errs, JobError(spec, err))
			continue
		}
		seen[spec.Name] = spec
		j, err := Compile(spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		jobs = append(jobs, j)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return jobs, nil
}

// JobError prefixes err with where spec was declared and the job's name,
// as Compile's errors read: `file:line: job "name": err`.
func JobError(spec JobSpec, err error) error {
	where := ""
	if spec.File != "" {
		where = spec.File + ":"
		if spec.Line > 0 {
			where += fmt.Sprintf("%d:", spec.Line)
		}
		where += " "
	}
	return fmt.Errorf("%sjob %q: %w", where, spec.Name, err)
}

// compile does Compile's work; its errors do not name the job yet.
func compile(spec JobSpec) (*Job, error) {
	if len(spec.Name) > 100 || !namePattern().MatchString(spec.Name) {
		return nil, errors.New("bad name: use 1 to 100 letters, digits or _ . : - (not starting with . : -)")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"timeout", spec.Timeout}, {"retry backoff", spec.RetryBackoff}, {"jitter", spec.Jitter}, {"starting deadline", spec.StartingDeadline}} {
		if d.v < 0 {
			return nil, fmt.Errorf("%s %s is negative", d.name, d.v)
		}
	}
	if spec.Timeout == 0 {
		spec.Timeout = DefaultTimeout
	}
	if spec.RetryBackoff == 0 {
		spec.RetryBackoff = DefaultRetryBackoff
	}
	if spec.StartingDeadline == 0 {
		spec.StartingDeadline = DefaultStartingDeadline
	}
	switch spec.Overlap {
	case "":
		spec.Overlap = OverlapSkip
	case OverlapSkip, OverlapQueue:
	default:
		return nil, fmt.Errorf("overlap %q: want %q or %q", spec.Overlap, OverlapSkip, OverlapQueue)
	}
	if spec.Retries < 0 || spec.Retries > MaxRetries {
		return nil, fmt.Errorf("retries %d: want 0 to %d", spec.Retries, MaxRetries)
	}
	j := &Job{spec: spec}
	if err := j.parseSchedule(); err != nil {
		return nil, err
	}
	return j, nil
}

// parseSchedule parses j.spec.Schedule and Timezone into j. The cron parser
// runs under recover: some specs panic it (robfig/cron#554).
func (j *Job) parseSchedule() (err error) {
	text := strings.TrimSpace(j.spec.Schedule)
	if text == "" {
		return errors.New("empty schedule")
	}
	zone := ""
	if m := tzPrefix().FindStringSubmatch(text); m != nil {
		zone, text = m[1], strings.TrimSpace(m[2])
		if zone == "" {
			return fmt.Errorf("schedule %q: empty time zone after =", j.spec.Schedule)
		}
		if text == "" {
			return fmt.Errorf("schedule %q: a time zone but no schedule after it", j.spec.Schedule)
		}
		if j.spec.Timezone != "" && j.spec.Timezone != zone {
			return fmt.Errorf("schedule %q says time zone %s but timezone is %s", j.spec.Schedule, zone, j.spec.Timezone)
		}
	}
	if zone == "" {
		zone = j.spec.Timezone
	}
	j.loc = time.Local
	if zone != "" {
		if j.loc, err = time.LoadLocation(zone); err != nil {
			return fmt.Errorf("time zone %q: %v", zone, err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("schedule %q: the cron parser failed: %v", j.spec.Schedule, r)
		}
	}()
	if rest, ok := strings.CutPrefix(text, "@every"); ok {
		d, perr := time.ParseDuration(strings.TrimSpace(rest))
		if perr != nil || strings.TrimSpace(rest) == "" {
			return fmt.Errorf("schedule %q: @every wants a duration such as 30s or 1h30m", j.spec.Schedule)
		}
		if d < time.Second || d%time.Second != 0 {
			return fmt.Errorf("schedule %q: @every wants whole seconds, at least 1s", j.spec.Schedule)
		}
		j.every = d
		return nil
	}
	sched, perr := parser.Parse(text)
	if perr != nil {
		return fmt.Errorf("schedule %q: %v", j.spec.Schedule, perr)
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return fmt.Errorf("schedule %q: unsupported kind %T", j.spec.Schedule, sched)
	}
	naive := *spec
	naive.Location = time.UTC
	j.cron = &naive
	const everyHour = 1<<24 - 1
	j.hourly = spec.Hour&everyHour == everyHour
	if j.Next(time.Now()).IsZero() {
		return fmt.Errorf("schedule %q never runs (no matching date within five years)", j.spec.Schedule)
	}
	return nil
}
