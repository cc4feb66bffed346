package engine

import (
	"context"
	"math"
	"strconv"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// This file replaces the builtins that can build a huge string from a
// small input (string.rep, string.format, table.concat, string.gsub) with
// versions that refuse a result over the run's string limit with a Lua
// error, instead of letting the Go runtime die of an allocation it cannot
// make. gsub and gmatch also find one batch of matches at a time, checking
// the run's context between batches, where gopher-lua's find every match
// up front (a gigabyte of match records for a 50 MB string) and copy the
// whole result once per match.

// MaxStringSize is the largest string the builtins above build: far more
// than any message or report, and small enough that a run can hold a few.
// A run whose memory limit is lower gets half that limit.
const MaxStringSize = 256 << 20

// matchBatch is how many matches gsub asks the pattern matcher for at a
// time, between checks of the run's context.
const matchBatch = 256

// boundStrings installs the bounded builtins in L; results over maxString
// bytes raise an error.
func boundStrings(L *lua.LState, maxString int) {
	b := bounded{max: maxString}
	if str, ok := L.GetGlobal("string").(*lua.LTable); ok {
		format, _ := str.RawGetString("format").(*lua.LFunction)
		str.RawSetString("rep", L.NewFunction(b.rep))
		str.RawSetString("gsub", L.NewFunction(b.gsub))
		gmatch := L.NewFunction(b.gmatch)
		str.RawSetString("gmatch", gmatch)
		str.RawSetString("gfind", gmatch)
		if format != nil {
			str.RawSetString("format", L.NewFunction(func(L *lua.LState) int {
				b.checkFormat(L)
				return format.GFunction(L)
			}))
		}
	}
	if table, ok := L.GetGlobal("table").(*lua.LTable); ok {
		table.RawSetString("concat", L.NewFunction(b.concat))
	}
}

// bounded holds the string limit of one state's builtins.
type bounded struct{ max int }

// tooLarge raises the error of a function whose result would be size
// bytes.
func (b bounded) tooLarge(L *lua.LState, function string, size float64) {
	L.RaiseError("%s: the result would be %s, more than the limit of %s", function, FormatSize(size), FormatSize(float64(b.max)))
}

// rep is string.rep(s, n).
func (b bounded) rep(L *lua.LState) int {
	s := L.CheckString(1)
	n := float64(L.CheckNumber(2))
	if n < 1 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if size := float64(len(s)) * math.Floor(n); size > float64(b.max) {
		b.tooLarge(L, "string.rep", size)
	}
	L.Push(lua.LString(strings.Repeat(s, int(n))))
	return 1
}

// concat is table.concat(t [, sep [, i [, j]]]), with gopher-lua's
// clamping of i and j to the table's length.
func (b bounded) concat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	n := t.Len()
	i := L.OptInt(3, 1)
	j := L.OptInt(4, n)
	if L.GetTop() == 3 && (i > n || i < 1) {
		L.Push(lua.LString(""))
		return 1
	}
	i = max(min(i, n), 1)
	j = min(j, n)
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	size := float64(len(sep)) * float64(j-i)
	for k := i; k <= j; k++ {
		switch v := t.RawGetInt(k).(type) {
		case lua.LString:
			size += float64(len(v))
		case lua.LNumber:
			size += float64(len(v.String()))
		default:
			L.RaiseError("invalid value (%s) at index %d in table for concat", v.Type(), k)
		}
	}
	if size > float64(b.max) {
		b.tooLarge(L, "table.concat", size)
	}
	var out strings.Builder
	out.Grow(int(size))
	for k := i; k <= j; k++ {
		if k > i {
			out.WriteString(sep)
		}
		out.WriteString(t.RawGetInt(k).String())
	}
	L.Push(lua.LString(out.String()))
	return 1
}

// checkFormat raises an error when string.format's arguments could build
// a result over the limit: Go's fmt, which gopher-lua's string.format
// calls, pads to any width or precision up to a million, for each
// directive.
func (b bounded) checkFormat(L *lua.LState) {
	format := L.CheckString(1)
	size, arg := float64(len(format)), 2
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		// Flags, then width, then precision: each number counts in full.
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			i++
		}
		for i < len(format) && (format[i] == '.' || format[i] >= '0' && format[i] <= '9') {
			start := i
			for i < len(format) && format[i] >= '0' && format[i] <= '9' {
				i++
			}
			if n, err := strconv.Atoi(format[start:i]); err == nil {
				size += float64(min(n, 1_000_000))
			}
			if i < len(format) && format[i] == '.' {
				i++
			}
		}
		switch v := L.Get(arg).(type) {
		case lua.LString:
			size += float64(len(v))
		default:
			size += 64 // a number, or the name of another value
		}
		arg++
	}
	if size > float64(b.max) {
		b.tooLarge(L, "string.format", size)
	}
}

// readOnlyBytes returns the bytes of s without copying them, for the
// pattern matcher, which only reads them.
func readOnlyBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// nextStart returns where the search after match md starts: past the
// match, or one byte further for an empty match, as pm.Find does.
func nextStart(md *pm.MatchData) int {
	return max(md.Capture(0)+1, md.Capture(1))
}

