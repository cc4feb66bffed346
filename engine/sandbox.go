package engine

import lua "github.com/yuin/gopher-lua"

// sandbox removes from L what lets a script reach files and processes.
func sandbox(L *lua.LState) {
	for _, name := range []string{"io", "debug", "dofile", "loadfile", "load", "loadstring"} {
		L.SetGlobal(name, lua.LNil)
	}
	if osTable, ok := L.GetGlobal("os").(*lua.LTable); ok {
		for _, name := range []string{"execute", "remove", "rename", "tmpname"} {
			osTable.RawSetString(name, lua.LNil)
		}
	}
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	if loaded, ok := pkg.RawGetString("loaded").(*lua.LTable); ok {
		loaded.RawSetString("io", lua.LNil)
		loaded.RawSetString("debug", lua.LNil)
	}
	// Keep only the first loader, which reads package.preload; the others
	// load files. The registry holds the same table, which require reads.
	if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok {
		for i := loaders.Len(); i > 1; i-- {
			loaders.RawSetInt(i, lua.LNil)
		}
	}
	pkg.RawSetString("path", lua.LString(""))
	pkg.RawSetString("cpath", lua.LString(""))
}
