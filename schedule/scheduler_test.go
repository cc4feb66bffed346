package schedule

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// blockUntilRelease returns a behaviour that runs until release receives
// or the run context is done.
func blockUntilRelease(release <-chan struct{}) ExecutorFunc {
	return func(ctx context.Context, _ *Job, _ RunInfo) Result {
		select {
		case <-release:
			return Result{}
		case <-ctx.Done():
			return Result{Err: context.Cause(ctx)}
		}
	}
}

func TestSchedulerAcrossDSTInTwoZones(t *testing.T) {
	windows := []struct {
		name       string
		zone       string
		from, to   string
		specs      []JobSpec
		want       []string // job@due time (UTC)
		wantLocals []string // the same due times on the zone's wall clock
	}{
		{"Los Angeles spring forward", "America/Los_Angeles", "2026-03-08T08:50:00Z", "2026-03-08T11:10:00Z",
			[]JobSpec{{Name: "fixed", Schedule: "30 2 * * *"}, {Name: "quarter", Schedule: "*/15 * * * *"}},
			[]string{"quarter@09:00", "quarter@09:15", "quarter@09:30", "quarter@09:45", "fixed@10:00", "quarter@10:00",
				"quarter@10:15", "quarter@10:30", "quarter@10:45", "quarter@11:00"},
			[]string{"fixed@03:00 PDT", "quarter@01:45 PST", "quarter@03:00 PDT"}},
		{"Los Angeles fall back", "America/Los_Angeles", "2026-11-01T07:50:00Z", "2026-11-01T11:10:00Z",
			[]JobSpec{{Name: "fixed", Schedule: "30 1 * * *"}, {Name: "hourly", Schedule: "0 * * * *"}},
			[]string{"hourly@08:00", "fixed@08:30", "hourly@09:00", "hourly@10:00", "hourly@11:00"},
			[]string{"fixed@01:30 PDT", "hourly@01:00 PDT", "hourly@01:00 PST"}},
		{"Berlin spring forward", "Europe/Berlin", "2026-03-29T00:20:00Z", "2026-03-29T02:10:00Z",
			[]JobSpec{{Name: "fixed", Schedule: "30 2 * * *"}, {Name: "hourly", Schedule: "0 * * * *"}},
			[]string{"fixed@01:00", "hourly@01:00", "hourly@02:00"},
			[]string{"fixed@03:00 CEST", "hourly@03:00 CEST", "hourly@04:00 CEST"}},
		{"Berlin fall back", "Europe/Berlin", "2026-10-24T23:50:00Z", "2026-10-25T03:10:00Z",
			[]JobSpec{{Name: "fixed", Schedule: "30 2 * * *"}, {Name: "hourly", Schedule: "0 * * * *"}},
			[]string{"hourly@00:00", "fixed@00:30", "hourly@01:00", "hourly@02:00", "hourly@03:00"},
			[]string{"fixed@02:30 CEST", "hourly@02:00 CEST", "hourly@02:00 CET"}},
	}
	for _, w := range windows {
		t.Run(w.name, func(t *testing.T) {
			for i := range w.specs {
				w.specs[i].Timezone = w.zone
			}
			from := utc(w.from)
			h := newHarness(t, from, w.specs...).start()
			expect := map[time.Time]int{}
			for _, s := range w.want {
				hm, _ := time.Parse("15:04", s[strings.Index(s, "@")+1:])
				expect[from.Truncate(24*time.Hour).Add(time.Duration(hm.Hour())*time.Hour+time.Duration(hm.Minute())*time.Minute)]++
			}
			if from.Hour() == 23 { // the window starts the day before
				for k, v := range expect {
					delete(expect, k)
					expect[k.Add(24*time.Hour)] = v
				}
			}
			var got, locals []string
			for _, c := range h.runUntil(utc(w.to), expect) {
				if !c.at.Equal(c.run.Scheduled) {
					t.Errorf("%s due %s started at %s", c.job, c.run.Scheduled, c.at)
				}
				got = append(got, c.job+"@"+c.run.Scheduled.UTC().Format("15:04"))
				locals = append(locals, c.job+"@"+c.run.Scheduled.Format("15:04 MST"))
			}
			h.noStart()
			slices.Sort(got)
			want := slices.Sorted(slices.Values(w.want))
			if !slices.Equal(got, want) {
				t.Errorf("runs %v\nwant %v", got, want)
			}
			for _, l := range w.wantLocals {
				if !slices.Contains(locals, l) {
					t.Errorf("no run at %s on the wall clock; runs: %v", l, locals)
				}
			}
		})
	}
}

