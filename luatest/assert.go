package luatest

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wps/luaapi"
)

// This file holds the assert table of test files: luassert's names as
// busted users type them (assert.equal, assert.are.same,
// assert.is_not_nil, assert.has_error, ...), implemented in Go so that a
// failure says where it happened and, for same, where two tables differ.

// assertFailure is the value a failed assertion raises: its message and
// the file:line of the assertion. pcall in a test sees it as a value whose
// tostring is the message.
type assertFailure struct {
	where   string // "file:line", or "" when unknown
	message string
}

func (f *assertFailure) Error() string {
	if f.where == "" {
		return f.message
	}
	return f.where + ": " + f.message
}

// pendingSignal is the value pending("reason") raises inside a running
// test: the test ends there and counts as skipped.
type pendingSignal struct{ reason string }

const (
	failureTypeName = "luatest.failure"
	pendingTypeName = "luatest.pending"
)

// assertion is one assertion: it returns "" when it holds (or, negated,
// when it does not), else what to report. args are the assertion's
// arguments; negated says the assertion was written with not/no.
type assertion struct {
	// min is the number of arguments the assertion needs.
	min int
	// message is the index (from 0) of the optional message argument,
	// shown above the report when the assertion fails.
	message int
	check   func(L *lua.LState, args []lua.LValue, negated bool) (ok bool, report string)
}

// assertions maps every name (lower case) to its assertion.
var assertions = map[string]*assertion{}

func init() {
	define := func(a *assertion, names ...string) {
		for _, n := range names {
			assertions[n] = a
		}
	}
	define(&assertion{2, 2, checkEqual}, "equal", "equals")
	define(&assertion{2, 2, checkSame}, "same")
	define(&assertion{1, 1, checkTruthy}, "truthy")
	define(&assertion{1, 1, checkFalsy}, "falsy")
	define(&assertion{1, 2, checkError}, "error", "errors", "error_matches")
	define(&assertion{2, 2, checkMatch}, "match", "matches")
	define(&assertion{3, 3, checkNear}, "near")
	define(&assertion{1, 1, checkValue("nil", func(v lua.LValue) bool { return v == lua.LNil })}, "nil")
	define(&assertion{1, 1, checkValue("true", func(v lua.LValue) bool { return v == lua.LTrue })}, "true")
	define(&assertion{1, 1, checkValue("false", func(v lua.LValue) bool { return v == lua.LFalse })}, "false")
	for _, t := range []lua.LValueType{lua.LTBool, lua.LTNumber, lua.LTString, lua.LTTable, lua.LTFunction, lua.LTUserData, lua.LTThread} {
		name := t.String()
		if t == lua.LTBool {
			name = "boolean"
		}
		define(&assertion{1, 1, checkValue("a "+name, func(v lua.LValue) bool { return v.Type() == t })}, name)
	}
}

// modifiers are the words of an assertion's name that only read well
// (assert.is.equal, assert.are.same, assert.has.error) or negate it
// (assert.is_not.equal, assert.has_no.errors, assert.not_nil).
var modifiers = map[string]bool{
	"is": false, "are": false, "has": false, "have": false, "does": false, "was": false, "were": false,
	"not": true, "no": true,
}

// installAssert sets the global assert: callable as Lua's assert(v,
// message), and indexable by any chain of modifiers and an assertion
// name.
func installAssert(L *lua.LState) {
	L.SetGlobal("assert", newAssertProxy(L, false, "assert"))
	failure := L.NewTypeMetatable(failureTypeName)
	L.SetField(failure, "__tostring", L.NewFunction(func(L *lua.LState) int {
		f, _ := L.CheckUserData(1).Value.(*assertFailure)
		if f == nil {
			L.Push(lua.LString("assertion failed"))
			return 1
		}
		L.Push(lua.LString(f.Error()))
		return 1
	}))
	pending := L.NewTypeMetatable(pendingTypeName)
	L.SetField(pending, "__tostring", L.NewFunction(func(L *lua.LState) int {
		p, _ := L.CheckUserData(1).Value.(*pendingSignal)
		reason := ""
		if p != nil {
			reason = p.reason
		}
		L.Push(lua.LString("pending: " + reason))
		return 1
	}))
}

