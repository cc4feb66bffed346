package luaapi

import (
	"fmt"

	"wps/webpubsub"
)

// This file registers the wps module in the registry: every function, the
// methods of client objects and connections, and the shapes of their
// options and results. The option classes are also what args.options
// accepts, so the docs and the checks cannot disagree; the limits and names
// in the docs are webpubsub's, which the bindings check.

// ttlDoc documents the ttl option of the send operations.
var ttlDoc = fmt.Sprintf("seconds (%d..%d) before an undelivered message is dropped", webpubsub.MinTTLSeconds, webpubsub.MaxTTLSeconds)

// minutesToExpireDoc documents the token lifetime options.
var minutesToExpireDoc = fmt.Sprintf("token lifetime (%d..%d), default %d",
	webpubsub.MinMinutesToExpire, webpubsub.MaxMinutesToExpire, webpubsub.DefaultMinutesToExpire)

// quotedNames renders names for docs: "a", "b" or "c".
func quotedNames(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return orList(quoted)
}

// wpsClasses are the options and result shapes of the wps module.
var wpsClasses = []Class{
	{Name: "wps.SendOptions", Doc: "Options of send_to_all and send_to_group.", Fields: []Field{
		{"content_type", "string?", quotedNames(webpubsub.ContentTypes()) + "; wins over the message's own type"},
		{"excluded", "string[]?", "connection ids that do not receive the message"},
		{"filter", "string?", "an OData filter selecting the recipients (see wps.filter)"},
		{"ttl", "integer?", ttlDoc + fmt.Sprintf("; %d = never", webpubsub.MinTTLSeconds)},
	}},
	{Name: "wps.SendToUserOptions", Doc: "Options of send_to_user.", Fields: []Field{
		{"content_type", "string?", "the message's content type"},
		{"filter", "string?", "an OData filter selecting the recipients"},
		{"ttl", "integer?", ttlDoc},
	}},
	{Name: "wps.SendToConnectionOptions", Doc: "Options of send_to_connection.", Fields: []Field{
		{"content_type", "string?", "the message's content type"},
		{"ttl", "integer?", ttlDoc},
	}},
	{Name: "wps.CloseOptions", Doc: "Options of close_all_connections, close_group_connections and close_user_connections.", Fields: []Field{
		{"excluded", "string[]?", "connection ids to keep open"},
		{"reason", "string?", "the reason given to the closed clients"},
	}},
	{Name: "wps.CloseConnectionOptions", Doc: "Options of close_connection.", Fields: []Field{
		{"reason", "string?", "the reason given to the client"},
	}},
	{Name: "wps.PermissionOptions", Doc: "Options of grant_permission, revoke_permission and check_permission.", Fields: []Field{
		{"target_name", "string?", "the group the permission is on; absent = every group"},
	}},
	{Name: "wps.ListOptions", Doc: "Options of list_connections.", Fields: []Field{
		{"top", "integer?", "the most connections to return"},
		{"max_page_size", "integer?", fmt.Sprintf("connections per page (%d..%d)", webpubsub.MinListPageSize, webpubsub.MaxListPageSize)},
	}},
	{Name: "wps.TokenOptions", Doc: "Claims of get_client_access_token.", Fields: []Field{
		{"user_id", "string?", "the user the connection belongs to"},
		{"roles", "string[]?", `permissions, e.g. "webpubsub.joinLeaveGroup" or "webpubsub.sendToGroup.ops"`},
		{"groups", "string[]?", "groups joined when the connection opens"},
		{"minutes_to_expire", "integer?", minutesToExpireDoc},
		{"client_protocol", "string?", quotedNames(stringsOf(webpubsub.ClientProtocols()))},
	}},
	{Name: "wps.ClientAccessToken", Doc: "What a client connects with.", Fields: []Field{
		{"token", "string", "the signed token"},
		{"base_url", "string", "the WebSocket URL without the token"},
		{"url", "string", "the WebSocket URL with the token"},
	}},
	{Name: "wps.GroupMember", Doc: "A connection in a group.", Fields: []Field{
		{"connection_id", "string", ""},
		{"user_id", "string?", "absent for anonymous connections"},
	}},
	{Name: "wps.ClientOptions", Doc: "Options of wps.client.", Fields: []Field{
		{"connection_string", "string?", "Endpoint=...;AccessKey=...;Version=1.0;"},
		{"endpoint", "string?", "the service URL, with key"},
		{"key", "string?", "the access key, with endpoint"},
		{"hub", "string?", "the hub; default: the configured hub"},
		{"reverse_proxy", "string?", "send requests through this URL (e.g. API Management)"},
		{"api_version", "string?", "REST API version, default " + webpubsub.DefaultAPIVersion},
		{"timeout", "number?", "seconds per call, retries included"},
		{"retries", "integer?", "retries of transient failures (default 3, 0 = none)"},
	}},
	{Name: "wps.EachOptions", Doc: "Options of wps.each.", Fields: []Field{
		{"concurrency", "integer?", "the most REST calls in flight (default 8)"},
		{"progress", "boolean?", "draw a progress bar on a terminal (default true)"},
	}},
	{Name: "wps.EachResult", Doc: "The outcome of one item of wps.each.", Fields: []Field{
		{"ok", "boolean", "whether fn returned without error"},
		{"value", "any", "fn's first result, when ok"},
		{"error", "any", "the error raised, when not ok"},
	}},
	{Name: "wps.Error", Doc: "The error a failed operation raises; tostring gives one line.", Fields: []Field{
		{"status", "integer?", "HTTP status; absent when no response arrived"},
		{"code", "string?", "the service's error code"},
		{"message", "string?", ""},
		{"operation", "string", `e.g. "send_to_group"`},
		{"method", "string?", "HTTP method"},
		{"path", "string?", "request path"},
		{"request_id", "string?", "the service's request id"},
	}},
	{Name: "wps.ConnectOptions", Doc: "Options of wps.connect.", Fields: []Field{
		{"user_id", "string?", "the user to connect as"},
		{"roles", "string[]?", "permissions of the connection"},
		{"groups", "string[]?", "groups to join on connect"},
		{"minutes_to_expire", "integer?", minutesToExpireDoc},
		{"url", "string?", "a ready client URL (with its token) instead of the above"},
		{"protocol", "string?", quotedNames(connectProtocols) + fmt.Sprintf("; default %q", connectProtocols[0])},
	}},
	{Name: "wps.ConnSendOptions", Doc: "Options of conn:send_to_group.", Fields: []Field{
		{"no_echo", "boolean?", "do not deliver the message back to this connection"},
		{"data_type", "string?", quotedNames(dataTypes) + "; default from the data"},
	}},
	{Name: "wps.ConnEventOptions", Doc: "Options of conn:send_event.", Fields: []Field{
		{"data_type", "string?", quotedNames(dataTypes) + "; default from the data"},
	}},
	{Name: "wps.ReceivedMessage", Doc: "A message a connection received.", Fields: []Field{
		{"type", "string", `"message", or "system" for the service's disconnected notice`},
		{"from", "string?", `"group" or "server"`},
		{"group", "string?", "the group, for group messages"},
		{"from_user_id", "string?", "the sender, for group messages"},
		{"event", "string?", `system event, e.g. "disconnected"`},
		{"data_type", "string?", quotedNames(dataTypes)},
		{"data", "any", "JSON decoded to tables, text and bytes as strings"},
	}},
}

