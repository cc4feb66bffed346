package schedule

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// idleSpecs returns n jobs that do not run within a day of 2026-05-01:
// yearly runs on New Year's Day, in a spread of time zones.
func idleSpecs(n int) []JobSpec {
	zones := []string{"UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"}
	specs := make([]JobSpec, n)
	for i := range specs {
		specs[i] = JobSpec{
			Name:     fmt.Sprintf("job-%03d", i),
			Schedule: fmt.Sprintf("%d %d 1 1 *", i%60, i%24),
			Timezone: zones[i%len(zones)],
			Script:   "scripts/announce.lua",
			Args:     []string{"--group", "ops", "idle"},
		}
	}
	return specs
}

// IdleScheduler starts a Scheduler of n idle jobs on the real clock with a
// no-op executor and returns a function that stops it. It is for
// measuring what an idle scheduler costs (heap, resident memory).
func idleScheduler(tb testing.TB, n int) (stop func()) {
	tb.Helper()
	jobs, err := CompileAll(idleSpecs(n))
	if err != nil {
		tb.Fatal(err)
	}
	log, _ := newLogger()
	s, err := New(jobs, Options{Logger: log, Executor: ExecutorFunc(func(context.Context, *Job, RunInfo) Result { return Result{} })})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	}
}

// BenchmarkIdleScheduler100 measures one turn of the scheduling loop over
// 100 idle jobs (what it does every minute), and reports the heap the
// running scheduler holds.
func BenchmarkIdleScheduler100(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	stop := idleScheduler(b, 100)
	runtime.GC()
	runtime.ReadMemStats(&after)
	stop()

	h := newHarness(b, utc("2026-05-01T00:00:30Z"), idleSpecs(100)...).start()
	b.ReportAllocs()
	for b.Loop() {
		h.step()
	}
	if h.clock.Now().Year() > 2026 {
		b.Log("some jobs ran: the clock went past New Year")
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<10), "heap-KiB")
}

// BenchmarkNextYear measures Next over a year of a busy schedule in a zone
// with daylight saving.
func BenchmarkNextYear(b *testing.B) {
	j := mustJob(b, JobSpec{Name: "j", Schedule: "*/15 * * * *", Timezone: "America/Los_Angeles"})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, j.Location())
	for b.Loop() {
		n := 0
		for t := start; t.Year() == 2026; t = j.Next(t) {
			n++
		}
		if n != 4*24*365 { // the spring gap drops 4, the fall repeat adds 4
			b.Fatalf("%d runs", n)
		}
	}
}
