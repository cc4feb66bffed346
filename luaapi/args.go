package luaapi

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// This file is the one argument checker of the Lua surface. Every function
// in the registry reads its arguments through an args (functionTable hands
// one to its Fn), so every mistake raises in gopher-lua's stock form and
// names the function as the script calls it:
//
//	bad argument #2 to 'wps.send_to_all' (unknown option 'tll'; known: content_type, excluded, filter, ttl)
//	calling 'client:send_to_all' on bad self (wps.client expected, got string)
//
// Arguments are numbered as the script sees them: a method's receiver is
// self, and its first argument is #1. A value of the wrong type is named by
// typeName, so userdata reads as wps.binary, wps.client or wps.connection.
// An options table is checked against the class the registry gives its
// parameter, so that `wps docs` and the checks know the same keys; each
// option's type and range is checked where the binding reads it.

// args reads the arguments of one call of the registered function fn.
// Argument i is at stack position base+i: base is 1 for methods, whose
// receiver sits at position 1, and 0 otherwise.
type args struct {
	L    *lua.LState
	fn   *Function
	base int
}

// newArgs returns the reader of the arguments of a call of fn.
func newArgs(L *lua.LState, fn *Function) args {
	a := args{L: L, fn: fn}
	if fn.IsMethod() {
		a.base = 1
	}
	return a
}

// get returns argument i, nil when absent.
func (a args) get(i int) lua.LValue { return a.L.Get(a.base + i) }

// error raises "bad argument #i to 'name' (message)", or for i = 0, a
// method's receiver, "calling 'name' on bad self (message)". It never
// returns.
func (a args) error(i int, message string) {
	if i == 0 && a.base == 1 {
		a.L.RaiseError("calling '%s' on bad self (%s)", a.fn.QualifiedName(), message)
	}
	a.L.RaiseError("bad argument #%d to '%s' (%s)", i, a.fn.QualifiedName(), message)
}

// typeError raises "bad argument #i to 'name' (expected expected, got type)".
func (a args) typeError(i int, expected string) {
	a.error(i, expected+" expected, got "+typeName(a.get(i)))
}

// receiver returns the object a method is called on, raising "calling
// 'client:hub' on bad self (wps.client expected, got string)" for any
// other value, as when a script writes c.hub("x") for c:hub("x").
func receiver[T any](a args) T {
	if ud, ok := a.L.Get(1).(*lua.LUserData); ok {
		if v, ok := ud.Value.(T); ok {
			return v
		}
	}
	a.typeError(0, receivers[a.fn.Module].typeName)
	var zero T
	return zero
}

// any returns argument i, raising "value expected" when it is absent (an
// explicit nil is accepted).
func (a args) any(i int) lua.LValue {
	if a.L.GetTop() < a.base+i {
		a.error(i, "value expected")
	}
	return a.get(i)
}

// string returns argument i as a string, accepting a number as Lua does.
func (a args) string(i int) string {
	switch v := a.get(i).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	}
	a.typeError(i, "string")
	return ""
}

// optString returns argument i as a string, or def when it is nil.
func (a args) optString(i int, def string) string {
	if a.get(i) == lua.LNil {
		return def
	}
	return a.string(i)
}

// number returns argument i as a number.
func (a args) number(i int) float64 {
	if v, ok := a.get(i).(lua.LNumber); ok {
		return float64(v)
	}
	a.typeError(i, "number")
	return 0
}

// seconds returns argument i, a finite number of seconds, 0 or more, as a
// Duration.
func (a args) seconds(i int) time.Duration {
	d, problem := seconds(a.number(i))
	if problem != "" {
		a.error(i, problem)
	}
	return d
}

// table returns argument i as a table.
func (a args) table(i int) *lua.LTable {
	if v, ok := a.get(i).(*lua.LTable); ok {
		return v
	}
	a.typeError(i, "table")
	return nil
}

// optTable returns argument i as a table, or nil when it is nil.
func (a args) optTable(i int) *lua.LTable {
	if a.get(i) == lua.LNil {
		return nil
	}
	return a.table(i)
}

// function returns argument i as a function.
func (a args) function(i int) *lua.LFunction {
	if v, ok := a.get(i).(*lua.LFunction); ok {
		return v
	}
	a.typeError(i, "function")
	return nil
}

// stringList returns argument i as a list of strings.
func (a args) stringList(i int) []string {
	list, problem := stringList(a.get(i))
	if problem != "" {
		a.error(i, problem)
	}
	return list
}

// oneOf returns argument i as one of names (compared without regard to
// case, and returned as spelled in names).
func (a args) oneOf(i int, names ...string) string {
	name, problem := oneOf(a.string(i), names)
	if problem != "" {
		a.error(i, problem)
	}
	return name
}

// options reads an options table: argument i of a function whose
// parameter i has a registered Class as its type. An absent table reads as
// empty.
type options struct {
	a args
	i int
	t *lua.LTable
}

