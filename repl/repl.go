// Package repl is the interactive prompt of wps (`wps repl`): one
// long-lived engine session that reads Lua a line at a time and prints
// what each evaluation returns.
//
// On a terminal it edits lines with peterh/liner: Tab completes from the
// session and the API registry, help() explains a function, a few
// dot-commands (.load, .timing, .trace, .http, .hub, .guard, .messages)
// help during an incident, Ctrl-C cancels the running evaluation, a guard
// asks before calls that close connections, remove them from every group
// or revoke permissions on a real service, lines go to a history file
// (never those holding a secret), and messages arriving on wps.connect
// connections are shown between prompts. Otherwise (a pipe, a file) it
// reads chunks from stdin, prints plain values and stops at the first
// error.
//
// The package owns no process state but the terminal and, on a terminal,
// SIGINT and SIGTERM; the caller makes the engine and closes it.
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"wps/engine"
	"wps/luaapi"
	"wps/webpubsub"
)

// Config configures a REPL.
type Config struct {
	// Engine runs the session. The caller makes it and closes it after
	// Run returns.
	Engine *engine.Engine
	// HTTPClient sends the session's REST requests under the REPL's own
	// transport (which counts them, keeps the last exchange and guards);
	// nil means a transport like the webpubsub package's default.
	HTTPClient *http.Client
	// Stdin, Stdout and Stderr are used when Terminal is false. On a
	// terminal liner reads os.Stdin and writes os.Stdout itself, so they
	// must be those files.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Terminal is set when stdin and stdout are the process's terminal:
	// line editing, prompts, completion, the guard, history, Ctrl-C that
	// cancels one evaluation.
	Terminal bool
	// InputTerminal is set when stdin is a terminal but stdout is not:
	// prompts go to stderr, the guard asks there, errors do not stop the
	// session.
	InputTerminal bool
	// PlainOutput prints values for programs: strings as they are, tables
	// as JSON when they can be. It is set when stdout is not a terminal.
	PlainOutput bool
	// Color allows colour in error lines (terminal mode only).
	Color bool
	// HistoryFile is where lines typed on a terminal are appended; ""
	// keeps no history file.
	HistoryFile string
	// Guard asks the operator before calls that close connections, remove
	// them from every group or revoke permissions, on any service but the
	// embedded one. It applies only when a person types (Terminal or
	// InputTerminal).
	Guard bool
	// KeepGoing goes on after an error when reading from a pipe or a file;
	// the exit status is then 1 if any evaluation failed.
	KeepGoing bool
	// Timeout bounds each evaluation; 0 means none.
	Timeout time.Duration
	// Exit ends the process at once, for a second Ctrl-C while an
	// evaluation will not stop, or SIGTERM at the prompt; nil means
	// os.Exit.
	Exit func(status int)
}

// chunkName names typed input in error messages ("stdin:1: ...").
const chunkName = "stdin"

// Run runs the REPL until the input ends, the operator leaves (Ctrl-D,
// .exit, os.exit) or a signal ends it, and returns the exit status: 0, 1
// when an evaluation failed and input was not a terminal, 130 or 143 after
// a signal, or the code given to os.exit. What went wrong has already been
// printed. The error is for a REPL that could not start (the session, the
// history file), which the caller prints.
func Run(ctx context.Context, cfg Config) (int, error) {
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	if cfg.Exit == nil {
		cfg.Exit = os.Exit
	}
	r, err := newREPL(cfg)
	if err != nil {
		return 1, err
	}
	defer r.session.Close()
	if cfg.Terminal {
		return r.runTerminal(ctx)
	}
	return r.runLines(ctx)
}

// repl is the state both modes share: the session, its transport and what
// the dot-commands show.
type repl struct {
	cfg       Config
	session   *engine.Session
	transport *transport
	guard     *guard
	arrivals  *arrivals
	// target is the engine's target with the current hub (.hub).
	target engine.Target
	// out is where values and notices go; errOut where errors go.
	out, errOut io.Writer
	timing      bool
	// timingLine is the timing of the last evaluation, until printed.
	timingLine string
	// lastError is the last evaluation's error, for .trace.
	lastError error
	// asker asks the operator a yes/no question (the guard); nil when no
	// person is there.
	asker func(question []string) bool
	// pending holds the lines of an input that needs more.
	pending []string
	// begin starts an evaluation the mode can cancel (Ctrl-C); done must
	// be called when it ends.
	begin func() (ctx context.Context, cancel context.CancelCauseFunc, done func())
}

// shutdownGrace is how long the embedded service may take to close when
// the process ends at once.
const shutdownGrace = 2 * time.Second

