// Package luaapi is the Lua surface of wps: the wps module over the Web
// PubSub REST client and the helpers every script has (json, log, flags,
// sleep, env, args, inspect).
//
// Every Lua-visible function is described once in the registry (this file):
// its name, parameters, return type and a one-line doc. Argument errors,
// option checks, `wps docs`, the LuaLS definitions file and Complete (for a
// REPL's completion) are all read from there, so they cannot drift apart. Open puts the helpers and every
// registered module into a fresh gopher-lua state.
package luaapi

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// Function describes one Lua function for argument checking, help,
// completion, docs and LuaLS definitions.
type Function struct {
	// Module is the table the function lives in: "wps", "json", "log", or ""
	// for globals such as sleep, env and inspect. The receivers "client"
	// and "conn" mark methods of a client object (hub:send_to_all) and of a
	// connection (conn:join); ReceiverClass names their LuaLS classes.
	Module string
	// Name is the Lua name within Module, e.g. "send_to_group".
	Name string
	// Params lists the parameters in call order, not counting the receiver
	// of a method.
	Params []Param
	// Returns is the LuaLS type of the results, e.g. "boolean" or
	// "wps.Client"; "" when the function returns nothing.
	Returns string
	// Doc is one line saying what the function does.
	Doc string
	// Fn implements the function. It is optional: a description registered
	// without Fn still appears in docs, and the module's Open sets the
	// binding into its table itself (e.g. a closure over per-state data).
	// Funcs returns the functions registered with Fn.
	Fn lua.LGFunction
}

// Param describes one parameter of a Function.
type Param struct {
	// Name is the Lua name; "..." for varargs.
	Name string
	// Type is a LuaLS type: "string", "number", "integer", "boolean",
	// "table", "any", "string[]", a class such as "wps.SendOptions", or a
	// union "string|table". A trailing "?" marks an optional parameter.
	Type string
	// Doc is a short description (may be empty).
	Doc string
}

// Optional reports whether the parameter may be omitted or nil.
func (p Param) Optional() bool { return strings.HasSuffix(p.Type, "?") }

// Class describes a table shape for LuaLS and for CheckOptions: an options
// table such as wps.SendOptions, or a result such as wps.Message.
type Class struct {
	// Name is the LuaLS class name, e.g. "wps.SendOptions".
	Name string
	// Doc is one line describing the class.
	Doc string
	// Fields lists the keys of the table, each with a LuaLS type (a
	// trailing "?" marks an optional field).
	Fields []Field
}

// Field is one key of a Class.
type Field struct {
	Name, Type, Doc string
}

// Value describes a Lua value that is not a function, such as json.null or
// the args global, for docs and LuaLS definitions.
type Value struct {
	// Module is the table holding the value ("" for a global).
	Module string
	Name   string
	// Type is the LuaLS type of the value.
	Type string
	Doc  string
}

// QualifiedName is the name a script calls: "wps.send_to_group",
// "json.encode", "sleep", or "conn:join" for a method.
func (f *Function) QualifiedName() string {
	switch {
	case f.Module == "":
		return f.Name
	case f.IsMethod():
		return f.Module + ":" + f.Name
	default:
		return f.Module + "." + f.Name
	}
}

// IsMethod reports whether f is called with a receiver (client or conn):
// its first Lua argument is the object, which argument errors do not count.
func (f *Function) IsMethod() bool {
	_, ok := receiverClasses[f.Module]
	return ok
}

// Signature renders f's call for help text, e.g.
// "wps.send_to_group(group: string, message: any, opts?: wps.SendOptions) -> nothing".
func (f *Function) Signature() string {
	var b strings.Builder
	b.WriteString(f.QualifiedName())
	b.WriteString("(")
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		name, typ := p.Name, p.Type
		if p.Optional() && name != "..." {
			name, typ = name+"?", strings.TrimSuffix(typ, "?")
		}
		b.WriteString(name + ": " + typ)
	}
	b.WriteString(")")
	if f.Returns != "" {
		b.WriteString(" -> " + f.Returns)
	}
	return b.String()
}