func TestOverlapSkip(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"), JobSpec{Name: "slow", Schedule: "* * * * *", Timezone: "UTC"})
	release := make(chan struct{})
	h.exec.on("slow", blockUntilRelease(release))
	h.start()
	h.step() // 00:01
	first := h.nextStart()
	h.step()       // 00:02: still running
	w := h.pause() // the loop has handled 00:02
	h.noStart()
	wantMetric(t, h.reg, 1, "wps_cron_skipped_total", "job", "slow")
	wantMetric(t, h.reg, 1, "wps_cron_runs_total", "job", "slow", "outcome", "skipped")
	release <- struct{}{}
	h.nextFreed()
	h.clock.AdvanceTo(w) // 00:03
	h.resume()
	second := h.nextStart()
	if first.run.Scheduled != utc("2026-05-01T00:01:00Z") || second.run.Scheduled != utc("2026-05-01T00:03:00Z") {
		t.Errorf("runs due %s and %s, want 00:01 and 00:03", first.run.Scheduled, second.run.Scheduled)
	}
	skipped := h.logs.records(t, "run skipped")
	if len(skipped) != 1 || skipped[0]["error"] != "job is still running since 2026-05-01T00:01:00Z" ||
		skipped[0]["outcome"] != "skipped" || skipped[0]["scheduled"] != "2026-05-01T00:02:00Z" {
		t.Errorf("skip log lines: %v", skipped)
	}
	release <- struct{}{}
}

func TestOverlapQueueHoldsOneRun(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"), JobSpec{Name: "slow", Schedule: "* * * * *", Timezone: "UTC", Overlap: OverlapQueue})
	release := make(chan struct{})
	h.exec.on("slow", blockUntilRelease(release))
	h.start()
	h.step() // 00:01
	h.nextStart()
	h.step()       // 00:02 is queued
	h.step()       // 00:03 is skipped: 00:02 is already waiting
	w := h.pause() // the loop has handled 00:03
	h.noStart()
	wantMetric(t, h.reg, 1, "wps_cron_skipped_total", "job", "slow")
	release <- struct{}{}
	queued := h.nextStart() // starts as soon as the first ends
	if queued.run.Scheduled != utc("2026-05-01T00:02:00Z") || queued.at != utc("2026-05-01T00:03:00Z") {
		t.Errorf("queued run due %s started at %s, want due 00:02 started 00:03", queued.run.Scheduled, queued.at)
	}
	release <- struct{}{}
	h.nextFreed()
	h.clock.AdvanceTo(w)
	h.resume()
	if next := h.nextStart(); next.run.Scheduled != utc("2026-05-01T00:04:00Z") {
		t.Errorf("next run due %s, want 00:04", next.run.Scheduled)
	}
	release <- struct{}{}
	if n := len(h.logs.records(t, "run queued")); n != 1 {
		t.Errorf("%d queued lines, want 1", n)
	}
	var delays []any
	for _, r := range h.logs.records(t, "run started") {
		delays = append(delays, r["start_delay"])
	}
	if want := []any{0.0, float64(time.Minute), 0.0}; !slices.Equal(delays, want) {
		t.Errorf("start delays %v, want %v", delays, want)
	}
}

func TestTimeoutNextToHealthyJob(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"),
		JobSpec{Name: "hang", Schedule: "1 0 * * *", Timezone: "UTC", Timeout: 90 * time.Second},
		JobSpec{Name: "good", Schedule: "* * * * *", Timezone: "UTC"})
	h.exec.on("hang", blockUntilRelease(nil))
	h.start()
	// 00:01 both start; 00:02 good runs while hang hangs; hang times out
	// at 00:02:30; 00:03 good runs.
	var hang call
	for m, starts := range []int{2, 1, 1} {
		if w := h.step(); w != utc("2026-05-01T00:01:00Z").Add(time.Duration(m)*time.Minute) {
			t.Fatalf("the loop woke at %s", w)
		}
		for range starts {
			if c := h.nextStart(); c.job == "good" && c.at != c.run.Scheduled {
				t.Errorf("good due %s started at %s", c.run.Scheduled, c.at)
			}
		}
		ends := 1 // good's
		if m == 2 {
			ends++ // and hang's, at 00:02:30
		}
		for range ends {
			if c := h.nextEnd(); c.job == "hang" {
				hang = c
			} else if c.res.Err != nil {
				t.Errorf("good run failed: %v", c.res.Err)
			}
			h.nextFreed()
		}
	}
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(hang.res.Err, ErrTimeout) {
		t.Errorf("hang ended with %v, want its timeout", hang.res.Err)
	}
	wantMetric(t, h.reg, 1, "wps_cron_runs_total", "job", "hang", "outcome", "timeout")
	wantMetric(t, h.reg, 3, "wps_cron_runs_total", "job", "good", "outcome", "ok")
}

