package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"wps/luaapi"
)

// CompileFile reads and compiles the script at path. The result can run
// any number of times, in any state (see Exec). A first line starting with
// # (a shebang) is skipped, as the lua command does. A missing file gives
// the *os.PathError of os.ReadFile ("open x.lua: no such file or
// directory"); a syntax error gives an *Error.
func (e *Engine) CompileFile(path string) (*lua.FunctionProto, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
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
	proto, err := e.CompileFile(path)
	if err != nil {
		return err
	}
	return e.run(ctx, proto, args)
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
			near = fmt.Sprintf(" near '%s'", pe.Token)
		}
		return &Error{Kind: KindSyntax, Message: fmt.Sprintf("%s:%d: %s%s", name, pe.Pos.Line, message, near)}
	}
	if ce, ok := err.(*lua.CompileError); ok {
		return &Error{Kind: KindSyntax, Message: fmt.Sprintf("%s:%d: %s", name, ce.Line, ce.Message)}
	}
	return &Error{Kind: KindSyntax, Message: fmt.Sprintf("%s: %v", name, err)}
}
