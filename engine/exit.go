package engine

import (
	lua "github.com/yuin/gopher-lua"

	"wps/luaapi"
)

// passExits replaces pcall and xpcall with versions that catch errors as
// before but let an exit request (os.exit, flags.parse after --help or a
// usage mistake, flags.usage_error) through, so that the script ends with
// its status wherever the exit is called, as in Lua. Without this,
// os.exit(1) inside a pcall would be returned as a strange userdata error
// and the script would go on, and could end with status 0. Coroutines do
// the same (see boundCoroutines).
func passExits(L *lua.LState) {
	untraced := L.NewFunction(callWithoutTraceback)
	L.SetGlobal("pcall", L.NewFunction(func(L *lua.LState) int { return pcallPassingExits(L, untraced) }))
	L.SetGlobal("xpcall", L.NewFunction(xpcallPassingExits))
}

// pcallPassingExits is Lua's pcall(f, ...), except for exit requests. It
// calls f through untraced (callWithoutTraceback): pcall returns only the
// error value, so building the traceback would be wasted work, and a lot of
// it after a long chain of tail calls.
func pcallPassingExits(L *lua.LState, untraced *lua.LFunction) int {
	L.CheckAny(1)
	if f := L.Get(1); f.Type() != lua.LTFunction && L.GetMetaField(f, "__call").Type() != lua.LTFunction {
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + f.Type().String() + " value"))
		return 2
	}
	L.Insert(untraced, 1)
	if err := L.PCall(L.GetTop()-1, lua.MultRet, nil); err != nil {
		return caught(L, err)
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// xpcallPassingExits is Lua's xpcall(f, handler), except for exit
// requests, which the handler does not see.
func xpcallPassingExits(L *lua.LState) int {
	f := L.CheckFunction(1)
	handler := L.CheckFunction(2)
	top := L.GetTop()
	L.Push(f)
	err := L.PCall(0, lua.MultRet, L.NewFunction(func(L *lua.LState) int {
		if isExitRequest(L.Get(1)) {
			L.Push(L.Get(1))
			return 1
		}
		L.Push(handler)
		L.Push(L.Get(1))
		L.Call(1, 1)
		return 1
	}))
	if err != nil {
		return caught(L, err)
	}
	L.Insert(lua.LTrue, top+1)
	return L.GetTop() - top
}

// caught returns false and the error's value, as pcall does, or raises the
// value again if it is an exit request.
func caught(L *lua.LState, err error) int {
	var value lua.LValue = lua.LString(err.Error())
	if apiErr, ok := err.(*lua.ApiError); ok {
		value = apiErr.Object
	}
	raiseExit(L, value)
	L.Push(lua.LFalse)
	L.Push(value)
	return 2
}

// raiseExit raises v again if it is an exit request, and else returns.
func raiseExit(L *lua.LState, v lua.LValue) {
	if isExitRequest(v) {
		L.Error(v, 0)
	}
}

// isExitRequest reports whether v is the value luaapi.Exit raises.
func isExitRequest(v lua.LValue) bool {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return false
	}
	_, ok = ud.Value.(*luaapi.ExitRequest)
	return ok
}
