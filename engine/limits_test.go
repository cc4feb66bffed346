package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// runLines runs src in a fresh engine with opts and returns what it
// printed and its error.
func runLines(t *testing.T, opts Options, src string) (string, error) {
	t.Helper()
	out := newOutput()
	e := newEngine(t, out, opts)
	err := e.RunString(context.Background(), "limits", src)
	return out.String(), err
}

// TestBoundedBuiltins checks that the replaced string builtins behave as
// gopher-lua's do (or as Lua's, where gopher-lua is wrong: gsub with n=0)
// on ordinary input.
func TestBoundedBuiltins(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`print(("hello world"):gsub("o", "0"))`, "hell0 w0rld\t2"},
		{`print(("hello world"):gsub("(o)", "[%1%%]", 1))`, "hell[o%] world\t1"},
		{`print(("abc"):gsub("x*", "-"))`, "-a-b-c-\t4"},
		{`print(("hello world"):gsub("%w+", {hello = "HI"}))`, "HI world\t2"},
		{`print(("hello world"):gsub("%w+", function(w) return w:upper() end))`, "HELLO WORLD\t2"},
		{`print(("hello"):gsub("l", function() return false end))`, "hello\t2"},
		{`print(("abc"):gsub("^a", "A"))`, "Abc\t1"},
		{`print(("aaa"):gsub("^a", "b"))`, "baa\t1"},
		{`print(("$1 $2"):gsub("%$(%d)", {["1"] = "one"}))`, "one $2\t2"},
		{`print(("abc"):gsub("()", "%1"))`, "1a2b3c4\t4"},
		{`print(("abc"):gsub("%w", "%0%0", 0))`, "abc\t0"},
		{`print(("abc"):gsub("%w", "%0%0", 2))`, "aabbc\t2"},
		{`print(("a.b"):gsub("%.", "%%"))`, "a%b\t1"},
		{`print(pcall(string.gsub, "abc", "(", "x"))`, "false\tlimits:1: unfinished capture at EOS"},
		{`print(pcall(string.gsub, "abc", "%w", "%2"))`, "false\tlimits:1: invalid capture index"},
		{`print(pcall(string.gsub, "abc", "%w", {a = {}}))`, "false\tlimits:1: invalid replacement value (a table)"},
		{`local t = {} for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do t[#t+1] = k .. v end print(table.concat(t, ";"))`, "a1;b2"},
		{`local t = {} for w in ("one two"):gmatch("%a+") do t[#t+1] = w end print(table.concat(t, ";"))`, "one;two"},
		{`local t = {} for w in ("aaa"):gmatch("^a") do t[#t+1] = w end print(#t)`, "1"},
		{`local t = {} for p in ("ab"):gmatch("()") do t[#t+1] = p end print(table.concat(t, ","))`, "1,2,3"},
		{`print(table.concat({1, "b", 3.5}, ", "), table.concat({}, "x"), table.concat({1, 2, 3}, "-", 2))`, "1, b, 3.5\t\t2-3"},
		{`print(pcall(table.concat, {1, {}, 3}))`, "false\tlimits:1: invalid value (table) at index 2 in table for concat"},
		{`print(string.format("%5d|%-5s|%.2f|%%", 42, "ab", 3.14159))`, "   42|ab   |3.14|%"},
		{`print(string.rep("ab", 3), string.rep("x", 0), string.rep("", 1e12), string.rep("x", -1))`, "ababab\t\t\t"},
	} {
		got, err := runLines(t, Options{}, tc.src)
		if err != nil || got != tc.want+"\n" {
			t.Errorf("%s:\ngot %q, %v\nwant %q", tc.src, got, err, tc.want)
		}
	}
}

