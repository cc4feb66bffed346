package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// patience bounds every wait for an event in these tests; it is never
// what a test asserts on.
const patience = 20 * time.Second

// logBuffer collects JSON log lines, safe for concurrent writers.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced at each write
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

// waitFor waits until the log contains s.
func (b *logBuffer) waitFor(tb testing.TB, s string) {
	tb.Helper()
	timeout := time.After(patience)
	for {
		b.mu.Lock()
		found := strings.Contains(b.buf.String(), s)
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.mu.Unlock()
		if found {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			tb.Fatalf("the log never said %q", s)
		}
	}
}

// String returns the log.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the logged records whose message is msg ("" for all).
func (b *logBuffer) records(tb testing.TB, msg string) []map[string]any {
	tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(b.buf.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			tb.Fatalf("bad log line %q: %v", line, err)
		}
		if msg == "" || r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// newLogger returns a JSON logger writing to a new logBuffer.
func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// call is one Execute call seen by fakeExec.
type call struct {
	job string
	run RunInfo
	at  time.Time // the fake clock when Execute was called
	res Result    // on the ends channel only
}

// fakeExec is an Executor whose behaviour tests set per job; it reports
// every start and end on channels.
type fakeExec struct {
	clock  Clock
	mu     sync.Mutex
	behave map[string]ExecutorFunc
	starts chan call
	ends   chan call
}

func newFakeExec(clock Clock) *fakeExec {
	return &fakeExec{clock: clock, behave: map[string]ExecutorFunc{},
		starts: make(chan call, 1000), ends: make(chan call, 1000)}
}

// on sets what runs of job do; the default is to succeed at once.
func (f *fakeExec) on(job string, fn ExecutorFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.behave[job] = fn
}

func (f *fakeExec) Execute(ctx context.Context, job *Job, run RunInfo) Result {
	c := call{job: job.Name(), run: run, at: f.clock.Now()}
	f.starts <- c
	f.mu.Lock()
	fn := f.behave[job.Name()]
	f.mu.Unlock()
	if fn != nil {
		c.res = fn(ctx, job, run)
	}
	f.ends <- c
	return c.res
}

// harness runs a Scheduler on a FakeClock in lockstep with the test: the
// loop announces each wait on idle and the test advances the clock.
type harness struct {
	t        testing.TB
	clock    *FakeClock
	exec     *fakeExec
	s        *Scheduler
	reg      exposition // the scheduler's metrics, parsed from /metrics
	logs     *logBuffer
	idle     chan time.Time
	cancel   context.CancelFunc
	done     chan struct{} // closed when Run returns
	err      error         // what Run returned
	woke     time.Time     // a wake time taken from idle by next, for pause
	paused   bool          // the loop is held in the idle hook
	resumeCh chan struct{} // lets the held loop go on
	freed    chan string   // names of jobs whose run is over
}

// newHarness builds a stopped harness of specs starting at start.
func newHarness(t testing.TB, start time.Time, specs ...JobSpec) *harness {
	t.Helper()
	jobs, err := CompileAll(specs)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: NewFakeClock(start), idle: make(chan time.Time)}
	h.exec = newFakeExec(h.clock)
	var log *slog.Logger
	log, h.logs = newLogger()
	h.s, err = New(jobs, Options{Clock: h.clock, Logger: log, Executor: h.exec})
	if err != nil {
		t.Fatal(err)
	}
	h.reg = exposition{h.s}
	h.freed = make(chan string, 1000)
	h.s.freed = func(job string) { h.freed <- job }
	h.resumeCh = make(chan struct{})
	h.s.idle = func(ctx context.Context, wake time.Time) {
		select {
		case h.idle <- wake:
		case <-ctx.Done():
			return
		}
		select {
		case <-h.resumeCh:
		case <-ctx.Done():
		}
	}
	return h
}

// start runs the scheduler; the test's cleanup stops it.
func (h *harness) start() *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		h.err = h.s.Run(ctx)
		close(h.done)
	}()
	h.t.Cleanup(func() {
		cancel()
		for {
			select {
			case <-h.done:
				return
			case <-h.idle:
			case <-time.After(10 * time.Millisecond):
				h.clock.Advance(time.Minute) // through a grace period
			}
		}
	})
	return h
}

// wait waits for Run to return and returns its error.
func (h *harness) wait() error {
	h.t.Helper()
	select {
	case <-h.done:
		return h.err
	case <-time.After(patience):
		h.t.Fatal("Run did not return")
		return nil
	}
}

