package engine

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// MaxCoroutineDepth is how deeply coroutines may resume one another, as
// Lua 5.1 limits nested C calls to 200. Each level is a Lua state of its
// own with its own stacks, and gopher-lua runs it on the Go stack of the
// level that resumed it: without a bound, a script whose coroutines each
// resume a new one grows until the machine runs out of memory.
const MaxCoroutineDepth = 200

// errCoroutineDepth is what resuming one coroutine too many gives.
var errCoroutineDepth = fmt.Sprintf("C stack overflow: coroutines nested more than %d deep", MaxCoroutineDepth)

// boundCoroutines replaces coroutine.resume and coroutine.wrap with
// versions that count how deeply coroutines are nested in L's run and fail
// beyond MaxCoroutineDepth (resume returns false and "file:line: C stack
// overflow ...", wrap raises it, as in Lua), and that let an exit request (os.exit inside a
// coroutine) through instead of returning it as an error (see passExits).
func boundCoroutines(L *lua.LState) {
	co, ok := L.GetGlobal("coroutine").(*lua.LTable)
	if !ok {
		return
	}
	create, okCreate := co.RawGetString("create").(*lua.LFunction)
	original, okResume := co.RawGetString("resume").(*lua.LFunction)
	if !okCreate || !okResume {
		return
	}
	depth := 0 // of this run: its coroutines run one at a time
	// resume calls the original resume with the arguments on L's stack,
	// leaving its results there: true and the values, or false and the
	// error.
	resume := func(L *lua.LState) int {
		L.CheckThread(1)
		if depth >= MaxCoroutineDepth {
			L.SetTop(0)
			L.Push(lua.LFalse)
			L.Push(lua.LString(L.Where(1) + " " + errCoroutineDepth))
			return 2
		}
		depth++
		defer func() { depth-- }()
		L.Insert(original, 1)
		L.Call(L.GetTop()-1, lua.MultRet)
		if L.Get(1) == lua.LFalse {
			raiseExit(L, L.Get(2))
		}
		return L.GetTop()
	}
	co.RawSetString("resume", L.NewFunction(resume))
	co.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		L.CheckFunction(1)
		L.Push(create)
		L.Push(L.Get(1))
		L.Call(1, 1)
		thread := L.Get(-1)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			L.Insert(thread, 1)
			n := resume(L)
			if L.Get(1) == lua.LFalse {
				L.Error(L.Get(2), 0)
			}
			return n - 1
		}))
		return 1
	}))
}
