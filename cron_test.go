//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// writeFile writes a file of content in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The first tests run wps cron in this process (runMain): loading, --list,
// --simulate and --run-now. Those after them run the scheduler as a
// process, as it is deployed.

func TestCron_Help(t *testing.T) {
	status, stdout, _ := runWPS(t, "cron", "--help")
	for _, want := range []string{"Usage: wps cron [flags] FILE", "cron.job{name = \"standup\"", "-grace", "-listen",
		"-list", "-run-now", "-simulate", "-suspend", "-max-memory", "Run one wps cron per\nschedule", "Examples:\n  wps cron --list"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if status != 0 || strings.Contains(stdout, "child") {
		t.Errorf("status %d; the help must not show the child mode:\n%s", status, stdout)
	}
}

func TestCron_UsageMistakes(t *testing.T) {
	file := writeFile(t, t.TempDir(), "s.lua", `cron.job{name = "a", schedule = "@daily", run = function() end}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "missing FILE, the schedule file"},
		{[]string{"--list", "--simulate", file}, "--list, --run-now and --simulate are different modes: give one"},
		{[]string{"--duration", "a=1m", file}, "--duration goes with --simulate"},
		{[]string{"--list", "--listen", ":0", file}, "--listen is for running the scheduler"},
		{[]string{"--simulate", "--from", "tomorrow", file}, `"tomorrow" is not a time`},
		{[]string{"--simulate", "--duration", "a", file}, `"a": want job=duration`},
		{[]string{"--run-now", "b", file}, `declares no job "b" (it has a)`},
		{[]string{"--list", file, "extra"}, "cron takes one FILE"},
	} {
		status, _, stderr := runWPS(t, append([]string{"cron"}, tc.args...)...)
		if status != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("wps cron %q: status %d, stderr %q; want 2 and %q", tc.args, status, stderr, tc.want)
		}
	}
}

// badSchedule is a schedule file with a mistake of each kind.
const badSchedule = `cron.job{name = "ok", schedule = "@daily", run = function() end}
cron.job{name = "late", schedule = "0 25 * * *", run = function() end}
cron.job{name = "typo", schedule = "@daily", overlpa = "queue", run = function() end}
cron.job{name = "ok", schedule = "@hourly", run = function() end}
cron.job{name = "gone", schedule = "@daily", script = "scripts/missing.lua"}
cron.job{name = "panics", schedule = "CRON_TZ=UTC", run = function() end}
`

func TestCron_InvalidFileRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "bad.lua", badSchedule)
	want := strings.Join([]string{
		file + `:2: job "late": schedule "0 25 * * *": end of range (25) above maximum (23): 25`,
		file + `:3: job "typo": unknown option "overlpa" (did you mean "overlap"?); the options are name, schedule, timezone, run, script, args, timeout, overlap, retries, retry_backoff, jitter, starting_deadline`,
		file + `:4: job "ok": duplicate job name (first declared at ` + file + `:1)`,
		file + `:5: job "gone": script: open ` + filepath.Join(dir, "scripts/missing.lua") + `: no such file or directory`,
		file + `:6: job "panics": schedule "CRON_TZ=UTC": a time zone but no schedule after it`,
	}, "\n") + "\n"
	for _, args := range [][]string{{"--list", file}, {file}, {"--run-now", "ok", file}} {
		status, stdout, stderr := runWPS(t, append([]string{"cron"}, args...)...)
		if status != 1 || stderr != want || stdout != "" {
			t.Errorf("wps cron %q: status %d, stdout %q, stderr:\n%s\nwant status 1 and:\n%s", args, status, stdout, stderr, want)
		}
	}
	// A Lua error at the top level, and a file that is not there.
	file = writeFile(t, dir, "raises.lua", "cron.job{name = 'a', schedule = '@daily', run = function() end}\nlocal t = nil\nprint(t.x)\n")
	if status, _, stderr := runWPS(t, "cron", "--list", file); status != 1 || !strings.HasPrefix(stderr, file+":3: attempt to index a non-table object(nil) with key 'x'\nstack traceback:") {
		t.Errorf("status %d, stderr:\n%s", status, stderr)
	}
	if status, _, stderr := runWPS(t, "cron", filepath.Join(dir, "none.lua")); status != 1 || stderr != "wps cron: open "+filepath.Join(dir, "none.lua")+": no such file or directory\n" {
		t.Errorf("status %d, stderr %q", status, stderr)
	}
}

// zonedSchedule has jobs in three time zones with daylight saving.
const zonedSchedule = `-- Jobs in three zones.
cron.job{name = "berlin", schedule = "30 2 * * *", timezone = "Europe/Berlin", run = function() end}
cron.job{name = "la", schedule = "30 1,2 * * *", timezone = "America/Los_Angeles", run = function() end}
cron.job{name = "report", schedule = "0 */6 * * *", timezone = "UTC", timeout = "8h", run = function() end}
cron.job{name = "standup", schedule = "CRON_TZ=Asia/Tokyo 0 9 * * MON-FRI", run = function() end}
`

func TestCron_List(t *testing.T) {
	file := writeFile(t, t.TempDir(), "zoned.lua", zonedSchedule)
	status, stdout, stderr := runWPS(t, "cron", "--list", "--job", "berlin,standup", "--from", "2026-03-27T12:00:00Z", file)
	want := `berlin  "30 2 * * *" in Europe/Berlin, timeout 5m0s  (` + file + `:2)
  Sat 2026-03-28 02:30:00 CET
  Sun 2026-03-29 03:00:00 CEST
  Mon 2026-03-30 02:30:00 CEST
  Tue 2026-03-31 02:30:00 CEST
  Wed 2026-04-01 02:30:00 CEST

standup  "CRON_TZ=Asia/Tokyo 0 9 * * MON-FRI" in Asia/Tokyo, timeout 5m0s  (` + file + `:5)
  Mon 2026-03-30 09:00:00 JST
  Tue 2026-03-31 09:00:00 JST
  Wed 2026-04-01 09:00:00 JST
  Thu 2026-04-02 09:00:00 JST
  Fri 2026-04-03 09:00:00 JST
`
	if status != 0 || stdout != want || stderr != "" {
		t.Errorf("status %d, stderr %q, stdout:\n%s\nwant:\n%s", status, stderr, stdout, want)
	}
	status, stdout, _ = runWPS(t, "cron", "--list", file)
	if status != 0 || strings.Count(stdout, "\n  ") != 4*5 {
		t.Errorf("status %d; want five runs of each of four jobs:\n%s", status, stdout)
	}
}

func TestCron_SimulateDSTWeekend(t *testing.T) {
	file := writeFile(t, t.TempDir(), "zoned.lua", zonedSchedule)
	// The weekend Europe springs forward, with report running 7 hours of
	// its 6 and the machine asleep from 10:00 to 18:00:30 UTC.
	status, stdout, stderr := runWPS(t, "cron", "--simulate", "--job", "berlin", "--job", "report",
		"--from", "2026-03-28T00:00:00+01:00", "--to", "2026-03-30T00:00:00+02:00",
		"--duration", "report=7h", "--suspend", "2026-03-28T10:00:00Z,2026-03-28T18:00:30Z", file)
	want := `Runs due from 2026-03-28T00:00:00+01:00 to 2026-03-30T00:00:00+02:00, each in its job's time zone:

DUE                           JOB     RUN              NOTE
Sat 2026-03-28 00:00:00 UTC   report  normal
Sat 2026-03-28 02:30:00 CET   berlin  normal
Sat 2026-03-28 06:00:00 UTC   report  overlap-skipped  the run of 00:00:00 UTC is still going until 07:00:00 UTC
Sat 2026-03-28 12:00:00 UTC   report  missed           the machine is asleep until 18:00:30 UTC, and a later run is due by then
Sat 2026-03-28 18:00:00 UTC   report  late             the machine is asleep; starts when it wakes at 18:00:30 UTC, within the starting deadline of 1m0s
Sun 2026-03-29 00:00:00 UTC   report  overlap-skipped  the run of 18:00:30 UTC is still going until 01:00:30 UTC
Sun 2026-03-29 03:00:00 CEST  berlin  dst-gap          02:30:00 does not exist on 2026-03-29 in Europe/Berlin (the clock sprang forward); runs at 03:00:00 CEST
Sun 2026-03-29 06:00:00 UTC   report  normal
Sun 2026-03-29 12:00:00 UTC   report  overlap-skipped  the run of 06:00:00 UTC is still going until 13:00:00 UTC
Sun 2026-03-29 18:00:00 UTC   report  normal

10 runs: 4 normal, 1 dst-gap, 3 overlap-skipped, 1 late, 1 missed
`
	if status != 0 || stdout != want || stderr != "" {
		t.Errorf("status %d, stderr %q, stdout:\n%s\nwant:\n%s", status, stderr, stdout, want)
	}
	// The weekend the US falls back: 01:30 comes twice and runs once.
	status, stdout, _ = runWPS(t, "cron", "--simulate", "--job", "la", "--from", "2026-10-31T00:00:00-07:00", "--to", "2026-11-02T00:00:00-08:00", file)
	want = `Runs due from 2026-10-31T00:00:00-07:00 to 2026-11-02T00:00:00-08:00, each in its job's time zone:

DUE                          JOB  RUN                 NOTE
Sat 2026-10-31 01:30:00 PDT  la   normal
Sat 2026-10-31 02:30:00 PDT  la   normal
Sun 2026-11-01 01:30:00 PDT  la   normal
Sun 2026-11-01 01:30:00 PST  la   dst-repeat-skipped  01:30:00 occurs twice on 2026-11-01 in America/Los_Angeles (the clock fell back); it ran at the first
Sun 2026-11-01 02:30:00 PST  la   normal

5 runs: 4 normal, 1 dst-repeat-skipped
`
	if status != 0 || stdout != want {
		t.Errorf("status %d, stdout:\n%s\nwant:\n%s", status, stdout, want)
	}
}

func TestCron_RunNow(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "jobs/echo.lua", `print("echo " .. table.concat(args, " ") .. " " .. env("WPS_CRON_JOB"))`)
	file := writeFile(t, dir, "s.lua", `cron.job{name = "hello", schedule = "@daily", run = function(run)
  print("hello from " .. run.job .. ", attempt " .. run.attempt)
  wps.send_to_all("hello") -- the embedded service, started on first need
end}
cron.job{name = "echo", schedule = "@daily", script = "jobs/echo.lua", args = {"a", 1}}
cron.job{name = "boom", schedule = "@daily", run = function() error("boom") end}
cron.job{name = "slow", schedule = "@daily", timeout = "300ms", run = function() sleep(10) end}
`)
	status, stdout, stderr := runWPS(t, "cron", "--run-now", "hello", file)
	if status != 0 || stdout != "hello from hello, attempt 1\n" || stderr != "" {
		t.Errorf("hello: status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
	t.Setenv("WPS_CRON_JOB", "from the environment")
	status, stdout, _ = runWPS(t, "cron", "--run-now", "echo", file)
	if status != 0 || stdout != "echo a 1 from the environment\n" {
		t.Errorf("echo: status %d, stdout %q", status, stdout)
	}
	status, _, stderr = runWPS(t, "cron", "--run-now", "boom", file)
	if status != 1 || !strings.HasPrefix(stderr, file+":6: boom\nstack traceback:") {
		t.Errorf("boom: status %d, stderr %q", status, stderr)
	}
	status, _, stderr = runWPS(t, "cron", "--run-now", "slow", file)
	if status != 124 || !strings.HasPrefix(stderr, "wps cron: timed out after 300ms (the job's timeout)") {
		t.Errorf("slow: status %d, stderr %q", status, stderr)
	}
}

// cronLog collects the JSON log lines of a wps cron process and lets a
// test wait for the record it means.
type cronLog struct {
	mu      sync.Mutex
	lines   []string
	records []map[string]any
	changed chan struct{} // closed and replaced at each line
}

func newCronLog(r io.Reader) *cronLog {
	l := &cronLog{changed: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var rec map[string]any
			json.Unmarshal(sc.Bytes(), &rec) // a line that is not JSON gets an empty record
			l.mu.Lock()
			l.lines = append(l.lines, sc.Text())
			l.records = append(l.records, rec)
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	return l
}

// String returns the log.
func (l *cronLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// match reports whether rec has every field of want (compared as text).
func match(rec map[string]any, want map[string]string) bool {
	for k, v := range want {
		got, ok := rec[k]
		if !ok || fmt.Sprint(got) != v {
			return false
		}
	}
	return true
}

// all returns the records that match want.
func (l *cronLog) all(want map[string]string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, rec := range l.records {
		if match(rec, want) {
			out = append(out, rec)
		}
	}
	return out
}

// waitFor waits until n records match want and returns the nth; the wait
// is bounded only against a hang.
func (l *cronLog) waitFor(t *testing.T, n int, want map[string]string) map[string]any {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		l.mu.Lock()
		changed := l.changed
		l.mu.Unlock()
		if found := l.all(want); len(found) >= n {
			return found[n-1]
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("the log never had %d records matching %v:\n%s", n, want, l)
		}
	}
}

// timeOf returns the time in the field key of rec.
func timeOf(t *testing.T, rec map[string]any, key string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, fmt.Sprint(rec[key]))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return v
}

// cronProcess is wps cron running as a process, logging JSON.
type cronProcess struct {
	cmd    *exec.Cmd
	log    *cronLog
	exited chan struct{}
}

// startCron starts `wps cron --log-format json args...` without
// WEBPUBSUB_* in its environment, so that runs use the embedded service.
func startCron(t *testing.T, args ...string) *cronProcess {
	t.Helper()
	cmd := exec.Command(builtWPS(t), append([]string{"cron", "--log-format", "json"}, args...)...)
	for _, v := range os.Environ() {
		if !strings.HasPrefix(v, "WEBPUBSUB_") {
			cmd.Env = append(cmd.Env, v)
		}
	}
	// Not cmd.StderrPipe: its Wait closes the pipe as soon as the process
	// exits, and the last lines, still unread, would be lost. With a
	// writer, Wait returns once everything written has been copied.
	stderr, toLog := io.Pipe()
	cmd.Stderr = toLog
	cmd.WaitDelay = 10 * time.Second // against a run left holding the pipe
	p := &cronProcess{cmd: cmd, log: newCronLog(stderr), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		toLog.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	p.log.waitFor(t, 1, map[string]string{"msg": "scheduler started"})
	return p
}

// signal sends sig to the scheduler.
func (p *cronProcess) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// wait returns the exit status, failing the test on a hang.
func (p *cronProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("wps cron did not exit; log:\n%s", p.log)
	}
	return p.cmd.ProcessState.ExitCode()
}

// TestCronProcess_Scheduler runs three jobs every second: one stuck in a
// builtin past its timeout, one that raises and one that keeps its
// schedule meanwhile, through the embedded service the scheduler started;
// then it reads /healthz and /metrics and stops with SIGTERM.
func TestCronProcess_Scheduler(t *testing.T) {
	t.Parallel()
	file := writeFile(t, t.TempDir(), "s.lua", `cron.job{name = "healthy", schedule = "@every 1s", run = function()
  wps.send_to_all("tick")
  print("endpoint " .. env("WEBPUBSUB_CONNECTION_STRING"):match("Endpoint=([^;]+)"))
end}
cron.job{name = "stuck", schedule = "@every 1s", timeout = "1s", run = function()
  print(("a"):rep(40):find(("a?"):rep(40) .. ("a"):rep(40))) -- backtracks for hours
end}
cron.job{name = "raising", schedule = "@every 1s", run = function() error("boom") end}
`)
	p := startCron(t, "--listen", "127.0.0.1:0", file)
	embedded := p.log.waitFor(t, 1, map[string]string{"msg": "embedded Web PubSub service started for the runs"})
	addr := p.log.waitFor(t, 1, map[string]string{"msg": "serving /healthz and /metrics"})["address"]

	stuckStart := p.log.waitFor(t, 1, map[string]string{"msg": "run started", "job": "stuck"})
	stuckEnd := p.log.waitFor(t, 1, map[string]string{"msg": "run finished", "job": "stuck", "run_id": fmt.Sprint(stuckStart["run_id"])})
	if stuckEnd["outcome"] != "timeout" || stuckEnd["error"] != "run timed out after 1s" || stuckEnd["level"] != "ERROR" {
		t.Errorf("stuck ended with %v", stuckEnd)
	}
	if hard := p.log.all(map[string]string{"msg": "run failed", "job": "stuck"}); len(hard) == 0 ||
		!strings.Contains(fmt.Sprint(hard[0]["error"]), "it was inside a long builtin), so it was stopped hard") {
		t.Errorf("the stuck run's process did not say it stopped hard: %v", hard)
	}
	// While stuck was running, healthy started and finished runs.
	during := 0
	for _, rec := range p.log.all(map[string]string{"msg": "run finished", "job": "healthy"}) {
		if rec["outcome"] != "ok" {
			t.Errorf("healthy: %v", rec)
		}
		if timeOf(t, rec, "scheduled").After(timeOf(t, stuckStart, "scheduled")) && timeOf(t, rec, "time").Before(timeOf(t, stuckEnd, "time")) {
			during++
		}
	}
	if during < 2 {
		t.Errorf("healthy finished %d runs while stuck ran, want at least 2:\n%s", during, p.log)
	}
	// Every run used the service the scheduler started.
	for _, rec := range p.log.all(map[string]string{"job": "healthy", "stream": "stdout"}) {
		if rec["msg"] != "endpoint "+fmt.Sprint(embedded["endpoint"]) {
			t.Errorf("a run printed %q, want the endpoint %v", rec["msg"], embedded["endpoint"])
		}
	}
	raised := p.log.waitFor(t, 1, map[string]string{"msg": "run finished", "job": "raising"})
	if raised["outcome"] != "failed" || raised["error"] != file+":8: boom (exit status 1)" {
		t.Errorf("raising ended with %v", raised)
	}

	get := func(path string) string {
		resp, err := http.Get("http://" + fmt.Sprint(addr) + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if h := get("/healthz"); h != "ok\n" {
		t.Errorf("/healthz: %q", h)
	}
	metrics := get("/metrics")
	for _, want := range []string{
		`wps_cron_runs_total{job="stuck",outcome="timeout"} [1-9]`,
		`wps_cron_runs_total{job="raising",outcome="failed"} [1-9]`,
		`wps_cron_runs_total{job="healthy",outcome="ok"} [1-9]`,
		`wps_cron_skipped_total{job="stuck"} [1-9]`,
		`wps_cron_last_success_timestamp_seconds{job="healthy"} 1\.\d+e\+09`,
		`wps_cron_next_run_timestamp_seconds{job="raising"} 1\.\d+e\+09`,
		`wps_cron_run_duration_seconds_count{job="healthy"} [1-9]`,
		`wps_cron_running{job="healthy"} [01]`,
		`process_resident_memory_bytes \d`,
	} {
		if !regexp.MustCompile(`(?m)^` + want).MatchString(metrics) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	p.signal(t, syscall.SIGTERM)
	if status := p.wait(t); status != 0 {
		t.Errorf("status %d after SIGTERM, want 0", status)
	}
	p.log.waitFor(t, 1, map[string]string{"msg": "scheduler stopped"})
	// One start and one end line a run.
	starts := p.log.all(map[string]string{"msg": "run started"})
	ends := p.log.all(map[string]string{"msg": "run finished"})
	if len(starts) != len(ends) {
		t.Errorf("%d runs started and %d finished", len(starts), len(ends))
	}
}

// TestCronProcess_GracefulShutdown stops the scheduler while a run is in
// flight: within the grace period the run finishes; past it, the run is
// killed; a second signal kills it at once. Each time wps cron exits 0.
func TestCronProcess_GracefulShutdown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		grace   string
		sleep   string
		second  bool
		outcome string
	}{
		{"RunFinishesWithinGrace", "30s", "1.5", false, "ok"},
		{"RunKilledAfterGrace", "300ms", "60", false, "killed"},
		{"SecondSignalKillsAtOnce", "60s", "60", true, "killed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := writeFile(t, t.TempDir(), "s.lua", `cron.job{name = "slow", schedule = "@every 1s", run = function()
  print("ready")
  sleep(`+tc.sleep+`)
  print("done")
end}
`)
			p := startCron(t, "--grace", tc.grace, file)
			ready := p.log.waitFor(t, 1, map[string]string{"msg": "ready", "job": "slow"})
			p.signal(t, syscall.SIGTERM)
			if tc.second {
				p.log.waitFor(t, 1, map[string]string{"msg": "scheduler stopping"})
				p.signal(t, syscall.SIGINT)
			}
			if status := p.wait(t); status != 0 {
				t.Errorf("status %d, want 0; log:\n%s", status, p.log)
			}
			end := p.log.waitFor(t, 1, map[string]string{"msg": "run finished", "run_id": fmt.Sprint(ready["run_id"])})
			if end["outcome"] != tc.outcome {
				t.Errorf("the run in flight ended %v, want %s", end["outcome"], tc.outcome)
			}
			if n := len(p.log.all(map[string]string{"msg": "run started"})); n != 1 {
				t.Errorf("%d runs started, want only the one in flight", n)
			}
			p.log.waitFor(t, 1, map[string]string{"msg": "scheduler stopped"})
		})
	}
}

// TestCronProcess_Reload changes the schedule file and sends SIGHUP: a good
// file replaces the jobs, a broken one keeps them, and runs go on with the
// file as it was loaded, not as it is on disk.
func TestCronProcess_Reload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeFile(t, dir, "s.lua", `cron.job{name = "first", schedule = "@every 1s", run = function() print("first") end}`)
	p := startCron(t, file)
	p.log.waitFor(t, 1, map[string]string{"msg": "run finished", "job": "first", "outcome": "ok"})

	writeFile(t, dir, "s.lua", `cron.job{name = "second", schedule = "@every 1s", run = function() print("second") end}`)
	p.signal(t, syscall.SIGHUP)
	reloaded := p.log.waitFor(t, 1, map[string]string{"msg": "jobs reloaded"})
	if reloaded["added"] != "second" || reloaded["removed"] != "first" {
		t.Errorf("reload: %v", reloaded)
	}
	p.log.waitFor(t, 1, map[string]string{"msg": "second", "job": "second"})

	writeFile(t, dir, "s.lua", `cron.job{name = "second", schedule = "@every 1s", run = function() print("broken") end}
cron.job{name = "third", schedule = "@every nope", run = function() end}`)
	p.signal(t, syscall.SIGHUP)
	failed := p.log.waitFor(t, 1, map[string]string{"msg": "reload failed; keeping the schedule as it was"})
	if want := file + `:2: job "third": schedule "@every nope": @every wants a duration such as 30s or 1h30m`; failed["error"] != want {
		t.Errorf("reload error %q, want %q", failed["error"], want)
	}
	// second keeps running, with the code it was loaded with.
	n := len(p.log.all(map[string]string{"msg": "run finished", "job": "second"}))
	p.log.waitFor(t, n+2, map[string]string{"msg": "run finished", "job": "second", "outcome": "ok"})
	if broken := p.log.all(map[string]string{"msg": "broken"}); len(broken) > 0 {
		t.Errorf("a run used the file that was not reloaded")
	}
	for _, rec := range p.log.all(map[string]string{"msg": "run started", "job": "first"}) {
		if due := timeOf(t, rec, "scheduled"); due.After(timeOf(t, reloaded, "time")) {
			t.Errorf("first started a run due at %s, after it was removed", due)
		}
	}
	p.signal(t, syscall.SIGINT)
	if status := p.wait(t); status != 0 {
		t.Errorf("status %d, want 0", status)
	}
}

// TestCronProcess_Child checks the process of one run on its own: it reads
// the file on stdin and writes its error as a JSON record.
func TestCronProcess_Child(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(builtWPS(t), "cron", "--child", "boom", "--log-format", "json", "--", "virtual.lua")
	cmd.Stdin = strings.NewReader(`cron.job{name = "boom", schedule = "@daily", run = function() error("boom") end}`)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var rec map[string]any
	json.Unmarshal(bytes.TrimSpace(stderr.Bytes()), &rec)
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 || rec["msg"] != "run failed" || rec["error"] != "virtual.lua:1: boom" {
		t.Errorf("got %v, stderr %s", err, stderr.String())
	}
}
