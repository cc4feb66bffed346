package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDocs_Markdown(t *testing.T) {
	status, stdout, stderr := runWPS(t, "docs")
	if status != 0 {
		t.Fatalf("status %d, stderr:\n%s", status, stderr)
	}
	for _, want := range []string{"# wps Lua reference\n", "\n### wps.send_to_group(", "\n### json.encode(", "\n### sleep(seconds)\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("reference lacks %q", want)
		}
	}
}

// TestDocs_LuaDefs checks that --lua-defs -o writes the definitions the
// repository ships.
func TestDocs_LuaDefs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wps.lua")
	if status, _, stderr := runWPS(t, "docs", "--lua-defs", "-o", path); status != 0 {
		t.Fatalf("status %d, stderr:\n%s", status, stderr)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile("luaapi/wps.d.lua")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(shipped) {
		t.Errorf("wps docs --lua-defs differs from luaapi/wps.d.lua; regenerate it with: go generate ./luaapi")
	}
	if !strings.HasPrefix(string(got), "---@meta\n") {
		t.Errorf("definitions do not start with ---@meta")
	}
}

func TestDocs_Usage(t *testing.T) {
	if status, _, stderr := runWPS(t, "docs", "extra"); status != 2 || !strings.Contains(stderr, "docs takes no arguments") {
		t.Errorf("status %d, stderr %q", status, stderr)
	}
	if status, _, stderr := runWPS(t, "docs", "-o", filepath.Join(t.TempDir(), "no", "such", "dir", "x.md")); status != 1 || !strings.HasPrefix(stderr, "wps docs: open ") {
		t.Errorf("status %d, stderr %q", status, stderr)
	}
	status, stdout, _ := runWPS(t, "docs", "--help")
	if status != 0 || !strings.Contains(stdout, "Usage: wps docs [--lua-defs] [-o FILE]") || !strings.Contains(stdout, "Example:") {
		t.Errorf("status %d, help:\n%s", status, stdout)
	}
}