func TestFailingJobNextToHealthyJob(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"),
		JobSpec{Name: "bad", Schedule: "* * * * *", Timezone: "UTC"},
		JobSpec{Name: "good", Schedule: "* * * * *", Timezone: "UTC"})
	h.exec.on("bad", func(context.Context, *Job, RunInfo) Result { return Result{Err: errors.New("boom")} })
	h.start()
	expect := map[time.Time]int{}
	for m := 1; m <= 3; m++ {
		expect[utc("2026-05-01T00:00:00Z").Add(time.Duration(m)*time.Minute)] = 2
	}
	if n := len(h.runUntil(utc("2026-05-01T00:03:00Z"), expect)); n != 6 {
		t.Fatalf("%d runs, want 6", n)
	}
	for range 6 {
		h.nextEnd()
	}
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	wantMetric(t, h.reg, 3, "wps_cron_runs_total", "job", "bad", "outcome", "failed")
	wantMetric(t, h.reg, 0, "wps_cron_runs_total", "job", "bad", "outcome", "ok")
	wantMetric(t, h.reg, 3, "wps_cron_runs_total", "job", "good", "outcome", "ok")
	wantMetric(t, h.reg, float64(utc("2026-05-01T00:03:00Z").Unix()), "wps_cron_last_success_timestamp_seconds", "job", "good")
	if _, ok := metric(t, h.reg, "wps_cron_last_success_timestamp_seconds", "job", "bad"); ok {
		t.Error("bad has a last success")
	}
	var failed int
	for _, r := range h.logs.records(t, "run finished") {
		if r["job"] == "bad" {
			failed++
			if r["outcome"] != "failed" || r["error"] != "boom" || r["level"] != "ERROR" {
				t.Errorf("bad's end line: %v", r)
			}
		}
	}
	if failed != 3 {
		t.Errorf("%d end lines for bad, want 3", failed)
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"),
		JobSpec{Name: "flaky", Schedule: "1 0 * * *", Timezone: "UTC", Retries: 3, RetryBackoff: 10 * time.Second})
	h.exec.on("flaky", func(_ context.Context, _ *Job, run RunInfo) Result {
		if run.Attempt < 3 {
			return Result{Err: fmt.Errorf("attempt %d failed", run.Attempt)}
		}
		return Result{}
	})
	h.start()
	h.step()
	var attempts []call
	attempts = append(attempts, h.nextStart())
	h.nextEnd()
	h.waitTimer(utc("2026-05-01T00:01:10Z"))
	h.clock.AdvanceTo(utc("2026-05-01T00:01:10Z"))
	attempts = append(attempts, h.nextStart())
	h.nextEnd()
	h.waitTimer(utc("2026-05-01T00:01:30Z")) // the backoff doubled
	h.clock.AdvanceTo(utc("2026-05-01T00:01:30Z"))
	attempts = append(attempts, h.nextStart())
	h.nextEnd()
	for i, a := range attempts {
		wantAt := utc("2026-05-01T00:01:00Z").Add([]time.Duration{0, 10 * time.Second, 30 * time.Second}[i])
		if a.run.Attempt != i+1 || a.run.ID != attempts[0].run.ID || !a.at.Equal(wantAt) ||
			a.run.Scheduled != utc("2026-05-01T00:01:00Z") {
			t.Errorf("attempt %d: %+v at %s, want attempt %d of run %s at %s", i, a.run, a.at, i+1, attempts[0].run.ID, wantAt)
		}
	}
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, r := range h.logs.records(t, "run finished") {
		outcomes = append(outcomes, fmt.Sprint(r["attempt"], r["outcome"]))
	}
	if want := []string{"1failed", "2failed", "3ok"}; !slices.Equal(outcomes, want) {
		t.Errorf("end lines %v, want %v", outcomes, want)
	}
	wantMetric(t, h.reg, 2, "wps_cron_runs_total", "job", "flaky", "outcome", "failed")
	wantMetric(t, h.reg, 1, "wps_cron_runs_total", "job", "flaky", "outcome", "ok")
}

