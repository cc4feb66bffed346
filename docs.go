package main

import (
	"context"
	"io"
	"os"

	"wps/luaapi"
)

const docsDescription = `Print the reference of every function of the Lua API (Markdown), read
from the same registry as the scripts' argument errors.

With --lua-defs, write LuaLS definitions (---@meta annotations) instead, so
that editors running the Lua language server complete and type-check
wps calls. The repository ships them as luaapi/wps.d.lua.

Example:
  wps docs --lua-defs -o types/wps.lua`

func runDocs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("docs", "[--lua-defs] [-o FILE]", docsDescription, stdout)
	luaDefs := fs.Bool("lua-defs", false, "write LuaLS definitions instead of the Markdown reference")
	output := fs.String("o", "", "write to `FILE` instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("docs takes no arguments")
	}
	write := luaapi.WriteMarkdown
	if *luaDefs {
		write = luaapi.WriteLuaDefs
	}
	if *output == "" {
		return write(stdout)
	}
	f, err := os.Create(*output)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
