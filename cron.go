package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"wps/engine"
	"wps/schedule"
	"wps/schedule/cronfile"
	"wps/webpubsub"
)

const cronDescription = `Run the jobs of the schedule file FILE on their schedules until SIGINT or
SIGTERM. FILE is Lua whose top level declares jobs:

  cron.job{name = "standup", schedule = "0 9 * * MON-FRI", timezone = "Europe/Berlin",
    run = function() wps.send_to_group("team", "Stand-up in 5 minutes") end}
  cron.job{name = "digest", schedule = "@daily", script = "scripts/announce.lua",
    args = {"--group", "ops", "Daily digest"}, timeout = "2m", retries = 2}

A job has a name, a schedule and either run (a function) or script (a Lua
file, relative to FILE's folder) with args. Schedules: 5 cron fields, 6 with
seconds first, @hourly, @daily, @weekly, @monthly, @yearly, @every 30s, and
a CRON_TZ=Zone prefix. Options: timezone (IANA; default the machine's),
timeout (default --timeout), overlap ("skip", the default, or "queue": a
job never has two runs at once), retries and retry_backoff (10s, doubling),
jitter (a random delay up to it), starting_deadline (how late a run missed
during a suspend may still start; default 1m). Durations are strings such
as "30s" or numbers of seconds. Mistakes are reported with the job's name
and FILE:line, and wps cron refuses to start.

Every run is a process of its own (wps cron re-executing itself), with a
fresh Lua state, the job's timeout and --max-memory; one that does not stop
at its timeout is killed 5 seconds later. Runs read FILE as it was loaded.
What FILE's top level does, every run does again: it should only declare.
A run in the hour skipped when clocks spring forward starts right after the
jump; one in the repeated autumn hour runs once.

Logs go to stderr: one line when a run starts and one when it ends (job,
run_id, scheduled, start_delay, duration, outcome ok|failed|timeout|killed|
skipped|missed, error); what a job prints is logged with its job and run_id.
SIGHUP reloads FILE (an invalid file keeps the old schedule and logs why).
SIGINT or SIGTERM stops starting runs, waits --grace for those running, kills
the rest and exits 0; a second signal kills them at once.

The runs share one default client: --connection-string/--hub, else
$WEBPUBSUB_CONNECTION_STRING/$WEBPUBSUB_HUB, else the embedded service,
which wps cron starts once and passes to every run. Run one wps cron per
schedule: replicas would each run every job.

Exit status: 0 after a signal, 1 an invalid FILE or a failed --run-now, 2 a
usage mistake; --run-now exits as wps run does.

Examples:
  wps cron --list examples/schedule.lua
  wps cron --listen 127.0.0.1:9090 --log-format json examples/schedule.lua
  wps cron --run-now standup examples/schedule.lua
  wps cron --simulate --from 2026-03-28 --to 2026-03-30 --duration backup=90m examples/schedule.lua`

// childKillGrace is how long a run has between SIGTERM and SIGKILL: a run
// stopped inside a long builtin stops hard after engine.DefaultStopGrace.
const childKillGrace = 5 * time.Second

// cronFlags are the flags of wps cron beyond the script flags.
type cronFlags struct {
	script    *scriptFlags
	grace     time.Duration
	listen    string
	list      bool
	runNow    string
	simulate  bool
	from, to  timeFlag
	durations durationsFlag
	suspended windowsFlag
	only      namesFlag
	set       map[string]bool // the flags given
}