func TestJitterDelaysTheStart(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"), JobSpec{Name: "j", Schedule: "* * * * *", Timezone: "UTC", Jitter: 30 * time.Second})
	h.s.randN = func(n int64) int64 {
		if n != int64(30*time.Second) {
			t.Errorf("jitter drawn in [0, %s]", time.Duration(n))
		}
		return int64(7 * time.Second)
	}
	h.start()
	h.step()
	h.waitTimer(utc("2026-05-01T00:01:07Z"))
	h.clock.AdvanceTo(utc("2026-05-01T00:01:07Z"))
	if c := h.nextStart(); c.run.Scheduled != utc("2026-05-01T00:01:00Z") || c.at != utc("2026-05-01T00:01:07Z") {
		t.Errorf("run due %s started %s, want due 00:01 started 00:01:07", c.run.Scheduled, c.at)
	}
}

func TestGracefulShutdown(t *testing.T) {
	start := utc("2026-05-01T00:00:30Z")
	t.Run("a run that finishes within the grace period", func(t *testing.T) {
		h := newHarness(t, start, JobSpec{Name: "long", Schedule: "40 0 0 * * *", Timezone: "UTC"},
			JobSpec{Name: "often", Schedule: "*/10 * * * * *", Timezone: "UTC"})
		release := make(chan struct{})
		h.exec.on("long", blockUntilRelease(release))
		h.start()
		h.step() // 00:00:40
		h.nextStart()
		h.nextStart()
		if job := h.nextFreed(); job != "often" {
			t.Fatalf("%s's run ended", job)
		}
		h.pause()
		h.cancel()
		h.waitTimer(utc("2026-05-01T00:01:10Z")) // the grace period
		h.clock.Advance(25 * time.Second)        // past two of often's due times
		release <- struct{}{}
		if err := h.wait(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if c := h.nextEnd(); c.res.Err != nil {
				t.Errorf("%s: %v", c.job, c.res.Err)
			}
		}
		h.noStart()
		if n := len(h.logs.records(t, "grace period over: canceling runs")); n != 0 {
			t.Errorf("runs were canceled")
		}
	})
	t.Run("a run that outlives the grace period", func(t *testing.T) {
		h := newHarness(t, start, JobSpec{Name: "long", Schedule: "1 0 * * *", Timezone: "UTC"})
		h.exec.on("long", blockUntilRelease(nil))
		h.start()
		h.step()
		h.nextStart()
		h.cancel()
		h.waitTimer(utc("2026-05-01T00:01:30Z"))
		h.clock.AdvanceTo(utc("2026-05-01T00:01:30Z"))
		if err := h.wait(); err != nil {
			t.Fatal(err)
		}
		if c := h.nextEnd(); !errors.Is(c.res.Err, ErrStopped) {
			t.Errorf("run ended with %v, want ErrStopped", c.res.Err)
		}
		wantMetric(t, h.reg, 1, "wps_cron_runs_total", "job", "long", "outcome", "killed")
	})
	t.Run("Abort cancels the runs without waiting for the grace period", func(t *testing.T) {
		h := newHarness(t, start, JobSpec{Name: "long", Schedule: "1 0 * * *", Timezone: "UTC"})
		h.exec.on("long", blockUntilRelease(nil))
		h.start()
		h.step()
		h.nextStart()
		h.cancel()
		h.waitTimer(utc("2026-05-01T00:01:30Z")) // shutdown waits for the grace period
		h.s.Abort()
		if err := h.wait(); err != nil {
			t.Fatal(err)
		}
		if c := h.nextEnd(); !errors.Is(c.res.Err, ErrStopped) {
			t.Errorf("run ended with %v, want ErrStopped", c.res.Err)
		}
		if now := h.clock.Now(); !now.Before(utc("2026-05-01T00:01:30Z")) {
			t.Errorf("Run returned at %s, after the grace period", now)
		}
	})
	t.Run("a run that ignores cancellation", func(t *testing.T) {
		h := newHarness(t, start, JobSpec{Name: "stuck", Schedule: "1 0 * * *", Timezone: "UTC"})
		release := make(chan struct{})
		h.exec.on("stuck", func(context.Context, *Job, RunInfo) Result { <-release; return Result{} })
		h.start()
		h.step()
		h.nextStart()
		h.cancel()
		h.waitTimer(utc("2026-05-01T00:01:30Z"))
		h.clock.AdvanceTo(utc("2026-05-01T00:01:30Z"))
		h.waitTimer(utc("2026-05-01T00:01:45Z")) // KillWait
		h.clock.AdvanceTo(utc("2026-05-01T00:01:45Z"))
		if err := h.wait(); err == nil || !strings.Contains(err.Error(), "stuck") {
			t.Errorf("Run returned %v, want an error naming stuck", err)
		}
		close(release)
	})
}

