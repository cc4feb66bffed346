package luaapi

import (
	"regexp"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// callWith calls fn, as a Lua function named f, with the Lua argument list
// args (self included for a method) and returns the error message, or ""
// if it succeeded.
func callWith(t *testing.T, fn Function, args string) string {
	t.Helper()
	L := newHelperState(t, Options{})
	L.SetGlobal("f", fn.luaFunction(L))
	L.SetGlobal("binary", L.NewFunction(func(L *lua.LState) int {
		ud := L.NewUserData()
		ud.Value = binary("b")
		L.SetMetatable(ud, binaryMetatable(L))
		L.Push(ud)
		return 1
	}))
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

func TestArgs_Errors(t *testing.T) {
	send := Function{Module: "wps", Name: "send_to_group", Params: []Param{
		{Name: "group", Type: "string"}, {Name: "message", Type: "any"}, {Name: "opts", Type: "wps.SendOptions?"},
	}, Fn: func(a args) int {
		a.string(1)
		a.any(2)
		o := a.options(3)
		o.int("ttl", 0, 0, 300)
		o.strings("excluded")
		o.oneOf("content_type", "text/plain", "application/json")
		return 0
	}}
	join := Function{Module: "conn", Name: "join", Params: []Param{{Name: "group", Type: "string"}}, Fn: func(a args) int {
		receiver[binary](a)
		a.string(1)
		return 0
	}}
	timed := Function{Name: "wait", Params: []Param{{Name: "seconds", Type: "number"}, {Name: "list", Type: "string[]?"}}, Fn: func(a args) int {
		a.seconds(1)
		if a.get(2) != lua.LNil {
			a.stringList(2)
		}
		return 0
	}}
	client := Function{Module: "wps", Name: "client", Params: []Param{{Name: "opts", Type: "wps.ClientOptions"}}, Fn: func(a args) int {
		a.options(1)
		return 0
	}}
	for _, tc := range []struct {
		name string
		fn   Function
		args string
		want string
	}{
		{"OK", send, `"g", "hi", {ttl = 3, excluded = "c", content_type = "TEXT/plain"}`, ""},
		{"NumberAsString", send, `42, "hi"`, ""},
		{"MissingValue", send, `"g"`, "bad argument #2 to 'wps.send_to_group' (value expected)"},
		{"WrongType", send, `{}, "hi"`, "bad argument #1 to 'wps.send_to_group' (string expected, got table)"},
		{"UserdataByName", send, `binary(), "hi"`, "bad argument #1 to 'wps.send_to_group' (string expected, got wps.binary)"},
		{"OptionsNotATable", send, `"g", "hi", "ttl=3"`, "bad argument #3 to 'wps.send_to_group' (table expected, got string)"},
		{"UnknownOption", send, `"g", "hi", {tll = 3}`, "bad argument #3 to 'wps.send_to_group' (unknown option 'tll'; known: content_type, excluded, filter, ttl)"},
		{"UnknownOptions", send, `"g", "hi", {tll = 3, "x", b = 1}`, "bad argument #3 to 'wps.send_to_group' (unknown options 'b', 'tll', [1]; known: content_type, excluded, filter, ttl)"},
		{"OptionType", send, `"g", "hi", {ttl = "3"}`, "bad argument #3 to 'wps.send_to_group' (option 'ttl': integer expected, got string)"},
		{"OptionRange", send, `"g", "hi", {ttl = 2.5}`, "bad argument #3 to 'wps.send_to_group' (option 'ttl': integer from 0 to 300 expected, got 2.5)"},
		{"OptionList", send, `"g", "hi", {excluded = {"a", binary()}}`, "bad argument #3 to 'wps.send_to_group' (option 'excluded': list of strings expected, item 2 is wps.binary)"},
		{"OptionName", send, `"g", "hi", {content_type = "text/html"}`, `bad argument #3 to 'wps.send_to_group' (option 'content_type': text/plain or application/json expected, got "text/html")`},
		{"RequiredOptions", client, ``, "bad argument #1 to 'wps.client' (table expected, got nil)"},
		{"MethodArgument", join, `binary(), nil`, "bad argument #1 to 'conn:join' (string expected, got nil)"},
		{"MethodSelf", join, `"g"`, "calling 'conn:join' on bad self (wps.connection expected, got string)"},
		{"MethodSelfTable", join, `{}, "g"`, "calling 'conn:join' on bad self (wps.connection expected, got table)"},
		{"Seconds", timed, `-1`, "bad argument #1 to 'wait' (a non-negative number of seconds expected, got -1)"},
		{"StringList", timed, `1, {"a", x = 1}`, "bad argument #2 to 'wait' (list of strings expected, found key x)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := callWith(t, tc.fn, tc.args)
			if tc.want != "" {
				tc.want = "<string>:1: " + tc.want
			}
			if got != tc.want {
				t.Errorf("error %q, want %q", got, tc.want)
			}
		})
	}
}

// TestArgs_SameMistakeSameMessage checks that a mistake reads the same in a
// wps function, a client method, a connection method and a helper, and
// that userdata is named by its type everywhere.
func TestArgs_SameMistakeSameMessage(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	mustRun(t, L, `c = wps.connect{}; h = wps.hub("h"); b = wps.binary("b")`)
	stock := regexp.MustCompile(`^<string>:1: (bad argument #[1-9] to|calling) '[a-z_]+([.:][a-z_]+)?' (on bad self )?\(.+\)$`)
	for _, group := range []struct {
		name  string
		cases map[string]string
	}{
		{"UnknownOption", map[string]string{
			`wps.send_to_all("x", {tll = 1})`:            `bad argument #2 to 'wps.send_to_all' (unknown option 'tll'; known: content_type, excluded, filter, ttl)`,
			`h:send_to_all("x", {tll = 1})`:              `bad argument #2 to 'client:send_to_all' (unknown option 'tll'; known: content_type, excluded, filter, ttl)`,
			`c:send_to_group("g", "x", {no_eco = true})`: `bad argument #3 to 'conn:send_to_group' (unknown option 'no_eco'; known: data_type, no_echo)`,
			`inspect({}, {dpth = 1})`:                    `bad argument #2 to 'inspect' (unknown option 'dpth'; known: depth)`,
			`json.encode({}, {indnt = " "})`:             `bad argument #2 to 'json.encode' (unknown option 'indnt'; known: indent)`,
		}},
		{"OptionType", map[string]string{
			`wps.each({}, print, {progress = b})`:     `bad argument #3 to 'wps.each' (option 'progress': boolean expected, got wps.binary)`,
			`inspect({}, {depth = "x"})`:              `bad argument #2 to 'inspect' (option 'depth': integer expected, got string)`,
			`c:send_event("e", "x", {data_type = h})`: `bad argument #3 to 'conn:send_event' (option 'data_type': string expected, got wps.client)`,
		}},
		{"UserdataByType", map[string]string{
			`wps.send_to_group(b, "x")`: `bad argument #1 to 'wps.send_to_group' (string expected, got wps.binary)`,
			`h:send_to_group(c, "x")`:   `bad argument #1 to 'client:send_to_group' (string expected, got wps.connection)`,
			`c:join(h)`:                 `bad argument #1 to 'conn:join' (string expected, got wps.client)`,
			`env(b)`:                    `bad argument #1 to 'env' (string expected, got wps.binary)`,
			`sleep(json.null)`:          `bad argument #1 to 'sleep' (number expected, got json.null)`,
			`log.info("m", h)`:          `bad argument #2 to 'log.info' (table expected, got wps.client)`,
			`flags.parse(c, {})`:        `bad argument #1 to 'flags.parse' (table expected, got wps.connection)`,
			`wps.send_to_all(h)`:        `bad argument #1 to 'wps.send_to_all' (string, table or wps.binary expected, got wps.client)`,
		}},
		{"BadSelf", map[string]string{
			`h.send_to_all("x")`: `calling 'client:send_to_all' on bad self (wps.client expected, got string)`,
			`h.hub(b)`:           `calling 'client:hub' on bad self (wps.client expected, got wps.binary)`,
			`c.join(h, "g")`:     `calling 'conn:join' on bad self (wps.connection expected, got wps.client)`,
		}},
	} {
		t.Run(group.name, func(t *testing.T) {
			for script, want := range group.cases {
				got := mustFail(t, L, script)
				if got != "<string>:1: "+want {
					t.Errorf("%s\nraised %q\nwant   %q", script, got, want)
				}
				if !stock.MatchString(got) {
					t.Errorf("%s raised %q, not in gopher-lua's stock form", script, got)
				}
			}
		})
	}
}

// TestFunctionTables checks that the Lua tables hold exactly the registered
// functions: each registered function is where a script looks for it, and
// every function found there is registered.
func TestFunctionTables(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	conn := L.NewUserData()
	conn.Value = &connection{}
	L.SetMetatable(conn, connectionMetatable(L))
	L.SetGlobal("conn", conn)
	mustRun(t, L, `client = wps.hub("h")`)

	registered := map[string]bool{}
	for _, f := range Functions() {
		registered[f.QualifiedName()] = true
		path := f.QualifiedName()
		if f.IsMethod() {
			path = strings.Replace(path, ":", ".", 1)
		}
		if got := mustRun(t, L, `return type(`+path+`)`); got != `"function"` {
			t.Errorf("%s is %s in a state, want a function", f.QualifiedName(), got)
		}
	}
	found := mustRun(t, L, `
		local names = {}
		for _, m in ipairs({"wps", "json", "log", "flags"}) do
			for k, v in pairs(_G[m]) do
				if type(v) == "function" then names[#names + 1] = m .. "." .. k end
			end
		end
		for k, v in pairs(getmetatable(client).__index) do names[#names + 1] = "client:" .. k end
		for _, k in ipairs({"sleep", "env", "inspect"}) do names[#names + 1] = k end
		return names`)
	for _, name := range strings.Split(strings.Trim(found, `[]`), ",") {
		if name = strings.Trim(name, `"`); !registered[name] {
			t.Errorf("%s is in a Lua table but not in the registry", name)
		}
	}
}