func runCron(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "--child" {
		return runCronChild(ctx, args[1:], stdout, stderr)
	}
	fs := newFlagSet("cron", "[flags] FILE", cronDescription, stdout)
	f := &cronFlags{script: addScriptFlags(fs, "the timeout (a `duration`) of the runs of jobs that set none", schedule.DefaultTimeout),
		grace: schedule.DefaultGrace, durations: durationsFlag{}}
	fs.Var((*durationFlag)(&f.grace), "grace", "at SIGINT or SIGTERM, the `duration` running jobs have to finish before they are killed")
	fs.StringVar(&f.listen, "listen", "", "serve /healthz and /metrics (Prometheus) on this `address`, e.g. 127.0.0.1:9090")
	fs.BoolVar(&f.list, "list", false, "print each job with its next five runs in its time zone, and exit (1 if FILE is invalid)")
	fs.StringVar(&f.runNow, "run-now", "", "run the job `NAME` once, now, in the foreground, and exit with its status")
	fs.BoolVar(&f.simulate, "simulate", false, "print every run due from --from to --to, running nothing, with DST gaps and\nrepeats, overlaps (see --duration) and missed runs (see --suspend) marked")
	fs.Var(&f.from, "from", "start `time` of --simulate (default now) and of --list: 2026-03-28, 2026-03-28T09:00\n(the machine's time zone) or 2026-03-28T09:00:00+01:00")
	fs.Var(&f.to, "to", "end `time` of --simulate (default a week after --from)")
	fs.Var(f.durations, "duration", "with --simulate, how long a job's runs last, as `job=duration` (e.g. backup=90m); repeatable")
	fs.Var(&f.only, "job", "with --list or --simulate, only the job `NAME` (a list with commas); repeatable")
	fs.Var(&f.suspended, "suspend", "with --simulate, a time the machine is asleep, as `from,to` (times as for --from); repeatable")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if err := f.check(fs); err != nil {
		return err
	}
	path := fs.Arg(0)
	opts, err := f.script.engineOptions(stdout, stderr)
	if err != nil {
		return err
	}
	if !f.list && !f.simulate && f.runNow == "" {
		return runScheduler(ctx, path, f, opts, stderr)
	}
	ctx, stop := engine.SignalContext(ctx)
	defer stop()
	e := engine.New(opts)
	defer closeEngine(e)
	file, err := cronfile.Load(ctx, e, path, nil, cronfile.Options{DefaultTimeout: f.script.timeout})
	if err != nil {
		return reportLoadError(err, stderr)
	}
	defer file.Close()
	jobs := file.Jobs
	if len(f.only) > 0 {
		jobs = nil
		for _, name := range f.only {
			j := file.Job(name)
			if j == nil {
				return usagef("--job %s: %s declares no job %q (it has %s)", name, path, name, jobNames(file.Jobs))
			}
			jobs = append(jobs, j)
		}
	}
	switch {
	case f.list:
		printList(stdout, jobs, f.from.or(time.Now()))
		return nil
	case f.simulate:
		return printSimulation(stdout, file, jobs, f)
	}
	if file.Job(f.runNow) == nil {
		return usagef("%s declares no job %q (it has %s)", path, f.runNow, jobNames(file.Jobs))
	}
	run := schedule.RunInfo{ID: schedule.NewRunID(), Scheduled: time.Now(), Attempt: 1}
	return reportScriptError("cron", file.Run(ctx, f.runNow, run), stderr)
}

// check rejects flags that do not go together, and a missing FILE.
func (f *cronFlags) check(fs *flag.FlagSet) error {
	modes := 0
	for _, m := range []string{"list", "run-now", "simulate"} {
		if f.set[m] {
			modes++
		}
	}
	if modes > 1 {
		return usagef("--list, --run-now and --simulate are different modes: give one")
	}
	for _, name := range []string{"to", "duration", "suspend"} {
		if f.set[name] && !f.simulate {
			return usagef("--%s goes with --simulate", name)
		}
	}
	for _, name := range []string{"from", "job"} {
		if f.set[name] && !f.simulate && !f.list {
			return usagef("--%s goes with --simulate or --list", name)
		}
	}
	for _, name := range []string{"listen", "grace"} {
		if f.set[name] && modes > 0 {
			return usagef("--%s is for running the scheduler, not with --list, --run-now or --simulate", name)
		}
	}
	if f.set["run-now"] && f.runNow == "" {
		return usagef("--run-now wants the name of a job")
	}
	if f.grace < 0 {
		return usagef("invalid --grace %s: must not be negative", f.grace)
	}
	switch fs.NArg() {
	case 0:
		return usagef("missing FILE, the schedule file")
	case 1:
		return nil
	}
	return usagef("cron takes one FILE; flags go before it (got %q after it)", fs.Args()[1:])
}

