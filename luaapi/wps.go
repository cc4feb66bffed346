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
// Lua on the script's goroutine (nil for operations that return nothing);
// op names the operation in errors (run sets it).
type call struct {
	op     string
	do     func(ctx context.Context, c *webpubsub.Client) (any, error)
	result func(L *lua.LState, v any) lua.LValue
}

// operation reads a REST operation's arguments and returns the call to
// make. Argument mistakes raise at once, before any client is needed.
type operation func(a args) call

// instance is the wps module inside one Lua state, kept in the state's
// registry (instanceOf finds it). Its fields are used only from the state's
// goroutine.
type instance struct {
	m *Module
	// workers holds the coroutines wps.each runs; a REST call made on one
	// of them yields instead of blocking (see each.go).
	workers map[*lua.LState]bool
}

// instanceKey is the registry key of a state's instance.
const instanceKey = "wps.instance"

// Open installs the wps module in L: the global wps, and require("wps")
// returning the same table when the package library is open. The module's
// functions use m's default client, made on the first call that needs it.
func (m *Module) Open(L *lua.LState) {
	ud := L.NewUserData()
	ud.Value = &instance{m: m, workers: map[*lua.LState]bool{}}
	L.Get(lua.RegistryIndex).(*lua.LTable).RawSetString(instanceKey, ud)
	mod := functionTable(L, "wps")
	L.SetField(mod, "json", jsonModule(L))
	setModule(L, "wps", mod)
}

// instanceOf returns the wps module Open installed in L (or in the state
// whose coroutine L is).
func instanceOf(L *lua.LState) *instance {
	if ud, ok := L.Get(lua.RegistryIndex).(*lua.LTable).RawGetString(instanceKey).(*lua.LUserData); ok {
		if inst, ok := ud.Value.(*instance); ok {
			return inst
		}
	}
	L.RaiseError("the wps module is not open in this state")
	return nil
}

// moduleFunction is wps.<name>: the operation on the default client.
func (o operationInfo) moduleFunction(a args) int {
	c := o.op(a)
	inst := instanceOf(a.L)
	client, err := inst.m.DefaultClient(Context(a.L))
	if err != nil {
		raiseError(a.L, o.name, err)
	}
	return inst.run(a.L, client, o.name, c)
}

// methodFunction is client:<name>: the operation on the client passed as
// self.
func (o operationInfo) methodFunction(a args) int {
	h := receiver[*clientHandle](a)
	return instanceOf(a.L).run(a.L, h.client, o.name, o.op(a))
}

// run performs c, the operation op, with client and pushes its result,
// raising a structured error if it fails. On a wps.each coroutine, where it
// is safe, it yields the call to the each loop instead, so that several
// calls are in flight.
func (inst *instance) run(L *lua.LState, client *webpubsub.Client, op string, c call) int {
	c.op = op
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
func wpsFilter(a args) int {
	L := a.L
	template := a.string(1)
	values := make([]any, 0, L.GetTop()-1)
	for i := 2; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case *lua.LNilType:
			values = append(values, nil)
		case lua.LBool:
			values = append(values, bool(v))
		case lua.LNumber:
			// odata.Format writes a whole float within ±2^53 as an
			// integer and refuses the others (1.5, 2^63, NaN), which
			// filters cannot express.
			values = append(values, float64(v))
		case lua.LString:
			values = append(values, string(v))
		default:
			a.typeError(i, "string, number, boolean or nil")
		}
	}
	filter, err := odata.Format(template, values...)
	if err != nil {
		a.error(1, err.Error())
	}
	L.Push(lua.LString(filter))
	return 1
}
