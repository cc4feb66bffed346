// Package engine loads and runs Lua scripts for every wps runner: `wps run`
// today, the REPL, cron and the test runner later. It makes the Lua states
// (standard library, optional sandbox, the helpers and the wps module from
// luaapi), compiles scripts, runs them under a context so that Ctrl-C and
// timeouts stop them, and turns failures into one clear error.
//
// A runner makes one Engine per process, a state per run (NewState), and
// adds its own globals through Options.Setup; it never calls gopher-lua to
// load or run code itself.
package engine

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wps/luaapi"
)

// Options configure an Engine. The zero value runs scripts with the full
// standard library, printing to os.Stdout, reading the process environment,
// discarding log lines, with the wps module on the embedded service unless
// the environment names one.
type Options struct {
	// Client says where the wps module's default client points. New fills
	// an empty ConnectionString and Hub from WEBPUBSUB_CONNECTION_STRING and
	// WEBPUBSUB_HUB (read with LookupEnv), and an empty Logger with Logger.
	Client luaapi.ClientConfig
	// Sandbox removes file and process access from scripts: the io and
	// debug libraries, os.execute, os.remove, os.rename, os.tmpname,
	// dofile, loadfile, load and loadstring, and require of files
	// (require of the built-in modules json, log, flags and wps still works).
	Sandbox bool
	// Logger receives the log.* lines of scripts; nil discards them.
	Logger *slog.Logger
	// Stdout receives print; nil means os.Stdout.
	Stdout io.Writer
	// LookupEnv reads environment variables (env() and the WEBPUBSUB_*
	// defaults); nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)
	// Setup, if set, runs on every new state after the wps surface is
	// installed, for a runner's own globals (a test runner would add
	// describe/it there). An error fails NewState.
	Setup func(L *lua.LState) error
}

// Engine makes Lua states and runs scripts in them. Its methods may be
// called from several goroutines, each with its own state. The caller must
// call Close when done, to stop the embedded service and close the client
// connections scripts left open.
type Engine struct {
	opts Options
	wps  *luaapi.Module
}

// New returns an Engine configured by opts.
func New(opts Options) *Engine {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	client := opts.Client
	client.ApplyEnv(func(name string) string {
		v, _ := opts.LookupEnv(name)
		return v
	})
	if client.Logger == nil {
		client.Logger = opts.Logger
	}
	return &Engine{opts: opts, wps: luaapi.NewModule(client)}
}

// Close closes the client connections scripts left open and stops the
// embedded service if a script started it, waiting at most until ctx is
// done.
func (e *Engine) Close(ctx context.Context) error {
	return e.wps.Close(ctx)
}

// NewState returns a fresh Lua state bound to ctx: the standard library
// (less what the sandbox removes), print writing to Options.Stdout, os.exit
// ending the run rather than the process (even under pcall), the helpers
// and the wps module,
// then whatever Options.Setup adds. The caller must Close it. A state is
// not safe for concurrent use.
func (e *Engine) NewState(ctx context.Context) (*lua.LState, error) {
	L := lua.NewState(lua.Options{
		// Let the value stack grow for scripts handling long lists.
		RegistryMaxSize: 1 << 20,
	})
	if ctx != nil {
		L.SetContext(ctx)
	}
	L.SetGlobal("print", L.NewFunction(e.print))
	if osTable, ok := L.GetGlobal("os").(*lua.LTable); ok {
		osTable.RawSetString("exit", L.NewFunction(osExit))
	}
	passExits(L)
	if e.opts.Sandbox {
		sandbox(L)
	}
	luaapi.Open(L, luaapi.Options{Logger: e.opts.Logger, LookupEnv: e.opts.LookupEnv, WPS: e.wps})
	if e.opts.Setup != nil {
		if err := e.opts.Setup(L); err != nil {
			L.Close()
			return nil, err
		}
	}
	return L, nil
}

// print is Lua's print writing to Options.Stdout: the arguments through
// tostring, separated by tabs, then a newline.
func (e *Engine) print(L *lua.LState) int {
	parts := make([]string, L.GetTop())
	for i := range parts {
		parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
	}
	io.WriteString(e.opts.Stdout, strings.Join(parts, "\t")+"\n")
	return 0
}

// sandbox removes from L what lets a script reach files and processes.
func sandbox(L *lua.LState) {
	for _, name := range []string{"io", "debug", "dofile", "loadfile", "load", "loadstring"} {
		L.SetGlobal(name, lua.LNil)
	}
	if osTable, ok := L.GetGlobal("os").(*lua.LTable); ok {
		for _, name := range []string{"execute", "remove", "rename", "tmpname"} {
			osTable.RawSetString(name, lua.LNil)
		}
	}
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	if loaded, ok := pkg.RawGetString("loaded").(*lua.LTable); ok {
		loaded.RawSetString("io", lua.LNil)
		loaded.RawSetString("debug", lua.LNil)
	}
	// Keep only the first loader, which reads package.preload; the others
	// load files. The registry holds the same table, which require reads.
	if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok {
		for i := loaders.Len(); i > 1; i-- {
			loaders.RawSetInt(i, lua.LNil)
		}
	}
	pkg.RawSetString("path", lua.LString(""))
	pkg.RawSetString("cpath", lua.LString(""))
}