// receiverClasses maps the method modules to the LuaLS classes of their
// receivers. A Class registered under that name adds its fields (e.g. the
// connection_id of a connection).
var receiverClasses = map[string]string{
	"client": "wps.Client",
	"conn":   "wps.Connection",
}

// ReceiverClass returns the LuaLS class of a method module ("client" →
// "wps.Client", "conn" → "wps.Connection"), or "" for other modules.
func ReceiverClass(module string) string { return receiverClasses[module] }

// moduleOrder is the order in which docs list modules; others follow,
// sorted by name.
var moduleOrder = []string{"wps", "client", "conn", "json", "log", "flags", ""}

// registry holds everything registered, in registration order.
var registry struct {
	mu        sync.Mutex
	functions []Function
	classes   []Class
	values    []Value
}

// Register adds functions to the registry. It is meant for init functions
// and panics on a duplicate qualified name, a programming mistake that every
// test run would reveal.
func Register(fns ...Function) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, f := range fns {
		for _, g := range registry.functions {
			if g.QualifiedName() == f.QualifiedName() {
				panic("luaapi: function registered twice: " + f.QualifiedName())
			}
		}
		registry.functions = append(registry.functions, f)
	}
}

// RegisterClass adds LuaLS classes (options tables, result shapes) to the
// registry. It panics on a duplicate name.
func RegisterClass(classes ...Class) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, c := range classes {
		if slices.ContainsFunc(registry.classes, func(d Class) bool { return d.Name == c.Name }) {
			panic("luaapi: class registered twice: " + c.Name)
		}
		registry.classes = append(registry.classes, c)
	}
}

// RegisterValue adds non-function values (json.null, args, ...) to the
// registry, for docs.
func RegisterValue(values ...Value) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	registry.values = append(registry.values, values...)
}

// Functions returns every registered function, grouped by module in the
// order wps, client, conn, json, log, globals (then other modules by name),
// and in registration order within a module.
func Functions() []Function {
	registry.mu.Lock()
	fns := slices.Clone(registry.functions)
	registry.mu.Unlock()
	sort.SliceStable(fns, func(i, j int) bool { return moduleLess(fns[i].Module, fns[j].Module) })
	return fns
}

// Classes returns every registered class, sorted by name.
func Classes() []Class {
	registry.mu.Lock()
	classes := slices.Clone(registry.classes)
	registry.mu.Unlock()
	sort.Slice(classes, func(i, j int) bool { return classes[i].Name < classes[j].Name })
	return classes
}

// Values returns every registered value, grouped by module like Functions.
func Values() []Value {
	registry.mu.Lock()
	values := slices.Clone(registry.values)
	registry.mu.Unlock()
	sort.SliceStable(values, func(i, j int) bool { return moduleLess(values[i].Module, values[j].Module) })
	return values
}

// Lookup returns the function a script calls by name ("wps.send_to_all",
// "sleep", "conn:join").
func Lookup(name string) (*Function, bool) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for i := range registry.functions {
		if registry.functions[i].QualifiedName() == name {
			f := registry.functions[i]
			return &f, true
		}
	}
	return nil, false
}