func init() {
	RegisterClass(wpsClasses...)
	RegisterClass(
		Class{Name: "wps.Client", Doc: "A REST client for one hub; it has every wps operation as a method."},
		Class{Name: "wps.Connection", Doc: "A WebSocket client connection.", Fields: []Field{
			{"connection_id", "string", ""},
			{"user_id", "string?", "absent for an anonymous connection"},
		}},
		Class{Name: "wps.Binary", Doc: "Bytes made by wps.binary; #b is their length."},
	)
	for _, o := range operations {
		Register(
			Function{Module: "wps", Name: o.name, Params: o.params, Returns: o.returns, Doc: o.doc, Fn: o.moduleFunction},
			Function{Module: "client", Name: o.name, Params: o.params, Returns: o.returns, Doc: o.doc, Fn: o.methodFunction},
		)
	}
	Register(
		Function{Module: "wps", Name: "hub", Params: []Param{{Name: "name", Type: "string"}}, Returns: "wps.Client",
			Doc: "A client for another hub of the default service.", Fn: wpsHub},
		Function{Module: "wps", Name: "client", Params: []Param{{Name: "opts", Type: "wps.ClientOptions"}}, Returns: "wps.Client",
			Doc: "A client from a connection string, or an endpoint and key.", Fn: wpsClient},
		Function{Module: "wps", Name: "connect", Params: []Param{{Name: "opts", Type: "wps.ConnectOptions?"}}, Returns: "wps.Connection",
			Doc: "Open a WebSocket client connection to the default hub, as a browser would.", Fn: wpsConnect},
		Function{Module: "wps", Name: "each", Params: []Param{{Name: "list", Type: "any[]"}, {Name: "fn", Type: "function"}, {Name: "opts", Type: "wps.EachOptions?"}}, Returns: "wps.EachResult[]",
			Doc: "Call fn(item, index) for every item with at most n REST calls in flight; failures do not stop it.", Fn: wpsEach},
		Function{Module: "wps", Name: "filter", Params: []Param{{Name: "template", Type: "string"}, {Name: "...", Type: "string|number|boolean|nil"}}, Returns: "string",
			Doc: "Build an OData filter: each {} becomes the next argument as a literal, strings quoted.", Fn: wpsFilter},
		Function{Module: "wps", Name: "binary", Params: []Param{{Name: "bytes", Type: "string"}}, Returns: "wps.Binary",
			Doc: "Wrap bytes to send as application/octet-stream.", Fn: wpsBinary},
		Function{Module: "client", Name: "hub", Params: []Param{{Name: "name", Type: "string"}}, Returns: "wps.Client",
			Doc: "A client for another hub of the same service.", Fn: clientHub},
		Function{Module: "client", Name: "connect", Params: []Param{{Name: "opts", Type: "wps.ConnectOptions?"}}, Returns: "wps.Connection",
			Doc: "Open a WebSocket client connection to this client's hub.", Fn: clientConnect},

		Function{Module: "conn", Name: "join", Params: []Param{groupParam},
			Doc: "Join a group; waits for the service's ack.", Fn: connJoin},
		Function{Module: "conn", Name: "leave", Params: []Param{groupParam},
			Doc: "Leave a group; waits for the service's ack.", Fn: connLeave},
		Function{Module: "conn", Name: "send_to_group", Params: []Param{groupParam, {Name: "data", Type: "any"}, {Name: "opts", Type: "wps.ConnSendOptions?"}},
			Doc: "Publish to a group as this client; waits for the service's ack.", Fn: connSendToGroup},
		Function{Module: "conn", Name: "send_event", Params: []Param{{Name: "event", Type: "string"}, {Name: "data", Type: "any"}, {Name: "opts", Type: "wps.ConnEventOptions?"}},
			Doc: "Send a user event to the server; waits for the service's ack.", Fn: connSendEvent},
		Function{Module: "conn", Name: "receive", Params: []Param{{Name: "timeout", Type: "number?", Doc: "seconds; absent = wait until a message comes or the script is cancelled"}}, Returns: "wps.ReceivedMessage|nil",
			Doc: "The next message the connection received, or nil on timeout.", Fn: connReceive},
		Function{Module: "conn", Name: "close",
			Doc: "Close the connection.", Fn: connClose},
	)
	RegisterValue(Value{Module: "wps", Name: "json", Type: "table", Doc: "The json module (json.encode, json.decode, json.array, json.object, json.null)."})
}
