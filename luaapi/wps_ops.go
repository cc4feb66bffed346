package luaapi

import (
	"context"
	"math"

	lua "github.com/yuin/gopher-lua"

	"wps/webpubsub"
)

// operationInfo describes one REST operation of the wps module: its Lua
// name, which is also the operation of its errors, its parameters, result
// type and one line of documentation (registered as wps.<name> and
// client:<name> by wps_registry.go) and its binding.
type operationInfo struct {
	name    string
	params  []Param
	returns string
	doc     string
	op      operation
}

// Parameters shared by several operations.
var (
	messageParam      = Param{Name: "message", Type: "string|table|wps.Binary", Doc: "a table is sent as JSON, a string as text, wps.binary(s) as bytes"}
	groupParam        = Param{Name: "group", Type: "string"}
	userParam         = Param{Name: "user_id", Type: "string"}
	connectionParam   = Param{Name: "connection_id", Type: "string"}
	permissionParam   = Param{Name: "permission", Type: "string", Doc: quotedNames(stringsOf(webpubsub.Permissions()))}
	groupsParam       = Param{Name: "groups", Type: "string[]"}
	filterParam       = Param{Name: "filter", Type: "string?", Doc: "an OData filter selecting connections (see wps.filter)"}
	permissionOptions = Param{Name: "opts", Type: "wps.PermissionOptions?"}
)

// operations lists the REST operations in the order of the contract. Each is
// wps.<name> on the default client and client:<name> on a client object.
var operations = []operationInfo{
	{name: "send_to_all", params: []Param{messageParam, {Name: "opts", Type: "wps.SendOptions?"}},
		doc: "Send a message to every connection of the hub.", op: sendToAll},
	{name: "send_to_user", params: []Param{userParam, messageParam, {Name: "opts", Type: "wps.SendToUserOptions?"}},
		doc: "Send a message to every connection of a user.", op: sendToUser},
	{name: "send_to_group", params: []Param{groupParam, messageParam, {Name: "opts", Type: "wps.SendOptions?"}},
		doc: "Send a message to every connection in a group.", op: sendToGroup},
	{name: "send_to_connection", params: []Param{connectionParam, messageParam, {Name: "opts", Type: "wps.SendToConnectionOptions?"}},
		doc: "Send a message to one connection.", op: sendToConnection},
	{name: "add_connection_to_group", params: []Param{groupParam, connectionParam},
		doc: "Add a connection to a group.", op: addConnectionToGroup},
	{name: "remove_connection_from_group", params: []Param{groupParam, connectionParam},
		doc: "Remove a connection from a group.", op: removeConnectionFromGroup},
	{name: "remove_connection_from_all_groups", params: []Param{connectionParam},
		doc: "Remove a connection from every group it is in.", op: removeConnectionFromAllGroups},
	{name: "add_user_to_group", params: []Param{groupParam, userParam},
		doc: "Add every connection of a user to a group.", op: addUserToGroup},
	{name: "remove_user_from_group", params: []Param{groupParam, userParam},
		doc: "Remove a user's connections from a group.", op: removeUserFromGroup},
	{name: "remove_user_from_all_groups", params: []Param{userParam},
		doc: "Remove a user's connections from every group.", op: removeUserFromAllGroups},
	{name: "add_connections_to_groups", params: []Param{groupsParam, filterParam},
		doc: "Add the connections a filter selects to several groups.", op: addConnectionsToGroups},
	{name: "remove_connections_from_groups", params: []Param{groupsParam, filterParam},
		doc: "Remove the connections a filter selects from several groups.", op: removeConnectionsFromGroups},
	{name: "close_connection", params: []Param{connectionParam, {Name: "opts", Type: "wps.CloseConnectionOptions?"}},
		doc: "Close one connection.", op: closeConnection},
	{name: "close_all_connections", params: []Param{{Name: "opts", Type: "wps.CloseOptions?"}},
		doc: "Close every connection of the hub.", op: closeAllConnections},
	{name: "close_group_connections", params: []Param{groupParam, {Name: "opts", Type: "wps.CloseOptions?"}},
		doc: "Close every connection in a group.", op: closeGroupConnections},
	{name: "close_user_connections", params: []Param{userParam, {Name: "opts", Type: "wps.CloseOptions?"}},
		doc: "Close every connection of a user.", op: closeUserConnections},
	{name: "connection_exists", params: []Param{connectionParam}, returns: "boolean",
		doc: "Whether a connection is open.", op: connectionExists},
	{name: "group_exists", params: []Param{groupParam}, returns: "boolean",
		doc: "Whether a group has at least one connection.", op: groupExists},
	{name: "user_exists", params: []Param{userParam}, returns: "boolean",
		doc: "Whether a user has at least one connection.", op: userExists},
	{name: "grant_permission", params: []Param{permissionParam, connectionParam, permissionOptions},
		doc: "Grant a permission to a connection, on one group (target_name) or all.", op: grantPermission},
	{name: "revoke_permission", params: []Param{permissionParam, connectionParam, permissionOptions},
		doc: "Revoke a permission from a connection, on one group (target_name) or all.", op: revokePermission},
	{name: "check_permission", params: []Param{permissionParam, connectionParam, permissionOptions}, returns: "boolean",
		doc: "Whether a connection has a permission, on one group (target_name) or all.", op: checkPermission},
	{name: "list_connections", params: []Param{groupParam, {Name: "opts", Type: "wps.ListOptions?"}}, returns: "wps.GroupMember[]",
		doc: "List the connections in a group, following every page.", op: listConnections},
	{name: "get_client_access_token", params: []Param{{Name: "opts", Type: "wps.TokenOptions?"}}, returns: "wps.ClientAccessToken",
		doc: "Sign a token and URL a client connects with (signed locally, no request).", op: getClientAccessToken},
	{name: "service_status", params: nil, returns: "boolean",
		doc: "Whether the service answers its health check.", op: serviceStatus},
}