// reportLoadError prints why a schedule file did not load and returns the
// error that gives the exit status. A file that cannot be read is left to
// runMain ("wps cron: open x.lua: no such file or directory").
func reportLoadError(err error, stderr io.Writer) error {
	var pathErr *fs.PathError
	var scriptErr *engine.Error
	switch {
	case errors.As(err, &pathErr):
		return err
	case errors.As(err, &scriptErr):
		return reportScriptError("cron", err, stderr)
	}
	fmt.Fprintln(stderr, err)
	return &reportedError{err}
}

// printList prints each job with its next five runs after from.
func printList(w io.Writer, jobs []*schedule.Job, from time.Time) {
	for i, j := range jobs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		spec := j.Spec()
		zone := j.Location().String()
		if j.Location() == time.Local {
			zone = "local time"
		}
		fmt.Fprintf(w, "%s  %q in %s, timeout %s  (%s:%d)\n", j.Name(), spec.Schedule, zone, spec.Timeout, spec.File, spec.Line)
		for _, t := range schedule.List(j, from, 5) {
			fmt.Fprintf(w, "  %s\n", t.Format("Mon 2006-01-02 15:04:05 MST"))
		}
	}
}

// printSimulation prints the runs Simulate finds of jobs in --from to --to.
func printSimulation(w io.Writer, file *cronfile.File, jobs []*schedule.Job, f *cronFlags) error {
	from := f.from.or(time.Now().Truncate(time.Minute))
	to := f.to.or(from.AddDate(0, 0, 7))
	if !to.After(from) {
		return usagef("--to %s is not after --from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	for name := range f.durations {
		if file.Job(name) == nil {
			return usagef("--duration %s=...: %s declares no job %q (it has %s)", name, file.Path, name, jobNames(file.Jobs))
		}
	}
	runs := schedule.Simulate(jobs, from, to, schedule.SimOptions{Durations: f.durations, Suspended: f.suspended})
	fmt.Fprintf(w, "Runs due from %s to %s, each in its job's time zone:\n\n", from.Format(time.RFC3339), to.Format(time.RFC3339))
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DUE\tJOB\tRUN\tNOTE")
	count := map[schedule.Mark]int{}
	for _, r := range runs {
		count[r.Mark]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Scheduled.Format("Mon 2006-01-02 15:04:05 MST"), r.Job, r.Mark, r.Note)
	}
	tw.Flush()
	for line := range strings.Lines(table.String()) {
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
	var summary []string
	for _, m := range []schedule.Mark{schedule.MarkNormal, schedule.MarkDSTGap, schedule.MarkDSTRepeatSkipped,
		schedule.MarkOverlapSkipped, schedule.MarkQueued, schedule.MarkLate, schedule.MarkMissed} {
		if count[m] > 0 {
			summary = append(summary, fmt.Sprintf("%d %s", count[m], m))
		}
	}
	if len(summary) == 0 {
		summary = []string{"none"}
	}
	plural := "s"
	if len(runs) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "\n%d run%s: %s\n", len(runs), plural, strings.Join(summary, ", "))
	return nil
}

// jobNames lists the names of jobs for a message.
func jobNames(jobs []*schedule.Job) string {
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.Name()
	}
	return strings.Join(names, ", ")
}

