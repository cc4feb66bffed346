package schedule

import (
	"strings"
	"testing"
	"time"
)

// mustJob compiles spec or fails the test.
func mustJob(tb testing.TB, spec JobSpec) *Job {
	tb.Helper()
	j, err := Compile(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return j
}

// mustLoc loads a time zone or fails the test.
func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// formatRuns renders times as "15:04 MST" in loc, one per line.
func formatRuns(ts []time.Time, loc *time.Location, layout string) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.In(loc).Format(layout))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestNextAcrossDST(t *testing.T) {
	const layout = "Jan _2 15:04:05 MST"
	cases := []struct {
		name, zone, schedule string
		from                 string // wall time in zone, with an offset where it is ambiguous
		n                    int
		want                 []string
	}{
		{"LA spring fixed 02:30 runs after the jump", "America/Los_Angeles", "30 2 * * *", "2026-03-07 12:00", 3,
			[]string{"Mar  8 03:00:00 PDT", "Mar  9 02:30:00 PDT", "Mar 10 02:30:00 PDT"}},
		{"LA spring hourly has no 2 o'clock", "America/Los_Angeles", "0 * * * *", "2026-03-08 00:30", 4,
			[]string{"Mar  8 01:00:00 PST", "Mar  8 03:00:00 PDT", "Mar  8 04:00:00 PDT", "Mar  8 05:00:00 PDT"}},
		{"LA spring every 15 minutes", "America/Los_Angeles", "*/15 * * * *", "2026-03-08 01:40", 4,
			[]string{"Mar  8 01:45:00 PST", "Mar  8 03:00:00 PDT", "Mar  8 03:15:00 PDT", "Mar  8 03:30:00 PDT"}},
		{"LA spring every 15 minutes of 2 o'clock runs once after the jump", "America/Los_Angeles", "*/15 2 * * *", "2026-03-08 00:00", 2,
			[]string{"Mar  8 03:00:00 PDT", "Mar  9 02:00:00 PDT"}},
		{"LA fall fixed 01:30 runs once", "America/Los_Angeles", "30 1 * * *", "2026-10-31 12:00", 3,
			[]string{"Nov  1 01:30:00 PDT", "Nov  2 01:30:00 PST", "Nov  3 01:30:00 PST"}},
		{"LA fall hourly runs every real hour", "America/Los_Angeles", "0 * * * *", "2026-11-01 00:30", 4,
			[]string{"Nov  1 01:00:00 PDT", "Nov  1 01:00:00 PST", "Nov  1 02:00:00 PST", "Nov  1 03:00:00 PST"}},
		{"LA fall every 15 minutes runs in both 1 o'clocks", "America/Los_Angeles", "*/15 * * * *", "2026-11-01 01:40 -0700", 4,
			[]string{"Nov  1 01:45:00 PDT", "Nov  1 01:00:00 PST", "Nov  1 01:15:00 PST", "Nov  1 01:30:00 PST"}},
		{"LA fall 1 o'clock every 15 minutes runs once", "America/Los_Angeles", "*/15 1 * * *", "2026-11-01 01:40 -0700", 3,
			[]string{"Nov  1 01:45:00 PDT", "Nov  2 01:00:00 PST", "Nov  2 01:15:00 PST"}},
		{"Berlin spring fixed 02:30", "Europe/Berlin", "30 2 * * *", "2026-03-28 12:00", 2,
			[]string{"Mar 29 03:00:00 CEST", "Mar 30 02:30:00 CEST"}},
		{"Berlin spring seconds field", "Europe/Berlin", "15 30 2 * * *", "2026-03-29 00:00", 2,
			[]string{"Mar 29 03:00:00 CEST", "Mar 30 02:30:15 CEST"}},
		{"Berlin spring hourly", "Europe/Berlin", "@hourly", "2026-03-29 01:30", 2,
			[]string{"Mar 29 03:00:00 CEST", "Mar 29 04:00:00 CEST"}},
		{"Berlin fall fixed 02:30 runs once", "Europe/Berlin", "30 2 * * *", "2026-10-24 12:00", 2,
			[]string{"Oct 25 02:30:00 CEST", "Oct 26 02:30:00 CET"}},
		{"Berlin fall inside the repeated hour", "Europe/Berlin", "45 2 * * *", "2026-10-25 02:50", 1,
			[]string{"Oct 26 02:45:00 CET"}},
		{"Berlin fall hourly", "Europe/Berlin", "0 * * * *", "2026-10-25 01:30", 4,
			[]string{"Oct 25 02:00:00 CEST", "Oct 25 02:00:00 CET", "Oct 25 03:00:00 CET", "Oct 25 04:00:00 CET"}},
		{"Berlin fall every 15 minutes", "Europe/Berlin", "*/15 * * * *", "2026-10-25 02:40 +0200", 3,
			[]string{"Oct 25 02:45:00 CEST", "Oct 25 02:00:00 CET", "Oct 25 02:15:00 CET"}},
		{"Berlin daily and weekdays", "Europe/Berlin", "0 9 * * MON-FRI", "2026-03-27 10:00", 2,
			[]string{"Mar 30 09:00:00 CEST", "Mar 31 09:00:00 CEST"}},
		{"CRON_TZ prefix", "", "CRON_TZ=America/Los_Angeles 30 2 * * *", "", 1,
			[]string{"Mar  8 03:00:00 PDT"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := mustJob(t, JobSpec{Name: "j", Schedule: c.schedule, Timezone: c.zone})
			loc := j.Location()
			from := time.Date(2026, 3, 7, 12, 0, 0, 0, loc)
			if c.from != "" {
				var err error
				if from, err = time.Parse("2006-01-02 15:04 -0700", c.from); err != nil {
					if from, err = time.ParseInLocation("2006-01-02 15:04", c.from, loc); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := formatRuns(List(j, from, c.n), loc, layout)
			if want := strings.Join(c.want, "\n") + "\n"; got != want {
				t.Errorf("runs after %s:\n%s\nwant:\n%s", from, got, want)
			}
		})
	}
}

func TestNextEveryIgnoresDST(t *testing.T) {
	j := mustJob(t, JobSpec{Name: "j", Schedule: "@every 30m", Timezone: "America/Los_Angeles"})
	from := time.Date(2026, 3, 8, 1, 15, 0, 0, j.Location())
	got := List(j, from, 3)
	for i, g := range got {
		if want := from.Add(time.Duration(i+1) * 30 * time.Minute); !g.Equal(want) {
			t.Errorf("run %d at %s, want %s", i, g, want)
		}
	}
	if got[1].Format("15:04 MST") != "03:15 PDT" {
		t.Errorf("second run %s, want 03:15 PDT", got[1].Format("15:04 MST"))
	}
}

func TestNextInsideRepeatedHourFromSecondOccurrence(t *testing.T) {
	j := mustJob(t, JobSpec{Name: "j", Schedule: "30 1 * * *", Timezone: "America/Los_Angeles"})
	// 01:10 PST is the second 01:10 of Nov 1; 01:30 already ran at 01:30 PDT.
	from := time.Date(2026, 11, 1, 9, 10, 0, 0, time.UTC)
	if got := j.Next(from); got.Format("Jan 2 15:04 MST") != "Nov 2 01:30 PST" {
		t.Errorf("Next(%s) = %s", from.In(j.Location()), got)
	}
}

func BenchmarkNext(b *testing.B) {
	for _, s := range []string{"*/15 * * * *", "30 2 * * *", "0 9 * * MON-FRI", "@every 30s"} {
		j := mustJob(b, JobSpec{Name: "j", Schedule: s, Timezone: "Europe/Berlin"})
		b.Run(s, func(b *testing.B) {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			t := start
			for b.Loop() {
				if t = j.Next(t); t.Year() > 2030 {
					t = start
				}
			}
		})
	}
}