// TestBoundedBuiltins_TooLarge checks that a builtin asked for a string
// over the limit fails with a Lua error naming the line, before it
// allocates anything.
func TestBoundedBuiltins_TooLarge(t *testing.T) {
	for _, tc := range []struct {
		src, want string
		maxString int
	}{
		{`local s = string.rep("x", 2^40)`, "limits:1: string.rep: the result would be 1 TiB, more than the limit of 256 MiB", 0},
		{`local s = ("ab"):rep(1e300)`, "limits:1: string.rep: the result would be ", 0},
		{"local t = {}\nfor i = 1, 300 do t[i] = i end\nlocal s = table.concat(t, ('x'):rep(1e6))", "limits:3: table.concat: the result would be 285.1 MiB, more than the limit of 256 MiB", 0},
		{"local f = ('%999999d'):rep(300)\nlocal s = f:format(1)", "limits:2: string.format: the result would be ", 0},
		{`local s = ("x"):rep(2^20):gsub("x", "yy")`, "limits:1: string.gsub: the result would be 1 MiB, more than the limit of 1 MiB", 1 << 20},
		{`local s = ("ab"):gsub("%w", ("x"):rep(2^19 + 1))`, "limits:1: string.gsub: the result would be 1 MiB, more than the limit of 1 MiB", 1 << 20},
	} {
		_, err := runLines(t, Options{MaxString: tc.maxString}, tc.src)
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindRuntime || !strings.HasPrefix(e.Message, tc.want) {
			t.Errorf("%s:\nerror %v\nwant one starting %q", tc.src, err, tc.want)
		}
	}
	// A lower memory limit lowers the string limit.
	_, err := runLines(t, Options{MaxMemory: 64 << 20}, `local s = ("x"):rep(40e6)`)
	if err == nil || !strings.HasPrefix(err.Error(), "limits:1: string.rep: the result would be 38.1 MiB, more than the limit of 32 MiB") {
		t.Errorf("with a 64 MiB memory limit: error %v", err)
	}
}

// TestBoundedBuiltins_Cancel checks that a long gsub and gmatch stop when
// their run's context ends, instead of running to the end of the string.
func TestBoundedBuiltins_Cancel(t *testing.T) {
	for name, src := range map[string]string{
		"gsub":   `local s = ("a"):rep(1e7) print("ready") for i = 1, 1e9 do s:gsub("a", "b") end`,
		"gmatch": `local s = ("a"):rep(1e7) print("ready") for i = 1, 1e9 do for c in s:gmatch("a") do end end`,
	} {
		t.Run(name, func(t *testing.T) {
			out := newOutput()
			e := newEngine(t, out, Options{})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- e.RunString(ctx, name, src) }()
			<-out.ready
			cancel()
			if err := <-done; !Interrupted(err) {
				t.Errorf("error %v, want interrupted", err)
			} else if err.(*Error).HardStop {
				t.Errorf("stopped hard, want the builtin to notice: %v", err)
			}
		})
	}
}

// TestCoroutineDepth checks that coroutines nested too deeply fail with a
// Lua error, through resume and through wrap, and that 200 levels work.
func TestCoroutineDepth(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`local function f() coroutine.wrap(f)() end f()`, "limits:1: C stack overflow: coroutines nested more than 200 deep"},
		{"local function f()\nlocal ok, err = coroutine.resume(coroutine.create(f))\nerror(err, 0)\nend\nf()", "limits:2: C stack overflow: coroutines nested more than 200 deep"},
	} {
		_, err := runLines(t, Options{}, tc.src)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want+"\n") {
			t.Errorf("%s:\nerror %v\nwant %q", tc.src, err, tc.want)
		}
	}
	got, err := runLines(t, Options{}, `
		local function nest(n) if n == 0 then return 0 end return coroutine.wrap(nest)(n - 1) + 1 end
		print(nest(199))
		local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
		print(coroutine.resume(co, 1)) print(coroutine.resume(co, 5)) print(coroutine.resume(co))
		print(pcall(coroutine.wrap(function() error("inner", 0) end)))`)
	want := "199\ntrue\t2\ntrue\t10\nfalse\tcan not resume a dead thread\nfalse\tinner\n"
	if err != nil || got != want {
		t.Errorf("coroutines: %q, %v; want %q", got, err, want)
	}
}