// newAssertProxy returns the table that assert (or assert.is_not, ...)
// is: indexing it resolves a name, calling it is Lua's assert.
func newAssertProxy(L *lua.LState, negated bool, path string) *lua.LTable {
	proxy := L.NewTable()
	mt := L.NewTable()
	L.SetField(mt, "__index", L.NewFunction(func(L *lua.LState) int {
		key := L.CheckString(2)
		L.Push(resolveAssertion(L, negated, path, key))
		return 1
	}))
	L.SetField(mt, "__call", L.NewFunction(func(L *lua.LState) int {
		// assert(v[, message, ...]) as in Lua: returns its arguments,
		// or raises message (default "assertion failed!").
		if v := L.Get(2); v == lua.LNil || v == lua.LFalse {
			if msg := L.Get(3); msg != lua.LNil {
				L.Error(msg, 0)
			}
			raiseFailure(L, "assertion failed!")
		}
		return L.GetTop() - 1
	}))
	L.SetMetatable(proxy, mt)
	return proxy
}

// resolveAssertion reads key ("is_not_nil", "same", "are", "True") after
// path and returns the assertion function, or another proxy when key is
// only modifiers. An unknown name raises, so that a typo fails the test
// rather than passing silently.
func resolveAssertion(L *lua.LState, negated bool, path, key string) lua.LValue {
	words := strings.Split(strings.ToLower(key), "_")
	name := path + "." + key
	for i, w := range words {
		if neg, ok := modifiers[w]; ok {
			if neg {
				negated = !negated
			}
			continue
		}
		rest := strings.Join(words[i:], "_")
		a, ok := assertions[rest]
		if !ok {
			L.RaiseError("%s: no such assertion (see 'wps test --help' for the list)", name)
		}
		return L.NewFunction(func(L *lua.LState) int {
			args := make([]lua.LValue, L.GetTop())
			for i := range args {
				args[i] = L.Get(i + 1)
			}
			if len(args) < a.min {
				raiseFailure(L, fmt.Sprintf("%s expects %d argument(s), got %d", name, a.min, len(args)))
			}
			ok, report := a.check(L, args, negated)
			if ok == negated {
				msg := name + " failed"
				if report != "" {
					msg += "\n" + report
				}
				for _, extra := range args[min(a.message, len(args)):] {
					if extra, isString := extra.(lua.LString); isString {
						msg = string(extra) + "\n" + msg
						break
					}
				}
				raiseFailure(L, msg)
			}
			return 0
		})
	}
	return newAssertProxy(L, negated, name)
}

// raiseFailure raises an assertion failure at the caller of the running
// Go function (the line of the assert call).
func raiseFailure(L *lua.LState, message string) {
	where := strings.TrimSuffix(L.Where(1), ":")
	ud := L.NewUserData()
	ud.Value = &assertFailure{where: where, message: message}
	L.SetMetatable(ud, L.GetTypeMetatable(failureTypeName))
	L.Error(ud, 0)
}

// Each check returns whether the plain (not negated) assertion holds, and
// a report of the values: the caller decides with negated whether that is
// a failure.

func checkEqual(L *lua.LState, args []lua.LValue, negated bool) (bool, string) {
	expected, actual := args[0], args[1]
	if negated {
		return L.Equal(expected, actual), "both are " + show(actual)
	}
	return L.Equal(expected, actual), "expected: " + show(expected) + "\nactual:   " + show(actual)
}

func checkSame(L *lua.LState, args []lua.LValue, negated bool) (bool, string) {
	expected, actual := args[0], args[1]
	path, e, a, differs := firstDifference(L, "", expected, actual, map[[2]lua.LValue]bool{})
	if !differs {
		return true, "both are " + showDeep(actual)
	}
	if path == "" {
		return false, "expected: " + e + "\nactual:   " + a
	}
	return false, "first difference at " + path + ":\nexpected: " + e + "\nactual:   " + a
}

func checkTruthy(L *lua.LState, args []lua.LValue, negated bool) (bool, string) {
	return lua.LVAsBool(args[0]), "value: " + show(args[0])
}

func checkFalsy(L *lua.LState, args []lua.LValue, negated bool) (bool, string) {
	return !lua.LVAsBool(args[0]), "value: " + show(args[0])
}

func checkValue(what string, is func(lua.LValue) bool) func(*lua.LState, []lua.LValue, bool) (bool, string) {
	return func(L *lua.LState, args []lua.LValue, negated bool) (bool, string) {
		if negated {
			return is(args[0]), "value: " + show(args[0])
		}
		return is(args[0]), "expected " + what + ", got " + show(args[0])
	}
}

