package luaapi

import lua "github.com/yuin/gopher-lua"

// ExitRequest is the value raised to end a script early with a status: by
// os.exit in the engine's states, by flags.parse after --help or a usage
// mistake, and by flags.usage_error. It unwinds the script like an error
// that pcall, xpcall, coroutine.resume and wps.each in the engine's states
// do not catch, and the engine turns it into an *engine.ExitError; it is
// not a failure of the script.
type ExitRequest struct {
	// Code is the exit status.
	Code int
	// Message, if set, says why the script ended (a usage mistake); the
	// runner prints it on stderr.
	Message string
}

// Exit ends the script running in L with status code, raising an
// *ExitRequest. It never returns.
func Exit(L *lua.LState, code int, message string) {
	ud := L.NewUserData()
	ud.Value = &ExitRequest{Code: code, Message: message}
	L.Error(ud, 0)
}