// options returns the options table that is argument i, raising an error
// for a value that is not a table (or nil, when the parameter is optional)
// and for any key that is not a field of the parameter's class: a typo must
// not be ignored silently.
func (a args) options(i int) options {
	param := a.fn.Params[i-1]
	class, ok := LookupClass(strings.TrimSuffix(param.Type, "?"))
	if !ok {
		panic(fmt.Sprintf("luaapi: parameter %s of %s is not of a registered class", param.Name, a.fn.QualifiedName()))
	}
	o := options{a: a, i: i}
	if a.get(i) == lua.LNil && param.Optional() {
		return o
	}
	o.t = a.table(i)
	known := make([]string, len(class.Fields))
	for j, f := range class.Fields {
		known[j] = f.Name
	}
	var unknown []string
	o.t.ForEach(func(k, _ lua.LValue) {
		switch k := k.(type) {
		case lua.LString:
			if !slices.Contains(known, string(k)) {
				unknown = append(unknown, "'"+string(k)+"'")
			}
		default:
			unknown = append(unknown, "["+k.String()+"]")
		}
	})
	if len(unknown) > 0 {
		slices.Sort(unknown)
		slices.Sort(known)
		word := "option"
		if len(unknown) > 1 {
			word = "options"
		}
		a.error(i, fmt.Sprintf("unknown %s %s; known: %s", word, strings.Join(unknown, ", "), strings.Join(known, ", ")))
	}
	return o
}

// get returns option key, nil when absent.
func (o options) get(key string) lua.LValue {
	if o.t == nil {
		return lua.LNil
	}
	return o.t.RawGetString(key)
}

// has reports whether option key is given.
func (o options) has(key string) bool { return o.get(key) != lua.LNil }

// error raises an argument error about option key.
func (o options) error(key, message string) {
	o.a.error(o.i, fmt.Sprintf("option '%s': %s", key, message))
}

// typeError raises an error for option key holding a value of the wrong
// type.
func (o options) typeError(key, expected string) {
	o.error(key, expected+" expected, got "+typeName(o.get(key)))
}

// string returns option key as a string, "" when absent.
func (o options) string(key string) string {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return ""
	case lua.LString:
		return string(v)
	}
	o.typeError(key, "string")
	return ""
}

// number returns option key as a number, def when absent.
func (o options) number(key string, def float64) float64 {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		return float64(v)
	}
	o.typeError(key, "number")
	return 0
}

// int returns option key as a whole number from min to max, def when
// absent.
func (o options) int(key string, def, min, max int) int {
	if !o.has(key) {
		return def
	}
	f, ok := o.get(key).(lua.LNumber)
	if !ok {
		o.typeError(key, "integer")
	}
	if float64(f) != math.Trunc(float64(f)) || float64(f) < float64(min) || float64(f) > float64(max) {
		o.error(key, fmt.Sprintf("integer from %d to %d expected, got %v", min, max, f))
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
	}
	o.typeError(key, "boolean")
	return false
}

// strings returns option key as a list of strings, nil when absent. A single
// string is accepted as a list of one.
func (o options) strings(key string) []string {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return nil
	case lua.LString:
		return []string{string(v)}
	}
	list, problem := stringList(o.get(key))
	if problem != "" {
		o.error(key, problem)
	}
	return list
}

// oneOf returns option key as one of names (compared without regard to
// case, and returned as spelled in names), "" when absent.
func (o options) oneOf(key string, names ...string) string {
	s := o.string(key)
	if s == "" {
		return ""
	}
	name, problem := oneOf(s, names)
	if problem != "" {
		o.error(key, problem)
	}
	return name
}

// typeName is the type of v as a script sees it: Lua's type name, or for
// userdata the __name of its metatable (wps.binary, wps.client,
// wps.connection, json.null).
func typeName(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		if mt, ok := ud.Metatable.(*lua.LTable); ok {
			if name, ok := mt.RawGetString("__name").(lua.LString); ok {
				return string(name)
			}
		}
	}
	return v.Type().String()
}

// stringList converts v, a Lua sequence of strings; problem says what is
// wrong with anything else.
func stringList(v lua.LValue) (list []string, problem string) {
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, "list of strings expected, got " + typeName(v)
	}
	n := t.Len()
	list = make([]string, 0, n)
	for i := 1; i <= n; i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok {
			return nil, fmt.Sprintf("list of strings expected, item %d is %s", i, typeName(t.RawGetInt(i)))
		}
		list = append(list, string(s))
	}
	t.ForEach(func(k, _ lua.LValue) {
		if i, ok := k.(lua.LNumber); ok && float64(i) == math.Trunc(float64(i)) && i >= 1 && int(i) <= n {
			return
		}
		if problem == "" {
			problem = "list of strings expected, found key " + k.String()
		}
	})
	if problem != "" {
		return nil, problem
	}
	return list, ""
}

// oneOf returns the name in names that s is, compared without regard to
// case; problem says which names were expected otherwise.
func oneOf(s string, names []string) (name, problem string) {
	for _, name := range names {
		if strings.EqualFold(s, name) {
			return name, ""
		}
	}
	return "", fmt.Sprintf("%s expected, got %q", orList(names), s)
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// stringsOf converts a list of names of a string type, such as
// webpubsub.Permissions(), for oneOf and orList.
func stringsOf[T ~string](names []T) []string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	return s
}

// seconds converts a number of seconds to a Duration; problem says what is
// wrong with a negative, infinite or NaN number. Numbers beyond the longest
// Duration (about 292 years) give the longest: a plain conversion would
// overflow to a negative Duration, which waits not at all.
func seconds(s float64) (d time.Duration, problem string) {
	if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
		return 0, fmt.Sprintf("a non-negative number of seconds expected, got %v", lua.LNumber(s))
	}
	if ns := s * float64(time.Second); ns < math.MaxInt64 {
		return time.Duration(ns), ""
	}
	return math.MaxInt64, ""
}
