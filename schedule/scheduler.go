package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// maxWait is the longest the loop waits without reading the wall clock:
	// timers stand still while a machine is suspended.
	maxWait = time.Minute
	// maxCatchUp is how many missed runs of one job a catch-up counts
	// before it skips to those within the starting deadline.
	maxCatchUp = 100_000
	// DefaultGrace is Options.Grace when it is 0.
	DefaultGrace = 30 * time.Second
	// DefaultKillWait is Options.KillWait when it is 0.
	DefaultKillWait = 15 * time.Second
)

// epoch anchors the monotonic heartbeat of Healthy.
var epoch = time.Now()

// Options configure a Scheduler. Only Executor is required.
type Options struct {
	// Clock tells the time and waits; nil means RealClock.
	Clock Clock
	// Logger receives the start and end line of every run and the
	// scheduler's own events; nil means slog.Default().
	Logger *slog.Logger
	// Executor runs the jobs.
	Executor Executor
	// Grace is how long Run, once its context is done, waits for runs in
	// flight before canceling them; 0 means DefaultGrace.
	Grace time.Duration
	// KillWait is how long Run then waits for the canceled runs to return
	// (time for an executor to kill its process); 0 means DefaultKillWait.
	KillWait time.Duration
}

// Scheduler runs jobs on their schedules. Create it with New, start it
// with Run; Reload and Healthy may be called from any goroutine.
type Scheduler struct {
	clock    Clock
	log      *slog.Logger
	exec     Executor
	metrics  *metrics
	grace    time.Duration
	killWait time.Duration
	wake     chan struct{} // nudges the loop after Reload
	stopCh   chan struct{} // closed when Run starts stopping
	wg       sync.WaitGroup
	beat     atomic.Int64 // time.Since(epoch) at the loop's last turn

	mu         sync.Mutex
	entries    map[string]*entry // by job name; removed ones stay while busy
	started    bool
	stopping   bool
	stopped    bool
	lastNow    time.Time       // the clock at the loop's last turn
	runCtx     context.Context // parent of every run's context
	cancelRuns context.CancelCauseFunc

	// Hooks for tests: randN draws jitter in [0, n]; idle is called each
	// time the loop starts waiting, with when it will wake at the latest;
	// freed is called when a job's run (and its queue) is over.
	randN func(n int64) int64
	idle  func(ctx context.Context, wake time.Time)
	freed func(job string)
}

// entry is the scheduling state of one job name.
type entry struct {
	job       *Job
	next      time.Time // next due time; zero until computed
	busy      bool      // a run (with its jitter, retries, queue) is in flight
	busySince time.Time
	pending   *time.Time // due time of the queued run (OverlapQueue)
	removed   bool       // removed by Reload, still busy
}

// New returns a Scheduler of jobs; job names must be unique.
func New(jobs []*Job, opts Options) (*Scheduler, error) {
	if opts.Executor == nil {
		return nil, errors.New("schedule: Options.Executor is nil")
	}
	byName, err := index(jobs)
	if err != nil {
		return nil, err
	}
	m := newMetrics()
	s := &Scheduler{
		clock:    orDefault(opts.Clock, Clock(RealClock{})),
		log:      orDefault(opts.Logger, slog.Default()),
		exec:     opts.Executor,
		metrics:  m,
		grace:    orDefault(opts.Grace, DefaultGrace),
		killWait: orDefault(opts.KillWait, DefaultKillWait),
		wake:     make(chan struct{}, 1),
		stopCh:   make(chan struct{}),
		entries:  map[string]*entry{},
		randN:    func(n int64) int64 { return rand.Int64N(n + 1) },
	}
	for name, j := range byName {
		s.entries[name] = &entry{job: j}
		m.addJob(name)
	}
	return s, nil
}

// orDefault returns v, or def when v is the zero value.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// index maps jobs by name and rejects duplicates and nil jobs.
func index(jobs []*Job) (map[string]*Job, error) {
	byName := make(map[string]*Job, len(jobs))
	for _, j := range jobs {
		if j == nil {
			return nil, errors.New("schedule: nil job")
		}
		if _, dup := byName[j.Name()]; dup {
			return nil, fmt.Errorf("schedule: job %q: duplicate job name", j.Name())
		}
		byName[j.Name()] = j
	}
	return byName, nil
}

