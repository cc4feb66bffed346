package luatest

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// This file holds busted's names for declaring tests (describe, it,
// pending, before_each, after_each, setup, teardown and their aliases) and
// the tree of blocks and tests they build while a test file's chunk runs.
// As in busted, describe runs its function at once; it and the hooks only
// record theirs, for the runner to call later.

// block is a describe block, or the file itself (the root, with no name).
type block struct {
	name   string
	parent *block
	line   int
	// hooks, in the order declared.
	setup, teardown, beforeEach, afterEach []*lua.LFunction
	// tests are the tests of this block and of the blocks inside it, in
	// order (filled as they are declared).
}

// fullName is the block's name joined with its parents', space-separated
// as busted joins them; "" for the root.
func (b *block) fullName() string {
	if b == nil || b.parent == nil {
		return ""
	}
	if p := b.parent.fullName(); p != "" {
		return p + " " + b.name
	}
	return b.name
}

// chain returns the blocks from the root down to b.
func (b *block) chain() []*block {
	var out []*block
	for x := b; x != nil; x = x.parent {
		out = append(out, x)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// testCase is one it (or pending) of a file.
type testCase struct {
	name  string // as given to it
	full  string // with the enclosing describes' names
	block *block
	fn    *lua.LFunction // nil for a pending test
	line  int
	// pending is the reason of a test declared with pending(), or of an
	// it without a function.
	pending string
	isPend  bool
}

// tree is what a test file declares.
type tree struct {
	root  *block
	tests []*testCase
	// current is the block whose describe function is running.
	current *block
	// declaring is set while the file's chunk runs: it and describe are
	// allowed only then.
	declaring bool
	// running is set while a test or hook runs, so that pending() ends
	// the test instead of declaring one.
	running bool
}

func newTree() *tree {
	root := &block{}
	return &tree{root: root, current: root}
}

// install sets the declaring globals in L.
func (t *tree) install(L *lua.LState) {
	describe := L.NewFunction(t.describe)
	it := L.NewFunction(t.it)
	setup := L.NewFunction(t.hook(func(b *block, fn *lua.LFunction) { b.setup = append(b.setup, fn) }, "setup"))
	teardown := L.NewFunction(t.hook(func(b *block, fn *lua.LFunction) { b.teardown = append(b.teardown, fn) }, "teardown"))
	for name, fn := range map[string]lua.LValue{
		"describe": describe, "context": describe,
		"it": it, "spec": it, "test": it,
		"pending":     L.NewFunction(t.pending),
		"before_each": L.NewFunction(t.hook(func(b *block, fn *lua.LFunction) { b.beforeEach = append(b.beforeEach, fn) }, "before_each")),
		"after_each":  L.NewFunction(t.hook(func(b *block, fn *lua.LFunction) { b.afterEach = append(b.afterEach, fn) }, "after_each")),
		"setup":       setup, "lazy_setup": setup, "strict_setup": setup,
		"teardown": teardown, "lazy_teardown": teardown, "strict_teardown": teardown,
	} {
		L.SetGlobal(name, fn)
	}
}

// line returns the line of the Lua code calling the running Go function.
func line(L *lua.LState) int {
	where := strings.TrimSuffix(L.Where(1), ":")
	if i := strings.LastIndexByte(where, ':'); i >= 0 {
		n, _ := strconv.Atoi(where[i+1:])
		return n
	}
	return 0
}

func (t *tree) checkDeclaring(L *lua.LState, what string) {
	if !t.declaring {
		L.RaiseError("%s must be called while the file is loading (at the top level or in a describe), not inside a test or hook", what)
	}
}

// describe is describe(name, fn): a block of tests, declared by running fn
// now.
func (t *tree) describe(L *lua.LState) int {
	t.checkDeclaring(L, "describe")
	name := L.CheckString(1)
	fn := L.CheckFunction(2)
	b := &block{name: name, parent: t.current, line: line(L)}
	t.current = b
	defer func() { t.current = b.parent }()
	L.Push(fn)
	L.Call(0, 0)
	return 0
}

// it is it(name[, fn]): a test; without fn it is pending.
func (t *tree) it(L *lua.LState) int {
	t.checkDeclaring(L, "it")
	name := L.CheckString(1)
	tc := &testCase{name: name, block: t.current, line: line(L)}
	if fn, ok := L.Get(2).(*lua.LFunction); ok {
		tc.fn = fn
	} else if L.Get(2) != lua.LNil {
		L.ArgError(2, "function expected, got "+L.Get(2).Type().String())
	} else {
		tc.isPend, tc.pending = true, "no test function"
	}
	t.add(tc)
	return 0
}

func (t *tree) add(tc *testCase) {
	tc.full = tc.name
	if p := tc.block.fullName(); p != "" {
		tc.full = p + " " + tc.name
	}
	t.tests = append(t.tests, tc)
}

// pending is pending(name[, fn]) while loading: a test that is declared
// but skipped; and pending([reason]) inside a running test: the test
// stops there and counts as skipped.
func (t *tree) pending(L *lua.LState) int {
	if t.running {
		ud := L.NewUserData()
		ud.Value = &pendingSignal{reason: L.OptString(1, "pending")}
		L.SetMetatable(ud, L.GetTypeMetatable(pendingTypeName))
		L.Error(ud, 0)
		return 0
	}
	t.checkDeclaring(L, "pending")
	name := L.CheckString(1)
	t.add(&testCase{name: name, block: t.current, line: line(L), isPend: true, pending: "pending"})
	return 0
}

// hook returns the function of a hook declaration (before_each(fn), ...),
// which adds fn to the current block with add.
func (t *tree) hook(add func(*block, *lua.LFunction), name string) lua.LGFunction {
	return func(L *lua.LState) int {
		t.checkDeclaring(L, name)
		add(t.current, L.CheckFunction(1))
		return 0
	}
}
