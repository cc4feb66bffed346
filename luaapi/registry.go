// Package luaapi is the Lua surface of wps: the wps module over the Web
// PubSub REST client and the helpers every script has (json, log, flags,
// sleep, env, args, inspect).
//
// Every Lua-visible function is described once in the registry (this file):
// its name, parameters, return type, a one-line doc and its binding. The
// Lua tables (wps, json, log, flags, the globals and the methods of clients
// and connections) are built from it, and so are argument errors and option
// checks (args.go), `wps docs`, the LuaLS definitions file and Complete (for
// a REPL's completion), so they cannot drift apart. Open puts the helpers
// and the wps module into a fresh gopher-lua state.
package luaapi

import (
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
	// Fn implements the function. It reads its arguments through a, which
	// names the function in argument errors, and returns how many results
	// it pushed, as a lua.LGFunction does.
	Fn func(a args) int
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

// Class describes a table shape for LuaLS and for args.options: an options
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
	_, ok := receivers[f.Module]
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

// receivers describes the method modules: the LuaLS class of their
// receiver (a Class registered under that name adds its fields, e.g. the
// connection_id of a connection) and the type name its metatable gives it,
// which argument errors show.
var receivers = map[string]struct{ class, typeName string }{
	"client": {"wps.Client", clientTypeName},
	"conn":   {"wps.Connection", connectionTypeName},
}

// ReceiverClass returns the LuaLS class of a method module ("client" →
// "wps.Client", "conn" → "wps.Connection"), or "" for other modules.
func ReceiverClass(module string) string { return receivers[module].class }

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
// and panics on a duplicate qualified name or a missing Fn, programming
// mistakes that every test run would reveal.
func Register(fns ...Function) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, f := range fns {
		if f.Fn == nil {
			panic("luaapi: function registered without Fn: " + f.QualifiedName())
		}
		// Compared field by field: building the qualified names for every
		// pair costs thousands of allocations at the start of every command.
		if slices.ContainsFunc(registry.functions, func(g Function) bool { return g.Module == f.Module && g.Name == f.Name }) {
			panic("luaapi: function registered twice: " + f.QualifiedName())
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

// functionTable returns a new table holding the Lua functions of module
// ("" for the globals), keyed by name.
func functionTable(L *lua.LState, module string) *lua.LTable {
	// Every run builds these tables, so read the registry in place rather
	// than through Functions, which copies and sorts it, and size the
	// table once rather than let it grow by doubling.
	registry.mu.Lock()
	defer registry.mu.Unlock()
	n := 0
	for i := range registry.functions {
		if registry.functions[i].Module == module {
			n++
		}
	}
	t := L.CreateTable(0, n)
	for i := range registry.functions {
		// By index: a range variable would be a copy of the whole
		// Function, moved to the heap for each closure.
		if f := &registry.functions[i]; f.Module == module {
			t.RawSetString(f.Name, f.luaFunction(L))
		}
	}
	return t
}

// luaFunction returns f as a Lua function of L: it calls f.Fn with the
// reader of its arguments.
func (f *Function) luaFunction(L *lua.LState) *lua.LFunction {
	return L.NewFunction(func(L *lua.LState) int { return f.Fn(newArgs(L, f)) })
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
