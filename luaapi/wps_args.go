package luaapi

import (
	"fmt"
	"math"
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// args reads the arguments of a call to the wps function fn. Argument i
// (counted from 1, as a script sees it) is at stack position base+i: base
// is 1 for methods, whose receiver sits at position 1, and 0 otherwise.
// Every mistake raises "bad argument #i to 'wps.send_to_all' (...)".
type args struct {
	L    *lua.LState
	fn   *Function
	base int
}

// newArgs returns the reader of the arguments of fn.
func newArgs(L *lua.LState, fn *Function) args {
	a := args{L: L, fn: fn}
	if fn.IsMethod() {
		a.base = 1
	}
	return a
}

// get returns argument i.
func (a args) get(i int) lua.LValue { return a.L.Get(a.base + i) }

// argError raises an error about argument i.
func (a args) argError(i int, message string) {
	ArgError(a.L, a.fn, a.base+i, message)
}

// string returns argument i as a string (a number is converted, as Lua
// does).
func (a args) string(i int) string { return CheckString(a.L, a.fn, a.base+i) }

// optString returns argument i as a string, or def when it is nil.
func (a args) optString(i int, def string) string { return OptString(a.L, a.fn, a.base+i, def) }

// function returns argument i as a function.
func (a args) function(i int) *lua.LFunction { return CheckFunction(a.L, a.fn, a.base+i) }

// table returns argument i as a table.
func (a args) table(i int) *lua.LTable { return CheckTable(a.L, a.fn, a.base+i) }

// stringList returns argument i as a list of strings.
func (a args) stringList(i int) []string {
	t, ok := a.get(i).(*lua.LTable)
	if !ok {
		a.argError(i, "list of strings expected, got "+typeName(a.get(i)))
	}
	list, bad := stringList(t)
	if bad != "" {
		a.argError(i, "list of strings expected, "+bad)
	}
	return list
}

// options reads the optional trailing opts table of a wps function. An
// absent table reads as empty.
type options struct {
	a args
	i int // the table's argument number
	t *lua.LTable
}

// options returns the opts table that is argument i, raising an error for
// a value that is not a table and for any key that is not a field of class
// (a typo must not be ignored silently), e.g.
// "wps.send_to_all: unknown option 'tll' (valid: content_type, excluded, filter, ttl)".
func (a args) options(i int, class string) options {
	valid := optionNames(class)
	o := options{a: a, i: i}
	switch v := a.get(i).(type) {
	case *lua.LNilType:
		return o
	case *lua.LTable:
		o.t = v
	default:
		a.argError(i, "options table expected, got "+typeName(v))
	}
	var unknown []string
	o.t.ForEach(func(k, _ lua.LValue) {
		if key, ok := k.(lua.LString); !ok || !slices.Contains(valid, string(key)) {
			unknown = append(unknown, fmt.Sprintf("'%s'", k.String()))
		}
	})
	if len(unknown) > 0 {
		slices.Sort(unknown)
		list := slices.Sorted(slices.Values(valid))
		word := "option"
		if len(unknown) > 1 {
			word = "options"
		}
		a.L.RaiseError("%s: unknown %s %s (valid: %s)", a.fn.QualifiedName(), word, strings.Join(unknown, ", "), strings.Join(list, ", "))
	}
	return o
}

// get returns the value of key, LNil when absent.
func (o options) get(key string) lua.LValue {
	if o.t == nil {
		return lua.LNil
	}
	return o.t.RawGetString(key)
}

// fail raises an error about option key.
func (o options) fail(key, message string) {
	o.a.argError(o.i, fmt.Sprintf("option '%s': %s", key, message))
}

// typeError raises an error for option key holding a value of the wrong
// type.
func (o options) typeError(key, expected string, got lua.LValue) {
	o.fail(key, fmt.Sprintf("%s expected, got %s", expected, typeName(got)))
}

// string returns option key as a string, "" when absent.
func (o options) string(key string) string {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return ""
	case lua.LString:
		return string(v)
	default:
		o.typeError(key, "string", v)
		return ""
	}
}

// number returns option key as a number and whether it is present.
func (o options) number(key string) (float64, bool) {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return 0, false
	case lua.LNumber:
		return float64(v), true
	default:
		o.typeError(key, "number", v)
		return 0, false
	}
}

// int returns option key as a whole number within [min, max], 0 when absent.
func (o options) int(key string, min, max int) int {
	f, ok := o.number(key)
	if !ok {
		return 0
	}
	if f != math.Trunc(f) || f < float64(min) || f > float64(max) {
		o.fail(key, fmt.Sprintf("a whole number from %d to %d expected, got %v", min, max, lua.LNumber(f)))
	}
	return int(f)
}

// bool returns option key as a boolean, def when absent.
func (o options) bool(key string, def bool) bool {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LBool:
		return bool(v)
	default:
		o.typeError(key, "boolean", v)
		return false
	}
}

// strings returns option key as a list of strings, nil when absent. A single
// string is accepted as a list of one.
func (o options) strings(key string) []string {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return nil
	case lua.LString:
		return []string{string(v)}
	case *lua.LTable:
		list, bad := stringList(v)
		if bad != "" {
			o.fail(key, "list of strings expected, "+bad)
		}
		return list
	default:
		o.typeError(key, "list of strings", v)
		return nil
	}
}

// stringList converts a Lua sequence of strings; bad describes the first
// offending item, if any.
func stringList(t *lua.LTable) (list []string, bad string) {
	n := t.Len()
	list = make([]string, 0, n)
	for i := 1; i <= n; i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok {
			return nil, fmt.Sprintf("item %d is %s", i, typeName(t.RawGetInt(i)))
		}
		list = append(list, string(s))
	}
	extra := ""
	t.ForEach(func(k, _ lua.LValue) {
		if i, ok := k.(lua.LNumber); ok && float64(i) == math.Trunc(float64(i)) && i >= 1 && int(i) <= n {
			return
		}
		if extra == "" {
			extra = fmt.Sprintf("found key %s", k.String())
		}
	})
	if extra != "" {
		return nil, extra
	}
	return list, ""
}