// Run schedules the jobs until ctx is done. Then it starts no new run,
// waits up to Grace for the runs in flight, cancels those left (cause
// ErrStopped), waits up to KillWait for them and returns: nil, or an error
// naming the runs that did not return. Run may be called once.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("schedule: Run called twice")
	}
	s.started = true
	s.runCtx, s.cancelRuns = context.WithCancelCause(context.WithoutCancel(ctx))
	n := len(s.entries)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
	}()
	s.log.Info("scheduler started", "jobs", n)
	for {
		now := s.clock.Now()
		s.beat.Store(int64(time.Since(epoch)))
		wake := s.tick(now)
		// The tick took time: wait from the clock as it is now.
		timer := s.clock.NewTimer(wake.Sub(s.clock.Now()))
		if s.idle != nil {
			s.idle(ctx, wake)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return s.shutdown()
		case <-timer.C():
		case <-s.wake:
			timer.Stop()
		}
	}
}

// tick starts the runs due at now and returns when the loop must look
// again: at the earliest next run, and within maxWait.
func (s *Scheduler) tick(now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	back := s.lastNow.Sub(now)
	if back > 0 {
		s.log.Warn("the clock moved back", "by", back)
	}
	s.lastNow = now
	wake := now.Add(maxWait)
	for _, name := range slices.Sorted(maps.Keys(s.entries)) {
		e := s.entries[name]
		if e.removed {
			continue
		}
		if back > 0 && (e.job.hourly || e.job.every > 0) {
			// As in ISC cron, jobs that run every hour go on from the new
			// time; jobs at a fixed hour keep their next run, so that
			// they do not run twice.
			e.next = time.Time{}
		}
		if e.next.IsZero() {
			e.next = e.job.Next(now)
		} else if !e.next.After(now) {
			s.due(e, now)
		}
		s.metrics.setNext(name, e.next)
		if !e.next.IsZero() && e.next.Before(wake) {
			wake = e.next
		}
	}
	return wake
}

// due handles a job whose next run is due at now: the latest due run
// starts if it is within the starting deadline; older ones, which the loop
// did not see in time (a suspend, a clock jump), are logged as missed in
// one line. s.mu is held.
func (s *Scheduler) due(e *entry, now time.Time) {
	j := e.job
	deadline := j.spec.StartingDeadline
	first := e.next
	var latest, prev time.Time
	count, exact := 0, true
	n := e.next
	for !n.IsZero() && !n.After(now) {
		if count == maxCatchUp && n.Before(now.Add(-deadline)) {
			// Too many to count: only runs within the deadline matter.
			exact = false
			n = j.Next(now.Add(-deadline - time.Nanosecond))
			continue
		}
		prev, latest = latest, n
		count++
		n = j.Next(n)
	}
	e.next = n
	start := now.Sub(latest) <= deadline
	missed, lastMissed := count, latest
	if start {
		missed, lastMissed = count-1, prev
	}
	if missed > 0 {
		s.log.Warn("runs missed", "job", j.Name(), "outcome", OutcomeMissed, "count", missed, "count_exact", exact,
			"first", first, "last", lastMissed, "starting_deadline", deadline)
		s.metrics.countRuns(j.Name(), OutcomeMissed, missed)
	}
	if start {
		s.fire(e, latest)
	}
}

// fire starts a run of e due at sched, or queues or skips it when the job
// is busy. s.mu is held.
func (s *Scheduler) fire(e *entry, sched time.Time) {
	if s.stopping {
		return
	}
	name := e.job.Name()
	if e.busy {
		if e.job.spec.Overlap == OverlapQueue && e.pending == nil {
			e.pending = &sched
			s.log.Info("run queued", "job", name, "scheduled", sched, "running_since", e.busySince)
			return
		}
		reason := "job is still running since " + e.busySince.Format(time.RFC3339)
		if e.pending != nil {
			reason = "a run is already queued"
		}
		s.log.Warn("run skipped", "job", name, "scheduled", sched, "outcome", OutcomeSkipped, "error", reason)
		s.metrics.countSkipped(name)
		return
	}
	e.busy, e.busySince = true, s.clock.Now()
	s.wg.Add(1)
	go s.runJob(e, e.job, sched)
}