// checkError is assert.error(fn[, expected]): fn raises an error; when
// expected is given, the error's text equals it or matches it as a Lua
// pattern (the text of a table error is its tostring).
func checkError(L *lua.LState, args []lua.LValue, negated bool) (bool, string) {
	fn, ok := args[0].(*lua.LFunction)
	if !ok {
		raiseFailure(L, "assert.error expects a function, got "+args[0].Type().String())
	}
	err := L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true})
	if err == nil {
		return false, "the function returned without raising an error"
	}
	var raised lua.LValue = lua.LString(err.Error())
	if apiErr, ok := err.(*lua.ApiError); ok {
		raised = apiErr.Object
		if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
			// The test is being stopped: not the function's own error.
			L.Error(raised, 0)
		}
	}
	if ud, ok := raised.(*lua.LUserData); ok {
		if _, isPending := ud.Value.(*pendingSignal); isPending {
			L.Error(raised, 0)
		}
	}
	text := L.ToStringMeta(raised).String()
	if len(args) < 2 || args[1] == lua.LNil {
		return true, "error: " + strconv.Quote(text)
	}
	want, isString := args[1].(lua.LString)
	if !isString {
		e, a, differs := "", "", false
		_, e, a, differs = firstDifference(L, "", args[1], raised, map[[2]lua.LValue]bool{})
		if !differs {
			return true, "error: " + show(raised)
		}
		return false, "expected error: " + e + "\nactual error:   " + a
	}
	if text == string(want) || luaFind(L, text, string(want)) {
		return true, "error: " + strconv.Quote(text)
	}
	return false, "expected an error matching " + strconv.Quote(string(want)) + "\nactual error: " + strconv.Quote(text)
}

// checkMatch is assert.match(pattern, s[, init[, plain]]): s matches the
// Lua pattern, as string.find(s, pattern, init, plain) finds it.
func checkMatch(L *lua.LState, args []lua.LValue, negated bool) (bool, string) {
	pattern, ok := args[0].(lua.LString)
	if !ok {
		raiseFailure(L, "assert.match expects a pattern string first, got "+args[0].Type().String())
	}
	s, ok := args[1].(lua.LString)
	if !ok {
		if n, isNumber := args[1].(lua.LNumber); isNumber {
			s = lua.LString(n.String())
		} else {
			return false, "pattern: " + show(pattern) + "\nvalue:   " + show(args[1]) + " (not a string)"
		}
	}
	var extra []lua.LValue
	if init, ok := argAt(args, 2).(lua.LNumber); ok {
		extra = append(extra, init)
		if plain, ok := argAt(args, 3).(lua.LBool); ok {
			extra = append(extra, plain)
		}
	}
	what := "pattern: "
	if len(extra) == 2 && extra[1] == lua.LTrue {
		what = "text:    "
	}
	return luaFind(L, string(s), string(pattern), extra...), what + show(pattern) + "\nvalue:   " + show(s)
}

func argAt(args []lua.LValue, i int) lua.LValue {
	if i < len(args) {
		return args[i]
	}
	return lua.LNil
}

// checkNear is assert.near(expected, actual, tolerance).
func checkNear(L *lua.LState, args []lua.LValue, negated bool) (bool, string) {
	e, ok1 := args[0].(lua.LNumber)
	a, ok2 := args[1].(lua.LNumber)
	tol, ok3 := args[2].(lua.LNumber)
	if !ok1 || !ok2 || !ok3 {
		raiseFailure(L, "assert.near expects three numbers")
	}
	return math.Abs(float64(e)-float64(a)) <= float64(tol),
		fmt.Sprintf("expected: %s ± %s\nactual:   %s", show(e), show(tol), show(a))
}

// luaFind reports whether string.find(s, pattern, extra...) finds
// something.
func luaFind(L *lua.LState, s, pattern string, extra ...lua.LValue) bool {
	str, ok := L.GetGlobal("string").(*lua.LTable)
	if !ok {
		return strings.Contains(s, pattern)
	}
	find, ok := str.RawGetString("find").(*lua.LFunction)
	if !ok {
		return strings.Contains(s, pattern)
	}
	if err := L.CallByParam(lua.P{Fn: find, NRet: 1, Protect: true}, append([]lua.LValue{lua.LString(s), lua.LString(pattern)}, extra...)...); err != nil {
		raiseFailure(L, "bad pattern "+strconv.Quote(pattern)+": "+err.Error())
	}
	found := L.Get(-1)
	L.Pop(1)
	return found != lua.LNil
}