// checkSendOptions reads the message (argument n-1) and the opts (argument
// n) of a send operation.
func checkSendOptions(a args, n int) (webpubsub.Message, *webpubsub.SendOptions) {
	o := a.options(n)
	contentType := o.oneOf("content_type", webpubsub.ContentTypes()...)
	opts := &webpubsub.SendOptions{
		Excluded:   o.strings("excluded"),
		Filter:     o.string("filter"),
		TTLSeconds: o.int("ttl", webpubsub.MinTTLSeconds, webpubsub.MinTTLSeconds, webpubsub.MaxTTLSeconds),
	}
	return checkMessage(a, n-1, contentType), opts
}

func sendToAll(a args) call {
	msg, opts := checkSendOptions(a, 2)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.SendToAll(ctx, msg, opts)
	})
}

func sendToUser(a args) call {
	user := a.string(1)
	msg, opts := checkSendOptions(a, 3)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.SendToUser(ctx, user, msg, opts)
	})
}

func sendToGroup(a args) call {
	group := a.string(1)
	msg, opts := checkSendOptions(a, 3)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.SendToGroup(ctx, group, msg, opts)
	})
}

func sendToConnection(a args) call {
	id := a.string(1)
	msg, opts := checkSendOptions(a, 3)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.SendToConnection(ctx, id, msg, opts)
	})
}

func addConnectionToGroup(a args) call {
	group, id := a.string(1), a.string(2)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.AddConnectionToGroup(ctx, group, id)
	})
}

func removeConnectionFromGroup(a args) call {
	group, id := a.string(1), a.string(2)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.RemoveConnectionFromGroup(ctx, group, id)
	})
}

func removeConnectionFromAllGroups(a args) call {
	id := a.string(1)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.RemoveConnectionFromAllGroups(ctx, id)
	})
}

func addUserToGroup(a args) call {
	group, user := a.string(1), a.string(2)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.AddUserToGroup(ctx, group, user)
	})
}

func removeUserFromGroup(a args) call {
	group, user := a.string(1), a.string(2)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.RemoveUserFromGroup(ctx, group, user)
	})
}

func removeUserFromAllGroups(a args) call {
	user := a.string(1)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.RemoveUserFromAllGroups(ctx, user)
	})
}

func addConnectionsToGroups(a args) call {
	groups, filter := a.stringList(1), a.optString(2, "")
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.AddConnectionsToGroups(ctx, groups, filter)
	})
}

func removeConnectionsFromGroups(a args) call {
	groups, filter := a.stringList(1), a.optString(2, "")
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.RemoveConnectionsFromGroups(ctx, groups, filter)
	})
}

// checkCloseOptions reads the opts (argument n) of a close operation.
func checkCloseOptions(a args, n int) *webpubsub.CloseOptions {
	o := a.options(n)
	return &webpubsub.CloseOptions{Excluded: o.strings("excluded"), Reason: o.string("reason")}
}

func closeConnection(a args) call {
	id := a.string(1)
	opts := checkCloseOptions(a, 2)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.CloseConnection(ctx, id, opts)
	})
}

func closeAllConnections(a args) call {
	opts := checkCloseOptions(a, 1)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.CloseAllConnections(ctx, opts)
	})
}

func closeGroupConnections(a args) call {
	group := a.string(1)
	opts := checkCloseOptions(a, 2)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.CloseGroupConnections(ctx, group, opts)
	})
}

func closeUserConnections(a args) call {
	user := a.string(1)
	opts := checkCloseOptions(a, 2)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.CloseUserConnections(ctx, user, opts)
	})
}

