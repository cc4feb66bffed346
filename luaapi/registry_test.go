package luaapi

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// callWith runs fn as a Lua function with the arguments of src (a Lua
// argument list, self included for methods) and returns the error message,
// or "" if it succeeded.
func callWith(t *testing.T, fn lua.LGFunction, args string) string {
	t.Helper()
	L := newHelperState(t, Options{})
	L.SetGlobal("f", L.NewFunction(fn))
	chunk, err := L.LoadString("f(" + args + ")")
	if err != nil {
		t.Fatal(err)
	}
	L.Push(chunk)
	if err := L.PCall(0, 0, nil); err != nil {
		return L.ToStringMeta(err.(*lua.ApiError).Object).String()
	}
	return ""
}

func TestArgError(t *testing.T) {
	send := &Function{Module: "wps", Name: "send_to_group", Params: []Param{
		{Name: "group", Type: "string"}, {Name: "message", Type: "any"}, {Name: "opts", Type: "wps.SendOptions?"},
	}}
	join := &Function{Module: "conn", Name: "join", Params: []Param{{Name: "group", Type: "string"}}}
	checkSend := func(L *lua.LState) int {
		CheckString(L, send, 1)
		CheckAny(L, send, 2)
		return 0
	}
	checkJoin := func(L *lua.LState) int {
		if _, ok := L.Get(1).(*lua.LTable); !ok {
			TypeError(L, join, 1, "wps.Connection")
		}
		CheckString(L, join, 2)
		return 0
	}
	for _, tc := range []struct {
		name string
		fn   lua.LGFunction
		args string
		want string
	}{
		{"OK", checkSend, `"g", "hi"`, ""},
		{"NumberAsString", checkSend, `42, "hi"`, ""},
		{"MissingSecond", checkSend, `"g"`, "<string>:1: bad argument #2 to 'wps.send_to_group' (value expected)"},
		{"WrongFirst", checkSend, `{}, "hi"`, "<string>:1: bad argument #1 to 'wps.send_to_group' (string expected, got table)"},
		{"MethodArgument", checkJoin, `{}, nil`, "<string>:1: bad argument #1 to 'conn:join' (string expected, got nil)"},
		{"MethodSelf", checkJoin, `"g"`, "<string>:1: calling 'conn:join' on bad self (wps.Connection expected, got string)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := callWith(t, tc.fn, tc.args); got != tc.want {
				t.Errorf("error %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckInt(t *testing.T) {
	fn := &Function{Name: "f", Params: []Param{{Name: "n", Type: "integer"}}}
	check := func(L *lua.LState) int { CheckInt(L, fn, 1); return 0 }
	if got := callWith(t, check, "3"); got != "" {
		t.Errorf("CheckInt(3): %s", got)
	}
	if got, want := callWith(t, check, "1.5"), "bad argument #1 to 'f' (integer expected, got 1.5)"; !strings.Contains(got, want) {
		t.Errorf("CheckInt(1.5): %q, want %q", got, want)
	}
}

func TestMatchesType(t *testing.T) {
	L := newHelperState(t, Options{})
	list := L.NewTable()
	list.Append(lua.LString("a"))
	mixed := L.NewTable()
	mixed.Append(lua.LString("a"))
	mixed.Append(lua.LNumber(1))
	for _, tc := range []struct {
		v    lua.LValue
		typ  string
		want bool
	}{
		{lua.LString("x"), "string", true},
		{lua.LString("x"), "string?", true},
		{lua.LNumber(1), "string", false},
		{lua.LNumber(1.5), "integer", false},
		{lua.LNumber(2), "integer", true},
		{list, "string[]", true},
		{mixed, "string[]", false},
		{lua.LString("x"), "string|string[]", true},
		{lua.LString("mqtt"), `"default"|"mqtt"`, true},
		{lua.LString("other"), `"default"|"mqtt"`, false},
		{lua.LBool(true), "wps.SomeClass", true},
	} {
		if got := matchesType(tc.v, tc.typ); got != tc.want {
			t.Errorf("matchesType(%v, %q) = %v, want %v", tc.v, tc.typ, got, tc.want)
		}
	}
}

func TestFunction_Signature(t *testing.T) {
	f := &Function{Module: "wps", Name: "send_to_all", Returns: "boolean", Params: []Param{
		{Name: "message", Type: "any"}, {Name: "opts", Type: "wps.SendOptions?"},
	}}
	if got, want := f.Signature(), "wps.send_to_all(message: any, opts?: wps.SendOptions) -> boolean"; got != want {
		t.Errorf("Signature() = %q, want %q", got, want)
	}
	m := &Function{Module: "client", Name: "hub", Params: []Param{{Name: "name", Type: "string"}}}
	if got, want := m.Signature(), "client:hub(name: string)"; got != want {
		t.Errorf("Signature() = %q, want %q", got, want)
	}
}

func TestLookup(t *testing.T) {
	for _, name := range []string{"json.encode", "json.decode", "json.array", "json.object", "log.info", "sleep", "env", "inspect"} {
		f, ok := Lookup(name)
		if !ok {
			t.Errorf("Lookup(%q): not registered", name)
			continue
		}
		if f.Fn == nil || f.Doc == "" {
			t.Errorf("%s: Fn or Doc missing", name)
		}
	}
	if _, ok := Lookup("json.nosuch"); ok {
		t.Error("Lookup(json.nosuch) found something")
	}
}

// TestRegistry_Complete checks every registered description: a doc line,
// typed parameters, and classes for the option types they name.
func TestRegistry_Complete(t *testing.T) {
	for _, f := range Functions() {
		if f.Name == "" || f.Doc == "" || strings.Contains(f.Doc, "\n") {
			t.Errorf("%s: needs a name and a one-line doc", f.QualifiedName())
		}
		for _, p := range f.Params {
			if p.Name == "" || p.Type == "" {
				t.Errorf("%s: parameter %+v needs a name and a type", f.QualifiedName(), p)
			}
			typ := strings.TrimSuffix(p.Type, "?")
			if strings.HasSuffix(typ, "Options") {
				if _, ok := LookupClass(typ); !ok {
					t.Errorf("%s: parameter %s has type %s, which is not a registered class", f.QualifiedName(), p.Name, typ)
				}
			}
		}
	}
}

func TestComplete(t *testing.T) {
	got := strings.Join(Complete("json."), " ")
	if want := "json.array json.decode json.encode json.null json.object"; got != want {
		t.Errorf("Complete(json.) = %s, want %s", got, want)
	}
	if got := Complete("nosuch"); len(got) != 0 {
		t.Errorf("Complete(nosuch) = %v, want nothing", got)
	}
}