func TestReload(t *testing.T) {
	jobs := func(specs ...JobSpec) []*Job {
		js, err := CompileAll(specs)
		if err != nil {
			t.Fatal(err)
		}
		return js
	}
	h := newHarness(t, utc("2026-05-01T00:00:30Z"),
		JobSpec{Name: "a", Schedule: "* * * * *", Timezone: "UTC"},
		JobSpec{Name: "b", Schedule: "* * * * *", Timezone: "UTC"},
		JobSpec{Name: "same", Schedule: "@every 90s", File: "old.lua", Line: 1})
	release := make(chan struct{})
	h.exec.on("b", blockUntilRelease(release))
	h.start()
	h.step()
	h.nextStart()
	h.nextStart()
	if job := h.nextFreed(); job != "a" {
		t.Fatalf("%s's run ended", job)
	}
	// While b runs: a changes, b goes, c comes, same moves in the file.
	next := jobs(JobSpec{Name: "a", Schedule: "*/2 * * * *", Timezone: "UTC"},
		JobSpec{Name: "c", Schedule: "* * * * *", Timezone: "UTC"},
		JobSpec{Name: "same", Schedule: "@every 90s", File: "new.lua", Line: 7})
	if err := h.s.Reload(next); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Reload(append(next, jobs(JobSpec{Name: "c", Schedule: "@daily"})...)); err == nil ||
		!strings.Contains(err.Error(), `"c": duplicate`) {
		t.Errorf("a reload with a duplicate name returned %v", err)
	}
	var got []string
	for _, c := range h.runUntil(utc("2026-05-01T00:04:00Z"), map[time.Time]int{
		utc("2026-05-01T00:02:00Z"): 3, utc("2026-05-01T00:03:00Z"): 1, utc("2026-05-01T00:03:30Z"): 1,
		utc("2026-05-01T00:04:00Z"): 2}) {
		got = append(got, c.job+"@"+c.run.Scheduled.UTC().Format("04:05"))
	}
	slices.Sort(got)
	// same kept its 90 s rhythm from 00:00:30: moving it in the file did
	// not change it.
	if want := []string{"a@02:00", "a@04:00", "c@02:00", "c@03:00", "c@04:00", "same@02:00", "same@03:30"}; !slices.Equal(got, want) {
		t.Errorf("runs after reload %v, want %v\n%s", got, want, h.logs)
	}
	release <- struct{}{} // b's run finishes after its removal
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	if _, ok := metric(t, h.reg, "wps_cron_runs_total", "job", "b"); ok {
		t.Error("b's metrics outlived it")
	}
	if r := h.logs.records(t, "jobs reloaded"); len(r) != 1 || r[0]["added"] != "c" || r[0]["changed"] != "a" || r[0]["removed"] != "b" {
		t.Errorf("reload lines %v", r)
	}
}

func TestClockJumpCatchesUp(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"),
		JobSpec{Name: "minutely", Schedule: "* * * * *", Timezone: "UTC"},
		JobSpec{Name: "hourly", Schedule: "30 * * * *", Timezone: "UTC"},
		JobSpec{Name: "daily", Schedule: "0 3 * * *", Timezone: "UTC", StartingDeadline: 6 * time.Hour})
	h.start()
	if w := h.pause(); w != utc("2026-05-01T00:01:00Z") {
		t.Fatalf("loop wakes at %s", w)
	}
	// Suspended for five hours: the wall clock moves, the loop's timer does
	// not, and it fires 30 s of elapsed time later.
	h.clock.Jump(5 * time.Hour)
	h.clock.Advance(30 * time.Second)
	h.resume()
	starts := map[string]call{}
	for range 2 {
		c := h.nextStart()
		starts[c.job] = c
	}
	if starts["minutely"].run.Scheduled != utc("2026-05-01T05:01:00Z") || starts["daily"].run.Scheduled != utc("2026-05-01T03:00:00Z") {
		t.Errorf("catch-up runs %v, want minutely due 05:01 and daily due 03:00", starts)
	}
	if w := h.pause(); w != utc("2026-05-01T05:02:00Z") {
		t.Errorf("after catching up the loop wakes at %s", w)
	}
	h.noStart()
	missed := map[any]any{}
	for _, r := range h.logs.records(t, "runs missed") {
		missed[r["job"]] = r["count"]
		if r["outcome"] != "missed" {
			t.Errorf("missed line %v", r)
		}
	}
	if fmt.Sprint(missed) != "map[hourly:5 minutely:300]" {
		t.Errorf("missed lines %v, want one for minutely (300) and one for hourly (5)", missed)
	}
	wantMetric(t, h.reg, 300, "wps_cron_runs_total", "job", "minutely", "outcome", "missed")
	wantMetric(t, h.reg, 5, "wps_cron_runs_total", "job", "hourly", "outcome", "missed")
	wantMetric(t, h.reg, 0, "wps_cron_runs_total", "job", "daily", "outcome", "missed")
}

