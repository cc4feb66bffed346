package repl

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestFormatValues(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`v = {1, "two", {x = true}}`); err != nil {
		t.Fatal(err)
	}
	values := []lua.LValue{lua.LString("a\x1bb"), lua.LNumber(2), L.GetGlobal("v"), lua.LNil}
	if got, want := formatValues(L, values, false), `"a\x1bb"	2	{ 1, "two", { x = true } }	nil`; got != want {
		t.Errorf("for a person: %q, want %q", got, want)
	}
	if got, want := formatValues(L, values, true), "a\x1bb\t2\t[1,\"two\",{\"x\":true}]\tnil"; got != want {
		t.Errorf("for a program: %q, want %q", got, want)
	}
}
