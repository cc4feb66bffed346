package luatest

import (
	"errors"
	"path/filepath"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wps/engine"
)

// This file holds the globals a test file has besides describe/it and
// assert: fixture (the mode, values drawn at record time, the requests a
// test made, clients on the test's service) and run_script (a runbook run
// as `wps run` runs it).

// variablePrefix is reserved for the runner's own fixture variables.
const variablePrefix = "wps."

// hubVariable records the hub of the default client in a fixture, so that
// it replays with the hub it was recorded with.
const hubVariable = variablePrefix + "hub"

// installGlobals sets fixture and run_script in L.
func (f *fileRun) installGlobals(L *lua.LState) {
	fixture := L.NewTable()
	L.SetField(fixture, "mode", lua.LString(f.fx.mode.String()))
	L.SetField(fixture, "path", lua.LString(f.fx.path))
	L.SetFuncs(fixture, map[string]lua.LGFunction{
		"variable": f.luaVariable,
		"requests": f.luaRequests,
		"client":   f.luaClient,
	})
	L.SetGlobal("fixture", fixture)
	L.SetGlobal("run_script", L.NewFunction(f.luaRunScript))
}

// luaVariable is fixture.variable(name, value): a value the test draws
// when it records (a connection id, a random name), kept in the fixture's
// Variables and given back when it replays. value may be a function,
// called only when not replaying. The value is redacted like the rest of
// the fixture, so a secret never reaches the file.
func (f *fileRun) luaVariable(L *lua.LState) int {
	name := L.CheckString(1)
	if name == "" || strings.HasPrefix(name, variablePrefix) {
		L.ArgError(1, "a name not starting with \""+variablePrefix+"\" expected")
	}
	if f.fx.mode == modeReplay {
		v, ok := f.fx.variables[name]
		if !ok {
			L.RaiseError("fixture.variable: %s has no variable %q (re-record with --record)", f.fx.path, name)
		}
		L.Push(lua.LString(v))
		return 1
	}
	value := L.Get(2)
	if fn, ok := value.(*lua.LFunction); ok {
		L.Push(fn)
		L.Call(0, 1)
		value = L.Get(-1)
		L.Pop(1)
	}
	var s string
	switch v := value.(type) {
	case lua.LString:
		s = string(v)
	case lua.LNumber:
		s = v.String()
	default:
		L.RaiseError("fixture.variable: %q must be a string or a number, got %s", name, value.Type())
	}
	if f.fx.mode == modeRecord {
		rec, err := f.fx.rec()
		if err != nil {
			L.RaiseError("fixture.variable: %v", err)
		}
		rec.SetVariable(name, s)
	}
	L.Push(lua.LString(s))
	return 1
}

// luaRequests is fixture.requests(): the REST requests the running test
// has made so far, each {method, path, query, content_type, body, status}.
// path is unescaped; query maps each key to its value, or to a list when
// the key is repeated.
func (f *fileRun) luaRequests(L *lua.LState) int {
	list := L.NewTable()
	if f.cur != nil {
		for _, r := range f.cur.Requests() {
			t := L.NewTable()
			L.SetField(t, "method", lua.LString(r.Method))
			L.SetField(t, "path", lua.LString(r.Path))
			q := L.NewTable()
			keys := make([]string, 0, len(r.Query))
			for k := range r.Query {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				vs := r.Query[k]
				if len(vs) == 1 {
					L.SetField(q, k, lua.LString(vs[0]))
					continue
				}
				l := L.NewTable()
				for _, v := range vs {
					l.Append(lua.LString(v))
				}
				L.SetField(q, k, l)
			}
			L.SetField(t, "query", q)
			if r.ContentType != "" {
				L.SetField(t, "content_type", lua.LString(r.ContentType))
			}
			if r.Body != nil {
				L.SetField(t, "body", lua.LString(r.Body))
			}
			if r.Status != 0 {
				L.SetField(t, "status", lua.LNumber(r.Status))
			}
			list.Append(t)
		}
	}
	L.Push(list)
	return 1
}

