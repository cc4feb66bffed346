package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Script is a compiled Lua chunk. It can run any number of times, in any
// number of states, even at once.
type Script struct {
	// Name is the file name or chunk name used in messages and
	// tracebacks.
	Name  string
	proto *lua.FunctionProto
}

// CompileFile reads and compiles the script at path. Reading a FIFO or
// /dev/stdin can block with no way to cancel it, so CompileFile stops
// waiting when ctx ends (Ctrl-C). A first line starting with # (a shebang)
// and a UTF-8 byte order mark are skipped, as the lua command does. A
// missing file gives the *os.PathError of os.Open ("open x.lua: no such file
// or directory"); a syntax error, a binary file or one over 16 MiB gives an
// *Error.
func CompileFile(ctx context.Context, path string) (*Script, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	type compiled struct {
		script *Script
		err    error
	}
	done := make(chan compiled, 1)
	go func() {
		script, err := compileFile(path)
		done <- compiled{script, err}
	}()
	select {
	case c := <-done:
		return c.script, c.err
	case <-ctx.Done():
		return nil, runError(ctx, nil, ctx.Err())
	}
}

func compileFile(path string) (*Script, error) {
	src, err := ReadScript(path)
	if err != nil {
		return nil, err
	}
	return CompileSource(path, src)
}

// CompileSource compiles src, the content of the script file name, as
// CompileFile does: a binary file is refused, and a UTF-8 byte order mark
// and a first line starting with # are skipped. A runner that keeps a
// file's content (wps cron hands it to each run) compiles it with this.
func CompileSource(name string, src []byte) (*Script, error) {
	if bytes.IndexByte(src, 0) >= 0 {
		return nil, &Error{Kind: KindSyntax, Message: name + ": not a Lua script: the file is binary (it contains a NUL byte)"}
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
	return compile(src, name)
}

// maxScriptSize is the largest script CompileFile reads: far more than any
// script, and a bound when FILE is a device such as /dev/zero.
const maxScriptSize = 16 << 20

// ReadScript reads the script file at path, failing with an *Error if it
// holds more than 16 MiB (FILE may be a device such as /dev/zero).
func ReadScript(path string) ([]byte, error) {
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
// A syntax error gives an *Error; one that more lines could fix (an open
// function, table, long string or comment) also matches ErrIncomplete.
func Compile(name, src string) (*Script, error) {
	return compile([]byte(src), name)
}

func compile(src []byte, name string) (*Script, error) {
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		return nil, syntaxError(name, err, lastLine(src))
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, syntaxError(name, err, 0)
	}
	return &Script{Name: name, proto: proto}, nil
}

// lastLine returns the number of the last line of src that holds
// something: an error at the end of the file is reported there, not on
// the empty line after a final newline.
func lastLine(src []byte) int {
	return bytes.Count(bytes.TrimRight(src, "\n"), []byte("\n")) + 1
}

// syntaxError converts a parse or compile error into an *Error reading
// "file:line: message". lastLine is the number of the source's last line,
// where an error at the end of the file is reported.
func syntaxError(name string, err error, lastLine int) *Error {
	if pe, ok := err.(*parse.Error); ok {
		message := strings.TrimSpace(pe.Message)
		if pe.Pos.Line == parse.EOF {
			// More lines can close an open block, table, long string or
			// long comment, but not a short string ("x = 'abc").
			incomplete := message != "unterminated string"
			return &Error{Kind: KindSyntax, Message: fmt.Sprintf("%s:%d: %s at end of file", name, lastLine, message), incomplete: incomplete}
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
