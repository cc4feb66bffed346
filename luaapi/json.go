package luaapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// This file converts between Lua values and JSON, for the json module and
// for the wps module (messages sent as JSON, JSON data received).
//
// Lua → JSON: nil and json.null are null; booleans, strings and numbers map
// directly (whole numbers without a fraction); a table whose keys are 1..n
// is an array, one whose keys are all strings an object with sorted keys.
// An empty table is an object unless marked with json.array. A table marked
// with json.object encodes its integer keys as strings. NaN, infinities,
// functions, userdata, cycles, mixed or sparse keys and invalid UTF-8 are
// errors naming the path, e.g. "unsupported value at .a[3]: function".
//
// JSON → Lua: objects and arrays become tables (empty ones marked so that
// they encode back the same), null becomes json.null, numbers become Lua
// numbers.

// maxJSONDepth bounds the nesting ToJSON follows, so that a deep structure
// gives an error rather than exhausting the stack.
const maxJSONDepth = 500

// Keys under which a state's registry holds the json markers.
const (
	jsonArrayKey  = "wps.json.array"
	jsonObjectKey = "wps.json.object"
	jsonNullKey   = "wps.json.null"
	jsonModuleKey = "wps.json.module"
)

// jsonMarkers returns the state's metatables marking arrays and objects and
// its null sentinel, creating them on first use.
func jsonMarkers(L *lua.LState) (array, object *lua.LTable, null *lua.LUserData) {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if n, ok := reg.RawGetString(jsonNullKey).(*lua.LUserData); ok {
		return reg.RawGetString(jsonArrayKey).(*lua.LTable), reg.RawGetString(jsonObjectKey).(*lua.LTable), n
	}
	array = L.NewTable()
	array.RawSetString("__name", lua.LString("json.array"))
	object = L.NewTable()
	object.RawSetString("__name", lua.LString("json.object"))
	null = L.NewUserData()
	nullMeta := L.NewTable()
	nullMeta.RawSetString("__name", lua.LString("json.null"))
	nullMeta.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("json.null"))
		return 1
	}))
	null.Metatable = nullMeta
	reg.RawSetString(jsonArrayKey, array)
	reg.RawSetString(jsonObjectKey, object)
	reg.RawSetString(jsonNullKey, null)
	return array, object, null
}

// JSONNull returns the json.null sentinel of L, the value that stands for
// JSON null in tables.
func JSONNull(L *lua.LState) lua.LValue {
	_, _, null := jsonMarkers(L)
	return null
}

// ToJSON encodes v as compact JSON, following the rules at the top of this
// file. Errors name the problem and its path, without a prefix, so callers
// can say which function failed.
func ToJSON(L *lua.LState, v lua.LValue) ([]byte, error) {
	e := jsonEncoder{visiting: map[*lua.LTable]bool{}}
	e.array, e.object, e.null = jsonMarkers(L)
	if err := e.encode(v, "", 0); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

// FromJSON decodes JSON text into a Lua value, following the rules at the
// top of this file.
func FromJSON(L *lua.LState, data []byte) (lua.LValue, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return lua.LNil, fmt.Errorf("invalid JSON at byte %d: %s", syntax.Offset, syntax.Error())
		}
		return lua.LNil, fmt.Errorf("invalid JSON: %w", err)
	}
	array, object, null := jsonMarkers(L)
	return fromGo(L, v, array, object, null), nil
}

// fromGo converts a value decoded by encoding/json into Lua.
func fromGo(L *lua.LState, v any, array, object *lua.LTable, null *lua.LUserData) lua.LValue {
	switch v := v.(type) {
	case nil:
		return null
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		t := L.CreateTable(len(v), 0)
		for _, e := range v {
			t.Append(fromGo(L, e, array, object, null))
		}
		if len(v) == 0 {
			t.Metatable = array
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for k, e := range v {
			t.RawSetString(k, fromGo(L, e, array, object, null))
		}
		if len(v) == 0 {
			t.Metatable = object
		}
		return t
	}
	panic(fmt.Sprintf("luaapi: unexpected JSON value %T", v))
}

// jsonEncoder writes one value as JSON.
type jsonEncoder struct {
	buf           bytes.Buffer
	array, object *lua.LTable
	null          *lua.LUserData
	// visiting holds the tables on the path being encoded, to find cycles.
	visiting map[*lua.LTable]bool
}

// jsonAt renders the location of a problem: "" at the top level, else
// " at " and the path.
func jsonAt(path string) string {
	if path == "" {
		return ""
	}
	return " at " + path
}

func (e *jsonEncoder) encode(v lua.LValue, path string, depth int) error {
	switch v := v.(type) {
	case *lua.LNilType:
		e.buf.WriteString("null")
	case lua.LBool:
		e.buf.WriteString(strconv.FormatBool(bool(v)))
	case lua.LNumber:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("unsupported number%s: %v", jsonAt(path), v)
		}
		b, _ := json.Marshal(f) // whole numbers come out without a fraction
		e.buf.Write(b)
	case lua.LString:
		if !utf8.ValidString(string(v)) {
			return fmt.Errorf("invalid UTF-8 in string%s (JSON text must be UTF-8; send bytes with wps.binary)", jsonAt(path))
		}
		writeJSONString(&e.buf, string(v))
	case *lua.LTable:
		return e.table(v, path, depth)
	case *lua.LUserData:
		if v == e.null {
			e.buf.WriteString("null")
			return nil
		}
		return fmt.Errorf("unsupported value%s: %s", jsonAt(path), typeName(v))
	default:
		return fmt.Errorf("unsupported value%s: %s", jsonAt(path), v.Type())
	}
	return nil
}

