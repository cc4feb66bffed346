// Package schedule is the scheduler core of `wps cron`: it turns job
// declarations (JobSpec) into compiled jobs, computes their run times with
// ISC cron's daylight-saving rules, and runs them on a Clock through an
// Executor, with overlap control, timeouts, retries, jitter, catch-up after a
// suspend, slog logs and Prometheus metrics. It knows nothing of Lua: the
// command loads a schedule file into []JobSpec and supplies an Executor
// (usually a ProcessExecutor that re-executes wps for each run).
//
// # Time
//
// Cron schedules are read on the wall clock of the job's time zone. When
// the clock springs forward, a run whose wall time falls in the skipped
// interval starts once, at the first instant after the jump; when it falls
// back, a run in the repeated interval starts once, at the first occurrence.
// As in ISC cron, this applies to jobs at a particular hour: a job whose hour
// field matches every hour (`*`, `0-23`, @hourly) runs on the wall clock as
// it is, so it simply has no run in the skipped hour (the hour after takes
// it) and runs in both occurrences of the repeated hour, one real hour apart.
// ISC cron also treats a `*` minute field as a wildcard; here `*/15 2 * * *`
// counts as a job at 2 o'clock, so a spring-forward night does not lose its
// only runs of the day. `@every` schedules count elapsed time and ignore
// daylight saving entirely.
//
// The scheduling loop never waits more than a minute without reading the
// wall clock again, so a machine that was suspended catches up when it
// wakes: of the runs it missed, the latest starts if it is within the job's
// starting deadline, and the others are logged once, as one `missed` line
// with a count. When the clock is set back, jobs that run every hour (and
// @every jobs) go on from the new time, while jobs at a fixed hour keep
// their next run rather than run twice.
//
// # Runs
//
// A job never has two runs at once. With Overlap "skip" (the default) a run
// due while the previous one is still going is skipped and logged; with
// "queue" it waits, but at most one run is held: a further run due while one
// is already waiting is skipped. Every run has its own goroutine, so a run
// that will not stop delays neither the loop nor other jobs.
package schedule
