package cronfile

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wps/engine"
	"wps/schedule"
)

// load loads testdata/name with an engine printing to the returned buffer.
func load(t *testing.T, name string, src []byte) (*File, *bytes.Buffer, error) {
	t.Helper()
	out := &bytes.Buffer{}
	e := engine.New(engine.Options{Stdout: out})
	t.Cleanup(func() { e.Close(context.Background()) })
	f, err := Load(context.Background(), e, filepath.Join("testdata", name), src, Options{DefaultTimeout: time.Minute})
	if f != nil {
		t.Cleanup(f.Close)
	}
	return f, out, err
}

func TestLoad(t *testing.T) {
	f, _, err := load(t, "good.lua", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range f.Jobs {
		names = append(names, j.Name())
	}
	if got := strings.Join(names, ","); got != "standup,digest,fail,exit0,busy" {
		t.Fatalf("jobs %s", got)
	}
	standup := f.Job("standup").Spec()
	if standup.File != "testdata/good.lua" || standup.Line != 4 || standup.Timeout != time.Minute || f.Job("standup").Location().String() != "Europe/Berlin" {
		t.Errorf("standup: %+v", standup)
	}
	digest := f.Job("digest").Spec()
	want := schedule.JobSpec{
		Name: "digest", Schedule: "CRON_TZ=America/New_York 30 17 * * *", Timeout: 2 * time.Minute,
		Overlap: "queue", Retries: 2, RetryBackoff: 5 * time.Second, Jitter: 1500 * time.Millisecond,
		StartingDeadline: 10 * time.Minute, File: "testdata/good.lua", Line: 7,
		Script: "testdata/scripts/echo.lua", Args: []string{"--group", "ops", "42"},
	}
	if digest.Name != want.Name || digest.Schedule != want.Schedule || digest.Timeout != want.Timeout ||
		digest.Overlap != want.Overlap || digest.Retries != want.Retries || digest.RetryBackoff != want.RetryBackoff ||
		digest.Jitter != want.Jitter || digest.StartingDeadline != want.StartingDeadline || digest.Line != want.Line ||
		digest.Script != want.Script || strings.Join(digest.Args, " ") != strings.Join(want.Args, " ") {
		t.Errorf("digest:\n%+v\nwant\n%+v", digest, want)
	}
	if f.Job("nope") != nil {
		t.Error("Job found a job the file does not declare")
	}
}

func TestLoadErrors(t *testing.T) {
	_, _, err := load(t, "bad.lua", nil)
	if err == nil {
		t.Fatal("bad.lua loaded")
	}
	want := []string{
		`testdata/bad.lua:2: job "badsched": schedule "0 25 * * *": end of range (25) above maximum (23): 25`,
		`testdata/bad.lua:3: job "typo": unknown option "timout" (did you mean "timeout"?); the options are name, schedule, timezone, run, script, args, timeout, overlap, retries, retry_backoff, jitter, starting_deadline`,
		`testdata/bad.lua:4: job "ok": duplicate job name (first declared at testdata/bad.lua:1)`,
		`testdata/bad.lua:5: job "noscript": script: open testdata/scripts/missing.lua: no such file or directory`,
		`testdata/bad.lua:6: job "both": give run (a function) or script (a file), not both`,
		`testdata/bad.lua:7: cron.job: missing name`,
		`testdata/bad.lua:8: job "panics": schedule "TZ=0": a time zone but no schedule after it`,
		`testdata/bad.lua:9: job "zone": time zone "Mars/Olympus": unknown time zone Mars/Olympus`,
		`testdata/bad.lua:10: job "neither": missing run (a function) or script (a Lua file to run)`,
		`testdata/bad.lua:11: job "when": timeout: "soon" is not a duration: want a number of seconds or a string such as "30s", "5m" or "1h30m"`,
		`testdata/bad.lua:12: cron.job: want one table: cron.job{name = ..., schedule = ..., run = function() ... end}`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestLoadLuaError(t *testing.T) {
	_, _, err := load(t, "raises.lua", nil)
	var e *engine.Error
	if !errors.As(err, &e) || !strings.HasPrefix(e.Message, "testdata/raises.lua:3: ") {
		t.Errorf("got %v, want a Lua error at testdata/raises.lua:3", err)
	}
	_, _, err = load(t, "empty.lua", []byte("#!/usr/bin/env wps cron\n-- nothing yet\n"))
	if err == nil || err.Error() != "testdata/empty.lua: no jobs: declare them with cron.job{name = ..., schedule = ..., run = function() ... end}" {
		t.Errorf("got %v, want no jobs", err)
	}
	_, _, err = load(t, "syntax.lua", []byte("\xef\xbb\xbfcron.job{\n"))
	if !errors.As(err, &e) || !strings.HasPrefix(e.Message, "testdata/syntax.lua:1: ") {
		t.Errorf("got %v, want a syntax error at line 1", err)
	}
}

func TestLoadSource(t *testing.T) {
	// The source given wins over the file on disk (a run's process gets
	// the file as it was loaded).
	f, _, err := load(t, "good.lua", []byte(`cron.job{name = "other", schedule = "@daily", run = function() end}`))
	if err != nil || len(f.Jobs) != 1 || f.Jobs[0].Name() != "other" {
		t.Fatalf("got %v, %v", f, err)
	}
}

func TestRun(t *testing.T) {
	f, out, err := load(t, "good.lua", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := schedule.RunInfo{ID: "r1", Scheduled: time.Now(), Attempt: 2}
	if err := f.Run(ctx, "standup", run); err != nil || out.String() != "stand-up for team\tstandup\tr1\t2\n" {
		t.Errorf("standup: %v, printed %q", err, out)
	}
	out.Reset()
	if err := f.Run(ctx, "digest", run); err != nil || out.String() != "echo\t--group ops 42\n" {
		t.Errorf("digest: %v, printed %q", err, out)
	}
	if err := f.Run(ctx, "fail", run); err == nil || !strings.HasPrefix(err.Error(), "testdata/good.lua:14: boom\nstack traceback:") {
		t.Errorf("fail: %v", err)
	}
	if err := f.Run(ctx, "exit0", run); err != nil {
		t.Errorf("exit0: %v", err)
	}
	if err := f.Run(ctx, "busy", run); engine.ExitStatus(err) != engine.StatusTimeout || !strings.Contains(err.Error(), "timed out after 200ms (the job's timeout)") {
		t.Errorf("busy: %v", err)
	}
	if err := f.Run(ctx, "nope", run); err == nil || err.Error() != `testdata/good.lua declares no job "nope"` {
		t.Errorf("nope: %v", err)
	}
}

func TestLoadForRunSkipsScripts(t *testing.T) {
	e := engine.New(engine.Options{})
	defer e.Close(context.Background())
	src := []byte(`cron.job{name = "gone", schedule = "@daily", script = "scripts/missing.lua"}
cron.job{name = "fine", schedule = "@daily", run = function() end}`)
	f, err := Load(context.Background(), e, "testdata/x.lua", src, Options{ForRun: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Run(context.Background(), "fine", schedule.RunInfo{}); err != nil {
		t.Errorf("fine: %v", err)
	}
	if err := f.Run(context.Background(), "gone", schedule.RunInfo{}); err == nil || !strings.Contains(err.Error(), "missing.lua: no such file") {
		t.Errorf("gone: %v", err)
	}
}
