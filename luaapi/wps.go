package luaapi

import (
	"context"

	lua "github.com/yuin/gopher-lua"

	"wps/webpubsub"
	"wps/webpubsub/odata"
)

// This file holds the wps table itself: how its functions are installed in a
// state and how a REST call made by a script runs.

// call is one REST operation prepared from a script's arguments. do runs it
// with a client and may run on any goroutine; result turns its value into
// Lua on the script's goroutine (nil for operations that return nothing).
type call struct {
	op     string
	do     func(ctx context.Context, c *webpubsub.Client) (any, error)
	result func(L *lua.LState, v any) lua.LValue
}

// operation reads a REST operation's arguments and returns the call to
// make. Argument mistakes raise at once, before any client is needed.
type operation func(a args) call

// instance is the wps module inside one Lua state. Its fields are used only
// from the state's goroutine.
type instance struct {
	m *Module
	// workers holds the coroutines wps.each runs; a REST call made on one
	// of them yields instead of blocking (see each.go).
	workers map[*lua.LState]bool
}

// Open installs the wps module in L: the global wps, and require("wps")
// returning the same table when the package library is open. The module's
// functions use m's default client, made on the first call that needs it.
func (m *Module) Open(L *lua.LState) {
	inst := &instance{m: m, workers: map[*lua.LState]bool{}}
	mod := L.NewTable()
	for _, o := range operations {
		L.SetField(mod, o.name, L.NewFunction(inst.moduleFunction(o)))
	}
	L.SetFuncs(mod, map[string]lua.LGFunction{
		"hub":     inst.wpsHub,
		"client":  inst.wpsClient,
		"connect": inst.wpsConnect,
		"each":    inst.wpsEach,
		"filter":  wpsFilter,
		"binary":  wpsBinary,
	})
	L.SetField(mod, "json", jsonModule(L))
	inst.clientMetatable(L)
	setModule(L, "wps", mod)
}

// moduleFunction returns the Lua function wps.<name>: the operation on the
// default client.
func (inst *instance) moduleFunction(o operationInfo) lua.LGFunction {
	return func(L *lua.LState) int {
		c := o.op(newArgs(L, o.function))
		client, err := inst.m.DefaultClient(Context(L))
		if err != nil {
			raiseError(L, c.op, err)
		}
		return inst.run(L, client, c)
	}
}

// methodFunction returns the Lua method client:<name>: the operation on the
// client passed as self.
func (inst *instance) methodFunction(o operationInfo) lua.LGFunction {
	return func(L *lua.LState) int {
		h := checkClient(L, o.method)
		return inst.run(L, h.client, o.op(newArgs(L, o.method)))
	}
}

// run performs c with client and pushes its result, raising a structured
// error if it fails. On a wps.each coroutine, where it is safe, it yields
// the call to the each loop instead, so that several calls are in flight.
func (inst *instance) run(L *lua.LState, client *webpubsub.Client, c call) int {
	if inst.workers[L] && canYield() {
		ud := L.NewUserData()
		ud.Value = &pendingCall{call: c, client: client}
		return L.Yield(ud)
	}
	v, err := c.do(Context(L), client)
	if err != nil {
		raiseError(L, c.op, err)
	}
	if c.result == nil {
		return 0
	}
	L.Push(c.result(L, v))
	return 1
}

// wpsFilter is wps.filter(template, ...): an OData filter with each {} of
// the template replaced by the next argument as a literal.
func wpsFilter(L *lua.LState) int {
	a := newArgs(L, wpsFilterFunc)
	template := a.string(1)
	values := make([]any, 0, L.GetTop()-1)
	for i := 2; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case *lua.LNilType:
			values = append(values, nil)
		case lua.LBool:
			values = append(values, bool(v))
		case lua.LNumber:
			if f := float64(v); f == float64(int64(f)) {
				values = append(values, int64(f))
			} else {
				values = append(values, f)
			}
		case lua.LString:
			values = append(values, string(v))
		default:
			a.argError(i, "string, number, boolean or nil expected, got "+typeName(v))
		}
	}
	filter, err := odata.Format(template, values...)
	if err != nil {
		L.RaiseError("wps.filter: %v", err)
	}
	L.Push(lua.LString(filter))
	return 1
}