func (e *jsonEncoder) table(t *lua.LTable, path string, depth int) error {
	if e.visiting[t] {
		return fmt.Errorf("cycle%s: the table contains itself", jsonAt(path))
	}
	if depth >= maxJSONDepth {
		return fmt.Errorf("nesting deeper than %d%s", maxJSONDepth, jsonAt(path))
	}
	e.visiting[t] = true
	defer delete(e.visiting, t)

	// Sort the keys into sequence indexes and names.
	var count, maxIndex int
	var names []string
	var badKey lua.LValue
	t.ForEach(func(k, _ lua.LValue) {
		count++
		switch k := k.(type) {
		case lua.LString:
			names = append(names, string(k))
		case lua.LNumber:
			if f := float64(k); f >= 1 && f == math.Trunc(f) && f <= math.MaxInt32 {
				maxIndex = max(maxIndex, int(f))
				return
			}
			if badKey == nil {
				badKey = k
			}
		default:
			if badKey == nil {
				badKey = k
			}
		}
	})
	indexes := count - len(names)
	marker := t.Metatable
	switch {
	case marker == e.object:
		if badKey != nil {
			return fmt.Errorf("unsupported object key%s: %s (keys must be strings or whole numbers)", jsonAt(path), describeKey(badKey))
		}
		return e.encodeObject(t, path, depth)
	case badKey != nil:
		return fmt.Errorf("unsupported table key%s: %s (keys must be strings, or 1..n for an array)", jsonAt(path), describeKey(badKey))
	case marker == e.array:
		if len(names) > 0 || indexes != maxIndex {
			return fmt.Errorf("table marked json.array has keys other than 1..n%s", jsonAt(path))
		}
		return e.encodeArray(t, path, depth, maxIndex)
	case count == 0:
		e.buf.WriteString("{}")
		return nil
	case len(names) == 0 && indexes == maxIndex:
		return e.encodeArray(t, path, depth, maxIndex)
	case len(names) == 0:
		return fmt.Errorf("sparse array%s: %d values but highest index %d (use json.null for holes)", jsonAt(path), indexes, maxIndex)
	case indexes > 0:
		return fmt.Errorf("mixed table keys%s: both 1..n indexes and names (a JSON value is an array or an object)", jsonAt(path))
	default:
		return e.encodeObject(t, path, depth)
	}
}

func (e *jsonEncoder) encodeArray(t *lua.LTable, path string, depth, n int) error {
	e.buf.WriteByte('[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			e.buf.WriteByte(',')
		}
		if err := e.encode(t.RawGetInt(i), path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
			return err
		}
	}
	e.buf.WriteByte(']')
	return nil
}

