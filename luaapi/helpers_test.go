package luaapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// newHelperState returns a state with the standard libraries and Open's
// helpers, closed when the test ends.
func newHelperState(t testing.TB, opts Options) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	Open(L, opts)
	return L
}

// eval runs src as a chunk and returns its first result as a string
// (through tostring), failing the test on an error.
func eval(t testing.TB, L *lua.LState, src string) string {
	t.Helper()
	fn, err := L.LoadString(src)
	if err != nil {
		t.Fatalf("load %q: %v", src, err)
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		t.Fatalf("run %q: %v", src, err)
	}
	v := L.Get(-1)
	L.Pop(1)
	return L.ToStringMeta(v).String()
}

// evalError runs src, which must fail, and returns the error's message
// (the value raised, without traceback).
func evalError(t testing.TB, L *lua.LState, src string) string {
	t.Helper()
	fn, err := L.LoadString(src)
	if err != nil {
		t.Fatalf("load %q: %v", src, err)
	}
	L.Push(fn)
	err = L.PCall(0, 0, nil)
	if err == nil {
		t.Fatalf("run %q: succeeded, want an error", src)
	}
	return L.ToStringMeta(err.(*lua.ApiError).Object).String()
}

func TestSleep(t *testing.T) {
	L := newHelperState(t, Options{})
	t.Run("OK", func(t *testing.T) {
		if got := eval(t, L, `sleep(0.001); sleep(0); return "done"`); got != "done" {
			t.Errorf("got %q", got)
		}
	})
	for _, tc := range []struct{ name, src, want string }{
		{"Negative", `sleep(-1)`, "<string>:1: bad argument #1 to 'sleep' (a non-negative number of seconds expected, got -1)"},
		{"NaN", `sleep(0/0)`, "bad argument #1 to 'sleep' (a non-negative number of seconds expected, got nan)"},
		{"Infinite", `sleep(1/0)`, "bad argument #1 to 'sleep' (a non-negative number of seconds expected, got +inf)"},
		{"String", `sleep("1")`, "bad argument #1 to 'sleep' (number expected, got string)"},
		{"Missing", `sleep()`, "bad argument #1 to 'sleep' (number expected, got nil)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := evalError(t, L, tc.src); !strings.Contains(strings.ToLower(got), strings.ToLower(tc.want)) {
				t.Errorf("error %q, want it to contain %q", got, tc.want)
			}
		})
	}
	t.Run("Cancelled", func(t *testing.T) {
		// An hour-long sleep must return as soon as the context is
		// cancelled; if it did not, the test would hang until its timeout.
		ctx, cancel := context.WithCancel(context.Background())
		L := newHelperState(t, Options{})
		L.SetContext(ctx)
		done := make(chan error, 1)
		fn, err := L.LoadString(`sleep(3600)`)
		if err != nil {
			t.Fatal(err)
		}
		go func() { done <- L.CallByParam(lua.P{Fn: fn, Protect: true}) }()
		cancel()
		err = <-done
		if err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("error %v, want context canceled", err)
		}
	})
}

// TestSeconds checks the conversion behind sleep and conn:receive:
// huge numbers of seconds once overflowed to a negative Duration, so that
// sleep(1e300) returned at once instead of waiting until cancelled.
func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		seconds float64
		want    time.Duration
	}{
		{0, 0},
		{1.5, 1500 * time.Millisecond},
		{1e10, math.MaxInt64},
		{1e300, math.MaxInt64},
	} {
		if got, problem := seconds(tc.seconds); got != tc.want || problem != "" {
			t.Errorf("seconds(%g) = %v, %q, want %v", tc.seconds, got, problem, tc.want)
		}
	}
}

func TestEnv(t *testing.T) {
	vars := map[string]string{"WPS_TEST_SET": "value", "WPS_TEST_EMPTY": ""}
	L := newHelperState(t, Options{LookupEnv: func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}})
	for _, tc := range []struct{ src, want string }{
		{`return env("WPS_TEST_SET")`, "value"},
		{`return env("WPS_TEST_SET", "default")`, "value"},
		{`return env("WPS_TEST_EMPTY", "default")`, ""},
		{`return env("WPS_TEST_MISSING")`, "nil"},
		{`return env("WPS_TEST_MISSING", "default")`, "default"},
	} {
		if got := eval(t, L, tc.src); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.src, got, tc.want)
		}
	}
	if got, want := evalError(t, L, `env({})`), "bad argument #1 to 'env' (string expected, got table)"; !strings.Contains(got, want) {
		t.Errorf("error %q, want %q", got, want)
	}
}

