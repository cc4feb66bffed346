package engine

import (
	"context"
	"errors"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wps/luaapi"
)

// Session is one Lua state that lives across evaluations, for the REPL
// and the test runner: globals set by one chunk are seen by the next. Its
// methods must not be called concurrently. Close closes the connections
// the session opened.
type Session struct {
	e   *Engine
	L   *lua.LState
	wps *luaapi.Module
	// broken is set when an evaluation was stopped hard: its goroutine
	// still runs in L, so the session cannot go on.
	broken error
}

// ErrSessionBroken is returned by a Session whose state is still busy with
// an evaluation that was stopped hard.
var ErrSessionBroken = errors.New("the session's state is still busy with an evaluation that would not stop")

// NewSession returns a session whose state is configured by opts.
func (e *Engine) NewSession(opts RunOptions) (*Session, error) {
	L, wps, err := e.newState(nil, e.withDefaults(opts))
	if err != nil {
		return nil, err
	}
	return &Session{e: e, L: L, wps: wps}, nil
}

// State returns the session's Lua state, for a runner to read values and
// set globals between evaluations. It must not be used while an
// evaluation runs.
func (s *Session) State() *lua.LState { return s.L }

// Module returns the session's wps module.
func (s *Session) Module() *luaapi.Module { return s.wps }

// Close closes the connections the session opened and its state.
func (s *Session) Close() error {
	err := s.wps.Close()
	if s.broken == nil {
		s.L.Close()
	}
	return err
}

// Eval compiles and runs one chunk of input, named name in messages, as a
// REPL does: an expression (or several, separated by commas) returns its
// values; "=expr" means "return expr", as in Lua 5.1; anything else runs
// as statements and returns what a return statement gives. A chunk that
// more lines could complete fails with an error matching ErrIncomplete.
func (s *Session) Eval(ctx context.Context, name, input string) ([]lua.LValue, error) {
	script, err := compileInput(name, input)
	if err != nil {
		return nil, err
	}
	return s.Exec(ctx, script)
}

// compileInput compiles a chunk typed at a prompt: "return <input>" when
// that compiles, so that a bare expression gives its value, else input.
func compileInput(name, input string) (*Script, error) {
	if expr, ok := strings.CutPrefix(strings.TrimLeft(input, " \t"), "="); ok {
		return Compile(name, "return "+expr)
	}
	if script, err := Compile(name, "return "+input); err == nil {
		return script, nil
	}
	return Compile(name, input)
}

// Exec runs script in the session's state with args as its ..., and
// returns its results. A failure is an *Error or an *ExitError, as for
// Engine.Run.
func (s *Session) Exec(ctx context.Context, script *Script, args ...string) ([]lua.LValue, error) {
	values := make([]lua.LValue, len(args))
	for i, a := range args {
		values[i] = lua.LString(a)
	}
	return s.Call(ctx, s.L.NewFunctionFromProto(script.proto), values...)
}

// Call calls the Lua function fn of the session's state with args, under
// ctx, and returns its results.
func (s *Session) Call(ctx context.Context, fn lua.LValue, args ...lua.LValue) ([]lua.LValue, error) {
	if s.broken != nil {
		return nil, s.broken
	}
	values, err := s.e.call(ctx, s.L, fn, args)
	var stopErr *Error
	if errors.As(err, &stopErr) && stopErr.HardStop {
		s.broken = ErrSessionBroken
	}
	return values, err
}

// Complete returns the completions of the identifier path that ends the
// text prefix, for a REPL's Tab key: globals ("pri" → "print"), fields of
// tables ("wps.send_to_" → "wps.send_to_all", ...), and methods of client
// and connection values ("hub:se" → "hub:send_to_all", ...), from the
// state's globals and the registry that `wps docs` reads. Each completion
// is the whole path, sorted.
func (s *Session) Complete(prefix string) []string {
	if s.broken != nil {
		return nil
	}
	sep := strings.LastIndexAny(prefix, ".:")
	if sep < 0 {
		return keysWithPrefix(s.L.G.Global, "", prefix)
	}
	base, partial := prefix[:sep], prefix[sep+1:]
	value := s.lookupPath(base)
	if prefix[sep] == ':' {
		return s.methods(value, base+":", partial)
	}
	t, ok := value.(*lua.LTable)
	if !ok {
		return nil
	}
	return keysWithPrefix(t, base+".", partial)
}

// lookupPath returns the value of a dotted path of globals ("wps",
// "a.b.c"), reading tables without metamethods, or nil.
func (s *Session) lookupPath(path string) lua.LValue {
	var value lua.LValue = s.L.G.Global
	for _, name := range strings.Split(path, ".") {
		t, ok := value.(*lua.LTable)
		if !ok || !luaapi.IsName(name) {
			return lua.LNil
		}
		value = t.RawGetString(name)
	}
	return value
}

// methods returns the methods whose names start with partial of a client
// or connection value (from the registry), or of a table's string keys
// holding functions.
func (s *Session) methods(value lua.LValue, base, partial string) []string {
	var names []string
	switch v := value.(type) {
	case *lua.LUserData:
		module := ""
		if mt, ok := v.Metatable.(*lua.LTable); ok {
			switch mt.RawGetString("__name") {
			case lua.LString("wps.client"):
				module = "client"
			case lua.LString("wps.connection"):
				module = "conn"
			}
		}
		for _, f := range luaapi.Functions() {
			if f.Module == module && module != "" && strings.HasPrefix(f.Name, partial) {
				names = append(names, base+f.Name)
			}
		}
	case *lua.LTable:
		v.ForEach(func(k, fn lua.LValue) {
			if key, ok := k.(lua.LString); ok && fn.Type() == lua.LTFunction && strings.HasPrefix(string(key), partial) {
				names = append(names, base+string(key))
			}
		})
	}
	sort.Strings(names)
	return names
}

// keysWithPrefix returns base+key for the identifier keys of t that start
// with partial, sorted.
func keysWithPrefix(t *lua.LTable, base, partial string) []string {
	var names []string
	t.ForEach(func(k, _ lua.LValue) {
		if key, ok := k.(lua.LString); ok && luaapi.IsName(string(key)) && strings.HasPrefix(string(key), partial) {
			names = append(names, base+string(key))
		}
	})
	sort.Strings(names)
	return names
}
