package repl

import (
	"fmt"
	"io"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wps/luaapi"
)

// luaHelp is help([fn]): the list of functions and REPL commands, or the
// signature, parameters, options and doc line of one function, given as
// the function itself (help(wps.send_to_group)) or its name
// (help("send_to_group"), help("conn:join")).
func (r *repl) luaHelp(L *lua.LState) int {
	w := r.out
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
		writeOverview(w)
	case lua.LString:
		fns := lookupByName(string(v))
		if len(fns) == 0 {
			L.RaiseError("help: no function is named %q; help() lists them", string(v))
		}
		writeFunction(w, fns[0], fns[1:])
	case *lua.LFunction:
		f, ok := lookupByValue(L, v)
		if !ok {
			if v.IsG {
				L.RaiseError("help: this function is not part of the wps API; help() lists those that are")
			}
			fmt.Fprintf(w, "a Lua function defined at %s:%d\n", v.Proto.SourceName, v.Proto.LineDefined)
			return 0
		}
		writeFunction(w, f, others(f))
	default:
		L.RaiseError("help: expected a function or its name, got a %s", v.Type())
	}
	return 0
}

// writeOverview lists every function with its doc line, then the REPL's
// commands.
func writeOverview(w io.Writer) {
	fmt.Fprintln(w, "Functions (help(wps.send_to_group) or help(\"send_to_group\") for one):")
	fns := luaapi.Functions()
	width := 0
	for _, f := range fns {
		width = max(width, len(f.QualifiedName()))
	}
	module := "-"
	for _, f := range fns {
		if f.Module != module && module != "-" {
			fmt.Fprintln(w)
		}
		module = f.Module
		fmt.Fprintf(w, "  %-*s  %s\n", width, f.QualifiedName(), f.Doc)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "REPL commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-16s %s\n", c.usage, c.doc)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A line that is an expression prints its value (=expr also works); Tab completes;")
	fmt.Fprintln(w, "Ctrl-C stops a running evaluation or clears the line; Ctrl-D leaves.")
}

// writeFunction prints f's signature, doc line, parameters and the fields
// of its options, then the other functions of the same name.
func writeFunction(w io.Writer, f luaapi.Function, also []luaapi.Function) {
	fmt.Fprintln(w, f.Signature())
	fmt.Fprintln(w, "  "+f.Doc)
	for _, p := range f.Params {
		typ := strings.TrimSuffix(p.Type, "?")
		class, isClass := luaapi.LookupClass(typ)
		if p.Doc == "" && !isClass {
			continue
		}
		line := fmt.Sprintf("  %s: %s", p.Name, p.Type)
		if p.Doc != "" {
			line += "  " + p.Doc
		}
		fmt.Fprintln(w, line)
		if !isClass {
			continue
		}
		if class.Doc != "" {
			fmt.Fprintln(w, "    "+class.Doc)
		}
		width := 0
		for _, field := range class.Fields {
			width = max(width, len(field.Name+": "+field.Type))
		}
		for _, field := range class.Fields {
			fmt.Fprintf(w, "    %-*s  %s\n", width, field.Name+": "+field.Type, field.Doc)
		}
	}
	if len(also) > 0 {
		names := make([]string, len(also))
		for i, g := range also {
			names[i] = g.QualifiedName()
		}
		fmt.Fprintln(w, "  also: "+strings.Join(names, ", "))
	}
}

// lookupByName returns the functions a name given to help means, the best
// first: the exact name ("wps.send_to_group", "conn:join", "sleep"), a
// method through any receiver ("hub:send_to_all" is client:send_to_all),
// then every function with that short name, wps.* first.
func lookupByName(name string) []luaapi.Function {
	if f, ok := luaapi.Lookup(name); ok {
		return append([]luaapi.Function{*f}, others(*f)...)
	}
	short := name
	if i := strings.LastIndexAny(name, ".:"); i >= 0 {
		short = name[i+1:]
	}
	var fns []luaapi.Function
	for _, f := range luaapi.Functions() {
		if f.Name == short && (short == name || f.IsMethod() && name[len(name)-len(short)-1] == ':') {
			fns = append(fns, f)
		}
	}
	return fns
}

// others returns the functions other than f with f's name (wps.send_to_group,
// client:send_to_group and conn:send_to_group).
func others(f luaapi.Function) []luaapi.Function {
	var fns []luaapi.Function
	for _, g := range luaapi.Functions() {
		if g.Name == f.Name && g.QualifiedName() != f.QualifiedName() {
			fns = append(fns, g)
		}
	}
	return fns
}

// lookupByValue finds the registered function fn is: a global or a field
// of a module table, or a method of client objects.
func lookupByValue(L *lua.LState, fn *lua.LFunction) (luaapi.Function, bool) {
	var clientMethods *lua.LTable
	if mt, ok := L.GetField(L.Get(lua.RegistryIndex), "wps.client").(*lua.LTable); ok {
		clientMethods, _ = mt.RawGetString("__index").(*lua.LTable)
	}
	for _, f := range luaapi.Functions() {
		var v lua.LValue = lua.LNil
		switch {
		case f.Module == "":
			v = L.G.Global.RawGetString(f.Name)
		case f.Module == "client":
			if clientMethods != nil {
				v = clientMethods.RawGetString(f.Name)
			}
		case !f.IsMethod():
			if t, ok := L.G.Global.RawGetString(f.Module).(*lua.LTable); ok {
				v = t.RawGetString(f.Name)
			}
		}
		if v == fn {
			return f, true
		}
	}
	return luaapi.Function{}, false
}
