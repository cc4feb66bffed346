// Package cronfile is the schedule file of `wps cron`: a Lua file whose top
// level declares jobs with cron.job{...}. Load runs the top level in a fresh
// state of an engine and returns the jobs, compiled by package schedule,
// with every mistake reported as `file:line: job "name": what is wrong`.
// The process of a run loads the file again and runs one job (File.Run):
// so the file's top level should only declare.
//
//	cron.job{name = "standup", schedule = "0 9 * * MON-FRI", timezone = "Europe/Berlin",
//	  run = function() wps.send_to_group("team", "Stand-up in 5 minutes") end}
//	cron.job{name = "digest", schedule = "@daily", script = "scripts/announce.lua",
//	  args = {"--group", "ops", "Daily digest"}, timeout = "2m", retries = 2}
package cronfile

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"wps/engine"
	"wps/schedule"
)

// LoadTimeout bounds the run of a schedule file's top level, which only
// declares jobs: a loop there must not hang the scheduler or a reload.
const LoadTimeout = 10 * time.Second

// Options configure Load.
type Options struct {
	// DefaultTimeout is the timeout of jobs that set none; 0 means
	// schedule.DefaultTimeout.
	DefaultTimeout time.Duration
	// Run configures the state the file's top level and its job functions
	// run in, and the runs of script jobs (output, logger).
	Run engine.RunOptions
	// ForRun is set by a run's process: the scripts of the jobs are not
	// compiled at load (the file was checked when the scheduler loaded it,
	// and a script gone missing since must fail its own job's runs, not
	// those of every job).
	ForRun bool
}

// File is a loaded schedule file. Its state stays open for Run until Close.
type File struct {
	// Path is the file's name as given; scripts are found relative to
	// its directory.
	Path string
	// Source is the file's content as loaded: a run's process loads this,
	// not the file as it may have been edited since.
	Source []byte
	// Jobs are the jobs the file declares, in the order it declares them.
	Jobs []*schedule.Job

	e       *engine.Engine
	opts    Options
	session *engine.Session
	funcs   map[string]*lua.LFunction // the run functions, by job name
}

// Load runs the top level of the schedule file path in a fresh state of e
// and returns its jobs. src is the file's content, or nil to read path.
// Mistakes in the declarations (a bad schedule, an unknown option, a
// duplicate name, a missing script) are all returned at once, joined, each
// starting with the file and line of its cron.job; an error of the Lua
// code itself is an *engine.Error. The caller must Close the File.
func Load(ctx context.Context, e *engine.Engine, path string, src []byte, opts Options) (*File, error) {
	if src == nil {
		var err error
		if src, err = engine.ReadScript(path); err != nil {
			return nil, err
		}
	}
	script, err := engine.CompileSource(path, src)
	if err != nil {
		return nil, err
	}
	d := &declarations{path: path, dir: filepath.Dir(path), ctx: ctx, checkScripts: !opts.ForRun}
	runOpts := opts.Run
	userSetup := runOpts.Setup
	runOpts.Setup = func(L *lua.LState) error {
		if userSetup != nil {
			if err := userSetup(L); err != nil {
				return err
			}
		}
		cron := L.NewTable()
		cron.RawSetString("job", L.NewFunction(d.job))
		L.SetGlobal("cron", cron)
		return nil
	}
	session, err := e.NewSession(runOpts)
	if err != nil {
		return nil, err
	}
	loadCtx, cancel := engine.WithTimeout(ctx, LoadTimeout, "loading a schedule file")
	defer cancel()
	if _, err := session.Exec(loadCtx, script); err != nil {
		session.Close()
		return nil, err
	}
	f := &File{Path: path, Source: src, e: e, opts: opts, session: session, funcs: map[string]*lua.LFunction{}}
	if err := f.compile(d); err != nil {
		session.Close()
		return nil, err
	}
	return f, nil
}

