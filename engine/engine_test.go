package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// output collects what scripts print and signals the first line that
// reads "ready", so that tests cancel a script only once it is running.
type output struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func newOutput() *output { return &output{ready: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if strings.Contains(string(p), "ready") {
		o.once.Do(func() { close(o.ready) })
	}
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// newEngine returns an engine printing to out and reading no environment,
// closed when the test ends.
func newEngine(t *testing.T, out *output, opts Options) *Engine {
	t.Helper()
	opts.Stdout = out
	if opts.LookupEnv == nil {
		opts.LookupEnv = func(string) (string, bool) { return "", false }
	}
	e := New(opts)
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

func TestEngine_RunFile(t *testing.T) {
	out := newOutput()
	e := newEngine(t, out, Options{})
	if err := e.RunFile(context.Background(), "testdata/hello.lua", []string{"a", "b c"}); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "hello\t2\ta\tb c\nvarargs\ta\tb c\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestEngine_RunFile_Errors(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		kind       Kind
		want       string // the first line of the error
	}{
		{"Runtime", "testdata/call_nil.lua", KindRuntime, "testdata/call_nil.lua:3: attempt to call a non-function object"},
		{"Syntax", "testdata/syntax.lua", KindSyntax, "testdata/syntax.lua:2: syntax error near '='"},
		{"SyntaxAtEnd", "testdata/unclosed.lua", KindSyntax, "testdata/unclosed.lua:2: syntax error at end of file"},
		{"SyntaxAtEndOfOneLine", "testdata/oneline_unclosed.lua", KindSyntax, "testdata/oneline_unclosed.lua:1: syntax error at end of file"},
		{"TableError", "testdata/table_error.lua", KindRuntime, "testdata/table_error.lua:4: wps: send_to_group: 403 Forbidden"},
		{"ShebangKeepsLines", "testdata/shebang.lua", KindRuntime, "testdata/shebang.lua:3: line three"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, newOutput(), Options{})
			err := e.RunFile(context.Background(), tc.file, nil)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if se.Kind != tc.kind {
				t.Errorf("kind %d, want %d", se.Kind, tc.kind)
			}
			text := err.Error()
			if first, _, _ := strings.Cut(text, "\n"); first != tc.want {
				t.Errorf("first line %q, want %q", first, tc.want)
			}
			if strings.Contains(text, ".go:") || strings.Contains(text, "goroutine") {
				t.Errorf("error shows Go internals:\n%s", text)
			}
			if tc.kind == KindRuntime && !strings.Contains(text, "\nstack traceback:\n") {
				t.Errorf("no traceback:\n%s", text)
			}
			if tc.kind == KindSyntax && strings.Count(text, "\n") != 0 {
				t.Errorf("syntax error spans several lines:\n%s", text)
			}
		})
	}
	t.Run("RuntimeTraceback", func(t *testing.T) {
		e := newEngine(t, newOutput(), Options{})
		err := e.RunFile(context.Background(), "testdata/call_nil.lua", nil)
		if !strings.Contains(err.Error(), "\ttestdata/call_nil.lua:5: in main chunk") {
			t.Errorf("traceback lacks the main chunk's line:\n%s", err)
		}
	})
	t.Run("Directory", func(t *testing.T) {
		e := newEngine(t, newOutput(), Options{})
		if err := e.RunFile(context.Background(), "testdata", nil); err == nil || err.Error() != "read testdata: is a directory" {
			t.Errorf("error %v, want the read error", err)
		}
	})
	t.Run("FileContents", func(t *testing.T) {
		dir := t.TempDir()
		for _, tc := range []struct{ name, src, want string }{
			{"binary.lua", "\x1bLua\x51\x00\x01\x04", "binary.lua: not a Lua script: the file is binary (it contains a NUL byte)"},
			{"control.lua", "local x = 1 \a y\n", "control.lua:1: Invalid token near '\\a'"},
			{"latin1.lua", "local x = \xe9\n", "latin1.lua:1: Invalid token near '\\xe9'"},
			{"bom.lua", "\xef\xbb\xbf\nerror('line two')\n", "bom.lua:2: line two"},
		} {
			path := dir + "/" + tc.name
			if err := os.WriteFile(path, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
			e := newEngine(t, newOutput(), Options{})
			err := e.RunFile(context.Background(), path, nil)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("%s: error %v (%T), want *Error", tc.name, err, err)
			}
			if first, _, _ := strings.Cut(err.Error(), "\n"); first != dir+"/"+tc.want {
				t.Errorf("%s: first line %q, want %q", tc.name, first, dir+"/"+tc.want)
			}
		}
	})
	t.Run("MissingFile", func(t *testing.T) {
		e := newEngine(t, newOutput(), Options{})
		err := e.RunFile(context.Background(), "testdata/nosuch.lua", nil)
		if !errors.Is(err, os.ErrNotExist) || err.Error() != "open testdata/nosuch.lua: no such file or directory" {
			t.Errorf("error %v, want the open error", err)
		}
	})
}