// encodeObject writes t as an object with sorted keys (whole-number keys,
// allowed in tables marked json.object, become their decimal text).
func (e *jsonEncoder) encodeObject(t *lua.LTable, path string, depth int) error {
	type entry struct {
		name  string
		value lua.LValue
	}
	var entries []entry
	t.ForEach(func(k, v lua.LValue) {
		entries = append(entries, entry{k.String(), v})
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	e.buf.WriteByte('{')
	for i, en := range entries {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		if !utf8.ValidString(en.name) {
			return fmt.Errorf("invalid UTF-8 in object key%s", jsonAt(path))
		}
		writeJSONString(&e.buf, en.name)
		e.buf.WriteByte(':')
		if err := e.encode(en.value, path+pathKey(en.name), depth+1); err != nil {
			return err
		}
	}
	e.buf.WriteByte('}')
	return nil
}

// pathKey renders one step of a path to an object member: .name, or
// ["some key"] when the name is not an identifier.
func pathKey(name string) string {
	if IsName(name) {
		return "." + name
	}
	return "[" + strconv.Quote(name) + "]"
}

// describeKey renders a table key that JSON cannot hold, for errors.
func describeKey(k lua.LValue) string {
	if n, ok := k.(lua.LNumber); ok {
		return n.String()
	}
	return k.Type().String()
}

// writeJSONString writes s, valid UTF-8, as a JSON string. Unlike
// encoding/json it leaves <, > and & as they are: the output is for
// messages, not HTML.
func writeJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// The json module: json.encode, json.decode, json.array, json.object and
// json.null (also reachable as wps.json).

func init() {
	Register(
		Function{Module: "json", Name: "encode",
			Params: []Param{
				{Name: "value", Type: "any", Doc: "a table, string, number, boolean, nil or json.null"},
				{Name: "opts", Type: "json.EncodeOptions?", Doc: "indent"},
			},
			Returns: "string",
			Doc:     "Encode a value as JSON: a sequence is an array, other tables objects with sorted keys.",
			Fn:      luaJSONEncode,
		},
		Function{Module: "json", Name: "decode",
			Params:  []Param{{Name: "text", Type: "string", Doc: "JSON text"}},
			Returns: "any",
			Doc:     "Decode JSON text into Lua values; null becomes json.null.",
			Fn:      luaJSONDecode,
		},
		Function{Module: "json", Name: "array",
			Params:  []Param{{Name: "t", Type: "table?", Doc: "the table to mark (a new one if absent)"}},
			Returns: "table",
			Doc:     "Mark a table to encode as a JSON array, even when empty.",
			Fn:      luaJSONArray,
		},
		Function{Module: "json", Name: "object",
			Params:  []Param{{Name: "t", Type: "table?", Doc: "the table to mark (a new one if absent)"}},
			Returns: "table",
			Doc:     "Mark a table to encode as a JSON object, even when empty or indexed 1..n.",
			Fn:      luaJSONObject,
		},
	)
	RegisterValue(Value{Module: "json", Name: "null", Type: "json.null",
		Doc: "The JSON null value: use it where a table needs a null (nil cannot be stored in a table)."})
	RegisterClass(
		Class{Name: "json.EncodeOptions", Doc: "Options of json.encode.", Fields: []Field{
			{Name: "indent", Type: "string?", Doc: "indent nested values with this string (e.g. two spaces); compact when absent"},
		}},
		Class{Name: "json.null", Doc: "The type of json.null."},
	)
}

// newJSONModule returns a new json table for L, and remembers it for
// jsonModule.
func newJSONModule(L *lua.LState) *lua.LTable {
	mod := functionTable(L, "json")
	mod.RawSetString("null", JSONNull(L))
	L.Get(lua.RegistryIndex).(*lua.LTable).RawSetString(jsonModuleKey, mod)
	return mod
}

// jsonModule returns the json table of L, the same one as the json global
// (the wps module sets it as wps.json), making it if Open has not run.
func jsonModule(L *lua.LState) *lua.LTable {
	if mod, ok := L.Get(lua.RegistryIndex).(*lua.LTable).RawGetString(jsonModuleKey).(*lua.LTable); ok {
		return mod
	}
	return newJSONModule(L)
}

// luaJSONEncode is json.encode(value[, opts]).
func luaJSONEncode(a args) int {
	L := a.L
	v := a.any(1)
	indent := a.options(2).string("indent")
	b, err := ToJSON(L, v)
	if err != nil {
		a.error(1, err.Error())
	}
	if indent != "" {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", indent); err != nil {
			L.RaiseError("%s: %s", a.fn.QualifiedName(), err)
		}
		b = out.Bytes()
	}
	L.Push(lua.LString(b))
	return 1
}

// luaJSONDecode is json.decode(text).
func luaJSONDecode(a args) int {
	v, err := FromJSON(a.L, []byte(a.string(1)))
	if err != nil {
		a.L.RaiseError("%s: %s", a.fn.QualifiedName(), err)
	}
	a.L.Push(v)
	return 1
}

// luaJSONArray is json.array([t]).
func luaJSONArray(a args) int {
	array, _, _ := jsonMarkers(a.L)
	return markJSON(a, array)
}

// luaJSONObject is json.object([t]).
func luaJSONObject(a args) int {
	_, object, _ := jsonMarkers(a.L)
	return markJSON(a, object)
}

// markJSON sets marker as the metatable of the table argument (or of a new
// table) and returns it. A table with another metatable is an error: its
// metatable would be lost.
func markJSON(a args, marker *lua.LTable) int {
	t := a.optTable(1)
	if t == nil {
		t = a.L.NewTable()
	}
	if mt, ok := t.Metatable.(*lua.LTable); ok && mt != marker {
		if _, isMarker := jsonMarkerName(a.L, mt); !isMarker {
			a.error(1, "the table already has a metatable")
		}
	}
	t.Metatable = marker
	a.L.Push(t)
	return 1
}

// jsonMarkerName reports whether mt is one of L's json markers.
func jsonMarkerName(L *lua.LState, mt *lua.LTable) (string, bool) {
	array, object, _ := jsonMarkers(L)
	switch mt {
	case array:
		return "json.array", true
	case object:
		return "json.object", true
	}
	return "", false
}
