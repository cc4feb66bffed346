package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary act as a run's child (see TestMain).
const childEnv = "SCHEDULE_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child(os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

// child is a run's process for the ProcessExecutor tests; mode says how
// it behaves.
func child(mode string) int {
	switch mode {
	case "ok":
		fmt.Println("hello from", os.Getenv("WPS_CRON_JOB"), "attempt", os.Getenv("WPS_CRON_ATTEMPT"))
		fmt.Fprintln(os.Stderr, "a warning")
		fmt.Print("no newline at the end")
		return 0
	case "fail":
		fmt.Fprintln(os.Stderr, "boom")
		return 3
	case "exit124":
		return 124
	case "records": // echoes stdin, logs as the wps cron child does
		in, _ := io.ReadAll(os.Stdin)
		fmt.Printf("stdin: %s\n", in)
		fmt.Fprintln(os.Stderr, `{"level":"WARN","msg":"careful","n":3}`)
		fmt.Fprintln(os.Stderr, `{"level":"ERROR","msg":"run failed","error":"x.lua:2: boom"}`)
		fmt.Fprintln(os.Stderr, `{"not":"a record"}`)
		return 1
	case "sleep": // stops on SIGTERM, as a process does by default
		fmt.Println("sleeping")
		time.Sleep(time.Hour)
		return 0
	case "ignore-term": // will not stop
		signal.Ignore(syscall.SIGTERM)
		fmt.Printf("pid=%d\n", os.Getpid())
		for {
			time.Sleep(time.Hour)
		}
	}
	return 2
}

// childExecutor is a ProcessExecutor that runs this test binary as the
// child, in the mode named by the job's Script.
func childExecutor(tb testing.TB) (*ProcessExecutor, *logBuffer) {
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	log, logs := newLogger()
	return &ProcessExecutor{
		Argv:      func(job *Job, run RunInfo) []string { return []string{exe, job.Spec().Script} },
		Env:       []string{childEnv + "=1"},
		KillGrace: 300 * time.Millisecond,
		Logger:    log,
	}, logs
}