// runScheduler is `wps cron FILE`: it loads FILE, then runs its jobs, each
// run in a child process, until SIGINT or SIGTERM; SIGHUP reloads FILE.
func runScheduler(ctx context.Context, path string, f *cronFlags, opts engine.Options, stderr io.Writer) error {
	log := opts.Logger
	e := engine.New(opts)
	defer closeEngine(e)
	file, err := cronfile.Load(ctx, e, path, nil, cronfile.Options{DefaultTimeout: f.script.timeout})
	if err != nil {
		return reportLoadError(err, stderr)
	}
	file.Close()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding wps to run jobs: %w", err)
	}
	// Every run gets the same default client: the embedded service is
	// started here, once, rather than by each run. The connection string
	// goes through the environment, never the command line.
	connectionString, err := e.Service(ctx)
	if err != nil {
		return err
	}
	if e.Target().Embedded() {
		parsed, _ := webpubsub.ParseConnectionString(connectionString)
		log.Info("embedded Web PubSub service started for the runs", "endpoint", parsed.Endpoint, "hub", e.Target().Hub)
	}
	argv := []string{exe, "cron", "--child", "", "--log-level", f.script.logLevel, "--log-format", "json",
		"--max-memory", strconv.FormatInt(int64(f.script.maxMemory), 10), "--timeout", f.script.timeout.String()}
	if f.script.sandbox {
		argv = append(argv, "--sandbox")
	}
	argv = append(argv, "--", path)
	var mu sync.Mutex // guards source
	source := file.Source
	executor := &schedule.ProcessExecutor{
		Argv: func(job *schedule.Job, _ schedule.RunInfo) []string {
			a := slices.Clone(argv)
			a[3] = job.Name()
			return a
		},
		Env:       []string{"WEBPUBSUB_CONNECTION_STRING=" + connectionString, "WEBPUBSUB_HUB=" + e.Target().Hub},
		KillGrace: childKillGrace,
		Logger:    log,
		Records:   true,
		Stdin: func(*schedule.Job, schedule.RunInfo) []byte {
			mu.Lock()
			defer mu.Unlock()
			return source
		},
	}
	s, err := schedule.New(file.Jobs, schedule.Options{Logger: log, Executor: executor, Grace: f.grace})
	if err != nil {
		return err
	}
	if f.listen != "" {
		stopServing, err := serveMetrics(f.listen, schedule.Handler(s), log)
		if err != nil {
			return err
		}
		defer stopServing()
	}
	reload := func() {
		file, err := cronfile.Load(context.Background(), e, path, nil, cronfile.Options{DefaultTimeout: f.script.timeout})
		if err != nil {
			log.Error("reload failed; keeping the schedule as it was", "file", path, "error", err.Error())
			return
		}
		file.Close()
		mu.Lock()
		defer mu.Unlock()
		if err := s.Reload(file.Jobs); err != nil {
			log.Error("reload failed; keeping the schedule as it was", "file", path, "error", err.Error())
			return
		}
		source = file.Source
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	done := make(chan struct{})
	defer close(done)
	go func() {
		stopping := false
		for {
			select {
			case <-done:
				return
			case sig := <-signals:
				switch {
				case sig == syscall.SIGHUP && !stopping:
					log.Info("reloading", "file", path, "signal", sig.String())
					reload()
				case sig == syscall.SIGHUP:
					log.Info("not reloading: stopping", "signal", sig.String())
				case !stopping:
					stopping = true
					log.Info("stopping: no new runs; waiting for those running", "signal", sig.String(), "grace", f.grace)
					stop()
				default:
					log.Warn("second signal: stopping the runs now", "signal", sig.String())
					s.Abort()
				}
			}
		}
	}()
	log.Info("schedule loaded", "file", path, "jobs", len(file.Jobs), "target", e.Target())
	return s.Run(runCtx)
}

