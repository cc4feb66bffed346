package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// RunOptions are what belongs to one run. A zero field takes the engine's
// default (Options).
type RunOptions struct {
	// Args are the script's arguments: the args global and the chunk's
	// ... .
	Args []string
	// Stdout receives print.
	Stdout io.Writer
	// Logger receives the run's log.* lines and, at debug level, its HTTP
	// exchanges.
	Logger *slog.Logger
	// HTTPClient sends the run's REST requests (its default client's and
	// those of wps.client{}); a test runner sets a recording or replaying
	// transport here.
	HTTPClient *http.Client
	// Setup, if set, runs on the run's state after the engine's Setup.
	Setup func(L *lua.LState) error
}

// withDefaults fills the zero fields of opts from the engine's options.
func (e *Engine) withDefaults(opts RunOptions) RunOptions {
	if opts.Stdout == nil {
		opts.Stdout = e.opts.Stdout
	}
	if opts.Logger == nil {
		opts.Logger = e.opts.Logger
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = e.opts.HTTPClient
	}
	return opts
}

// Run runs script once in a fresh state configured by opts, under ctx: when
// ctx ends the script stops, wherever it is (a busy loop, sleep, a REST
// call). The connections the run opened are closed when it ends. Run
// returns nil on success (os.exit(0) included), an *Error for a runtime
// error or an interruption, or an *ExitError when the script called
// os.exit with another status.
func (e *Engine) Run(ctx context.Context, script *Script, opts RunOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	opts = e.withDefaults(opts)
	L, wps, err := e.newState(ctx, opts)
	if err != nil {
		return err
	}
	args := make([]lua.LValue, len(opts.Args))
	for i, a := range opts.Args {
		args[i] = lua.LString(a)
	}
	_, err = e.call(ctx, L, L.NewFunctionFromProto(script.proto), args)
	wps.Close()
	var stopErr *Error
	if !errors.As(err, &stopErr) || !stopErr.HardStop {
		// A state stopped hard is still in use by its goroutine.
		L.Close()
	}
	if exit, ok := err.(*ExitError); ok && exit.Code == 0 {
		return nil
	}
	return err
}

// RunFile compiles the script at path and runs it with args (see
// CompileFile and Run).
func (e *Engine) RunFile(ctx context.Context, path string, args []string) error {
	script, err := CompileFile(ctx, path)
	if err != nil {
		return err
	}
	return e.Run(ctx, script, RunOptions{Args: args})
}

// RunString compiles src, named name in messages, and runs it (see Run).
func (e *Engine) RunString(ctx context.Context, name, src string) error {
	script, err := Compile(name, src)
	if err != nil {
		return err
	}
	return e.Run(ctx, script, RunOptions{})
}

// call calls fn with args in L under ctx and returns its results. The call
// runs on its own goroutine, so that when ctx ends and the script does not
// stop within the grace period (it is inside a long builtin such as a
// string.find that backtracks for hours), call returns anyway with an
// *Error whose HardStop is set. L must not be used again after that: the
// goroutine still runs in it. While the call runs, the memory limit is
// watched (see heapWatch).
func (e *Engine) call(ctx context.Context, L *lua.LState, fn lua.LValue, args []lua.LValue) ([]lua.LValue, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if limit := e.memoryLimit(); limit > 0 {
		defer memoryWatch.watch(limit, e.opts.MaxMemoryName, cancel)()
	}
	type result struct {
		values []lua.LValue
		err    error
	}
	done := make(chan result, 1)
	go func() {
		values, err := protectedCall(ctx, L, fn, args)
		done <- result{values, err}
	}()
	select {
	case r := <-done:
		return r.values, r.err
	case <-ctx.Done():
	}
	grace := time.NewTimer(e.opts.StopGrace)
	defer grace.Stop()
	select {
	case r := <-done:
		return r.values, r.err
	case <-grace.C:
		cause := context.Cause(ctx)
		return nil, &Error{
			Kind:     KindInterrupted,
			Message:  fmt.Sprintf("%v; the script did not stop within %s (it was inside a long builtin), so it was stopped hard", causeText(cause), e.opts.StopGrace),
			Err:      cause,
			HardStop: true,
		}
	}
}

// protectedCall calls fn with args in L under ctx, on the calling
// goroutine, and returns its results or its error as an *Error or
// *ExitError, with a short traceback (see callWithTraceback).
func protectedCall(ctx context.Context, L *lua.LState, fn lua.LValue, args []lua.LValue) ([]lua.LValue, error) {
	previous := L.Context()
	L.SetContext(ctx)
	defer func() {
		if previous != nil {
			L.SetContext(previous)
		} else {
			L.RemoveContext()
		}
	}()
	top := L.GetTop()
	L.Push(L.NewFunction(callWithTraceback))
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	if err := L.PCall(len(args)+1, lua.MultRet, nil); err != nil {
		L.SetTop(top)
		return nil, runError(ctx, L, err)
	}
	results := make([]lua.LValue, 0, L.GetTop()-top)
	for i := top + 1; i <= L.GetTop(); i++ {
		results = append(results, L.Get(i))
	}
	L.SetTop(top)
	return results, nil
}

// Interrupted reports whether err is the end of a script stopped by its
// context (Ctrl-C, SIGTERM, a timeout), as opposed to a failure of the
// script.
func Interrupted(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == KindInterrupted
}