// runUntilReady runs file in the background, cancels ctx (through cancel)
// once the script printed "ready", and returns RunFile's error. If the
// script did not stop, the test would hang until go test's timeout.
func runUntilReady(t *testing.T, e *Engine, out *output, file string, ctx context.Context, cancel func()) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- e.RunFile(ctx, file, nil) }()
	select {
	case <-out.ready:
	case err := <-done:
		t.Fatalf("script ended before it was ready: %v", err)
	}
	cancel()
	return <-done
}

func TestEngine_Cancel(t *testing.T) {
	for _, file := range []string{"testdata/sleep.lua", "testdata/busy.lua", "testdata/pcall_sleep.lua"} {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(file, "testdata/"), ".lua"), func(t *testing.T) {
			out := newOutput()
			e := newEngine(t, out, Options{})
			ctx, cancel := context.WithCancel(context.Background())
			err := runUntilReady(t, e, out, file, ctx, cancel)
			if !Interrupted(err) || err.Error() != "interrupted" || !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want interrupted", err)
			}
			if !Interrupted(fmt.Errorf("running %s: %w", file, err)) {
				t.Error("Interrupted does not see through a wrapping error")
			}
			if strings.Contains(out.String(), "not reached") {
				t.Error("the script went on after the interruption")
			}
		})
	}
}

func TestEngine_Timeout(t *testing.T) {
	out := newOutput()
	e := newEngine(t, out, Options{})
	cause := errors.New("timed out after 10ms")
	ctx, cancel := context.WithCancelCause(context.Background())
	// The cause stands in for WithTimeoutCause's; the test must not
	// depend on how long the script takes to start.
	err := runUntilReady(t, e, out, "testdata/busy.lua", ctx, func() { cancel(cause) })
	if !Interrupted(err) || err.Error() != "timed out after 10ms at testdata/busy.lua:3" || !errors.Is(err, cause) {
		t.Errorf("error %v, want the timeout", err)
	}
}

func TestEngine_Exit(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		code int
	}{{"0", 0}, {"3", 3}} {
		out := newOutput()
		e := newEngine(t, out, Options{})
		err := e.RunFile(context.Background(), "testdata/exit.lua", []string{tc.arg})
		var exit *ExitError
		switch {
		case tc.code == 0 && err != nil:
			t.Errorf("os.exit(0): error %v", err)
		case tc.code != 0 && (!errors.As(err, &exit) || exit.Code != tc.code):
			t.Errorf("os.exit(%s): error %v, want exit status %d", tc.arg, err, tc.code)
		}
		if got := out.String(); got != "before\n" {
			t.Errorf("os.exit(%s): output %q", tc.arg, got)
		}
	}
}

