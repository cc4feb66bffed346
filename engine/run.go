package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"wps/luaapi"
)

// CompileFile reads and compiles the script at path. The result can run
// any number of times, in any state (see Exec). A first line starting with
// # (a shebang) and a UTF-8 byte order mark are skipped, as the lua
// command does. A missing file gives the *os.PathError of os.Open ("open
// x.lua: no such file or directory"); a syntax error, a binary file or one
// over 16 MiB gives an *Error.
func (e *Engine) CompileFile(path string) (*lua.FunctionProto, error) {
	src, err := readScript(path)
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(src, 0) >= 0 {
		return nil, &Error{Kind: KindSyntax, Message: path + ": not a Lua script: the file is binary (it contains a NUL byte)"}
	}
	// A UTF-8 byte order mark, which some Windows editors write, is not Lua.
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(src, []byte("#")) {
		// Keep the newline, so that line numbers stay right.
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			src = src[i:]
		} else {
			src = nil
		}
	}
	return compile(src, path)
}

// maxScriptSize is the largest script CompileFile reads: far more than any
// script, and a bound when FILE is a device such as /dev/zero.
const maxScriptSize = 16 << 20

// readScript reads the file at path, failing if it holds more than
// maxScriptSize bytes.
func readScript(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxScriptSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > maxScriptSize {
		return nil, &Error{Kind: KindSyntax, Message: fmt.Sprintf("%s: not a Lua script: larger than %d MiB", path, maxScriptSize>>20)}
	}
	return src, nil
}

// Compile compiles src, naming it name in error messages and tracebacks.
// A syntax error gives an *Error.
func (e *Engine) Compile(name, src string) (*lua.FunctionProto, error) {
	return compile([]byte(src), name)
}

func compile(src []byte, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		return nil, syntaxError(name, err, bytes.Count(src, []byte("\n"))+1)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, syntaxError(name, err, 0)
	}
	return proto, nil
}

// Exec runs proto as a chunk in L, passing args as its ..., under ctx: when
// ctx is done the script stops, wherever it is (a busy loop, sleep, a REST
// call). It returns the chunk's results. A failure is an *Error, or an
// *ExitError when the script called os.exit.
func (e *Engine) Exec(ctx context.Context, L *lua.LState, proto *lua.FunctionProto, args ...lua.LValue) ([]lua.LValue, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	previous := L.Context()
	L.SetContext(ctx)
	defer func() {
		if previous != nil {
			L.SetContext(previous)
		} else {
			L.RemoveContext()
		}
	}()
	top := L.GetTop()
	L.Push(L.NewFunctionFromProto(proto))
	for _, a := range args {
		L.Push(a)
	}
	if err := L.PCall(len(args), lua.MultRet, nil); err != nil {
		L.SetTop(top)
		return nil, runError(ctx, L, err)
	}
	results := make([]lua.LValue, 0, L.GetTop()-top)
	for i := top + 1; i <= L.GetTop(); i++ {
		results = append(results, L.Get(i))
	}
	L.SetTop(top)
	return results, nil
}

// RunFile runs the script at path in a fresh state, with args as the args
// global and as the chunk's .... It returns nil on success, the open error
// of a missing file, an *Error for a syntax error, a runtime error or an
// interruption, or an *ExitError when the script called os.exit.
func (e *Engine) RunFile(ctx context.Context, path string, args []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// Reading a FIFO or /dev/stdin can block with no way to cancel it, so
	// read on a goroutine and stop waiting when ctx ends (Ctrl-C).
	type compiled struct {
		proto *lua.FunctionProto
		err   error
	}
	done := make(chan compiled, 1)
	go func() {
		proto, err := e.CompileFile(path)
		done <- compiled{proto, err}
	}()
	select {
	case c := <-done:
		if c.err != nil {
			return c.err
		}
		return e.run(ctx, c.proto, args)
	case <-ctx.Done():
		return runError(ctx, nil, ctx.Err())
	}
}

// RunString runs src, named name in messages, in a fresh state, like
// RunFile.
func (e *Engine) RunString(ctx context.Context, name, src string) error {
	proto, err := e.Compile(name, src)
	if err != nil {
		return err
	}
	return e.run(ctx, proto, nil)
}

// run executes proto in a fresh state with args.
func (e *Engine) run(ctx context.Context, proto *lua.FunctionProto, args []string) error {
	L, err := e.NewState(ctx)
	if err != nil {
		return err
	}
	defer L.Close()
	luaapi.SetArgs(L, args)
	values := make([]lua.LValue, len(args))
	for i, a := range args {
		values[i] = lua.LString(a)
	}
	_, err = e.Exec(ctx, L, proto, values...)
	if exit, ok := err.(*ExitError); ok && exit.Code == 0 {
		return nil
	}
	return err
}

// Interrupted reports whether err is the end of a script stopped by its
// context (Ctrl-C, a timeout), as opposed to a failure of the script.
func Interrupted(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == KindInterrupted
}

// syntaxError converts a parse or compile error into an *Error reading
// "file:line: message". lastLine is the number of the source's last line,
// where an error at the end of the file is reported.
func syntaxError(name string, err error, lastLine int) *Error {
	if pe, ok := err.(*parse.Error); ok {
		message := strings.TrimSpace(pe.Message)
		if pe.Pos.Line == parse.EOF {
			return &Error{Kind: KindSyntax, Message: fmt.Sprintf("%s:%d: %s at end of file", name, lastLine, message)}
		}
		near := ""
		if pe.Token != "" {
			near = fmt.Sprintf(" near '%s'", printableToken(pe.Token))
		}
		return &Error{Kind: KindSyntax, Message: fmt.Sprintf("%s:%d: %s%s", name, pe.Pos.Line, message, near)}
	}
	if ce, ok := err.(*lua.CompileError); ok {
		return &Error{Kind: KindSyntax, Message: fmt.Sprintf("%s:%d: %s", name, ce.Line, ce.Message)}
	}
	return &Error{Kind: KindSyntax, Message: fmt.Sprintf("%s: %v", name, err)}
}

// printableToken returns token as it is, or escaped like a Go string when it
// holds bytes a terminal would not show (invalid UTF-8, control characters).
func printableToken(token string) string {
	if utf8.ValidString(token) && strings.IndexFunc(token, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return token
	}
	quoted := strconv.QuoteToASCII(token)
	return quoted[1 : len(quoted)-1]
}