// checkContext raises an error when the run's context has ended, so that
// a long builtin stops with the run.
func checkContext(L *lua.LState) {
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		L.RaiseError("%v", context.Cause(ctx))
	}
}

// gsub is string.gsub(s, pattern, repl [, n]).
func (b bounded) gsub(L *lua.LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTTable, lua.LTFunction)
	repl := L.Get(3)
	limit := L.OptInt(4, math.MaxInt)
	src := readOnlyBytes(str)
	anchored := strings.HasPrefix(pattern, "^")
	var out strings.Builder
	count, copied := 0, 0 // replacements made; bytes of str copied to out
	for start := 0; start <= len(src) && count < limit; {
		checkContext(L)
		batch := min(matchBatch, limit-count)
		if anchored {
			batch = 1
		}
		matches, err := pm.Find(pattern, src, start, batch)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		if len(matches) == 0 {
			break
		}
		for _, md := range matches {
			from, to := md.Capture(0), md.Capture(1)
			s, ok := replacement(L, str, md, repl)
			if !ok {
				s = str[from:to]
			}
			// The result so far, this match's replacement and the rest of
			// str, were nothing else replaced.
			if size := out.Len() + from - copied + len(s) + len(str) - to; size > b.max {
				b.tooLarge(L, "string.gsub", float64(size))
			}
			out.WriteString(str[copied:from])
			out.WriteString(s)
			copied = to
			count++
		}
		if anchored {
			break
		}
		start = nextStart(matches[len(matches)-1])
	}
	if count == 0 {
		L.Push(lua.LString(str))
	} else {
		out.WriteString(str[copied:])
		L.Push(lua.LString(out.String()))
	}
	L.Push(lua.LNumber(count))
	return 2
}

// replacement returns what gsub puts in place of match md of str: repl
// with %0-%9 expanded, repl[first capture] or repl(captures...). false
// means keep the match (a table or function gave false or nil).
func replacement(L *lua.LState, str string, md *pm.MatchData, repl lua.LValue) (string, bool) {
	switch repl := repl.(type) {
	case lua.LString:
		return expandReplacement(L, str, md, string(repl)), true
	case *lua.LTable:
		var v lua.LValue
		if md.CaptureLength() > 2 && md.IsPosCapture(2) {
			v = L.GetTable(repl, lua.LNumber(md.Capture(2)))
		} else {
			v = L.GetField(repl, capture(L, str, md, 1).String())
		}
		return replacementValue(L, v)
	default:
		L.Push(repl)
		n := max(1, md.CaptureLength()/2-1)
		for i := 1; i <= n; i++ {
			L.Push(capture(L, str, md, i))
		}
		L.Call(n, 1)
		v := L.Get(-1)
		L.Pop(1)
		return replacementValue(L, v)
	}
}

// replacementValue converts what a replacement table or function gave.
func replacementValue(L *lua.LState, v lua.LValue) (string, bool) {
	switch v := v.(type) {
	case lua.LString, lua.LNumber:
		return v.String(), true
	}
	if lua.LVIsFalse(v) {
		return "", false
	}
	L.RaiseError("invalid replacement value (a %s)", v.Type())
	return "", false
}

// capture returns capture i (1-9) of match md of str: the whole match for
// capture 1 of a pattern without captures, a number for a position
// capture.
func capture(L *lua.LState, str string, md *pm.MatchData, i int) lua.LValue {
	idx := 2 * i
	if md.CaptureLength() == 2 && i == 1 {
		idx = 0
	} else if idx >= md.CaptureLength() {
		L.RaiseError("invalid capture index")
	}
	if md.IsPosCapture(idx) {
		return lua.LNumber(md.Capture(idx))
	}
	return lua.LString(str[md.Capture(idx):md.Capture(idx+1)])
}

// expandReplacement expands a gsub replacement string: %0 is the whole
// match, %1-%9 the captures, %% a percent sign; as in gopher-lua, any other
// % stays as it is.
func expandReplacement(L *lua.LState, str string, md *pm.MatchData, repl string) string {
	if strings.IndexByte(repl, '%') < 0 {
		return repl
	}
	var out strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '%' || i == len(repl)-1 {
			out.WriteByte(c)
			continue
		}
		i++
		switch d := repl[i]; {
		case d == '0':
			out.WriteString(str[md.Capture(0):md.Capture(1)])
		case d >= '1' && d <= '9':
			out.WriteString(capture(L, str, md, int(d-'0')).String())
		case d == '%':
			out.WriteByte('%')
		default:
			out.WriteByte('%')
			out.WriteByte(d)
		}
	}
	return out.String()
}

// gmatch is string.gmatch(s, pattern): an iterator finding one match per
// call.
func (b bounded) gmatch(L *lua.LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	src := readOnlyBytes(str)
	anchored := strings.HasPrefix(pattern, "^")
	start, done := 0, false
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if done || start > len(src) {
			return 0
		}
		checkContext(L)
		matches, err := pm.Find(pattern, src, start, 1)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		if len(matches) == 0 || anchored {
			done = true
		}
		if len(matches) == 0 {
			return 0
		}
		md := matches[0]
		start = nextStart(md)
		n := max(1, md.CaptureLength()/2-1)
		for i := 1; i <= n; i++ {
			L.Push(capture(L, str, md, i))
		}
		return n
	}))
	return 1
}
