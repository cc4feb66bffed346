package luaapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"wps/webpubsub"
	"wps/webpubsub/wsclient"
)

// connectionTypeName names the metatable of wps.connect connections.
const connectionTypeName = "wps.connection"

// connectProtocols are the protocols of wps.connect, the default first.
var connectProtocols = stringsOf([]wsclient.Protocol{wsclient.ProtocolJSON, wsclient.ProtocolReliable, wsclient.ProtocolRaw})

// dataTypes are the data types of what a connection sends and receives.
var dataTypes = []string{wsclient.DataJSON, wsclient.DataText, wsclient.DataBinary}

// connection is the Go value inside a connection object.
type connection struct {
	conn *wsclient.Conn
}

// wpsConnect is wps.connect(opts): a client connection to the default hub.
func wpsConnect(a args) int {
	return connect(a, nil)
}

// clientConnect is client:connect(opts): a client connection to the
// client's hub.
func clientConnect(a args) int {
	return connect(a, receiver[*clientHandle](a).client)
}

// connect opens a connection with the opts that are argument 1, through
// client, or the default client when client is nil and no url is given.
func connect(a args, client *webpubsub.Client) int {
	L, m := a.L, instanceOf(a.L).m
	o := a.options(1)
	url := o.string("url")
	protocol := o.oneOf("protocol", connectProtocols...)
	if protocol == "" {
		protocol = connectProtocols[0]
	}
	tokenOpts := &webpubsub.TokenOptions{
		UserID:          o.string("user_id"),
		Roles:           o.strings("roles"),
		Groups:          o.strings("groups"),
		MinutesToExpire: checkMinutesToExpire(o),
	}
	if url != "" && (tokenOpts.UserID != "" || tokenOpts.Roles != nil || tokenOpts.Groups != nil || tokenOpts.MinutesToExpire != 0) {
		a.error(1, "option 'url' carries its own token: give url, or user_id, roles, groups and minutes_to_expire, not both")
	}
	ctx := Context(L)
	if url == "" {
		if client == nil {
			var err error
			if client, err = m.DefaultClient(ctx); err != nil {
				raiseError(L, a.fn.Name, err)
			}
		}
		token, err := client.GetClientAccessToken(tokenOpts)
		if err != nil {
			raiseError(L, a.fn.Name, err)
		}
		url = token.URL
	}
	conn, err := wsclient.Dial(ctx, url, wsclient.Protocol(protocol), nil)
	if err != nil {
		raiseError(L, a.fn.Name, err)
	}
	c := &connection{conn: conn}
	if !m.track(c) {
		conn.Close()
		L.RaiseError("%s: the wps module is closed", a.fn.QualifiedName())
	}
	ud := L.NewUserData()
	ud.Value = c
	L.SetMetatable(ud, connectionMetatable(L))
	L.Push(ud)
	return 1
}

// track remembers an open connection, so that Close closes it if the
// script does not. It returns false when the module is already closed.
func (m *Module) track(c *connection) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.conns[c] = struct{}{}
	return true
}

// untrack forgets a connection the script closed.
func (m *Module) untrack(c *connection) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.conns, c)
}

// connectionMetatable returns the metatable of connections, made once per
// state: the fields connection_id and user_id, and the methods, the
// registry's conn functions.
func connectionMetatable(L *lua.LState) *lua.LTable {
	if mt, ok := L.GetField(L.Get(lua.RegistryIndex), connectionTypeName).(*lua.LTable); ok {
		return mt
	}
	mt := L.NewTypeMetatable(connectionTypeName)
	mt.RawSetString("__name", lua.LString(connectionTypeName))
	methods := functionTable(L, "conn")
	L.SetField(mt, "__index", L.NewFunction(func(L *lua.LState) int {
		c := L.CheckUserData(1).Value.(*connection)
		switch key := L.CheckString(2); key {
		case "connection_id":
			L.Push(optString(c.conn.ConnectionID()))
		case "user_id":
			L.Push(optString(c.conn.UserID()))
		default:
			L.Push(methods.RawGetString(key))
		}
		return 1
	}))
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		c := L.CheckUserData(1).Value.(*connection)
		L.Push(lua.LString("wps.connection(" + c.conn.ConnectionID() + ")"))
		return 1
	}))
	return mt
}

// optString is s as a Lua string, or nil when empty.
func optString(s string) lua.LValue {
	if s == "" {
		return lua.LNil
	}
	return lua.LString(s)
}

// connJoin is conn:join(group).
func connJoin(a args) int {
	c := receiver[*connection](a)
	if err := c.conn.JoinGroup(Context(a.L), checkGroupName(a, 1)); err != nil {
		raiseError(a.L, a.fn.Name, err)
	}
	return 0
}

