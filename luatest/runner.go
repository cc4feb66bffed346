// Package luatest is the test runner of `wps test`: it finds *_test.lua
// files, runs their busted-style tests (describe, it, pending,
// before_each, after_each, setup, teardown, and luassert's assert names)
// on the engine, each file in its own Lua state and each test with its own
// HTTP transport, and reports the results as text, TAP, JSON or JUnit XML.
//
// A test file's REST calls are served from a fixture beside it
// (foo_test.lua → foo_test.fixture.json, in the Azure SDK test-proxy JSON
// shape): when the fixture exists they replay from it with no network;
// when it does not, or with Options.Record, they go to the configured or
// embedded service and the fixture is written, redacted; with
// Options.Live they go to the service and nothing is written. See
// transport.go for how a fixture's entries map to tests.
package luatest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"wps/engine"
	"wps/webpubsub"
	"wps/webpubsub/recording"
)

// Options configure a run of test files.
type Options struct {
	// Target is the service of recorded and live runs (see
	// engine.ResolveTarget); the zero value is the embedded service.
	Target engine.Target
	// ReplayHub, if set, is the hub of the default client when replaying
	// (the --hub flag); else the hub the fixture was recorded with.
	ReplayHub string
	// Sandbox runs the tests and their scripts in the engine's sandbox.
	Sandbox bool
	// NewLogger returns the logger of a file's tests, writing to w (the
	// running test's output); nil means log lines at info level and
	// above, as text.
	NewLogger func(w io.Writer) *slog.Logger
	// LookupEnv reads the environment for env(); nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Timeout limits each test, and each hook, separately; 0 means none.
	Timeout time.Duration
	// StopGrace is how long a test may take to stop once its timeout has
	// passed before it is abandoned (engine.Options.StopGrace).
	StopGrace time.Duration
	// Run, if set, selects the tests whose full name it matches.
	Run *regexp.Regexp
	// List lists the selected tests instead of running them.
	List bool
	// Verbose shows every test and its output, not only failures.
	Verbose bool
	// Format is the report on Stdout: "text" (the default), "tap" or
	// "json".
	Format string
	// JUnit, if set, is a file to write a JUnit XML report to.
	JUnit string
	// Record records every file, even those with a fixture; Live runs
	// every file against the service without fixtures. At most one.
	Record, Live bool
	// Strict fails a test (or a file) that leaves recorded requests
	// unused.
	Strict bool
	// IgnoreAPIVersion leaves api-version out of request matching.
	IgnoreAPIVersion bool
	// AllowEmpty makes a run where no test ran succeed.
	AllowEmpty bool
	// Redact are extra regular expressions redacted from recorded
	// fixtures (see recording.RecordOptions.Patterns).
	Redact []string
	// Transport sends recorded and live requests; nil means a transport
	// set like the webpubsub package's default.
	Transport http.RoundTripper
	// Stdout receives the report; Stderr notes that would break a TAP or
	// JSON report. Nil discards.
	Stdout, Stderr io.Writer
}

// Status is the outcome of a test.
type Status string

// The outcomes of a test.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Result is the outcome of one test (or of a file that could not load, or
// a failed teardown, named so).
type Result struct {
	// File is the test file, as found.
	File string `json:"file"`
	// Name is the test's full name: the enclosing describes' names and
	// its own, space-separated.
	Name string `json:"name"`
	// Line is where the test is declared.
	Line   int    `json:"line"`
	Status Status `json:"status"`
	// Message says why the test failed, or why it was skipped.
	Message string `json:"message,omitempty"`
	// Output is what the test printed and logged.
	Output   string        `json:"output,omitempty"`
	Duration time.Duration `json:"-"`
}

// FileResult is the outcome of one test file.
type FileResult struct {
	Path string
	// Mode is "replay", "record", "live" or "list".
	Mode    string
	Results []*Result
	// Notes are what the runner says about the file: a fixture written,
	// recorded requests left unused.
	Notes    []string
	Duration time.Duration
}

// Summary is the outcome of a run.
type Summary struct {
	Files                   []*FileResult
	Passed, Failed, Skipped int
	Duration                time.Duration
	Interrupted             bool
}

// FailedError is the error of a run where tests failed; the report has
// said which.
type FailedError struct{ Failed int }

