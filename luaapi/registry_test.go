package luaapi

import (
	"strings"
	"testing"
)

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