// TestEngine_ExitThroughPcall checks that pcall, xpcall, coroutines and
// wps.each do not catch os.exit: the script ends with its status.
func TestEngine_ExitThroughPcall(t *testing.T) {
	for _, where := range []string{"pcall", "xpcall", "resume", "wrap", "each"} {
		out := newOutput()
		e := newEngine(t, out, Options{})
		err := e.RunFile(context.Background(), "testdata/exit_caught.lua", []string{where})
		var exit *ExitError
		if !errors.As(err, &exit) || exit.Code != 3 {
			t.Errorf("os.exit(3) in %s: error %v, want exit status 3", where, err)
		}
		if got := out.String(); got != "" {
			t.Errorf("os.exit(3) in %s: the script went on and printed %q", where, got)
		}
	}
	// Errors are still caught as before.
	out := newOutput()
	e := newEngine(t, out, Options{})
	err := e.RunString(context.Background(), "caught", `
		print(pcall(error, "e", 0))
		print(xpcall(function() error("x", 0) end, function(m) return "handled " .. m end))
		print(pcall(function(...) return ... end, 1, 2))
		print(pcall(nil))
		print(coroutine.resume(coroutine.create(function() error("r", 0) end)))`)
	want := "false\te\nfalse\thandled x\ntrue\t1\t2\nfalse\tattempt to call a nil value\nfalse\tr\n"
	if err != nil || out.String() != want {
		t.Errorf("caught errors: %v, printed %q, want %q", err, out.String(), want)
	}
}

func TestEngine_Sandbox(t *testing.T) {
	out := newOutput()
	e := newEngine(t, out, Options{Sandbox: true})
	if err := e.RunFile(context.Background(), "testdata/sandbox.lua", nil); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "sandboxed\ttrue\n" {
		t.Errorf("output %q", got)
	}

	out = newOutput()
	e = newEngine(t, out, Options{})
	if err := e.RunFile(context.Background(), "testdata/nosandbox.lua", nil); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "full\trequired module\n" {
		t.Errorf("without sandbox: output %q", got)
	}
}

// TestSession_Exec checks what the REPL relies on: results come back, and a
// state stays usable after an error and after an interrupted evaluation.
func TestSession_Exec(t *testing.T) {
	e := newEngine(t, newOutput(), Options{})
	session, err := e.NewSession(RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	exec := func(ctx context.Context, src string) ([]lua.LValue, error) {
		t.Helper()
		script, err := Compile("stdin", src)
		if err != nil {
			t.Fatal(err)
		}
		return session.Exec(ctx, script)
	}
	if _, err := exec(context.Background(), "x = 20"); err != nil {
		t.Fatal(err)
	}
	if _, err := exec(context.Background(), "error('boom')"); err == nil || !strings.HasPrefix(err.Error(), "stdin:1: boom\n") {
		t.Errorf("error %v, want stdin:1: boom", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := exec(cancelled, "while true do end"); !Interrupted(err) {
		t.Errorf("error %v, want interrupted", err)
	}
	results, err := exec(context.Background(), "return x * 2 + 2, 'ok'")
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].String() != "42" || results[1].String() != "ok" {
		t.Errorf("results %v, want [42 ok]", results)
	}
}

func TestEngine_Setup(t *testing.T) {
	out := newOutput()
	e := newEngine(t, out, Options{Setup: func(L *lua.LState) error {
		L.SetGlobal("added", lua.LString("by the runner"))
		return nil
	}})
	if err := e.RunString(context.Background(), "setup", "print(added)"); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "by the runner\n" {
		t.Errorf("output %q", got)
	}
	failing := newEngine(t, out, Options{Setup: func(L *lua.LState) error { return errors.New("no setup") }})
	if _, err := failing.NewSession(RunOptions{}); err == nil || err.Error() != "no setup" {
		t.Errorf("NewSession error %v, want the Setup error", err)
	}
}

func TestEngine_Helpers(t *testing.T) {
	var logs bytes.Buffer
	out := newOutput()
	e := newEngine(t, out, Options{
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
		LookupEnv: func(name string) (string, bool) { return "from env", name == "WPS_TEST" },
	})
	err := e.RunString(context.Background(), "helpers", `
		log.info("hello", {n = 1})
		print(env("WPS_TEST"), json.encode({a = 1}), inspect({1}), require("wps") == wps)
	`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "from env\t{\"a\":1}\t{ 1 }\ttrue\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	if !strings.Contains(logs.String(), "level=INFO msg=hello n=1") {
		t.Errorf("logs %q", logs.String())
	}
}