// Reload replaces the jobs: new names are added, missing ones removed, and
// changed ones (by spec) rescheduled from now. Runs in flight finish; a
// job never has two runs at once, across reloads too. A removed job's
// queued run is dropped. On error nothing changes.
func (s *Scheduler) Reload(jobs []*Job) error {
	byName, err := index(jobs)
	if err != nil {
		return err
	}
	var added, changed, removed []string
	s.mu.Lock()
	for name, e := range s.entries {
		if _, keep := byName[name]; keep || e.removed {
			continue
		}
		removed = append(removed, name)
		e.removed, e.pending = true, nil
		s.metrics.setNext(name, time.Time{})
		if !e.busy {
			delete(s.entries, name)
			s.metrics.forget(name)
		}
	}
	// New and changed jobs are scheduled from now, not from the loop's
	// next turn, which may come after their first run is due.
	now := s.clock.Now()
	for name, j := range byName {
		e, ok := s.entries[name]
		switch {
		case !ok:
			s.entries[name] = &entry{job: j, next: j.Next(now)}
			s.metrics.addJob(name)
			added = append(added, name)
		case e.removed:
			*e = entry{job: j, next: j.Next(now), busy: e.busy, busySince: e.busySince}
			added = append(added, name)
		case !sameSpec(e.job, j):
			e.job, e.next = j, j.Next(now)
			changed = append(changed, name)
		}
	}
	s.mu.Unlock()
	slices.Sort(added)
	slices.Sort(changed)
	slices.Sort(removed)
	s.log.Info("jobs reloaded", "jobs", len(byName), "added", strings.Join(added, ","),
		"changed", strings.Join(changed, ","), "removed", strings.Join(removed, ","))
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// sameSpec reports whether a and b declare the same job, wherever in the
// file they stand.
func sameSpec(a, b *Job) bool {
	x, y := a.Spec(), b.Spec()
	x.File, x.Line, y.File, y.Line = "", 0, "", 0
	return reflect.DeepEqual(x, y)
}

// Healthy returns nil while Run is scheduling, else why not: not started,
// stopping, stopped, or a loop that has not turned for three times its longest wait.
func (s *Scheduler) Healthy() error {
	s.mu.Lock()
	started, stopping, stopped := s.started, s.stopping, s.stopped
	s.mu.Unlock()
	switch {
	case !started:
		return errors.New("scheduler not running")
	case stopped:
		return errors.New("scheduler stopped")
	case stopping:
		return errors.New("scheduler stopping")
	}
	if idle := time.Since(epoch) - time.Duration(s.beat.Load()); idle > 3*maxWait {
		return fmt.Errorf("scheduling loop stalled for %s", idle.Round(time.Second))
	}
	return nil
}

// shutdown stops Run: no new runs, Grace for those in flight, then cancel.
func (s *Scheduler) shutdown() error {
	s.mu.Lock()
	s.stopping = true
	close(s.stopCh)
	var busy []string
	for name, e := range s.entries {
		if e.pending != nil {
			s.log.Info("queued run dropped: scheduler stopping", "job", name, "scheduled", *e.pending)
			e.pending = nil
		}
		if e.busy {
			busy = append(busy, name)
		}
	}
	s.mu.Unlock()
	slices.Sort(busy)
	s.log.Info("scheduler stopping", "running", strings.Join(busy, ","), "grace", s.grace)
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	if s.await(done, s.grace) {
		s.log.Info("scheduler stopped")
		return nil
	}
	s.log.Warn("grace period over: canceling runs", "running", strings.Join(s.busyNames(), ","))
	s.cancelRuns(ErrStopped)
	if s.await(done, s.killWait) {
		s.log.Info("scheduler stopped")
		return nil
	}
	left := s.busyNames()
	s.log.Error("runs did not stop; leaving them", "running", strings.Join(left, ","))
	return fmt.Errorf("schedule: runs of %s did not stop after cancellation", strings.Join(left, ", "))
}

// Abort cancels the runs in flight now (cause ErrStopped) rather than at
// the end of the grace period: for a second Ctrl-C while Run is stopping.
// Before Run has started stopping it would cancel the runs of a scheduler
// that goes on; it is meant for after.
func (s *Scheduler) Abort() {
	s.mu.Lock()
	cancel := s.cancelRuns
	s.mu.Unlock()
	if cancel != nil {
		cancel(ErrStopped)
	}
}

// busyNames returns the sorted names of the jobs with a run in flight.
func (s *Scheduler) busyNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name, e := range s.entries {
		if e.busy {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// await waits for done up to d on the clock; it reports whether done closed.
func (s *Scheduler) await(done <-chan struct{}, d time.Duration) bool {
	t := s.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C():
		return false
	}
}

// sleep waits d on the clock; it returns false early when Run is stopping.
func (s *Scheduler) sleep(d time.Duration) bool {
	t := s.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-s.stopCh:
		return false
	}
}