// connLeave is conn:leave(group).
func connLeave(a args) int {
	c := receiver[*connection](a)
	if err := c.conn.LeaveGroup(Context(a.L), checkGroupName(a, 1)); err != nil {
		raiseError(a.L, a.fn.Name, err)
	}
	return 0
}

// connSendToGroup is conn:send_to_group(group, data, {no_echo=, data_type=}).
func connSendToGroup(a args) int {
	c := receiver[*connection](a)
	group := checkGroupName(a, 1)
	o := a.options(3)
	data := checkData(a, 2, o)
	if err := c.conn.SendToGroup(Context(a.L), group, data, o.bool("no_echo", false)); err != nil {
		raiseError(a.L, a.fn.Name, err)
	}
	return 0
}

// connSendEvent is conn:send_event(event, data, {data_type=}).
func connSendEvent(a args) int {
	c := receiver[*connection](a)
	event := a.string(1)
	o := a.options(3)
	data := checkData(a, 2, o)
	if err := c.conn.SendEvent(Context(a.L), event, data); err != nil {
		raiseError(a.L, a.fn.Name, err)
	}
	return 0
}

// connReceive is conn:receive(timeout): the next message, or nil when none
// arrives within timeout seconds.
func connReceive(a args) int {
	c := receiver[*connection](a)
	L := a.L
	ctx := Context(L)
	if a.get(1) != lua.LNil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.seconds(1))
		defer cancel()
	}
	msg, err := c.conn.Receive(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && Context(L).Err() == nil {
			L.Push(lua.LNil)
			return 1
		}
		raiseError(L, a.fn.Name, err)
	}
	L.Push(messageToLua(L, a.fn.Name, msg))
	return 1
}

// connClose is conn:close().
func connClose(a args) int {
	c := receiver[*connection](a)
	instanceOf(a.L).m.untrack(c)
	if err := c.conn.Close(); err != nil {
		raiseError(a.L, a.fn.Name, err)
	}
	return 0
}

// checkGroupName returns argument n as a group name. The service closes a
// connection that sends a malformed request, so an empty name is refused
// here, before it can cost the script its connection.
func checkGroupName(a args, n int) string {
	group := a.string(n)
	if strings.TrimSpace(group) == "" {
		a.error(n, "a group name must not be empty or only spaces")
	}
	return group
}

// checkData converts argument n of a connection method into the data of a
// protocol message. By default a string is text, a wps.binary binary, and
// anything else JSON; an explicit data_type wins, within what makes sense: a
// string sent as json must hold one valid JSON value, and only strings and
// wps.binary values can be text or binary.
func checkData(a args, n int, o options) wsclient.Data {
	v := a.get(n)
	natural := wsclient.DataJSON
	var raw []byte
	switch v := v.(type) {
	case lua.LString:
		natural, raw = wsclient.DataText, []byte(v)
	case *lua.LUserData:
		if b, ok := v.Value.(binary); ok {
			natural, raw = wsclient.DataBinary, b
		}
	}
	dataType := o.oneOf("data_type", dataTypes...)
	if dataType == "" {
		dataType = natural
	}
	switch {
	case dataType == wsclient.DataJSON && natural == wsclient.DataJSON:
		encoded, err := ToJSON(a.L, v)
		if err != nil {
			a.error(n, "cannot encode the data as JSON: "+err.Error())
		}
		raw = encoded
	case dataType == wsclient.DataJSON:
		if !json.Valid(raw) {
			a.error(n, "data_type is json but the data is not valid JSON")
		}
	case natural == wsclient.DataJSON:
		a.error(n, fmt.Sprintf("string or wps.binary expected for data_type %s, got %s", dataType, typeName(v)))
	case dataType == wsclient.DataText && !utf8.Valid(raw):
		a.error(n, "text data must be valid UTF-8; send it as binary")
	}
	return wsclient.Data{Type: dataType, Raw: raw}
}

// messageToLua converts a received message into the table conn:receive
// returns: type, from, group, from_user_id, event, data_type and data (JSON
// decoded to Lua values; text and bytes as strings). op names the operation
// in the error raised for invalid JSON data.
func messageToLua(L *lua.LState, op string, msg wsclient.Message) *lua.LTable {
	t := L.CreateTable(0, 7)
	setString(t, "type", msg.Type)
	setString(t, "from", msg.From)
	setString(t, "group", msg.Group)
	setString(t, "from_user_id", msg.FromUserID)
	setString(t, "event", msg.Event)
	setString(t, "data_type", msg.DataType)
	var data lua.LValue = lua.LString(msg.Data)
	if msg.DataType == wsclient.DataJSON {
		decoded, err := FromJSON(L, msg.Data)
		if err != nil {
			raiseError(L, op, fmt.Errorf("the service sent invalid JSON data: %w", err))
		}
		data = decoded
	}
	t.RawSetString("data", data)
	return t
}