func TestProcessExecutorOutcomes(t *testing.T) {
	p, logs := childExecutor(t)
	cases := []struct {
		mode    string
		timeout time.Duration
		want    Outcome
		err     string
	}{
		{"ok", 0, OutcomeOK, ""},
		{"fail", 0, OutcomeFailed, "exit status 3"},
		{"exit124", 0, OutcomeTimeout, "status 124"},
		{"sleep", 200 * time.Millisecond, OutcomeTimeout, "run timed out after 200ms"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			job := mustJob(t, JobSpec{Name: c.mode, Schedule: "@daily", Script: c.mode, Timeout: c.timeout})
			res := p.Execute(context.Background(), job, RunInfo{ID: "run-" + c.mode, Attempt: 1})
			if res.Outcome != c.want || (c.err == "") != (res.Err == nil) || (res.Err != nil && !strings.Contains(res.Err.Error(), c.err)) {
				t.Errorf("%s: %s, %v; want %s, %q", c.mode, res.Outcome, res.Err, c.want, c.err)
			}
		})
	}
	t.Run("ignore-term", func(t *testing.T) {
		job := mustJob(t, JobSpec{Name: "stuck", Schedule: "@daily", Script: "ignore-term"})
		ctx, cancel := context.WithCancelCause(context.Background())
		done := make(chan Result)
		go func() { done <- p.Execute(ctx, job, RunInfo{ID: "r", Attempt: 1}) }()
		logs.waitFor(t, `"msg":"pid=`) // SIGTERM is ignored from now on
		cancel(ErrTimeout)
		if res := <-done; res.Outcome != OutcomeKilled || res.Err.Error() != "run timed out; killed: still running 300ms after SIGTERM" {
			t.Errorf("got %s, %v; want killed", res.Outcome, res.Err)
		}
	})
	var lines []string
	for _, r := range logs.records(t, "") {
		if r["job"] == "ok" {
			lines = append(lines, fmt.Sprint(r["run_id"], " ", r["stream"], ": ", r["msg"]))
		}
	}
	slices.Sort(lines) // stdout and stderr are read apart
	want := []string{"run-ok stderr: a warning", "run-ok stdout: hello from ok attempt 1", "run-ok stdout: no newline at the end"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("logged output:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestProcessExecutorRecordsAndStdin(t *testing.T) {
	p, logs := childExecutor(t)
	p.Records = true
	p.Stdin = func(job *Job, run RunInfo) []byte { return []byte("source of " + job.Name()) }
	job := mustJob(t, JobSpec{Name: "rec", Schedule: "@daily", Script: "records"})
	res := p.Execute(context.Background(), job, RunInfo{ID: "r1", Attempt: 1})
	if res.Outcome != OutcomeFailed || res.Err == nil || res.Err.Error() != "x.lua:2: boom (exit status 1)" {
		t.Errorf("got %s, %v; want failed with the child's error", res.Outcome, res.Err)
	}
	var got []string
	for _, r := range logs.records(t, "") {
		got = append(got, fmt.Sprint(r["level"], " ", r["msg"], " ", r["n"], " ", r["job"], " ", r["run_id"], " ", r["stream"]))
	}
	slices.Sort(got)
	want := []string{
		"ERROR run failed <nil> rec r1 stderr",
		"INFO stdin: source of rec <nil> rec r1 stdout",
		`INFO {"not":"a record"} <nil> rec r1 stderr`,
		"WARN careful 3 rec r1 stderr",
	}
	if !slices.Equal(got, want) {
		t.Errorf("logged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestProcessExecutorStoppedByTheScheduler(t *testing.T) {
	p, _ := childExecutor(t)
	job := mustJob(t, JobSpec{Name: "s", Schedule: "@daily", Script: "sleep"})
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(ErrStopped)
	if res := p.Execute(ctx, job, RunInfo{ID: "r", Attempt: 1}); res.Outcome != OutcomeKilled || !errors.Is(res.Err, ErrStopped) {
		t.Errorf("got %s, %v; want killed by ErrStopped", res.Outcome, res.Err)
	}
}

// TestKilledChildNextToHealthyJob runs a child that ignores SIGTERM next
// to a healthy job that runs every minute: the stuck one is killed at its
// timeout plus the grace period, and the healthy one keeps its schedule.
func TestKilledChildNextToHealthyJob(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"),
		JobSpec{Name: "stuck", Schedule: "1 0 * * *", Timezone: "UTC", Script: "ignore-term", Timeout: 30 * time.Second},
		JobSpec{Name: "good", Schedule: "* * * * *", Timezone: "UTC", Script: "ok"})
	p, logs := childExecutor(t)
	h.exec.on("stuck", p.Execute)
	h.exec.on("good", p.Execute)
	h.start()
	h.step() // 00:01: both start
	h.nextStart()
	h.nextStart()
	logs.waitFor(t, `"msg":"pid=`) // stuck ignores SIGTERM from now on
	if c := h.nextEnd(); c.job != "good" || c.res.Outcome != OutcomeOK {
		t.Fatalf("%s: %s, %v", c.job, c.res.Outcome, c.res.Err)
	}
	h.nextFreed()
	// 00:02 and 00:03: good runs on time, while stuck, past its timeout
	// (00:01:30) ignores SIGTERM until it is killed.
	var stuck call
	for m := 2; m <= 3; m++ {
		if w := h.step(); w != utc("2026-05-01T00:00:00Z").Add(time.Duration(m)*time.Minute) {
			t.Fatalf("the loop woke at %s", w)
		}
		if c := h.nextStart(); c.job != "good" || c.at != c.run.Scheduled {
			t.Errorf("%s due %s started at %s", c.job, c.run.Scheduled, c.at)
		}
		ends := 1
		if m == 2 {
			ends++
		}
		for range ends {
			c := h.nextEnd()
			h.nextFreed()
			if c.job == "stuck" {
				stuck = c
			} else if c.res.Outcome != OutcomeOK {
				t.Errorf("good: %s, %v", c.res.Outcome, c.res.Err)
			}
		}
	}
	if stuck.res.Outcome != OutcomeKilled || !errors.Is(stuck.res.Err, ErrTimeout) {
		t.Errorf("stuck: %s, %v; want killed after its timeout", stuck.res.Outcome, stuck.res.Err)
	}
	var pid int
	for _, r := range logs.records(t, "") {
		if s, ok := strings.CutPrefix(fmt.Sprint(r["msg"]), "pid="); ok && r["job"] == "stuck" {
			pid, _ = strconv.Atoi(s)
		}
	}
	if pid == 0 {
		t.Fatal("stuck's output was not logged")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("stuck's process %d is still there: %v", pid, err)
	}
	wantMetric(t, h.reg, 1, "wps_cron_runs_total", "job", "stuck", "outcome", "killed")
	wantMetric(t, h.reg, 3, "wps_cron_runs_total", "job", "good", "outcome", "ok")
}

func TestLineLogger(t *testing.T) {
	log, logs := newLogger()
	l := &lineLogger{log: log, stream: "stdout"}
	for _, w := range []string{"a\r\nb", "c\n\n", strings.Repeat("x", maxLine+10), "\nend"} {
		if n, err := l.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	l.flush()
	var got []string
	for _, r := range logs.records(t, "") {
		msg := r["msg"].(string)
		got = append(got, fmt.Sprintf("%d:%.3s", len(msg), msg))
	}
	want := []string{"1:a", "2:bc", "0:", fmt.Sprintf("%d:xxx", maxLine), "10:xxx", "3:end"}
	if !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}