// luaClient is fixture.client(opts): a wps client on the service the
// file's tests use (the fixture when replaying, else the configured or
// embedded service), with opts of wps.client{} other than the connection
// string: hub, api_version, timeout, retries. It is how a test makes the
// same calls as a recording made at another API version.
func (f *fileRun) luaClient(L *lua.LState) int {
	opts := L.OptTable(1, L.NewTable())
	connectionString := replayConnectionString
	if f.fx.mode != modeReplay && f.fx.mode != modeList {
		var err error
		if connectionString, err = f.eng.Service(L.Context()); err != nil {
			L.RaiseError("fixture.client: %v", err)
		}
	}
	wps, ok := L.GetGlobal("wps").(*lua.LTable)
	if !ok {
		L.RaiseError("fixture.client: the wps module is missing")
	}
	args := L.NewTable()
	opts.ForEach(func(k, v lua.LValue) { args.RawSet(k, v) })
	args.RawSetString("connection_string", lua.LString(connectionString))
	L.Push(wps.RawGetString("client"))
	L.Push(args)
	L.Call(1, 1)
	return 1
}

// luaRunScript is run_script(path, ...): runs the Lua script at path
// (relative to the test file's folder) as `wps run path ...` would, in a
// fresh state with its own args, on the running test's transport, and
// returns {status, output, error}: status is the exit status wps run would
// give (0, 1 for an uncaught error, 2 for a usage mistake, or the code of
// os.exit), output what it printed, error the message of a failure.
func (f *fileRun) luaRunScript(L *lua.LState) int {
	path := L.CheckString(1)
	args := make([]string, 0, L.GetTop()-1)
	for i := 2; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args = append(args, string(v))
		case lua.LNumber:
			args = append(args, v.String())
		default:
			L.ArgError(i, "string expected, got "+v.Type().String())
		}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(f.dir, path)
	}
	script, err := f.r.compile(L.Context(), path)
	if err != nil {
		L.RaiseError("run_script: %v", err)
	}
	var out syncBuffer
	err = f.eng.Run(L.Context(), script, engine.RunOptions{
		Args: args, Stdout: teeWriter{&out, f.out}, Logger: f.logger, HTTPClient: f.httpClient, Setup: f.scriptSetup,
	})
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		// The test is being stopped (its timeout, a replayed request that
		// matched nothing): stop it here too.
		var e *engine.Error
		if failure := f.cur.Failure(); failure != nil && errors.As(err, &e) {
			f.cur.scriptWhere = stoppedAt(e.Message, failure.Error())
		}
		L.RaiseError("%s: %v", path, err)
	}
	result := L.NewTable()
	L.SetField(result, "status", lua.LNumber(engine.ExitStatus(err)))
	L.SetField(result, "output", lua.LString(out.String()))
	var exit *engine.ExitError
	var scriptErr *engine.Error
	switch {
	case errors.As(err, &exit) && exit.Message != "":
		L.SetField(result, "error", lua.LString(exit.Message))
	case errors.As(err, &scriptErr):
		L.SetField(result, "error", lua.LString(scriptErr.Message))
	case err != nil && exit == nil:
		L.SetField(result, "error", lua.LString(err.Error()))
	}
	L.Push(result)
	return 1
}

// teeWriter writes to both writers.
type teeWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (t teeWriter) Write(p []byte) (int, error) {
	t.a.Write(p)
	return t.b.Write(p)
}

// blockConnect replaces wps.connect and client:connect in a replaying
// state: client connections are not recorded, so they cannot replay, and
// they would reach for the network. Client objects get their metatable
// when the first is made, so wps.client and wps.hub are wrapped to patch
// it then.
func blockConnect(L *lua.LState) {
	refuse := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("wps.connect: client connections are not recorded, so they cannot replay from a fixture; " +
			"open them only when fixture.mode ~= \"replay\", or run this file with --live")
		return 0
	})
	wps, ok := L.GetGlobal("wps").(*lua.LTable)
	if !ok {
		return
	}
	wps.RawSetString("connect", refuse)
	for _, name := range []string{"client", "hub"} {
		make, ok := wps.RawGetString(name).(*lua.LFunction)
		if !ok {
			continue
		}
		wps.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			L.Insert(make, 1)
			L.Call(L.GetTop()-1, lua.MultRet)
			if ud, ok := L.Get(1).(*lua.LUserData); ok {
				if mt, ok := ud.Metatable.(*lua.LTable); ok {
					if methods, ok := mt.RawGetString("__index").(*lua.LTable); ok {
						methods.RawSetString("connect", refuse)
					}
				}
			}
			return L.GetTop()
		}))
	}
}
