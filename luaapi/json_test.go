package luaapi

import (
	"strings"
	"testing"
)

func TestToJSON(t *testing.T) {
	L := newHelperState(t, Options{})
	for _, tc := range []struct{ name, value, want string }{
		{"Nil", `nil`, `null`},
		{"Null", `json.null`, `null`},
		{"Bool", `true`, `true`},
		{"Whole", `3`, `3`},
		{"WholeLarge", `1e15`, `1000000000000000`},
		{"Negative", `-42`, `-42`},
		{"Fraction", `1.5`, `1.5`},
		{"String", `"a\"b\\c\n\t<>&é\1"`, `"a\"b\\c\n\t<>&é\u0001"`},
		{"Array", `{1, "two", false}`, `[1,"two",false]`},
		{"ObjectSorted", `{b = 1, a = "x", C = true}`, `{"C":true,"a":"x","b":1}`},
		{"Nested", `{list = {{id = 1}, {id = 2}}, meta = {}}`, `{"list":[{"id":1},{"id":2}],"meta":{}}`},
		{"EmptyTable", `{}`, `{}`},
		{"EmptyArray", `json.array()`, `[]`},
		{"MarkedArray", `json.array{1, 2}`, `[1,2]`},
		{"EmptyObject", `json.object{}`, `{}`},
		{"ObjectWithIndexes", `json.object{"x", "y"}`, `{"1":"x","2":"y"}`},
		{"NullInArray", `{1, json.null, 3}`, `[1,null,3]`},
		{"NullInObject", `{a = json.null}`, `{"a":null}`},
		{"SharedTable", `(function() local s = {1}; return {a = s, b = s} end)()`, `{"a":[1],"b":[1]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := eval(t, L, "return json.encode("+tc.value+")"); got != tc.want {
				t.Errorf("json.encode(%s) = %s, want %s", tc.value, got, tc.want)
			}
		})
	}
	t.Run("Indent", func(t *testing.T) {
		got := eval(t, L, `return json.encode({a = {1}}, {indent = "  "})`)
		if want := "{\n  \"a\": [\n    1\n  ]\n}"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestToJSON_Errors(t *testing.T) {
	L := newHelperState(t, Options{})
	for _, tc := range []struct{ name, src, want string }{
		{"Function", `json.encode({a = {1, 2, print}})`, "bad argument #1 to 'json.encode' (unsupported value at .a[3]: function)"},
		{"TopLevel", `json.encode(print)`, "bad argument #1 to 'json.encode' (unsupported value: function)"},
		{"KeyPath", `json.encode({["my key"] = {f = coroutine.create(print)}})`, `bad argument #1 to 'json.encode' (unsupported value at ["my key"].f: thread)`},
		{"Cycle", `local t = {}; t.me = {t}; json.encode(t)`, "bad argument #1 to 'json.encode' (cycle at .me[1]: the table contains itself)"},
		{"NaN", `json.encode({x = 0/0})`, "bad argument #1 to 'json.encode' (unsupported number at .x: nan)"},
		{"Inf", `json.encode({1/0})`, "bad argument #1 to 'json.encode' (unsupported number at [1]: +inf)"},
		{"Mixed", `json.encode({1, 2, a = 3})`, "bad argument #1 to 'json.encode' (mixed table keys: both 1..n indexes and names"},
		{"Sparse", `json.encode({[1] = 1, [3] = 3})`, "bad argument #1 to 'json.encode' (sparse array: 2 values but highest index 3"},
		{"BoolKey", `json.encode({[true] = 1})`, "bad argument #1 to 'json.encode' (unsupported table key: boolean"},
		{"FractionKey", `json.encode({[1.5] = 1})`, "bad argument #1 to 'json.encode' (unsupported table key: 1.5"},
		{"MarkedArrayWithName", `json.encode(json.array{1, x = 2})`, "bad argument #1 to 'json.encode' (table marked json.array has keys other than 1..n)"},
		{"InvalidUTF8", `json.encode({s = "\255"})`, "bad argument #1 to 'json.encode' (invalid UTF-8 in string at .s"},
		{"NoValue", `json.encode()`, "bad argument #1 to 'json.encode' (value expected)"},
		{"UnknownOption", `json.encode({}, {indnt = " "})`, "bad argument #2 to 'json.encode' (unknown option 'indnt'; known: indent)"},
		{"MarkOtherMetatable", `json.array(setmetatable({}, {}))`, "bad argument #1 to 'json.array' (the table already has a metatable)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := evalError(t, L, tc.src); !strings.Contains(strings.ToLower(got), strings.ToLower(tc.want)) {
				t.Errorf("error %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

func TestFromJSON(t *testing.T) {
	L := newHelperState(t, Options{})
	for _, tc := range []struct{ name, text, check, want string }{
		{"Object", `{"a": 1, "b": "x"}`, `v.a .. v.b`, "1x"},
		{"Array", `[10, 20, 30]`, `#v .. ":" .. v[3]`, "3:30"},
		{"Null", `[1, null, 3]`, `tostring(v[2] == json.null) .. #v`, "true3"},
		{"NullMember", `{"a": null}`, `tostring(v.a == json.null)`, "true"},
		{"Nested", `{"users": [{"id": "u1"}]}`, `v.users[1].id`, "u1"},
		{"Scalar", `"text"`, `v`, "text"},
		{"Fraction", `0.25`, `v * 4`, "1"},
		{"RoundTrip", `{"a":[],"b":{},"c":null,"d":[1,{"e":"f"}]}`, `json.encode(v)`, `{"a":[],"b":{},"c":null,"d":[1,{"e":"f"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "local v = json.decode(" + luaQuote(tc.text) + "); return " + tc.check
			if got := eval(t, L, src); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, text, want string }{
		{"Syntax", `{"a": }`, "json.decode: invalid JSON at byte 7: invalid character '}' looking for beginning of value"},
		{"Empty", ``, "json.decode: invalid JSON at byte 0: unexpected end of JSON input"},
		{"Trailing", `{} x`, "json.decode: invalid JSON at byte 4: invalid character 'x' after top-level value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := evalError(t, L, "json.decode("+luaQuote(tc.text)+")"); !strings.Contains(got, tc.want) {
				t.Errorf("error %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

// TestToJSON_Go checks the Go entry points the wps module uses.
func TestToJSON_Go(t *testing.T) {
	L := newHelperState(t, Options{})
	v, err := FromJSON(L, []byte(`{"z":[true,null],"a":1.25}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ToJSON(L, v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"a":1.25,"z":[true,null]}`; got != want {
		t.Errorf("round trip = %s, want %s", got, want)
	}
	if _, err := ToJSON(L, L.GetGlobal("print")); err == nil || err.Error() != "unsupported value: function" {
		t.Errorf("ToJSON(function) error = %v", err)
	}
}

// luaQuote returns s as a Lua string literal.
func luaQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