func TestArgs(t *testing.T) {
	L := newHelperState(t, Options{Args: []string{"one", "two words"}})
	if got := eval(t, L, `return #args .. ":" .. args[1] .. ":" .. args[2]`); got != "2:one:two words" {
		t.Errorf("got %q", got)
	}
	L = newHelperState(t, Options{})
	if got := eval(t, L, `return #args`); got != "0" {
		t.Errorf("without args: #args = %q, want 0", got)
	}
}

func TestLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	L := newHelperState(t, Options{Logger: logger})
	eval(t, L, `
		log.debug("hidden at info level")
		log.info("sent", {user = "u1", count = 3, ratio = 0.5, ok = true, data = {b = 1, a = {1, 2}}})
		log.warn("no fields")
		log.error(42)
	`)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), buf.String())
	}
	var record map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &record); err != nil {
		t.Fatalf("line %q: %v", lines[0], err)
	}
	want := map[string]any{"level": "INFO", "msg": "sent", "user": "u1", "count": 3.0, "ratio": 0.5, "ok": true,
		"data": map[string]any{"a": []any{1.0, 2.0}, "b": 1.0}}
	for k, v := range want {
		if got, _ := json.Marshal(record[k]); string(got) != mustJSON(t, v) {
			t.Errorf("field %s = %s, want %s", k, got, mustJSON(t, v))
		}
	}
	if !strings.Contains(lines[1], `"level":"WARN","msg":"no fields"`) || !strings.Contains(lines[2], `"level":"ERROR","msg":"42"`) {
		t.Errorf("lines:\n%s", buf.String())
	}

	t.Run("Text", func(t *testing.T) {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		L := newHelperState(t, Options{Logger: logger})
		eval(t, L, `log.debug("step", {n = 1, name = "x y"})`)
		if got := buf.String(); !strings.Contains(got, `level=DEBUG msg=step n=1 name="x y"`) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("BadFields", func(t *testing.T) {
		if got, want := evalError(t, L, `log.info("m", "not a table")`), "bad argument #2 to 'log.info' (table expected, got string)"; !strings.Contains(got, want) {
			t.Errorf("error %q, want %q", got, want)
		}
	})
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInspect(t *testing.T) {
	L := newHelperState(t, Options{})
	for _, tc := range []struct{ name, src, want string }{
		{"Nil", `return inspect(nil)`, `nil`},
		{"String", `return inspect("a \"b\"\n")`, `"a \"b\"\n"`},
		{"Number", `return inspect(3) .. " " .. inspect(1.5)`, `3 1.5`},
		{"Empty", `return inspect({})`, `{}`},
		{"Markers", `return inspect({json.array(), json.object(), json.null})`, `{ json.array{}, json.object{}, json.null }`},
		{"SortedKeys", `return inspect({1, 2, z = 1, a = true, ["b c"] = "x", [10] = 0, [false] = 1})`,
			`{ 1, 2, [10] = 0, a = true, ["b c"] = "x", z = 1, [false] = 1 }`},
		{"Nested", `return inspect({user = {id = "u1", groups = {"g1"}}})`, `{ user = { groups = { "g1" }, id = "u1" } }`},
		{"Cycle", `local t = {name = "t"}; t.self = t; return inspect(t)`, `{ name = "t", self = <cycle> }`},
		{"SharedNotCycle", `local s = {1}; return inspect({a = s, b = s})`, `{ a = { 1 }, b = { 1 } }`},
		{"Depth", `return inspect({a = {b = {c = {1}}}}, {depth = 2})`, `{ a = { b = {...} } }`},
		{"Function", `local function f() end; return inspect({print, f})`, `{ <builtin function>, <function <string>:1> }`},
		{"Long", `return inspect({"aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccc", {d = 1}})`,
			"{\n  \"aaaaaaaaaaaaaaaaaaaa\",\n  \"bbbbbbbbbbbbbbbbbbbbbbbbb\",\n  \"cccccccccccccccccccccccc\",\n  { d = 1 },\n}"},
		{"LongNested", `return inspect({list = {"aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccc"}})`,
			"{\n  list = {\n    \"aaaaaaaaaaaaaaaaaaaa\",\n    \"bbbbbbbbbbbbbbbbbbbbbbbbb\",\n    \"cccccccccccccccccccccccc\",\n  },\n}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := eval(t, L, tc.src); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	t.Run("BadDepth", func(t *testing.T) {
		if got, want := evalError(t, L, `inspect({}, {depth = "x"})`), "bad argument #2 to 'inspect' (option 'depth': integer expected, got string)"; !strings.Contains(got, want) {
			t.Errorf("error %q, want %q", got, want)
		}
	})
}

func TestOpen_Require(t *testing.T) {
	L := newHelperState(t, Options{})
	if got := eval(t, L, `return tostring(require("json") == json and require("log") == log)`); got != "true" {
		t.Errorf("require returns another table: %s", got)
	}
}