// Complete returns the names scripts use (functions as "wps.send_to_all",
// "sleep", "conn:join"; values as "json.null") that start with prefix,
// sorted, for completion in the REPL.
func Complete(prefix string) []string {
	var names []string
	for _, f := range Functions() {
		if name := f.QualifiedName(); strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	for _, v := range Values() {
		name := v.Name
		if v.Module != "" {
			name = v.Module + "." + v.Name
		}
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// LookupClass returns the registered class with the given name.
func LookupClass(name string) (Class, bool) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, c := range registry.classes {
		if c.Name == name {
			return c, true
		}
	}
	return Class{}, false
}

// Funcs returns the implemented functions of module (those registered with
// a non-nil Fn), keyed by Lua name, ready for L.SetFuncs.
func Funcs(module string) map[string]lua.LGFunction {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	funcs := map[string]lua.LGFunction{}
	for _, f := range registry.functions {
		if f.Module == module && f.Fn != nil {
			funcs[f.Name] = f.Fn
		}
	}
	return funcs
}

func moduleLess(a, b string) bool {
	ia, ib := slices.Index(moduleOrder, a), slices.Index(moduleOrder, b)
	switch {
	case ia >= 0 && ib >= 0:
		return ia < ib
	case ia >= 0:
		return true
	case ib >= 0:
		return false
	default:
		return a < b
	}
}

// argNumber converts a stack position into the argument number a script
// sees: methods do not count their receiver.
func argNumber(fn *Function, pos int) int {
	if fn.IsMethod() {
		return pos - 1
	}
	return pos
}

// ArgError raises "bad argument #N to 'name' (message)" for the argument at
// stack position pos of fn, in the style of Lua's luaL_argerror. For a
// method, N does not count the receiver and position 1 reports a bad self.
func ArgError(L *lua.LState, fn *Function, pos int, message string) {
	n := argNumber(fn, pos)
	if n == 0 {
		L.RaiseError("calling '%s' on bad self (%s)", fn.QualifiedName(), message)
	}
	L.RaiseError("bad argument #%d to '%s' (%s)", n, fn.QualifiedName(), message)
}

// TypeError raises "bad argument #N to 'name' (expected expected, got type)".
func TypeError(L *lua.LState, fn *Function, pos int, expected string) {
	ArgError(L, fn, pos, fmt.Sprintf("%s expected, got %s", expected, luaTypeName(L.Get(pos))))
}

// luaTypeName names the type of v as a script sees it, with the metatable
// __name of userdata such as wps.binary.
func luaTypeName(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		if mt, ok := ud.Metatable.(*lua.LTable); ok {
			if name, ok := mt.RawGetString("__name").(lua.LString); ok {
				return string(name)
			}
		}
	}
	return v.Type().String()
}

// CheckString returns the string at pos, accepting a number as Lua does,
// and raises a type error otherwise.
func CheckString(L *lua.LState, fn *Function, pos int) string {
	switch v := L.Get(pos).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	}
	TypeError(L, fn, pos, "string")
	return ""
}

// OptString returns the string at pos, or def when it is nil or absent.
func OptString(L *lua.LState, fn *Function, pos int, def string) string {
	if L.Get(pos) == lua.LNil {
		return def
	}
	return CheckString(L, fn, pos)
}

// CheckNumber returns the number at pos, raising a type error otherwise.
func CheckNumber(L *lua.LState, fn *Function, pos int) float64 {
	if v, ok := L.Get(pos).(lua.LNumber); ok {
		return float64(v)
	}
	TypeError(L, fn, pos, "number")
	return 0
}

// OptNumber returns the number at pos, or def when it is nil or absent.
func OptNumber(L *lua.LState, fn *Function, pos int, def float64) float64 {
	if L.Get(pos) == lua.LNil {
		return def
	}
	return CheckNumber(L, fn, pos)
}

// CheckInt returns the whole number at pos, raising an error for other
// types and for fractions.
func CheckInt(L *lua.LState, fn *Function, pos int) int {
	f := CheckNumber(L, fn, pos)
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		ArgError(L, fn, pos, fmt.Sprintf("integer expected, got %v", lua.LNumber(f)))
	}
	return int(f)
}

// OptInt returns the whole number at pos, or def when it is nil or absent.
func OptInt(L *lua.LState, fn *Function, pos int, def int) int {
	if L.Get(pos) == lua.LNil {
		return def
	}
	return CheckInt(L, fn, pos)
}

// CheckBool returns the boolean at pos, raising a type error otherwise.
func CheckBool(L *lua.LState, fn *Function, pos int) bool {
	if v, ok := L.Get(pos).(lua.LBool); ok {
		return bool(v)
	}
	TypeError(L, fn, pos, "boolean")
	return false
}

// CheckTable returns the table at pos, raising a type error otherwise.
func CheckTable(L *lua.LState, fn *Function, pos int) *lua.LTable {
	if v, ok := L.Get(pos).(*lua.LTable); ok {
		return v
	}
	TypeError(L, fn, pos, "table")
	return nil
}

// OptTable returns the table at pos, or nil when it is nil or absent.
func OptTable(L *lua.LState, fn *Function, pos int) *lua.LTable {
	if L.Get(pos) == lua.LNil {
		return nil
	}
	return CheckTable(L, fn, pos)
}