// newREPL makes the session and its transport.
func newREPL(cfg Config) (*repl, error) {
	r := &repl{cfg: cfg, target: cfg.Engine.Target(), out: cfg.Stdout, errOut: cfg.Stderr, arrivals: newArrivals()}
	inner := cfg.HTTPClient
	if inner == nil {
		inner = &http.Client{Transport: webpubsub.DefaultTransport()}
	}
	r.guard = newGuard(cfg.Guard && (cfg.Terminal || cfg.InputTerminal), r.isLocal, r.countingClient, r.ask)
	r.transport = newTransport(inner.Transport, r.guard)
	httpClient := *inner
	httpClient.Transport = r.transport
	session, err := cfg.Engine.NewSession(engine.RunOptions{
		HTTPClient: &httpClient,
		Setup: func(L *lua.LState) error {
			L.SetGlobal("help", L.NewFunction(r.luaHelp))
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	r.session = session
	return r, nil
}

// ask asks the operator through the mode's asker; no asker means no.
func (r *repl) ask(question []string) bool {
	if r.asker == nil {
		return false
	}
	return r.asker(question)
}

// evaluate runs one complete input under ctx (already bounded by the
// caller's cancellation), with the per-evaluation state the guard reads,
// and prints timing when it is on.
func (r *repl) evaluate(ctx context.Context, cancel context.CancelCauseFunc, input string) ([]lua.LValue, error) {
	ctx, stop := engine.WithTimeout(ctx, r.cfg.Timeout, "--timeout")
	defer stop()
	ctx = withEvaluation(ctx, cancel)
	r.transport.reset()
	start := time.Now()
	values, err := r.session.Eval(ctx, chunkName, input)
	r.measure(start, err)
	return values, err
}

// feed adds line to the input being read and, once the input compiles (or
// cannot be fixed by more lines), evaluates it and reports the outcome
// (an os.exit is left to the caller). It returns whether an evaluation
// ran (not for a blank input, nor one that needs more lines) and its
// error.
func (r *repl) feed(line string) (ran bool, err error) {
	r.pending = append(r.pending, line)
	input := strings.Join(r.pending, "\n")
	if strings.TrimSpace(input) == "" {
		r.pending = nil
		return false, nil
	}
	ctx, cancel, done := r.begin()
	values, err := r.evaluate(ctx, cancel, input)
	done()
	if errors.Is(err, engine.ErrIncomplete) {
		return false, nil
	}
	r.pending = nil
	if !isExit(err) {
		r.report(values, err)
	}
	return true, err
}

// load compiles the file at path and runs it in the session (.load).
func (r *repl) load(ctx context.Context, cancel context.CancelCauseFunc, path string) ([]lua.LValue, error) {
	ctx, stop := engine.WithTimeout(ctx, r.cfg.Timeout, "--timeout")
	defer stop()
	ctx = withEvaluation(ctx, cancel)
	script, err := engine.CompileFile(ctx, path)
	if err != nil {
		return nil, err
	}
	r.transport.reset()
	start := time.Now()
	values, err := r.session.Exec(ctx, script)
	r.measure(start, err)
	return values, err
}

// measure keeps the timing line of an evaluation that started at start,
// for report to print after its values.
func (r *repl) measure(start time.Time, err error) {
	r.timingLine = ""
	if r.timing && !errors.Is(err, engine.ErrIncomplete) {
		r.timingLine = fmt.Sprintf("(%s, %s)", roundDuration(time.Since(start)), plural(r.transport.calls(), "REST call"))
	}
}

// report prints the outcome of an evaluation: its values, or its error
// on one line (the traceback waits for .trace).
func (r *repl) report(values []lua.LValue, err error) {
	switch {
	case err != nil:
		r.lastError = err
		r.printError(errorLine(err))
	case len(values) > 0:
		fmt.Fprintln(r.out, formatValues(r.session.State(), values, r.cfg.PlainOutput))
	}
	if r.timingLine != "" {
		fmt.Fprintln(r.errOut, r.timingLine)
		r.timingLine = ""
	}
}

// printError prints one error line, in red on a terminal that allows it.
func (r *repl) printError(line string) {
	if r.cfg.Terminal && r.cfg.Color {
		line = "\x1b[31m" + line + "\x1b[0m"
	}
	fmt.Fprintln(r.errOut, line)
}

// errorLine is the one line an error gets: the structured error's text
// without its traceback.
func errorLine(err error) string {
	var denied *DeniedError
	var scriptErr *engine.Error
	switch {
	case errors.As(err, &denied):
		return denied.Error()
	case errors.As(err, &scriptErr):
		line, _, _ := strings.Cut(scriptErr.Message, "\n")
		return line
	}
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// roundDuration rounds d for the timing line.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// setHub switches the default hub of the session (.hub).
func (r *repl) setHub(ctx context.Context, hub string) error {
	if err := r.session.Module().SetHub(ctx, hub); err != nil {
		return err
	}
	r.target.Hub = hub
	return nil
}

// module returns the session's wps module.
func (r *repl) module() *luaapi.Module { return r.session.Module() }
