package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestCompileDefaults(t *testing.T) {
	j := mustJob(t, JobSpec{Name: "standup", Schedule: "0 9 * * MON-FRI", Timezone: "Europe/Berlin", Script: "s.lua", Args: []string{"x"}})
	s := j.Spec()
	if s.Timeout != DefaultTimeout || s.Overlap != OverlapSkip || s.StartingDeadline != DefaultStartingDeadline ||
		s.RetryBackoff != DefaultRetryBackoff || s.Retries != 0 || s.Jitter != 0 || s.Script != "s.lua" || s.Args[0] != "x" {
		t.Errorf("defaults: %+v", s)
	}
	if j.Location().String() != "Europe/Berlin" || j.Timeout() != DefaultTimeout || j.Name() != "standup" {
		t.Errorf("job %s in %s", j.Name(), j.Location())
	}
	s.Args[0] = "changed"
	if j.Spec().Args[0] != "x" {
		t.Error("Spec shares its Args with the job")
	}
}

func TestCompileSchedules(t *testing.T) {
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]string{
		"* * * * *":                     "2026-05-01T00:01:00Z",
		"30 * * * * *":                  "2026-05-01T00:00:30Z",
		"@hourly":                       "2026-05-01T01:00:00Z",
		"@daily":                        "2026-05-02T00:00:00Z",
		"@midnight":                     "2026-05-02T00:00:00Z",
		"@weekly":                       "2026-05-03T00:00:00Z",
		"@monthly":                      "2026-06-01T00:00:00Z",
		"@yearly":                       "2027-01-01T00:00:00Z",
		"@annually":                     "2027-01-01T00:00:00Z",
		"@every 30s":                    "2026-05-01T00:00:30Z",
		"@every 1h30m":                  "2026-05-01T01:30:00Z",
		"CRON_TZ=Asia/Tokyo 0 9 * * *":  "2026-05-02T00:00:00Z",
		"TZ=America/New_York 0 0 * * *": "2026-05-01T04:00:00Z",
		"  0 12 1 * *  ":                "2026-05-01T12:00:00Z",
		"0 0 13 * 5":                    "2026-05-08T00:00:00Z", // day fields OR: a Friday before the 13th
	}
	for spec, want := range cases {
		j := mustJob(t, JobSpec{Name: "j", Schedule: spec, Timezone: map[bool]string{true: "", false: "UTC"}[strings.Contains(spec, "TZ=")]})
		if got := j.Next(from).UTC().Format(time.RFC3339); got != want {
			t.Errorf("%q: next %s, want %s", spec, got, want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		spec JobSpec
		want string
	}{
		{JobSpec{Name: "tz0", Schedule: "TZ=0"}, `job "tz0": schedule "TZ=0": a time zone but no schedule after it`},
		{JobSpec{Name: "utc", Schedule: "CRON_TZ=UTC"}, `job "utc": schedule "CRON_TZ=UTC": a time zone but no schedule after it`},
		{JobSpec{Name: "empty-tz", Schedule: "TZ= * * * * *"}, `empty time zone`},
		{JobSpec{Name: "bad-tz", Schedule: "TZ=Mars/Olympus * * * * *"}, `time zone "Mars/Olympus"`},
		{JobSpec{Name: "bad-zone", Schedule: "@daily", Timezone: "Europe/Nowhere"}, `time zone "Europe/Nowhere"`},
		{JobSpec{Name: "conflict", Schedule: "TZ=UTC @daily", Timezone: "Europe/Berlin"}, `says time zone UTC but timezone is Europe/Berlin`},
		{JobSpec{Name: "fields", Schedule: "* * *", File: "cron.lua", Line: 12}, `cron.lua:12: job "fields": schedule "* * *": expected 5 to 6 fields`},
		{JobSpec{Name: "range", Schedule: "61 * * * *"}, `above maximum`},
		{JobSpec{Name: "dow", Schedule: "0 9 * * FUNDAY"}, `schedule "0 9 * * FUNDAY"`},
		{JobSpec{Name: "desc", Schedule: "@fortnightly"}, `unrecognized descriptor`},
		{JobSpec{Name: "every", Schedule: "@every"}, `@every wants a duration`},
		{JobSpec{Name: "every-ms", Schedule: "@every 1500ms"}, `@every wants whole seconds`},
		{JobSpec{Name: "never", Schedule: "0 0 30 2 *"}, `never runs`},
		{JobSpec{Name: "empty", Schedule: " "}, `empty schedule`},
		{JobSpec{Name: "", Schedule: "@daily"}, `job "": bad name`},
		{JobSpec{Name: "has space", Schedule: "@daily"}, `bad name`},
		{JobSpec{Name: ".dot", Schedule: "@daily"}, `bad name`},
		{JobSpec{Name: strings.Repeat("n", 101), Schedule: "@daily"}, `bad name`},
		{JobSpec{Name: "o", Schedule: "@daily", Overlap: "replace"}, `overlap "replace": want "skip" or "queue"`},
		{JobSpec{Name: "r", Schedule: "@daily", Retries: -1}, `retries -1`},
		{JobSpec{Name: "t", Schedule: "@daily", Timeout: -time.Second}, `timeout -1s is negative`},
		{JobSpec{Name: "j", Schedule: "@daily", Jitter: -time.Second}, `jitter -1s is negative`},
		{JobSpec{Name: "d", Schedule: "@daily", StartingDeadline: -time.Second}, `starting deadline -1s is negative`},
	}
	for _, c := range cases {
		_, err := Compile(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%+v) = %v, want an error with %q", c.spec, err, c.want)
		}
		if err != nil && !strings.Contains(err.Error(), `job "`+c.spec.Name+`"`) {
			t.Errorf("%v does not name the job", err)
		}
	}
}

func TestParserPanicsAreErrors(t *testing.T) {
	// The pinned parser itself panics on these (robfig/cron#554); Compile
	// must not.
	for _, spec := range []string{"TZ=0", "CRON_TZ=UTC"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Logf("the parser no longer panics on %q", spec)
				}
			}()
			_, _ = parser.Parse(spec)
		}()
		if _, err := Compile(JobSpec{Name: "p", Schedule: spec}); err == nil {
			t.Errorf("%q compiled", spec)
		}
	}
}

func TestCompileAll(t *testing.T) {
	_, err := CompileAll([]JobSpec{
		{Name: "a", Schedule: "@daily", File: "f.lua", Line: 1},
		{Name: "b", Schedule: "nope", File: "f.lua", Line: 2},
		{Name: "a", Schedule: "@hourly", File: "f.lua", Line: 3},
	})
	want := `f.lua:2: job "b": schedule "nope": expected 5 to 6 fields, found 1: [nope]` + "\n" +
		`f.lua:3: job "a": duplicate job name (first declared at f.lua:1)`
	if err == nil || err.Error() != want {
		t.Errorf("CompileAll: %v\nwant:\n%s", err, want)
	}
	jobs, err := CompileAll([]JobSpec{{Name: "a", Schedule: "@daily"}, {Name: "b", Schedule: "@hourly"}})
	if err != nil || len(jobs) != 2 {
		t.Errorf("CompileAll: %v, %d jobs", err, len(jobs))
	}
}
