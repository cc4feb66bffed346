package repl

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wps/engine"
	"wps/luaapi"
)

// formatValues renders the results of an evaluation on one line, separated
// by tabs as print separates its arguments. For a person (plain false)
// every value goes through inspect, so that "" and "nil" differ from nil
// and tables show their contents; for a program (plain true) strings are
// written as they are, tables as JSON when JSON can hold them (else with
// inspect), and other values through tostring.
func formatValues(L *lua.LState, values []lua.LValue, plain bool) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = formatValue(L, v, plain)
	}
	return strings.Join(parts, "\t")
}

func formatValue(L *lua.LState, v lua.LValue, plain bool) string {
	if !plain {
		return engine.EscapeControl(luaapi.Inspect(L, v))
	}
	switch v := v.(type) {
	case lua.LString:
		return string(v)
	case *lua.LTable:
		if b, err := luaapi.ToJSON(L, v); err == nil {
			return string(b)
		}
		return luaapi.Inspect(L, v)
	}
	return luaapi.Inspect(L, v)
}