// firstDifference compares two values deeply, as assert.same does, and
// returns the path to the first place they differ ("" for the values
// themselves, else like .members[2].user_id) and both values there. Keys
// are visited in a fixed order: the array part, then the other keys
// sorted.
func firstDifference(L *lua.LState, path string, expected, actual lua.LValue, seen map[[2]lua.LValue]bool) (string, string, string, bool) {
	et, eok := expected.(*lua.LTable)
	at, aok := actual.(*lua.LTable)
	if !eok || !aok {
		if L.Equal(expected, actual) || expected.Type() == actual.Type() && rawEqual(expected, actual) {
			return "", "", "", false
		}
		return path, showDeep(expected), showDeep(actual), true
	}
	if et == at || seen[[2]lua.LValue{et, at}] {
		return "", "", "", false
	}
	seen[[2]lua.LValue{et, at}] = true
	for _, k := range tableKeys(et, at) {
		ev, av := et.RawGet(k), at.RawGet(k)
		sub := path + keyPath(k)
		switch {
		case ev == lua.LNil:
			return sub, "nothing", showDeep(av), true
		case av == lua.LNil:
			return sub, showDeep(ev), "nothing", true
		}
		if p, e, a, d := firstDifference(L, sub, ev, av, seen); d {
			return p, e, a, true
		}
	}
	return "", "", "", false
}

func rawEqual(a, b lua.LValue) bool {
	if n, ok := a.(lua.LNumber); ok {
		m, ok := b.(lua.LNumber)
		return ok && (n == m || math.IsNaN(float64(n)) && math.IsNaN(float64(m)))
	}
	return a == b
}

// tableKeys returns the keys of both tables: 1..n of the longer array
// part, then the other keys sorted by type and value.
func tableKeys(a, b *lua.LTable) []lua.LValue {
	n := max(a.Len(), b.Len())
	keys := make([]lua.LValue, 0, n)
	for i := 1; i <= n; i++ {
		keys = append(keys, lua.LNumber(i))
	}
	var others []lua.LValue
	seen := map[lua.LValue]bool{}
	for _, t := range []*lua.LTable{a, b} {
		t.ForEach(func(k, _ lua.LValue) {
			if num, ok := k.(lua.LNumber); ok && float64(num) >= 1 && float64(num) <= float64(n) && float64(num) == math.Trunc(float64(num)) {
				return
			}
			if !seen[k] {
				seen[k] = true
				others = append(others, k)
			}
		})
	}
	sort.SliceStable(others, func(i, j int) bool {
		ti, tj := others[i].Type(), others[j].Type()
		if ti != tj {
			return ti < tj
		}
		if ni, ok := others[i].(lua.LNumber); ok {
			return ni < others[j].(lua.LNumber)
		}
		return others[i].String() < others[j].String()
	})
	return append(keys, others...)
}

// keyPath renders a table key as a path step: .name or [2] or ["a b"].
func keyPath(k lua.LValue) string {
	if s, ok := k.(lua.LString); ok {
		if luaapi.IsName(string(s)) {
			return "." + string(s)
		}
		return "[" + show(s) + "]"
	}
	return "[" + show(k) + "]"
}

// show renders a value for a report: strings quoted, tables shown
// compactly (see showDeep), the rest as tostring does.
func show(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		return quote(string(v), 200)
	case lua.LNumber:
		return v.String()
	case *lua.LTable:
		return showDeep(v)
	}
	return v.String()
}

// showDeep renders a value, tables included, in at most about 200
// characters.
func showDeep(v lua.LValue) string {
	var b strings.Builder
	writeValue(&b, v, 0, map[*lua.LTable]bool{})
	s := b.String()
	if len(s) > 200 {
		s = s[:197] + "…"
	}
	return s
}

func writeValue(b *strings.Builder, v lua.LValue, depth int, seen map[*lua.LTable]bool) {
	t, ok := v.(*lua.LTable)
	if !ok {
		if s, isString := v.(lua.LString); isString {
			b.WriteString(quote(string(s), 200))
			return
		}
		b.WriteString(v.String())
		return
	}
	if seen[t] || depth > 4 || b.Len() > 220 {
		b.WriteString("{...}")
		return
	}
	seen[t] = true
	defer delete(seen, t)
	b.WriteString("{")
	n := t.Len()
	first := true
	sep := func() {
		if !first {
			b.WriteString(", ")
		}
		first = false
	}
	for i := 1; i <= n; i++ {
		sep()
		writeValue(b, t.RawGetInt(i), depth+1, seen)
	}
	for _, k := range tableKeys(t, t)[n:] {
		sep()
		if s, isString := k.(lua.LString); isString && luaapi.IsName(string(s)) {
			b.WriteString(string(s))
		} else {
			b.WriteString("[")
			writeValue(b, k, depth+1, seen)
			b.WriteString("]")
		}
		b.WriteString(" = ")
		writeValue(b, t.RawGet(k), depth+1, seen)
	}
	b.WriteString("}")
}

// quote quotes s as Go does (close to Lua's %q), cut to about max bytes.
func quote(s string, max int) string {
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}