// CheckFunction returns the function at pos, raising a type error otherwise.
func CheckFunction(L *lua.LState, fn *Function, pos int) *lua.LFunction {
	if v, ok := L.Get(pos).(*lua.LFunction); ok {
		return v
	}
	TypeError(L, fn, pos, "function")
	return nil
}

// CheckAny returns the value at pos, raising "value expected" when the
// argument is absent (an explicit nil is accepted).
func CheckAny(L *lua.LState, fn *Function, pos int) lua.LValue {
	if L.GetTop() < pos {
		ArgError(L, fn, pos, "value expected")
	}
	return L.Get(pos)
}

// CheckOptions returns the options table at pos (nil when absent and the
// parameter is optional) after checking it against the Class named by the
// parameter's type: an unknown key or a value of the wrong type raises an
// argument error naming the option, e.g.
// "bad argument #3 to 'wps.send_to_all' (unknown option 'tll'; known: ...)".
func CheckOptions(L *lua.LState, fn *Function, pos int) *lua.LTable {
	n := argNumber(fn, pos)
	var param Param
	if n >= 1 && n <= len(fn.Params) {
		param = fn.Params[n-1]
	}
	if L.Get(pos) == lua.LNil && (param.Optional() || param.Type == "") {
		return nil
	}
	opts := CheckTable(L, fn, pos)
	class, ok := LookupClass(strings.TrimSuffix(param.Type, "?"))
	if !ok {
		return opts
	}
	var problem string
	opts.ForEach(func(k, v lua.LValue) {
		if problem != "" {
			return
		}
		key, isString := k.(lua.LString)
		if !isString {
			problem = fmt.Sprintf("option keys must be strings, got %s", luaTypeName(k))
			return
		}
		i := slices.IndexFunc(class.Fields, func(f Field) bool { return f.Name == string(key) })
		if i < 0 {
			names := make([]string, len(class.Fields))
			for i, f := range class.Fields {
				names[i] = f.Name
			}
			problem = fmt.Sprintf("unknown option '%s'; known: %s", key, strings.Join(names, ", "))
			return
		}
		if !matchesType(v, class.Fields[i].Type) {
			problem = fmt.Sprintf("option '%s': %s expected, got %s", key, strings.TrimSuffix(class.Fields[i].Type, "?"), luaTypeName(v))
		}
	})
	if problem != "" {
		ArgError(L, fn, pos, problem)
	}
	return opts
}

// matchesType reports whether v fits the LuaLS type typ, as far as a
// runtime check can tell: basic types and arrays of basic types are
// checked, class names only need a table, unknown names accept anything.
func matchesType(v lua.LValue, typ string) bool {
	typ = strings.TrimSuffix(typ, "?")
	for _, alt := range strings.Split(typ, "|") {
		alt = strings.TrimSpace(alt)
		if alt == "nil" && v == lua.LNil {
			return true
		}
		if elem, isArray := strings.CutSuffix(alt, "[]"); isArray {
			t, ok := v.(*lua.LTable)
			if !ok {
				continue
			}
			all := true
			t.ForEach(func(_, e lua.LValue) { all = all && matchesType(e, elem) })
			if all {
				return true
			}
			continue
		}
		switch alt {
		case "any":
			return true
		case "string":
			if v.Type() == lua.LTString {
				return true
			}
		case "number":
			if v.Type() == lua.LTNumber {
				return true
			}
		case "integer":
			if f, ok := v.(lua.LNumber); ok && float64(f) == math.Trunc(float64(f)) {
				return true
			}
		case "boolean":
			if v.Type() == lua.LTBool {
				return true
			}
		case "table":
			if v.Type() == lua.LTTable {
				return true
			}
		case "function":
			if v.Type() == lua.LTFunction {
				return true
			}
		default:
			if strings.HasPrefix(alt, "\"") { // a literal such as "json"
				if s, ok := v.(lua.LString); ok && `"`+string(s)+`"` == alt {
					return true
				}
				continue
			}
			return true // a class or alias: the binding checks the details
		}
	}
	return false
}