// compile compiles the declarations into f.Jobs, in file order, and
// returns every mistake.
func (f *File) compile(d *declarations) error {
	var errs []error
	first := map[string]schedule.JobSpec{}
	for _, decl := range d.jobs {
		spec := decl.spec
		if decl.err != nil {
			errs = append(errs, decl.err)
			continue
		}
		if prev, dup := first[spec.Name]; dup {
			errs = append(errs, schedule.JobError(spec, fmt.Errorf("duplicate job name (first declared at %s:%d)", prev.File, prev.Line)))
			continue
		}
		first[spec.Name] = spec
		if spec.Timeout == 0 {
			spec.Timeout = f.opts.DefaultTimeout
		}
		job, err := schedule.Compile(spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.Jobs = append(f.Jobs, job)
		if decl.run != nil {
			f.funcs[spec.Name] = decl.run
		}
	}
	if len(errs) == 0 && len(d.jobs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no jobs: declare them with cron.job{name = ..., schedule = ..., run = function() ... end}", f.Path))
	}
	return errors.Join(errs...)
}

// Close closes the file's state and the connections its top level opened.
func (f *File) Close() {
	if f.session != nil {
		f.session.Close()
		f.session = nil
	}
}

// Job returns the job named name, or nil.
func (f *File) Job(name string) *schedule.Job {
	for _, j := range f.Jobs {
		if j.Name() == name {
			return j
		}
	}
	return nil
}

// Run runs one attempt of the job named name in this process, under the
// job's timeout: its function in the file's state, called with a table of
// the run (job, run_id, scheduled, attempt), or its script in a fresh
// state with its args. It returns what engine.Run returns.
func (f *File) Run(ctx context.Context, name string, run schedule.RunInfo) error {
	job := f.Job(name)
	if job == nil {
		return fmt.Errorf("%s declares no job %q", f.Path, name)
	}
	if f.session == nil {
		return errors.New("cronfile: Run after Close")
	}
	ctx, cancel := engine.WithTimeout(ctx, job.Timeout(), "the job's timeout")
	defer cancel()
	if fn := f.funcs[name]; fn != nil {
		L := f.session.State()
		info := L.NewTable()
		info.RawSetString("job", lua.LString(name))
		info.RawSetString("run_id", lua.LString(run.ID))
		info.RawSetString("scheduled", lua.LString(run.Scheduled.Format(time.RFC3339)))
		info.RawSetString("attempt", lua.LNumber(run.Attempt))
		_, err := f.session.Call(ctx, fn, info)
		var exit *engine.ExitError
		if errors.As(err, &exit) && exit.Code == 0 {
			return nil
		}
		return err
	}
	spec := job.Spec()
	script, err := engine.CompileFile(ctx, spec.Script)
	if err != nil {
		return err
	}
	runOpts := f.opts.Run
	runOpts.Args = spec.Args
	return f.e.Run(ctx, script, runOpts)
}

// declarations collects the cron.job calls of a file's top level.
type declarations struct {
	path, dir    string
	ctx          context.Context
	checkScripts bool
	jobs         []declaration
}

// declaration is one cron.job call: a spec, or why it is wrong.
type declaration struct {
	spec schedule.JobSpec
	run  *lua.LFunction
	err  error
}

// options lists the keys of cron.job's table, for messages.
var options = []string{"name", "schedule", "timezone", "run", "script", "args", "timeout", "overlap",
	"retries", "retry_backoff", "jitter", "starting_deadline"}

// job is cron.job{...}: it records a declaration. A mistake does not stop
// the file, so that one load reports every mistake.
func (d *declarations) job(L *lua.LState) int {
	decl := declaration{spec: schedule.JobSpec{File: d.path}}
	if dbg, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil {
			decl.spec.File, decl.spec.Line = dbg.Source, dbg.CurrentLine
		}
	}
	decl.err = d.read(L, &decl)
	d.jobs = append(d.jobs, decl)
	return 0
}

