package engine

import (
	"fmt"
	"reflect"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua builds the traceback of an uncaught error with one line per
// frame and one per tail call: after `return f(n-1)` ten million times that
// is ten million lines, seconds and half a gigabyte for a traceback that
// shows 15 of them. So the engine raises errors through its own panic
// function (set by callWithTraceback), which walks the frames once,
// counting tail calls instead of listing them, and keeps the first and the
// last tracebackLines/2 lines. pcall keeps no traceback at all.

// tracebackLines is how many lines of frames a traceback shows at most,
// half from the top and half from the bottom of the stack.
const tracebackLines = 20

// callWithTraceback is the Go function protectedCall calls the script
// through: it makes errors raised in L (and in the coroutines it wraps)
// carry a short traceback (see panicWithShortTraceback), then calls the
// function on its stack with the rest of its stack as arguments. The
// PCall around it restores L.Panic.
func callWithTraceback(L *lua.LState) int {
	L.Panic = panicWithShortTraceback
	L.Call(L.GetTop()-1, lua.MultRet)
	return L.GetTop()
}

// callWithoutTraceback is callWithTraceback for pcall, whose caller only
// sees the error value.
func callWithoutTraceback(L *lua.LState) int {
	L.Panic = panicWithoutTraceback
	L.Call(L.GetTop()-1, lua.MultRet)
	return L.GetTop()
}

// panicWithShortTraceback raises the value on top of L's stack with a
// bounded traceback. A non-empty StackTrace keeps PCall from building its
// own.
func panicWithShortTraceback(L *lua.LState) {
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: L.Get(-1), StackTrace: shortTraceback(L)})
}

// panicWithoutTraceback raises the value on top of L's stack with a
// placeholder traceback, for pcall, which drops it.
func panicWithoutTraceback(L *lua.LState) {
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: L.Get(-1), StackTrace: "stack traceback:\n\t(not kept under pcall)"})
}

// frameLines is one frame of a traceback: its line, followed by tailCalls
// lines "(tailcall): ?".
type frameLines struct {
	line      string
	tailCalls int
}

// shortTraceback returns L's traceback in gopher-lua's format, "stack
// traceback:" then one tab-indented line per frame, the innermost first,
// with at most tracebackLines of them: the first and the last halves,
// with "..." between.
func shortTraceback(L *lua.LState) string {
	var frames []frameLines
	total := 0
	for level := 0; ; {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil {
			break
		}
		where := "[G]:"
		if dbg.What != "G" {
			where = L.Where(level)
		}
		frames = append(frames, frameLines{line: "\t" + where + " in " + frameName(dbg)})
		tailCalls := 0
		if dbg.What != "G" {
			tailCalls = tailCallsOf(dbg)
		}
		frames[len(frames)-1].tailCalls = tailCalls
		total += 1 + tailCalls
		level += 1 + tailCalls
	}
	// The bottom frame of the main thread is callWithTraceback, which the
	// script did not call; the frame it called is the main chunk.
	if n := len(frames); n > 1 && L.G.MainThread == L && strings.HasPrefix(frames[n-1].line, "\t[G]:") {
		frames = frames[:n-1]
		total--
		if chunk := &frames[n-2]; strings.HasSuffix(chunk.line, ":0>") {
			where, _, _ := strings.Cut(chunk.line, " in ")
			chunk.line = where + " in main chunk"
		}
	}
	lines := make([]string, 0, tracebackLines+2)
	lines = append(lines, "stack traceback:")
	if total <= tracebackLines+1 {
		for i := range total {
			lines = append(lines, lineAt(frames, i))
		}
	} else {
		for i := range tracebackLines / 2 {
			lines = append(lines, lineAt(frames, i))
		}
		lines = append(lines, fmt.Sprintf("\t... (%d more)", total-tracebackLines))
		for i := total - tracebackLines/2; i < total; i++ {
			lines = append(lines, lineAt(frames, i))
		}
	}
	return strings.Join(lines, "\n")
}

// lineAt returns line i of the traceback that frames make.
func lineAt(frames []frameLines, i int) string {
	for _, f := range frames {
		if i == 0 {
			return f.line
		}
		if i <= f.tailCalls {
			return "\t(tailcall): ?"
		}
		i -= 1 + f.tailCalls
	}
	return ""
}

// frameName names the function of a frame as gopher-lua's tracebacks do:
// "main chunk", "function 'name'" or "function <file:line>".
func frameName(dbg *lua.Debug) string {
	switch {
	case dbg.What == "main":
		return dbg.Name
	case dbg.Name == "":
		return "function ?"
	case dbg.Name[0] == '(' || dbg.Name[0] == '<':
		return "function " + dbg.Name
	}
	return "function '" + dbg.Name + "'"
}

// tailCallsOf returns how many tail calls the frame of dbg stands for.
// gopher-lua counts them in the frame (callFrame.TailCall) but does not
// export the count; it is read by reflection, and taken as 0 should a
// later gopher-lua rename it (TestShortTraceback_TailCalls would fail).
func tailCallsOf(dbg *lua.Debug) int {
	frame := reflect.ValueOf(dbg).Elem().FieldByName("frame")
	if frame.Kind() != reflect.Pointer || frame.IsNil() {
		return 0
	}
	tailCalls := frame.Elem().FieldByName("TailCall")
	if tailCalls.Kind() != reflect.Int {
		return 0
	}
	return int(tailCalls.Int())
}
