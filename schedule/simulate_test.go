package schedule

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// simText renders runs one a line: job, due time, mark and start time.
func simText(runs []SimRun) string {
	var b strings.Builder
	for _, r := range runs {
		start := "-"
		if !r.Start.IsZero() {
			start = r.Start.In(r.Scheduled.Location()).Format("15:04 MST")
		}
		fmt.Fprintf(&b, "%s %s %s %s\n", r.Job, r.Scheduled.Format("Jan 2 15:04 MST"), r.Mark, start)
	}
	return b.String()
}

func TestSimulateDST(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	berlin := mustLoc(t, "Europe/Berlin")
	jobs := []*Job{
		mustJob(t, JobSpec{Name: "la", Schedule: "30 1,2 * * *", Timezone: "America/Los_Angeles"}),
		mustJob(t, JobSpec{Name: "berlin", Schedule: "30 2 * * *", Timezone: "Europe/Berlin"}),
	}
	cases := []struct {
		name     string
		from, to time.Time
		want     string
	}{
		{"US spring", time.Date(2026, 3, 8, 0, 0, 0, 0, la), time.Date(2026, 3, 9, 0, 0, 0, 0, la), `
la Mar 8 01:30 PST normal 01:30 PST
la Mar 8 03:00 PDT dst-gap 03:00 PDT
`},
		{"US fall", time.Date(2026, 11, 1, 0, 0, 0, 0, la), time.Date(2026, 11, 2, 0, 0, 0, 0, la), `
la Nov 1 01:30 PDT normal 01:30 PDT
la Nov 1 01:30 PST dst-repeat-skipped -
la Nov 1 02:30 PST normal 02:30 PST
`},
		{"EU spring", time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), time.Date(2026, 3, 30, 0, 0, 0, 0, berlin), `
berlin Mar 29 03:00 CEST dst-gap 03:00 CEST
`},
		{"EU fall", time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), time.Date(2026, 10, 26, 0, 0, 0, 0, berlin), `
berlin Oct 25 02:30 CEST normal 02:30 CEST
berlin Oct 25 02:30 CET dst-repeat-skipped -
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs := Simulate(jobs, c.from, c.to, SimOptions{})
			runs = slices.DeleteFunc(runs, func(r SimRun) bool { return r.Scheduled.Location().String() != c.from.Location().String() })
			if got := "\n" + simText(runs); got != c.want {
				t.Errorf("got:%s\nwant:%s", got, c.want)
			}
			for _, r := range runs {
				if (r.Mark == MarkNormal) != (r.Note == "") {
					t.Errorf("%s %s: note %q", r.Mark, r.Scheduled, r.Note)
				}
			}
		})
	}
	gap := Simulate(jobs[1:], time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), time.Date(2026, 3, 30, 0, 0, 0, 0, berlin), SimOptions{})[0]
	if want := "02:30:00 does not exist on 2026-03-29 in Europe/Berlin (the clock sprang forward); runs at 03:00:00 CEST"; gap.Note != want {
		t.Errorf("note %q\nwant %q", gap.Note, want)
	}
}

func TestSimulateOverlap(t *testing.T) {
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	jobs := []*Job{
		mustJob(t, JobSpec{Name: "skip", Schedule: "*/15 * * * *", Timezone: "UTC", Timeout: time.Hour}),
		mustJob(t, JobSpec{Name: "queue", Schedule: "*/15 * * * *", Timezone: "UTC", Timeout: time.Hour, Overlap: OverlapQueue}),
		mustJob(t, JobSpec{Name: "capped", Schedule: "*/15 * * * *", Timezone: "UTC", Timeout: 10 * time.Minute}),
	}
	durations := map[string]time.Duration{"skip": 40 * time.Minute, "queue": 40 * time.Minute, "capped": 2 * time.Hour}
	var got strings.Builder
	for _, r := range Simulate(jobs, from, from.Add(95*time.Minute), SimOptions{Durations: durations}) {
		if r.Job != "capped" || r.Mark != MarkNormal {
			fmt.Fprintf(&got, "%s %s %s", r.Job, r.Scheduled.Format("15:04"), r.Mark)
			if !r.Start.IsZero() {
				fmt.Fprintf(&got, " %s-%s", r.Start.Format("15:04"), r.End.Format("15:04"))
			}
			got.WriteString("\n")
		}
	}
	want := `queue 00:00 normal 00:00-00:40
skip 00:00 normal 00:00-00:40
queue 00:15 queued 00:40-01:20
skip 00:15 overlap-skipped
queue 00:30 overlap-skipped
skip 00:30 overlap-skipped
queue 00:45 queued 01:20-02:00
skip 00:45 normal 00:45-01:25
queue 01:00 overlap-skipped
skip 01:00 overlap-skipped
queue 01:15 overlap-skipped
skip 01:15 overlap-skipped
queue 01:30 queued 02:00-02:40
skip 01:30 normal 01:30-02:10
`
	if got.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", got.String(), want)
	}
}

func TestList(t *testing.T) {
	j := mustJob(t, JobSpec{Name: "standup", Schedule: "0 9 * * MON-FRI", Timezone: "Europe/Berlin"})
	got := formatRuns(List(j, time.Date(2026, 3, 26, 12, 0, 0, 0, time.UTC), 5), j.Location(), "Mon Jan 2 15:04 MST")
	want := "Fri Mar 27 09:00 CET\nMon Mar 30 09:00 CEST\nTue Mar 31 09:00 CEST\nWed Apr 1 09:00 CEST\nThu Apr 2 09:00 CEST\n"
	if got != want {
		t.Errorf("List:\n%s\nwant:\n%s", got, want)
	}
	if got := List(j, time.Now(), 5); got[0].Location() != j.Location() {
		t.Errorf("List returns times in %s", got[0].Location())
	}
}

func TestSimulateSuspended(t *testing.T) {
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	at := func(hm string) time.Time {
		d, _ := time.ParseDuration(hm)
		return from.Add(d)
	}
	jobs := []*Job{
		mustJob(t, JobSpec{Name: "strict", Schedule: "*/15 * * * *", Timezone: "UTC"}),
		mustJob(t, JobSpec{Name: "lenient", Schedule: "*/15 * * * *", Timezone: "UTC", StartingDeadline: 10 * time.Minute, Timeout: time.Hour}),
	}
	runs := Simulate(jobs, from.Add(15*time.Minute), from.Add(90*time.Minute), SimOptions{
		Durations: map[string]time.Duration{"lenient": 15 * time.Minute},
		// Two windows that touch are one sleep, from 00:20 to 01:05.
		Suspended: []Window{{at("40m"), at("65m")}, {at("20m"), at("40m")}, {at("80m"), at("80m")}},
	})
	var got strings.Builder
	for _, r := range runs {
		fmt.Fprintf(&got, "%s %s %s", r.Job, r.Scheduled.Format("15:04"), r.Mark)
		if !r.Start.IsZero() {
			fmt.Fprintf(&got, " %s", r.Start.Format("15:04"))
		}
		got.WriteString("\n")
	}
	want := `lenient 00:15 normal 00:15
strict 00:15 normal 00:15
lenient 00:30 missed
strict 00:30 missed
lenient 00:45 missed
strict 00:45 missed
lenient 01:00 late 01:05
strict 01:00 missed
lenient 01:15 overlap-skipped
strict 01:15 normal 01:15
`
	if got.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", got.String(), want)
	}
	for _, r := range runs {
		if r.Job == "strict" && r.Scheduled.Equal(at("60m")) && r.Note != "the machine is asleep until 01:05:00 UTC, past the starting deadline of 1m0s" {
			t.Errorf("note %q", r.Note)
		}
	}
}

func TestSimulateEvery(t *testing.T) {
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	j := mustJob(t, JobSpec{Name: "e", Schedule: "@every 10s", Timezone: "UTC"})
	runs := Simulate([]*Job{j}, from, from.Add(30*time.Second), SimOptions{})
	if len(runs) != 2 || !runs[0].Scheduled.Equal(from.Add(10*time.Second)) || !runs[1].Scheduled.Equal(from.Add(20*time.Second)) {
		t.Errorf("runs %v, want at 00:00:10 and 00:00:20 (the first one interval after the start)", runs)
	}
}
