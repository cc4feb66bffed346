package luaapi

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/yuin/gopher-lua/parse"
)

var update = flag.Bool("update", false, "rewrite wps.d.lua from the registry")

// TestLuaDefsCurrent checks that the shipped LuaLS definitions match the
// registry, so that editors see the functions that exist.
func TestLuaDefsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := WriteLuaDefs(&want); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("wps.d.lua", want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("wps.d.lua")
	if err != nil {
		t.Fatalf("%v; generate it with: go generate ./luaapi", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("luaapi/wps.d.lua is out of date with the function registry; regenerate it with:\n\tgo generate ./luaapi\n(or: go test ./luaapi -run TestLuaDefsCurrent -update)")
	}
}

func TestWriteLuaDefs(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteLuaDefs(&buf); err != nil {
		t.Fatal(err)
	}
	defs := buf.String()
	// The file must be valid Lua for the language server to read it.
	if _, err := parse.Parse(strings.NewReader(defs), "wps.d.lua"); err != nil {
		t.Fatalf("definitions do not parse: %v\n%s", err, defs)
	}
	for _, want := range []string{
		"---@meta\n",
		"---@class json.EncodeOptions\n---@field indent? string ",
		"---@param value any a table, string, number, boolean, nil or json.null\n---@param opts? json.EncodeOptions indent\n---@return string\nfunction json.encode(value, opts) end\n",
		"---@param seconds number how long to wait; fractions allowed\nfunction sleep(seconds) end\n",
		"---@type string[]\nargs = nil\n",
		"---@type json.null\njson.null = nil\n",
	} {
		if !strings.Contains(defs, want) {
			t.Errorf("definitions lack %q", want)
		}
	}
	for _, f := range Functions() {
		sep := "."
		if f.IsMethod() {
			sep = ":"
		}
		name := f.Name
		if f.Module != "" {
			name = f.Module + sep + f.Name
		}
		if !strings.Contains(defs, "function "+name+"(") {
			t.Errorf("definitions lack %s", f.QualifiedName())
		}
	}
}

func TestWriteMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	for _, want := range []string{
		"# wps Lua reference\n",
		"\n## `json`\n",
		"\n## Globals\n",
		"\n### json.encode(value, opts?)\n\nEncode a value as JSON",
		"| `opts` | `json.EncodeOptions?` | indent |\n",
		"\n### sleep(seconds)\n",
		"\n### json.null\n",
		"\n## Types\n",
		"\n### InspectOptions\n",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("reference lacks %q", want)
		}
	}
	for _, f := range Functions() {
		if !strings.Contains(doc, "### "+f.QualifiedName()+"(") {
			t.Errorf("reference lacks %s", f.QualifiedName())
		}
	}
	// Modules come in a fixed order: wps first, globals after the tables.
	if i, j := strings.Index(doc, "## `json`"), strings.Index(doc, "## Globals"); i < 0 || j < i {
		t.Errorf("json section at %d, globals at %d: want json first", i, j)
	}
}