func TestClockSetBack(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T09:30:30Z"),
		JobSpec{Name: "minutely", Schedule: "* * * * *", Timezone: "UTC"},
		JobSpec{Name: "nine", Schedule: "0 9 * * *", Timezone: "UTC"})
	h.start()
	h.pause()
	h.clock.Jump(-40 * time.Minute) // 08:50:30
	h.clock.Advance(30 * time.Second)
	h.resume()
	// minutely goes on from the new time; nine, which ran at 09:00 before
	// the clock went back, does not run again today.
	expect := map[time.Time]int{}
	for m := 52; m <= 61; m++ {
		expect[utc("2026-05-01T08:00:00Z").Add(time.Duration(m)*time.Minute)] = 1
	}
	starts := h.runUntil(utc("2026-05-01T09:01:00Z"), expect)
	if len(starts) != 10 || starts[0].run.Scheduled != utc("2026-05-01T08:52:00Z") {
		t.Errorf("runs after the clock went back: %v", starts)
	}
	for _, c := range starts {
		if c.job != "minutely" {
			t.Errorf("%s ran, due %s", c.job, c.run.Scheduled)
		}
	}
	if r := h.logs.records(t, "the clock moved back"); len(r) != 1 {
		t.Errorf("clock lines %v", r)
	}
}

func TestCatchUpOfTooManyMissedRuns(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"), JobSpec{Name: "s", Schedule: "* * * * * *", Timezone: "UTC"})
	h.start()
	h.pause()
	h.clock.Jump(30 * 24 * time.Hour) // 2.6 million runs of a job every second
	h.clock.Advance(time.Second)
	h.resume()
	if c := h.nextStart(); c.run.Scheduled != utc("2026-05-31T00:00:31Z") {
		t.Errorf("caught up with the run due %s", c.run.Scheduled)
	}
	h.pause()
	r := h.logs.records(t, "runs missed")
	if len(r) != 1 || r[0]["count_exact"] != false || r[0]["count"].(float64) < maxCatchUp {
		t.Errorf("missed lines %v", r)
	}
}

func TestMetricsAndHandler(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"), JobSpec{Name: "m", Schedule: "* * * * *", Timezone: "UTC"})
	release := make(chan struct{})
	h.exec.on("m", blockUntilRelease(release))
	h.start()
	h.step()
	h.nextStart()
	h.pause() // the loop is done with 00:01
	wantMetric(t, h.reg, 1, "wps_cron_running", "job", "m")
	wantMetric(t, h.reg, float64(utc("2026-05-01T00:02:00Z").Unix()), "wps_cron_next_run_timestamp_seconds", "job", "m")
	h.clock.Advance(1500 * time.Millisecond)
	release <- struct{}{}
	h.nextEnd()
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	wantMetric(t, h.reg, 0, "wps_cron_running", "job", "m")
	wantMetric(t, h.reg, 1, "wps_cron_runs_total", "job", "m", "outcome", "ok")
	wantMetric(t, h.reg, 0, "wps_cron_runs_total", "job", "m", "outcome", "failed")
	wantMetric(t, h.reg, 0, "wps_cron_skipped_total", "job", "m")
	wantMetric(t, h.reg, 1, "wps_cron_run_duration_seconds", "job", "m")
	wantMetric(t, h.reg, float64(utc("2026-05-01T00:01:01.5Z").UnixNano())/1e9, "wps_cron_last_success_timestamp_seconds", "job", "m")
	families, _ := h.reg.Gather()
	for _, f := range families {
		if f.GetName() == "wps_cron_run_duration_seconds" && f.GetMetric()[0].GetHistogram().GetSampleSum() != 1.5 {
			t.Errorf("duration sum %v, want 1.5", f.GetMetric()[0].GetHistogram().GetSampleSum())
		}
	}
}