// TestShortTraceback checks that the traceback of an error after millions
// of tail calls, or in a recursion as deep as the stack allows, keeps the
// first and last lines only, and that tail calls are counted.
func TestShortTraceback(t *testing.T) {
	for _, tc := range []struct {
		name, src, first string
		holds            []string
	}{
		{"TailCalls", "local function f(n) if n == 0 then error('x') end return f(n - 1) end\nf(1e6)",
			"limits:1: x", []string{"\t[G]: in function 'error'\n", "\t(tailcall): ?\n", "\t... (999983 more)\n", "\tlimits:2: in main chunk"}},
		{"Recursion", "local function f(n) return 1 + f(n + 1) end\nf(1)",
			"limits:1: stack overflow", []string{"\tlimits:1: in function 'f'\n", " more)\n", "\tlimits:2: in main chunk"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runLines(t, Options{}, tc.src)
			var e *Error
			if !errors.As(err, &e) || e.Message != tc.first {
				t.Fatalf("error %v, want %q", err, tc.first)
			}
			if lines := strings.Count(e.Traceback, "\n"); lines > tracebackLines+1 {
				t.Errorf("traceback of %d lines:\n%s", lines, e.Traceback)
			}
			for _, want := range tc.holds {
				if !strings.Contains(e.Traceback, want) {
					t.Errorf("traceback lacks %q:\n%s", want, e.Traceback)
				}
			}
		})
	}
	// pcall keeps no traceback, and a caught error leaves the next one's
	// intact.
	got, err := runLines(t, Options{}, "local function f(n) if n == 0 then error('x') end return f(n - 1) end\nprint(pcall(f, 1e6))\nerror('after')")
	if got != "false\tlimits:1: x\n" || err == nil || !strings.Contains(err.Error(), "stack traceback:\n\t[G]: in function 'error'\n\tlimits:3: in main chunk") {
		t.Errorf("printed %q, error %v", got, err)
	}
}

// TestShortTraceback_TailCalls checks that the tail calls of a frame,
// which gopher-lua does not export, are read: a gopher-lua upgrade that
// renames the field would make tracebacks lose their "(tailcall)" lines.
func TestShortTraceback_TailCalls(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var counted int
	L.SetGlobal("probe", L.NewFunction(func(L *lua.LState) int {
		dbg, _ := L.GetStack(1)
		counted = tailCallsOf(dbg)
		return 0
	}))
	if err := L.DoString("local function f(n) if n == 0 then return probe() end return f(n - 1) end f(5)"); err != nil {
		t.Fatal(err)
	}
	if counted != 5 {
		t.Errorf("counted %d tail calls, want 5", counted)
	}
}

// TestMemoryLimit checks that a run whose data grows past its memory
// limit ends with a *MemoryLimitError, exit status 1.
func TestMemoryLimit(t *testing.T) {
	_, err := runLines(t, Options{MaxMemory: 48 << 20, MaxMemoryName: "--max-memory"},
		"local t = {}\nfor i = 1, 1e9 do t[i] = ('x'):rep(1000) .. i end")
	var limit *MemoryLimitError
	if !Interrupted(err) || !errors.As(err, &limit) || ExitStatus(err) != StatusFailure {
		t.Fatalf("error %v, want the memory limit", err)
	}
	if want := "memory limit of 48 MiB exceeded (--max-memory) at limits:2"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	// The limit is lifted when no run is watched.
	memoryWatch.mu.Lock()
	defer memoryWatch.mu.Unlock()
	if len(memoryWatch.runs) != 0 || memoryWatch.stop != nil {
		t.Errorf("the watch still runs: %d runs", len(memoryWatch.runs))
	}
}

// TestHardStop checks that a run stuck in a builtin that ignores its
// context returns once the grace period is over, marked HardStop, and
// that the engine closes without waiting for it.
func TestHardStop(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	// blocked is closed once the script is inside the builtin: cancelling
	// earlier, between two Lua instructions, would stop it cleanly.
	blocked := make(chan struct{})
	e := newEngine(t, newOutput(), Options{StopGrace: 10e6, Setup: func(L *lua.LState) error {
		L.SetGlobal("block", L.NewFunction(func(L *lua.LState) int {
			close(blocked)
			<-release
			return 0
		}))
		return nil
	}})
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.RunString(ctx, "stuck", `block()`) }()
	<-blocked
	cancel(ErrTerminated)
	err := <-done
	var stop *Error
	if !errors.As(err, &stop) || !stop.HardStop || ExitStatus(err) != StatusTerminated {
		t.Fatalf("error %v, want a hard stop with status 143", err)
	}
	if want := "terminated; the script did not stop within 10ms (it was inside a long builtin), so it was stopped hard"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestEscapeControl(t *testing.T) {
	for in, want := range map[string]string{
		"plain text\n\twith tab":    "plain text\n\twith tab",
		"red\x1b[31mtext":           `red\x1b[31mtext`,
		"over\rwrite\bback\x7f":     `over\rwrite\x08back\x7f`,
		"c1 \u009b31m":              `c1 \u009b31m`,
		"bidi \u202egnp.exe":        `bidi \u202egnp.exe`,
		"utf-8 é ✓, bad \xff bytes": "utf-8 é ✓, bad \xff bytes",
	} {
		if got := EscapeControl(in); got != want {
			t.Errorf("EscapeControl(%q) = %q, want %q", in, got, want)
		}
	}
}