// blockUntil waits until n timers are pending on the fake clock.
func (h *harness) blockUntil(n int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := h.clock.BlockUntil(ctx, n); err != nil {
		h.t.Fatalf("waiting for %d timers (have %d): %v", n, h.clock.Timers(), err)
	}
}

// waitTimer waits until a timer is pending that fires at t.
func (h *harness) waitTimer(t time.Time) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := h.clock.BlockUntilTimerAt(ctx, t); err != nil {
		h.t.Fatalf("waiting for a timer at %s: %v", t, err)
	}
}

// pause waits until the loop is about to wait and holds it there (in the
// idle hook) until resume; it returns when the loop will wake. The clock
// is best moved while the loop is held.
func (h *harness) pause() time.Time {
	h.t.Helper()
	if h.paused {
		h.t.Fatal("the loop is already paused")
	}
	w := h.woke
	h.woke = time.Time{}
	if w.IsZero() {
		select {
		case w = <-h.idle:
		case <-time.After(patience):
			h.t.Fatalf("the scheduling loop did not come back to wait; log:\n%s", h.logs.String())
		}
	}
	h.paused = true
	return w
}

// resume lets the loop held by pause go on.
func (h *harness) resume() {
	h.t.Helper()
	if !h.paused {
		h.t.Fatal("the loop is not paused")
	}
	h.paused = false
	h.resumeCh <- struct{}{}
}

// step lets the loop turn once: it advances the clock to when the loop
// wakes and returns that time.
func (h *harness) step() time.Time {
	h.t.Helper()
	w := h.pause()
	if now := h.clock.Now(); w.Sub(now) > maxWait {
		h.t.Fatalf("the loop waits %s, more than %s", w.Sub(now), maxWait)
	}
	h.clock.AdvanceTo(w)
	h.resume()
	return w
}

// runUntil steps until the clock reaches end. At each wake it waits for
// as many runs to start as expect lists at that time (in UTC), so that each start is
// seen at the instant it happens, and then for them to be over, so that
// they are not still running (in real time) when the next is due. It
// returns the starts seen; it is for runs that return at once.
func (h *harness) runUntil(end time.Time, expect map[time.Time]int) []call {
	h.t.Helper()
	var seen []call
	for h.clock.Now().Before(end) {
		w := h.step().UTC()
		for range expect[w] {
			seen = append(seen, h.nextStart())
		}
		for range expect[w] {
			h.nextFreed()
		}
	}
	return seen
}

// nextFreed waits until a job's run is over and its slot free.
func (h *harness) nextFreed() string {
	h.t.Helper()
	timeout := time.After(patience)
	for {
		select {
		case job := <-h.freed:
			return job
		case h.woke = <-h.idle:
		case <-timeout:
			h.t.Fatalf("no run over by %s; log:\n%s", h.clock.Now(), h.logs.String())
		}
	}
}

// nextStart waits for the next Execute call.
func (h *harness) nextStart() call {
	h.t.Helper()
	return h.next(h.exec.starts, "started")
}

// nextEnd waits for the next Execute call to return.
func (h *harness) nextEnd() call {
	h.t.Helper()
	return h.next(h.exec.ends, "ended")
}

// next waits for a call on ch, letting the loop turn meanwhile.
func (h *harness) next(ch chan call, what string) call {
	h.t.Helper()
	timeout := time.After(patience)
	for {
		select {
		case c := <-ch:
			return c
		case h.woke = <-h.idle:
		case <-timeout:
			h.t.Fatalf("no run %s by %s; log:\n%s", what, h.clock.Now(), h.logs.String())
		}
	}
}

// noStart fails if a run started that the test has not taken.
func (h *harness) noStart() {
	h.t.Helper()
	select {
	case c := <-h.exec.starts:
		h.t.Fatalf("unexpected run of %s due %s", c.job, c.run.Scheduled)
	default:
	}
}

// metric returns the value of the series name{labels} (counter, gauge, or
// a histogram's sample count), and false when it does not exist.
func metric(tb testing.TB, g prometheus.Gatherer, name string, labels ...string) (float64, bool) {
	tb.Helper()
	families, err := g.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabels(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// hasLabels reports whether m has every name=value pair of kv.
func hasLabels(m *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
			return l.GetName() == kv[i] && l.GetValue() == kv[i+1]
		}) {
			return false
		}
	}
	return true
}

// wantMetric fails unless name{labels} is want.
func wantMetric(tb testing.TB, g prometheus.Gatherer, want float64, name string, labels ...string) {
	tb.Helper()
	if got, ok := metric(tb, g, name, labels...); !ok || got != want {
		tb.Errorf("%s%v = %v (present %v), want %v", name, labels, got, ok, want)
	}
}

// utc parses an RFC 3339 time or panics.
func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