func connectionExists(a args) call {
	id := a.string(1)
	return boolean(func(ctx context.Context, c *webpubsub.Client) (bool, error) {
		return c.ConnectionExists(ctx, id)
	})
}

func groupExists(a args) call {
	group := a.string(1)
	return boolean(func(ctx context.Context, c *webpubsub.Client) (bool, error) {
		return c.GroupExists(ctx, group)
	})
}

func userExists(a args) call {
	user := a.string(1)
	return boolean(func(ctx context.Context, c *webpubsub.Client) (bool, error) {
		return c.UserExists(ctx, user)
	})
}

// checkPermissionArgs reads the arguments of the permission operations:
// permission, connection_id, opts.
func checkPermissionArgs(a args) (webpubsub.Permission, string, *webpubsub.PermissionOptions) {
	permission := webpubsub.Permission(a.oneOf(1, stringsOf(webpubsub.Permissions())...))
	id := a.string(2)
	o := a.options(3)
	return permission, id, &webpubsub.PermissionOptions{TargetName: o.string("target_name")}
}

func grantPermission(a args) call {
	permission, id, opts := checkPermissionArgs(a)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.GrantPermission(ctx, permission, id, opts)
	})
}

func revokePermission(a args) call {
	permission, id, opts := checkPermissionArgs(a)
	return nothing(func(ctx context.Context, c *webpubsub.Client) error {
		return c.RevokePermission(ctx, permission, id, opts)
	})
}

func checkPermission(a args) call {
	permission, id, opts := checkPermissionArgs(a)
	return boolean(func(ctx context.Context, c *webpubsub.Client) (bool, error) {
		return c.CheckPermission(ctx, permission, id, opts)
	})
}

func listConnections(a args) call {
	group := a.string(1)
	o := a.options(2)
	opts := &webpubsub.ListOptions{
		Top:         o.int("top", 0, 1, math.MaxInt32),
		MaxPageSize: o.int("max_page_size", 0, webpubsub.MinListPageSize, webpubsub.MaxListPageSize),
	}
	return call{
		do: func(ctx context.Context, c *webpubsub.Client) (any, error) {
			return c.ListConnections(ctx, group, opts)
		},
		result: func(L *lua.LState, v any) lua.LValue {
			members := v.([]webpubsub.GroupMember)
			list := L.CreateTable(len(members), 0)
			for _, m := range members {
				t := L.CreateTable(0, 2)
				t.RawSetString("connection_id", lua.LString(m.ConnectionID))
				setString(t, "user_id", m.UserID)
				list.Append(t)
			}
			return list
		},
	}
}

func getClientAccessToken(a args) call {
	opts := checkTokenOptions(a.options(1))
	return call{
		do: func(_ context.Context, c *webpubsub.Client) (any, error) {
			return c.GetClientAccessToken(opts)
		},
		result: func(L *lua.LState, v any) lua.LValue {
			token := v.(webpubsub.ClientAccessToken)
			t := L.CreateTable(0, 3)
			t.RawSetString("token", lua.LString(token.Token))
			t.RawSetString("base_url", lua.LString(token.BaseURL))
			t.RawSetString("url", lua.LString(token.URL))
			return t
		},
	}
}

// checkTokenOptions reads the claims of a client token from o: user_id,
// roles, groups, minutes_to_expire and client_protocol.
func checkTokenOptions(o options) *webpubsub.TokenOptions {
	return &webpubsub.TokenOptions{
		UserID:          o.string("user_id"),
		Roles:           o.strings("roles"),
		Groups:          o.strings("groups"),
		MinutesToExpire: checkMinutesToExpire(o),
		ClientProtocol:  webpubsub.ClientProtocol(o.oneOf("client_protocol", stringsOf(webpubsub.ClientProtocols())...)),
	}
}

// checkMinutesToExpire reads the token lifetime option of o, 0 (the
// default) when absent.
func checkMinutesToExpire(o options) int {
	return o.int("minutes_to_expire", 0, webpubsub.MinMinutesToExpire, webpubsub.MaxMinutesToExpire)
}

func serviceStatus(args) call {
	return boolean(func(ctx context.Context, c *webpubsub.Client) (bool, error) {
		return c.ServiceStatus(ctx)
	})
}

// nothing makes the call of an operation that returns nothing.
func nothing(do func(context.Context, *webpubsub.Client) error) call {
	return call{do: func(ctx context.Context, c *webpubsub.Client) (any, error) {
		return nil, do(ctx, c)
	}}
}

// boolean makes the call of an operation that returns a boolean.
func boolean(do func(context.Context, *webpubsub.Client) (bool, error)) call {
	return call{
		do: func(ctx context.Context, c *webpubsub.Client) (any, error) {
			return do(ctx, c)
		},
		result: func(_ *lua.LState, v any) lua.LValue { return lua.LBool(v.(bool)) },
	}
}