func (e *FailedError) Error() string { return fmt.Sprintf("%d test(s) failed", e.Failed) }

// ErrNoTests is the error of a run where no test ran, unless
// Options.AllowEmpty.
var ErrNoTests = errors.New("no test ran")

// Discover returns the test files named by paths: a file as it is, a
// folder searched recursively for *_test.lua, skipping folders named
// testdata or node_modules or starting with . or _. No paths means ".".
// The result is sorted and without duplicates.
func Discover(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	seen := map[string]bool{}
	var files []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			add(filepath.Clean(root))
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if p != root && (name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(name, "_test.lua") {
				add(p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// FixturePath returns the fixture of a test file: foo_test.lua →
// foo_test.fixture.json beside it, or foo_test.fixture.yaml when only
// that exists (a vcrpy cassette, replayed as it is; recording always
// writes the JSON file).
func FixturePath(testFile string) string {
	base := strings.TrimSuffix(testFile, ".lua") + ".fixture"
	if _, err := os.Stat(base + ".json"); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(base + ".yaml"); err == nil {
			return base + ".yaml"
		}
	}
	return base + ".json"
}

// replayConnectionString is the default client's service when replaying:
// the placeholder host of fixtures, and a key that is no secret. Nothing
// is sent there: every request is answered by the fixture.
const replayConnectionString = "Endpoint=https://" + recording.PlaceholderHost + ";AccessKey=replay-key-not-a-secret;Version=1.0;"

// Runner runs test files.
type Runner struct {
	opts     Options
	report   reporter
	mu       sync.Mutex
	scripts  map[string]*engine.Script // run_script's, by path
	live     *engine.Engine            // the engine of recorded and live files
	liveOnce sync.Once
}

// Run runs the test files named by paths (see Discover) and reports as
// opts say. It returns the summary, and an error when the run failed: a
// test failed (the report has said which), no test ran, or the files
// could not be found.
func Run(ctx context.Context, paths []string, opts Options) (*Summary, error) {
	if opts.Record && opts.Live {
		return nil, errors.New("--record and --live exclude each other")
	}
	for _, p := range opts.Redact {
		if _, err := recording.CheckPattern(p); err != nil {
			return nil, err
		}
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if opts.NewLogger == nil {
		opts.NewLogger = func(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
	}
	if opts.Transport == nil {
		opts.Transport = webpubsub.DefaultTransport()
	}
	files, err := Discover(paths)
	if err != nil {
		return nil, err
	}
	rep, err := newReporter(opts)
	if err != nil {
		return nil, err
	}
	r := &Runner{opts: opts, report: rep, scripts: map[string]*engine.Script{}}
	defer r.close()
	start := time.Now()
	sum := &Summary{}
	for _, path := range files {
		if ctx.Err() != nil {
			sum.Interrupted = true
			break
		}
		fr := r.runFile(ctx, path)
		sum.Files = append(sum.Files, fr)
		for _, res := range fr.Results {
			switch res.Status {
			case Passed:
				sum.Passed++
			case Failed:
				sum.Failed++
			case Skipped:
				sum.Skipped++
			}
		}
	}
	if ctx.Err() != nil {
		sum.Interrupted = true
	}
	sum.Duration = time.Since(start)
	if err := rep.end(sum); err != nil {
		return sum, err
	}
	switch {
	case sum.Interrupted:
		return sum, context.Cause(ctx)
	case sum.Failed > 0:
		return sum, &FailedError{Failed: sum.Failed}
	case opts.List:
		return sum, nil
	case sum.Passed+sum.Failed == 0 && !opts.AllowEmpty:
		return sum, ErrNoTests
	}
	return sum, nil
}

func (r *Runner) close() {
	if r.live != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.live.Close(ctx)
	}
}

// engineOptions are the options of every engine the runner makes.
func (r *Runner) engineOptions(target engine.Target) engine.Options {
	return engine.Options{Target: target, Sandbox: r.opts.Sandbox, LookupEnv: r.opts.LookupEnv, StopGrace: r.opts.StopGrace}
}

// liveEngine returns the engine of recorded and live files, shared so
// that the embedded service starts once.
func (r *Runner) liveEngine() *engine.Engine {
	r.liveOnce.Do(func() { r.live = engine.New(r.engineOptions(r.opts.Target)) })
	return r.live
}

// compile compiles the script at path once per run.
func (r *Runner) compile(ctx context.Context, path string) (*engine.Script, error) {
	r.mu.Lock()
	s, ok := r.scripts[path]
	r.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := engine.CompileFile(ctx, path)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.scripts[path] = s
	r.mu.Unlock()
	return s, nil
}

// fileFixture is a test file's fixture and how its requests are served.
type fileFixture struct {
	mode mode
	path string
	// variables are the replayed fixture's Variables.
	variables map[string]string
	// byTag holds the replayed entries of each test; shared answers the
	// untagged ones.
	byTag  map[string]*recording.Fixture
	shared *recording.Replayer
	// exists says a fixture is being replaced when recording.
	exists bool
	// newRecorder makes the recorder and says the secrets it redacts,
	// on the first request or variable: a file that makes no REST call
	// starts no service and gets no fixture.
	newRecorder func() (*recording.Recorder, []string, error)
	mu          sync.Mutex
	recorder    *recording.Recorder
	secrets     []string
	real        http.RoundTripper
	opts        *recording.ReplayOptions
	// used are the names of the scopes made: when recording only some
	// tests, the old entries of the others are kept.
	used map[string]bool
}

// rec returns the recorder, making it on first use.
func (fx *fileFixture) rec() (*recording.Recorder, error) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	if fx.recorder == nil {
		var err error
		if fx.recorder, fx.secrets, err = fx.newRecorder(); err != nil {
			return nil, err
		}
	}
	return fx.recorder, nil
}

// scope returns the scope of a test or hook named name.
func (fx *fileFixture) scope(name string) *scope {
	s := &scope{name: name, fx: fx}
	fx.used[name] = true
	if sub := fx.byTag[name]; sub != nil {
		s.own = recording.NewReplayer(sub, fx.opts)
	}
	return s
}

// openFixture decides how the file's requests are served and loads or
// prepares its fixture.
func (r *Runner) openFixture(ctx context.Context, testFile string) (*fileFixture, *engine.Engine, error) {
	fx := &fileFixture{path: FixturePath(testFile), real: r.opts.Transport, used: map[string]bool{}, opts: &recording.ReplayOptions{IgnoreAPIVersion: r.opts.IgnoreAPIVersion}}
	_, statErr := os.Stat(fx.path)
	switch {
	case r.opts.List:
		fx.mode = modeList
	case r.opts.Live:
		fx.mode = modeLive
	case r.opts.Record || errors.Is(statErr, fs.ErrNotExist):
		fx.mode = modeRecord
	default:
		fx.mode = modeReplay
	}
	switch fx.mode {
	case modeList:
		return fx, engine.New(r.engineOptions(engine.Target{ConnectionString: replayConnectionString, Hub: r.opts.Target.Hub})), nil
	case modeLive:
		return fx, r.liveEngine(), nil
	case modeRecord:
		e := r.liveEngine()
		if strings.HasSuffix(fx.path, ".yaml") {
			// The cassette stays; the JSON file is new.
			fx.path = strings.TrimSuffix(fx.path, ".yaml") + ".json"
			statErr = fs.ErrNotExist
		}
		fx.newRecorder = func() (*recording.Recorder, []string, error) {
			cs, err := e.Service(context.Background())
			if err != nil {
				return nil, nil, err
			}
			parsed, err := webpubsub.ParseConnectionString(cs)
			if err != nil {
				return nil, nil, err
			}
			secrets := []string{parsed.AccessKey, cs}
			rec, err := recording.NewRecorder(recording.RecordOptions{
				Transport: untagging{r.opts.Transport}, Secrets: secrets, Patterns: r.opts.Redact,
			})
			if err != nil {
				return nil, nil, err
			}
			rec.SetVariable(hubVariable, e.Target().Hub)
			return rec, secrets, nil
		}
		fx.exists = statErr == nil
		return fx, e, nil
	}
	loaded, err := recording.Load(fx.path)
	if err != nil {
		return nil, nil, err
	}
	fx.variables = loaded.Variables
	fx.byTag = map[string]*recording.Fixture{}
	untagged := &recording.Fixture{}
	for _, in := range loaded.Interactions {
		tag := in.RequestHeader.Get(TagHeader)
		if tag == "" {
			untagged.Interactions = append(untagged.Interactions, in)
			continue
		}
		sub := fx.byTag[tag]
		if sub == nil {
			sub = &recording.Fixture{}
			fx.byTag[tag] = sub
		}
		sub.Interactions = append(sub.Interactions, in)
	}
	if len(untagged.Interactions) > 0 {
		fx.shared = recording.NewReplayer(untagged, fx.opts)
	}
	hub := r.opts.ReplayHub
	if hub == "" {
		hub = loaded.Variables[hubVariable]
	}
	if hub != "" {
		if err := webpubsub.CheckHubName(hub); err != nil {
			return nil, nil, fmt.Errorf("%s: variable %s: %w", fx.path, hubVariable, err)
		}
	}
	return fx, engine.New(r.engineOptions(engine.Target{ConnectionString: replayConnectionString, Hub: hub})), nil
}

// fileRun is the run of one test file.
type fileRun struct {
	r    *Runner
	path string
	dir  string
	fx   *fileFixture
	eng  *engine.Engine
	// script is the file, compiled.
	script *engine.Script

	out        *switchWriter
	transport  *switchTransport
	httpClient *http.Client
	logger     *slog.Logger

	session *engine.Session
	tree    *tree
	// declared are the tests as the file first declared them.
	declared []*testCase
	// broken is set when a call was stopped hard: the session must be
	// replaced before the next call.
	broken bool
	// entered are the blocks whose setup has run, outermost first.
	entered []*block
	// setupErr holds the failure of a block's setup.
	setupErr map[*block]string
	// cur is the scope of the running call.
	cur *scope
	res *FileResult
}

// runFile runs (or lists) the tests of one file.
func (r *Runner) runFile(ctx context.Context, path string) *FileResult {
	start := time.Now()
	res := &FileResult{Path: path}
	defer func() { res.Duration = time.Since(start) }()
	r.report.fileStart(path)
	fail := func(name string, err error) *FileResult {
		res.Results = append(res.Results, &Result{File: path, Name: name, Status: Failed, Message: err.Error()})
		r.report.test(res.Results[len(res.Results)-1])
		r.report.fileEnd(res)
		return res
	}
	script, err := engine.CompileFile(ctx, path)
	if err != nil {
		return fail("(loading the file)", err)
	}
	fx, eng, err := r.openFixture(ctx, path)
	if err != nil {
		return fail("(opening the fixture)", err)
	}
	res.Mode = fx.mode.String()
	if fx.mode == modeList {
		defer eng.Close(context.Background())
	} else if fx.mode == modeReplay {
		defer eng.Close(context.Background())
	}
	f := &fileRun{
		r: r, path: path, dir: filepath.Dir(path), fx: fx, eng: eng, script: script,
		out: &switchWriter{}, transport: &switchTransport{}, setupErr: map[*block]string{}, res: res,
	}
	f.httpClient = &http.Client{Transport: f.transport}
	f.logger = r.opts.NewLogger(f.out)
	if err := f.load(ctx); err != nil {
		return fail("(loading the file)", err)
	}
	f.declared = f.tree.tests
	defer func() {
		if f.session != nil && !f.broken {
			f.session.Close()
		}
	}()
	var selected []int
	for i, tc := range f.tree.tests {
		if r.opts.Run == nil || r.opts.Run.MatchString(tc.full) {
			selected = append(selected, i)
		}
	}
	if r.opts.List {
		for _, i := range selected {
			tc := f.tree.tests[i]
			r.report.listed(path, tc)
		}
		r.report.fileEnd(res)
		return res
	}
	for _, i := range selected {
		if ctx.Err() != nil {
			break
		}
		f.runTest(ctx, i)
	}
	f.leaveTo(0)
	f.finish(ctx, len(selected) == len(f.tree.tests))
	r.report.fileEnd(res)
	return res
}

// setupState installs the test globals in a new state of the file, and
// lets require find Lua modules beside the test file (shared helpers).
func (f *fileRun) setupState(L *lua.LState) error {
	f.tree.install(L)
	installAssert(L)
	f.installGlobals(L)
	if pkg, ok := L.GetGlobal("package").(*lua.LTable); ok {
		if path, ok := pkg.RawGetString("path").(lua.LString); ok && path != "" {
			pkg.RawSetString("path", lua.LString(filepath.Join(f.dir, "?.lua")+";"+string(path)))
		}
	}
	return f.scriptSetup(L)
}

// scriptSetup prepares the state of a test file or of a script it runs.
func (f *fileRun) scriptSetup(L *lua.LState) error {
	if f.fx.mode == modeReplay || f.fx.mode == modeList {
		blockConnect(L)
	}
	return nil
}

// load makes the file's state and runs its chunk, which declares the
// tests.
func (f *fileRun) load(ctx context.Context) error {
	f.tree = newTree()
	session, err := f.eng.NewSession(engine.RunOptions{Stdout: f.out, Logger: f.logger, HTTPClient: f.httpClient, Setup: f.setupState})
	if err != nil {
		return err
	}
	f.session, f.broken, f.entered = session, false, nil
	f.setupErr = map[*block]string{}
	sc := f.fx.scope("(loading)")
	f.tree.declaring = true
	err = f.call(ctx, sc, func(ctx context.Context) error {
		_, err := f.session.Exec(ctx, f.script)
		return err
	})
	f.tree.declaring = false
	if err != nil {
		if !f.broken {
			f.session.Close()
		}
		f.session = nil
		msg := failureMessage(err, sc)
		if out := sc.output.String(); out != "" {
			msg += "\noutput:\n" + out
		}
		return errors.New(msg)
	}
	return nil
}

// call runs fn (a call into the file's state) as the scope sc: its
// output, its transport, its timeout.
func (f *fileRun) call(ctx context.Context, sc *scope, fn func(ctx context.Context) error) error {
	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	callCtx, stop := engine.WithTimeout(callCtx, f.r.opts.Timeout, "--timeout")
	defer stop()
	sc.setCancel(cancel)
	defer sc.setCancel(nil)
	f.cur = sc
	f.out.set(&sc.output)
	f.transport.set(sc)
	err := fn(callCtx)
	var stopErr *engine.Error
	if errors.As(err, &stopErr) && stopErr.HardStop {
		f.broken = true
	}
	return err
}

// callFn calls the Lua function fn of the file's state as sc.
func (f *fileRun) callFn(ctx context.Context, sc *scope, fn *lua.LFunction) error {
	f.tree.running = true
	defer func() { f.tree.running = false }()
	return f.call(ctx, sc, func(ctx context.Context) error {
		_, err := f.session.Call(ctx, fn)
		return err
	})
}

// runTest runs the test at index i of the file's tests, with its hooks,
// and reports it.
func (f *fileRun) runTest(ctx context.Context, i int) {
	tc := f.declared[i]
	if f.session != nil && f.broken {
		// A test would not stop: start again in a new state, which
		// declares the tests again.
		f.session.Close()
		f.session = nil
		if err := f.load(ctx); err != nil {
			f.fail(tc, "the file could not be loaded again after a test that would not stop: "+err.Error())
			return
		}
	}
	switch {
	case f.session == nil:
		f.fail(tc, "not run: the file could not be loaded again after a test that would not stop")
		return
	case i >= len(f.tree.tests) || f.tree.tests[i].full != tc.full:
		f.fail(tc, "not run: the file declared other tests when loaded again after a test that would not stop")
		return
	}
	tc = f.tree.tests[i] // the same test, declared in the current state
	res := &Result{File: f.path, Name: tc.full, Line: tc.line}
	start := time.Now()
	defer func() {
		res.Duration = time.Since(start)
		f.res.Results = append(f.res.Results, res)
		f.r.report.test(res)
	}()
	if tc.isPend {
		res.Status, res.Message = Skipped, tc.pending
		return
	}
	blocks := tc.block.chain()
	f.enter(ctx, blocks)
	for _, b := range blocks {
		if msg, failed := f.setupErr[b]; failed {
			res.Status, res.Message = Failed, msg
			return
		}
	}
	sc := f.fx.scope(tc.full)
	var err error
	for _, b := range blocks {
		for _, fn := range b.beforeEach {
			if err == nil && !f.broken {
				err = f.callFn(ctx, sc, fn)
			}
		}
	}
	if err == nil && !f.broken {
		err = f.callFn(ctx, sc, tc.fn)
	}
	for j := len(blocks) - 1; j >= 0; j-- {
		for _, fn := range blocks[j].afterEach {
			if f.broken {
				break
			}
			if afterErr := f.callFn(ctx, sc, fn); err == nil {
				err = afterErr
			}
		}
	}
	res.Output = sc.output.String()
	res.Status = Passed
	var pending *pendingSignal
	switch {
	case sc.Failure() != nil || err != nil && !asPending(err, &pending):
		res.Status, res.Message = Failed, failureMessage(err, sc)
	case pending != nil:
		res.Status, res.Message = Skipped, pending.reason
	}
	if sc.own != nil && res.Status == Passed {
		if unused := sc.own.Unused(); len(unused) > 0 {
			msg := unusedMessage(unused, f.fx.path)
			if f.r.opts.Strict {
				res.Status, res.Message = Failed, msg+" (--strict)"
			} else {
				f.note(tc.full + ": " + msg)
			}
		}
	}
}

// fail reports the test tc as failed with msg, without running it.
func (f *fileRun) fail(tc *testCase, msg string) {
	res := &Result{File: f.path, Name: tc.full, Line: tc.line, Status: Failed, Message: msg}
	f.res.Results = append(f.res.Results, res)
	f.r.report.test(res)
}

// enter runs the setup of the blocks of blocks not yet entered, leaving
// first those entered that are not in blocks.
func (f *fileRun) enter(ctx context.Context, blocks []*block) {
	common := 0
	for common < len(f.entered) && common < len(blocks) && f.entered[common] == blocks[common] {
		common++
	}
	f.leaveTo(common)
	for _, b := range blocks[common:] {
		f.entered = append(f.entered, b)
		if _, failed := f.setupErr[b.parent]; failed && b.parent != nil {
			f.setupErr[b] = f.setupErr[b.parent]
			continue
		}
		sc := f.fx.scope(hookName(b, "setup"))
		for _, fn := range b.setup {
			if f.broken {
				break
			}
			if err := f.callFn(ctx, sc, fn); err != nil || sc.Failure() != nil {
				msg := "setup failed: " + failureMessage(err, sc)
				if out := sc.output.String(); out != "" {
					msg += "\nsetup output:\n" + out
				}
				f.setupErr[b] = msg
				break
			}
		}
	}
}

// leaveTo runs the teardown of the entered blocks beyond the first n,
// innermost first. A failed teardown is reported as a failed result.
func (f *fileRun) leaveTo(n int) {
	for len(f.entered) > n {
		b := f.entered[len(f.entered)-1]
		f.entered = f.entered[:len(f.entered)-1]
		if len(b.teardown) == 0 || f.broken {
			continue
		}
		name := hookName(b, "teardown")
		sc := f.fx.scope(name)
		for _, fn := range b.teardown {
			if err := f.callFn(context.Background(), sc, fn); err != nil || sc.Failure() != nil {
				res := &Result{File: f.path, Name: name, Line: b.line, Status: Failed, Message: failureMessage(err, sc), Output: sc.output.String()}
				f.res.Results = append(f.res.Results, res)
				f.r.report.test(res)
				break
			}
		}
	}
}

// hookName names the scope of a block's setup or teardown.
func hookName(b *block, hook string) string {
	if name := b.fullName(); name != "" {
		return name + " (" + hook + ")"
	}
	return "(" + hook + ")"
}

func asPending(err error, p **pendingSignal) bool {
	var e *engine.Error
	if !errors.As(err, &e) || e.Kind != engine.KindRuntime {
		return false
	}
	ud, ok := e.Value.(*lua.LUserData)
	if !ok {
		return false
	}
	*p, ok = ud.Value.(*pendingSignal)
	return ok
}

// failureMessage says why a call failed: the assertion's report, the
// replayed request that matched nothing, or the script error.
func failureMessage(err error, sc *scope) string {
	var e *engine.Error
	if failure := sc.Failure(); failure != nil {
		msg := failure.Error()
		if errors.As(err, &e) {
			if where := stoppedAt(e.Message, msg); where != "" {
				if sc.scriptWhere != "" {
					where = sc.scriptWhere + ", run at " + where
				}
				msg += "\n(the test stopped at " + where + ")"
			}
		}
		return msg
	}
	if errors.As(err, &e) {
		if ud, ok := e.Value.(*lua.LUserData); ok {
			if af, ok := ud.Value.(*assertFailure); ok {
				return af.Error()
			}
		}
		if e.Kind == engine.KindRuntime && e.Traceback != "" {
			return e.Message + "\n" + e.Traceback
		}
		return e.Message
	}
	var exit *engine.ExitError
	if errors.As(err, &exit) {
		msg := fmt.Sprintf("the test called os.exit(%d)", exit.Code)
		if exit.Message != "" {
			msg += ": " + exit.Message
		}
		return msg
	}
	if err == nil {
		return "failed"
	}
	return err.Error()
}

// stoppedAt returns where a script stopped by cause was, from the
// engine's message "cause at file:line[: detail]", or "".
func stoppedAt(message, cause string) string {
	rest, ok := strings.CutPrefix(message, cause+" at ")
	if !ok {
		return ""
	}
	where, _, _ := strings.Cut(rest, ": ")
	return where
}

func unusedMessage(unused []recording.Interaction, fixture string) string {
	names := make([]string, 0, len(unused))
	for _, in := range unused {
		names = append(names, in.String())
	}
	word := "requests were"
	if len(unused) == 1 {
		word = "request was"
	}
	return fmt.Sprintf("%d recorded %s not made: %s of %s", len(unused), word, strings.Join(names, ", "), fixture)
}

// note adds a note about the file.
func (f *fileRun) note(s string) {
	f.res.Notes = append(f.res.Notes, s)
	f.r.report.note(f.path, s)
}

// finish reports the shared entries left unused and, when recording,
// writes the fixture. all says every test of the file was selected.
func (f *fileRun) finish(ctx context.Context, all bool) {
	failed := false
	for _, res := range f.res.Results {
		failed = failed || res.Status == Failed
	}
	switch f.fx.mode {
	case modeReplay:
		if f.fx.shared == nil || !all || failed || ctx.Err() != nil {
			return
		}
		if unused := f.fx.shared.Unused(); len(unused) > 0 {
			msg := unusedMessage(unused, f.fx.path)
			if f.r.opts.Strict {
				res := &Result{File: f.path, Name: "(unused recorded requests)", Status: Failed, Message: msg + " (--strict)"}
				f.res.Results = append(f.res.Results, res)
				f.r.report.test(res)
			} else {
				f.note(msg)
			}
		}
	case modeRecord:
		if f.fx.recorder == nil && !f.fx.exists {
			return // no request, no variable, no fixture to replace
		}
		if failed || ctx.Err() != nil {
			f.note("fixture not written: tests failed while recording")
			return
		}
		n, err := f.save(all)
		if err != nil {
			res := &Result{File: f.path, Name: "(writing the fixture)", Status: Failed, Message: err.Error()}
			f.res.Results = append(f.res.Results, res)
			f.r.report.test(res)
			return
		}
		f.note(fmt.Sprintf("recorded %d request(s) to %s", n, f.fx.path))
	}
}

// save writes the recorded fixture. When only some tests ran, the entries
// of the others are kept from the fixture it replaces.
func (f *fileRun) save(all bool) (int, error) {
	rec, err := f.fx.rec()
	if err != nil {
		return 0, err
	}
	var old *recording.Fixture
	if !all && f.fx.exists {
		if old, err = recording.Load(f.fx.path); err != nil {
			return 0, fmt.Errorf("keeping the entries of the tests not run: %w", err)
		}
	}
	if old == nil {
		return rec.Len(), rec.Save(f.fx.path)
	}
	data, err := rec.Bytes()
	if err != nil {
		return 0, err
	}
	fresh, err := recording.ParseTestProxy(data)
	if err != nil {
		return 0, err
	}
	merged := &recording.Fixture{Variables: old.Variables}
	if merged.Variables == nil {
		merged.Variables = map[string]string{}
	}
	for k, v := range fresh.Variables {
		merged.Variables[k] = v
	}
	for _, in := range old.Interactions {
		tag := in.RequestHeader.Get(TagHeader)
		if tag != "" && !f.fx.used[tag] {
			merged.Interactions = append(merged.Interactions, in)
		}
	}
	merged.Interactions = append(merged.Interactions, fresh.Interactions...)
	for i := range merged.Interactions {
		merged.Interactions[i].Index = i
	}
	return len(fresh.Interactions), recording.SaveFixture(f.fx.path, merged, f.fx.secrets...)
}
