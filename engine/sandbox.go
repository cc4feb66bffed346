package engine

import (
	"net/http"
	"net/url"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// The sandbox (Options.Sandbox, --sandbox) is for running a script one did
// not write. It promises that:
//   - the script cannot read or write files, run programs or load code
//     from files or strings: io, debug, dofile, loadfile, load,
//     loadstring, string.dump (which gopher-lua lacks anyway), the file
//     loaders of require, and os.execute, os.remove, os.rename,
//     os.tmpname and os.setenv are gone;
//   - it reads no environment variable: env(name, default) returns
//     default and os.getenv returns nil, for every name, so it never sees
//     WEBPUBSUB_CONNECTION_STRING or anything else;
//   - no Lua value holds the key or the connection string of the default
//     client: the client is a Go value behind a userdata whose tostring
//     and errors name the hub and endpoint only, and the tokens it signs
//     (get_client_access_token, wps.connect) are tokens, not the key;
//   - requests go through the proxy (HTTPS_PROXY, ...) of the environment
//     wps started with, which the script cannot change.
//
// It does not limit what the script does with the hub (it may send,
// close, grant and revoke as the key allows, and hand out client tokens),
// nor which hosts wps.client{} and wps.connect reach with credentials the
// script brings, nor CPU and memory beyond --timeout and --max-memory.

// sandbox removes from L what lets a script reach files, processes, the
// environment and the internals of other values.
func sandbox(L *lua.LState) {
	for _, name := range []string{"io", "debug", "dofile", "loadfile", "load", "loadstring", "_printregs"} {
		L.SetGlobal(name, lua.LNil)
	}
	if osTable, ok := L.GetGlobal("os").(*lua.LTable); ok {
		for _, name := range []string{"execute", "remove", "rename", "tmpname", "setenv"} {
			osTable.RawSetString(name, lua.LNil)
		}
	}
	if str, ok := L.GetGlobal("string").(*lua.LTable); ok {
		str.RawSetString("dump", lua.LNil)
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

// noEnvironment is the environment of a sandboxed script: empty.
func noEnvironment(string) (string, bool) { return "", false }

// osGetenv returns os.getenv reading through lookup, so that it sees what
// env() sees.
func osGetenv(lookup func(string) (string, bool)) lua.LGFunction {
	return func(L *lua.LState) int {
		if v, ok := lookup(L.CheckString(1)); ok {
			L.Push(lua.LString(v))
		} else {
			L.Push(lua.LNil)
		}
		return 1
	}
}

// pinProxy makes net/http read the proxy settings of the environment
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) now, once for the process: it reads
// them on first use and keeps them, so that a script which changes the
// environment later (os.setenv, outside the sandbox) cannot send the
// requests of wps, signed with the key, through a proxy of its choosing.
// The webpubsub transport and the WebSocket dialer both use
// http.ProxyFromEnvironment.
var pinProxy = sync.OnceFunc(func() {
	http.ProxyFromEnvironment(&http.Request{URL: &url.URL{Scheme: "https", Host: "wps.invalid"}})
})