// serveMetrics serves h on addr until the returned function is called.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("serving /healthz and /metrics", "address", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// runCronChild is the process of one run: `wps cron --child NAME [script
// flags] FILE`, reading FILE's content on stdin. It loads the file, runs
// the job NAME once, with its timeout, and exits with its status; log
// records and the error go to stderr as JSON lines for the scheduler.
func runCronChild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("--child wants a job name")
	}
	name := args[0]
	fs := newFlagSet("cron", "--child NAME [flags] FILE", "The process of one run of wps cron (not for people).", stdout)
	flags := addScriptFlags(fs, "timeout of jobs that set none", schedule.DefaultTimeout)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("--child wants one FILE")
	}
	opts, err := flags.engineOptions(stdout, stderr)
	if err != nil {
		return err
	}
	ctx, stop := engine.SignalContext(ctx)
	defer stop()
	e := engine.New(opts)
	defer closeEngine(e)
	err = runChildJob(ctx, e, fs.Arg(0), name, flags.timeout)
	if err == nil {
		return nil
	}
	var scriptErr *engine.Error
	var exit *engine.ExitError
	switch {
	case errors.As(err, &scriptErr) && scriptErr.Traceback != "":
		opts.Logger.Error("run failed", "error", scriptErr.Message, "traceback", scriptErr.Traceback)
	case errors.As(err, &scriptErr):
		opts.Logger.Error("run failed", "error", scriptErr.Message)
	case errors.As(err, &exit):
		opts.Logger.Error("run failed", "error", fmt.Sprintf("os.exit(%d)", exit.Code), "message", exit.Message)
	default:
		opts.Logger.Error("run failed", "error", err.Error())
	}
	return &reportedError{err}
}

// runChildJob loads the schedule file from stdin and runs the job name.
func runChildJob(ctx context.Context, e *engine.Engine, path, name string, defaultTimeout time.Duration) error {
	src, err := io.ReadAll(os.Stdin)
	if err != nil {
		return fmt.Errorf("reading the schedule file: %w", err)
	}
	file, err := cronfile.Load(ctx, e, path, src, cronfile.Options{DefaultTimeout: defaultTimeout, ForRun: true})
	if err != nil {
		return err
	}
	defer file.Close()
	run := schedule.RunInfo{ID: os.Getenv("WPS_CRON_RUN_ID"), Attempt: 1}
	run.Scheduled, _ = time.Parse(time.RFC3339, os.Getenv("WPS_CRON_SCHEDULED"))
	if n, err := strconv.Atoi(os.Getenv("WPS_CRON_ATTEMPT")); err == nil {
		run.Attempt = n
	}
	return file.Run(ctx, name, run)
}

// timeFlag is a time given as RFC 3339, or as a date or date and time in
// the machine's time zone.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	t, err := parseTime(s)
	f.t = t
	return err
}

// or returns the time, or def when none was given.
func (f *timeFlag) or(def time.Time) time.Time {
	if f.t.IsZero() {
		return def
	}
	return f.t
}

// parseTime reads a time of --from, --to or --suspend.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want 2026-03-28, 2026-03-28T09:00 or 2026-03-28T09:00:00+01:00", s)
}

// durationsFlag is --duration job=D, repeatable.
type durationsFlag map[string]time.Duration

func (f durationsFlag) String() string { return "" }

func (f durationsFlag) Set(s string) error {
	name, text, ok := strings.Cut(s, "=")
	d, err := time.ParseDuration(text)
	if !ok || name == "" || err != nil || d < 0 {
		return fmt.Errorf("%q: want job=duration, e.g. backup=90m", s)
	}
	f[name] = d
	return nil
}

// namesFlag is a list of names, given with commas or repeated.
type namesFlag []string

func (f *namesFlag) String() string { return strings.Join(*f, ",") }

func (f *namesFlag) Set(s string) error {
	for name := range strings.SplitSeq(s, ",") {
		if name = strings.TrimSpace(name); name != "" {
			*f = append(*f, name)
		}
	}
	return nil
}

// windowsFlag is --suspend from,to, repeatable.
type windowsFlag []schedule.Window

func (f *windowsFlag) String() string { return "" }

func (f *windowsFlag) Set(s string) error {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return fmt.Errorf("%q: want from,to, e.g. 2026-03-28T01:00,2026-03-28T03:30", s)
	}
	from, err := parseTime(strings.TrimSpace(a))
	if err != nil {
		return err
	}
	to, err := parseTime(strings.TrimSpace(b))
	if err != nil {
		return err
	}
	if !to.After(from) {
		return fmt.Errorf("%q: the end is not after the start", s)
	}
	*f = append(*f, schedule.Window{From: from, To: to})
	return nil
}
