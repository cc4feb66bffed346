// Package engine runs Lua for every wps runner: `wps run`, the REPL, the
// scheduler and the test runner. It compiles scripts once (Script), runs
// them any number of times, each run in a fresh Lua state with its own
// arguments, output, logger, HTTP transport and default client, and closes
// what a run opened when it ends (Engine.Run). A long-lived state serves
// the REPL and the test runner (Session). The engine chooses the target of
// the default client (Target: flags, then WEBPUBSUB_*, then the embedded
// service, started once per process on first need), stops scripts when
// their context ends (Ctrl-C, SIGTERM, a timeout), even inside a long
// builtin, and maps every outcome to one exit status (ExitStatus).
//
// A runner makes one Engine per process and adds its own globals through
// Options.Setup or RunOptions.Setup; it never calls gopher-lua to load or
// run code itself.
package engine

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"wps/luaapi"
	"wps/webpubsub"
	"wps/webpubsub/service"
)

// Options configure an Engine. The zero value runs scripts with the full
// standard library, printing to os.Stdout, reading the process environment,
// discarding log lines, with the default client on the embedded service.
type Options struct {
	// Target is where the default client of every run points (see
	// ResolveTarget).
	Target Target
	// Sandbox removes file and process access from scripts and keeps the
	// credential out of Lua (see sandbox).
	Sandbox bool
	// Logger is the default logger of runs: it receives their log.* lines
	// and, at debug level, their HTTP exchanges (redacted). Nil discards.
	Logger *slog.Logger
	// Stdout is the default destination of print; nil means os.Stdout.
	Stdout io.Writer
	// Stderr is where wps.each draws its progress bar, only when it is a
	// terminal; nil means none.
	Stderr io.Writer
	// HTTPClient is the default transport of runs' REST calls; nil means
	// the webpubsub package's default.
	HTTPClient *http.Client
	// LookupEnv reads environment variables for env() and os.getenv; nil
	// means os.LookupEnv. Under the sandbox scripts read none.
	LookupEnv func(name string) (string, bool)
	// Setup, if set, runs on every new state after the wps surface is
	// installed, for a runner's own globals. An error fails the run.
	Setup func(L *lua.LState) error
	// Host names the command running scripts (e.g. "wps run") and
	// HostFlags are its own flags, so that flags.parse can tell a user
	// who gives one after the script's name where it belongs.
	Host      string
	HostFlags []string
	// StopGrace is how long a script whose context has ended may take to
	// stop before the engine gives up on it (see Error.HardStop); 0 means
	// DefaultStopGrace.
	StopGrace time.Duration
	// MaxMemory is the memory limit of a run in bytes: when the live heap
	// of the process exceeds it, the run ends with a *MemoryLimitError
	// (see heapWatch). 0 means DefaultMaxMemory; a negative value means
	// no limit. It also bounds the strings builtins build (MaxStringSize).
	MaxMemory int64
	// MaxMemoryName names the memory limit in messages, e.g.
	// "--max-memory".
	MaxMemoryName string
	// MaxString is the largest string string.rep, string.format,
	// string.gsub and table.concat build; 0 means MaxStringSize, or half
	// the memory limit if that is less.
	MaxString int
}

// DefaultStopGrace is how long a script may take to stop once its context
// has ended before the engine stops waiting for it.
const DefaultStopGrace = 2 * time.Second

// Engine compiles and runs scripts. Its methods may be called from several
// goroutines at once, each run having its own state. The caller must call
// Close when done, to stop the embedded service.
type Engine struct {
	opts Options

	mu     sync.Mutex // guards the fields below
	server *service.Server
	closed bool
}

// New returns an Engine configured by opts.
func New(opts Options) *Engine {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Target.Hub == "" {
		opts.Target.Hub = DefaultHub
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	pinProxy()
	return &Engine{opts: opts}
}

// Target returns where the engine's default clients point.
func (e *Engine) Target() Target { return e.opts.Target }

// Close stops the embedded service if a run started it, waiting at most
// until ctx is done. Runs still going on lose their default client.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	server := e.server
	e.server = nil
	e.mu.Unlock()
	if server != nil {
		return server.Close(ctx)
	}
	return nil
}

// newState returns a fresh Lua state for a run configured by opts, bound to
// ctx: the standard library (less what the sandbox removes), print writing
// to the run's stdout, os.exit ending the run rather than the process (even
// under pcall), the helpers and the run's wps module, then the engine's and
// the run's Setup. The caller must close both.
func (e *Engine) newState(ctx context.Context, opts RunOptions) (*lua.LState, *luaapi.Module, error) {
	L := lua.NewState(lua.Options{
		// Start the value stack small and let it grow: gopher-lua's
		// default of 5,120 values costs 82 KB for every state and every
		// coroutine, a third of a short run's memory, and a fresh process
		// pays for each page it touches. (The call stack stays fixed:
		// gopher-lua's growing one reports an overflow as a Go panic.)
		RegistrySize:    1024,
		RegistryMaxSize: 1 << 20,
	})
	if ctx != nil {
		L.SetContext(ctx)
	}
	stdout, escape := opts.Stdout, IsTerminal(opts.Stdout)
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int { return print(L, stdout, escape) }))
	if osTable, ok := L.GetGlobal("os").(*lua.LTable); ok {
		osTable.RawSetString("exit", L.NewFunction(osExit))
		osTable.RawSetString("getenv", L.NewFunction(osGetenv(e.lookupEnv())))
	}
	passExits(L)
	boundCoroutines(L)
	boundStrings(L, e.maxString())
	if e.opts.Sandbox {
		sandbox(L)
	}
	logger, httpClient := opts.Logger, opts.HTTPClient
	wps := luaapi.NewModule(luaapi.Config{
		DefaultClient: func(ctx context.Context) (*webpubsub.Client, error) {
			return e.defaultClient(ctx, httpClient, logger)
		},
		Hub:        e.opts.Target.Hub,
		HTTPClient: httpClient,
		Logger:     logger,
		Stderr:     e.opts.Stderr,
	})
	luaapi.Open(L, luaapi.Options{
		Logger: logger, LookupEnv: e.lookupEnv(), Args: opts.Args, WPS: wps,
		Host: e.opts.Host, HostFlags: e.opts.HostFlags,
	})
	for _, setup := range []func(*lua.LState) error{e.opts.Setup, opts.Setup} {
		if setup == nil {
			continue
		}
		if err := setup(L); err != nil {
			wps.Close()
			L.Close()
			return nil, nil, err
		}
	}
	return L, wps, nil
}

// print is Lua's print writing to w: the arguments through tostring,
// separated by tabs, then a newline. escape writes control characters as
// escapes (see EscapeControl), for a terminal.
func print(L *lua.LState, w io.Writer, escape bool) int {
	parts := make([]string, L.GetTop())
	for i := range parts {
		parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
	}
	line := strings.Join(parts, "\t")
	if escape {
		line = EscapeControl(line)
	}
	io.WriteString(w, line+"\n")
	return 0
}

// lookupEnv returns what env() may read: nothing under the sandbox.
func (e *Engine) lookupEnv() func(string) (string, bool) {
	if e.opts.Sandbox {
		return noEnvironment
	}
	return e.opts.LookupEnv
}