// read fills decl from the table argument of cron.job.
func (d *declarations) read(L *lua.LState, decl *declaration) error {
	spec := &decl.spec
	fail := func(format string, a ...any) error {
		err := fmt.Errorf(format, a...)
		if spec.Name == "" {
			return fmt.Errorf("%s:%d: cron.job: %w", spec.File, spec.Line, err)
		}
		return schedule.JobError(*spec, err)
	}
	t, ok := L.Get(1).(*lua.LTable)
	if !ok || L.GetTop() != 1 {
		return fail("want one table: cron.job{name = ..., schedule = ..., run = function() ... end}")
	}
	if name, ok := t.RawGetString("name").(lua.LString); ok {
		spec.Name = string(name)
	}
	var keys []string
	var bad error
	t.ForEach(func(k, _ lua.LValue) {
		key, ok := k.(lua.LString)
		switch {
		case !ok:
			bad = fail("option %s: options are named (name = ..., schedule = ...)", k.Type())
		case !slices.Contains(options, string(key)):
			keys = append(keys, string(key))
		}
	})
	if bad != nil {
		return bad
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		return fail("unknown option %q%s; the options are %s", keys[0], suggest(keys[0]), strings.Join(options, ", "))
	}
	if t.RawGetString("name") == lua.LNil {
		return fail("missing name")
	}
	var err error
	str := func(key string, dst *string) {
		if err != nil {
			return
		}
		switch v := t.RawGetString(key).(type) {
		case *lua.LNilType:
		case lua.LString:
			*dst = string(v)
		default:
			err = fail("%s: want a string, got %s", key, v.Type())
		}
	}
	dur := func(key string, dst *time.Duration) {
		if err == nil {
			*dst, err = duration(t.RawGetString(key))
			if err != nil {
				err = fail("%s: %v", key, err)
			}
		}
	}
	str("name", &spec.Name)
	str("schedule", &spec.Schedule)
	str("timezone", &spec.Timezone)
	str("script", &spec.Script)
	str("overlap", &spec.Overlap)
	dur("timeout", &spec.Timeout)
	dur("retry_backoff", &spec.RetryBackoff)
	dur("jitter", &spec.Jitter)
	dur("starting_deadline", &spec.StartingDeadline)
	if err != nil {
		return err
	}
	if spec.Schedule == "" {
		return fail("missing schedule, such as \"0 9 * * MON-FRI\", \"@hourly\" or \"@every 30s\"")
	}
	switch v := t.RawGetString("retries").(type) {
	case *lua.LNilType:
	case lua.LNumber:
		if float64(v) != float64(int(v)) {
			return fail("retries: want a whole number, got %v", v)
		}
		spec.Retries = int(v)
	default:
		return fail("retries: want a number, got %s", v.Type())
	}
	switch run := t.RawGetString("run").(type) {
	case *lua.LNilType:
	case *lua.LFunction:
		decl.run = run
	default:
		return fail("run: want a function, got %s", run.Type())
	}
	switch {
	case decl.run != nil && spec.Script != "":
		return fail("give run (a function) or script (a file), not both")
	case decl.run == nil && spec.Script == "":
		return fail("missing run (a function) or script (a Lua file to run)")
	case decl.run != nil && t.RawGetString("args") != lua.LNil:
		return fail("args are for a script; a run function reads what it needs itself")
	}
	if spec.Script != "" {
		if spec.Args, err = stringList(t.RawGetString("args")); err != nil {
			return fail("args: %v", err)
		}
		if !filepath.IsAbs(spec.Script) {
			spec.Script = filepath.Join(d.dir, spec.Script)
		}
		// Compiling checks that the script is there and is Lua, now
		// rather than at its first run.
		if d.checkScripts {
			if _, err := engine.CompileFile(d.ctx, spec.Script); err != nil {
				return fail("script: %v", err)
			}
		}
	}
	return nil
}

// duration reads a duration option: a string such as "30s" or "1h30m", or
// a number of seconds.
func duration(v lua.LValue) (time.Duration, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return 0, nil
	case lua.LNumber:
		return time.Duration(float64(v) * float64(time.Second)), nil
	case lua.LString:
		d, err := time.ParseDuration(string(v))
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration: want a number of seconds or a string such as \"30s\", \"5m\" or \"1h30m\"", string(v))
		}
		return d, nil
	}
	return 0, fmt.Errorf("want a duration such as \"30s\" or a number of seconds, got %s", v.Type())
}

// stringList reads args: a list of strings or numbers.
func stringList(v lua.LValue) ([]string, error) {
	if v == lua.LNil {
		return nil, nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("want a list of strings, got %s", v.Type())
	}
	n := t.Len()
	if count := countKeys(t); count != n {
		return nil, errors.New("want a list of strings, got a table with other keys")
	}
	out := make([]string, n)
	for i := range n {
		switch a := t.RawGetInt(i + 1).(type) {
		case lua.LString, lua.LNumber:
			out[i] = a.String()
		default:
			return nil, fmt.Errorf("argument %d: want a string, got %s", i+1, a.Type())
		}
	}
	return out, nil
}

// countKeys returns how many keys t has.
func countKeys(t *lua.LTable) int {
	n := 0
	t.ForEach(func(lua.LValue, lua.LValue) { n++ })
	return n
}

// suggest returns ` (did you mean "timeout"?)` when key is a slip of one of
// the options, else "".
func suggest(key string) string {
	for _, o := range options {
		if editDistance(strings.ToLower(key), o) <= 2 {
			return fmt.Sprintf(" (did you mean %q?)", o)
		}
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
