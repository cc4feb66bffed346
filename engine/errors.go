package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wps/luaapi"
)

// Kind says how a script failed.
type Kind int

const (
	// KindSyntax is a script that does not compile.
	KindSyntax Kind = iota + 1
	// KindRuntime is an error raised while the script ran and not caught.
	KindRuntime
	// KindInterrupted is a script stopped by its context: Ctrl-C or a
	// timeout.
	KindInterrupted
)

// Error is the failure of a script. Its Error text is what a user should
// see: "file:line: message", then the Lua traceback for runtime errors. It
// never holds a Go stack trace.
type Error struct {
	// Kind says how the script failed.
	Kind Kind
	// Message reads "file:line: message" for syntax and runtime errors; a
	// raised value that is not a string is rendered through its
	// __tostring (wps errors are tables) and prefixed with where it was
	// raised. For an interruption it is "interrupted", or the cause of
	// the context's end (e.g. "timed out after 5s").
	Message string
	// Traceback is Lua's "stack traceback:" for runtime errors, else "".
	Traceback string
	// Value is the Lua value raised, for runtime errors (nil otherwise).
	// It belongs to the state the script ran in.
	Value lua.LValue
	// Err is the cause of an interruption: ErrInterrupted,
	// ErrTerminated, a *TimeoutError, context.Canceled or another cause
	// of the context's end.
	Err error
	// HardStop is set when the script did not stop within the grace
	// period after its context ended, and the engine gave up waiting: its
	// state is still busy and must not be used again.
	HardStop bool

	// incomplete marks a syntax error that more lines could fix.
	incomplete bool
}

// Is reports whether a syntax error is one more input could fix, for
// errors.Is(err, ErrIncomplete).
func (e *Error) Is(target error) bool { return target == ErrIncomplete && e.incomplete }

// ErrIncomplete matches (with errors.Is) the syntax error of a chunk that
// ends too early: an open function, if, table, long string or long comment,
// which more lines could complete. A REPL asks for the next line then.
var ErrIncomplete = errors.New("incomplete input")

// Error returns the message, followed by the traceback if there is one.
func (e *Error) Error() string {
	if e.Traceback == "" {
		return e.Message
	}
	return e.Message + "\n" + e.Traceback
}

// Unwrap returns the cause of an interruption.
func (e *Error) Unwrap() error { return e.Err }

// ExitError is a script ending early with a status: its call of
// os.exit(code), flags.parse after --help (0) or a usage mistake (2), or
// flags.usage_error (2).
// The run ends there, and wps exits with Code once it has cleaned up.
// RunFile returns nil for status 0.
type ExitError struct {
	// Code is the exit status the script asked for.
	Code int
	// Message, if set, says why the script ended, e.g. "unknown flag --grup
	// (run with --help for usage)". The runner prints it on stderr, as the
	// one line a usage mistake gets (no traceback: it is not a crash).
	Message string
}

// Error returns "exit status N", followed by ": Message" if there is one.
func (e *ExitError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return fmt.Sprintf("exit status %d: %s", e.Code, e.Message)
}

// osExit replaces os.exit([code]), which in gopher-lua ends the process at
// once: it raises a luaapi.ExitRequest, which Exec turns into an
// *ExitError, so that the engine cleans up (the embedded service, open
// connections) and the runner decides. true means 0, false means 1, as in
// Lua 5.2.
func osExit(L *lua.LState) int {
	code := 0
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
	case lua.LBool:
		if !v {
			code = 1
		}
	case lua.LNumber:
		code = int(v)
	default:
		L.ArgError(1, "number or boolean expected, got "+v.Type().String())
	}
	luaapi.Exit(L, code, "")
	return 0
}

// runError converts the error of a protected call into an *Error (or an
// *ExitError). When ctx is done the script was interrupted, whatever the
// error says.
func runError(ctx context.Context, L *lua.LState, err error) error {
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		message := causeText(cause)
		if !isSignal(cause) {
			// A timeout: say where the script was and what it was
			// waiting for, which is what the operator needs next.
			message = cause.Error()
			if apiErr, ok := err.(*lua.ApiError); ok {
				if where := raisedAt(apiErr.StackTrace); where != "" {
					message += " at " + where
				}
				if detail := valueString(L, apiErr.Object); !strings.Contains(detail, "context ") && !strings.Contains(detail, cause.Error()) {
					message += ": " + firstLine(detail)
				}
			}
		}
		return &Error{Kind: KindInterrupted, Message: message, Err: cause}
	}
	apiErr, ok := err.(*lua.ApiError)
	if !ok {
		return &Error{Kind: KindRuntime, Message: err.Error()}
	}
	if ud, ok := apiErr.Object.(*lua.LUserData); ok {
		if exit, ok := ud.Value.(*luaapi.ExitRequest); ok {
			return &ExitError{Code: exit.Code, Message: exit.Message}
		}
	}
	message := valueString(L, apiErr.Object)
	if apiErr.Type == lua.ApiErrorPanic {
		message = "internal error: " + message
	}
	if _, isString := apiErr.Object.(lua.LString); !isString {
		if where := raisedAt(apiErr.StackTrace); where != "" {
			message = where + ": " + message
		}
	}
	return &Error{Kind: KindRuntime, Message: message, Traceback: apiErr.StackTrace, Value: apiErr.Object}
}

// valueString renders a raised value: a string as it is, another value
// through its __tostring (wps errors are tables), called in protected mode
// so that a faulty one cannot crash the host, else as inspect shows it
// ("{ code = 42 }"), cut after maxErrorValue bytes.
func valueString(L *lua.LState, v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	if fn, ok := L.GetMetaField(v, "__tostring").(*lua.LFunction); ok {
		if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, v); err == nil {
			s := L.Get(-1)
			L.Pop(1)
			if s, ok := s.(lua.LString); ok {
				return string(s)
			}
		}
	}
	s := luaapi.InspectDepth(L, v, errorValueDepth)
	if len(s) > maxErrorValue {
		s = s[:maxErrorValue] + "... (cut)"
	}
	return s
}

// errorValueDepth is how many levels of nested tables the message of a
// table raised as an error shows, and maxErrorValue its longest rendering.
const (
	errorValueDepth = 3
	maxErrorValue   = 2000
)

// raisedAt returns "file:line" of the first Lua frame of a traceback, the
// place where a non-string error was raised, or "".
func raisedAt(traceback string) string {
	for _, line := range strings.Split(traceback, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "[G]") || strings.HasPrefix(line, "stack traceback") {
			continue
		}
		if where, _, ok := strings.Cut(line, ": in "); ok {
			return where
		}
	}
	return ""
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
