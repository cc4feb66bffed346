package luaapi

import (
	"strings"
	"testing"
)

// These tests run against the embedded service, the default when no
// connection string is configured.

func TestConnect_Loop(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	got := mustRun(t, L, `
		local conn = wps.connect{user_id = "alice", roles = {"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}}
		assert(type(conn.connection_id) == "string" and #conn.connection_id > 0, "connection_id")
		assert(tostring(conn) == "wps.connection(" .. conn.connection_id .. ")")
		conn:join("ops")
		assert(wps.group_exists("ops"), "the group exists once joined")
		assert(wps.connection_exists(conn.connection_id))
		wps.send_to_group("ops", {text = "deploy", n = 3})
		wps.send_to_group("ops", "plain text")
		wps.send_to_connection(conn.connection_id, wps.binary("\1\2"))
		conn:send_to_group("ops", {from = "alice"})
		conn:send_to_group("ops", "no echo", {no_echo = true})
		conn:send_to_group("ops", '{"raw":true}', {data_type = "json"})
		local got = {messages = {}}
		for i = 1, 5 do got.messages[i] = conn:receive(10) end
		got.user_id = conn.user_id
		got.none = conn:receive(0.05) == nil
		conn:send_event("ping", "data")
		conn:leave("ops")
		conn:close()
		return got`)
	want := `{"messages":[{"data":{"n":3,"text":"deploy"},"data_type":"json","from":"group","group":"ops","type":"message"},` +
		`{"data":"plain text","data_type":"text","from":"group","group":"ops","type":"message"},` +
		`{"data":"\u0001\u0002","data_type":"binary","from":"server","type":"message"},` +
		`{"data":{"from":"alice"},"data_type":"json","from":"group","from_user_id":"alice","group":"ops","type":"message"},` +
		`{"data":{"raw":true},"data_type":"json","from":"group","from_user_id":"alice","group":"ops","type":"message"}],` +
		`"none":true,"user_id":"alice"}`
	if got != want {
		t.Errorf("received\n%s\nwant\n%s", got, want)
	}
}

func TestConnect_Refused(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	got := mustRun(t, L, `
		local conn = wps.connect{}  -- no roles: may not join groups
		local ok, err = pcall(conn.join, conn, "ops")
		conn:close()
		return {ok = ok, code = err.code, operation = err.operation}`)
	if want := `{"code":"Forbidden","ok":false,"operation":"join"}`; got != want {
		t.Errorf("join without permission: %s, want %s", got, want)
	}
	got = mustFail(t, L, `
		local t = wps.get_client_access_token{}
		wps.connect{url = t.url .. "broken"}`)
	if !strings.HasPrefix(got, "wps: connect: 401 Unauthorized") || strings.Contains(got, "access_token=ey") {
		t.Errorf("connecting with a bad token raised %q", got)
	}
}

func TestConnect_ProtocolsAndClients(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	got := mustRun(t, L, `
		local hub = wps.hub("chat")
		local raw = hub:connect{protocol = "raw", groups = {"g"}}
		local reliable = hub:connect{protocol = "reliable", user_id = "bob", groups = {"g"}}
		hub:send_to_group("g", "to both")
		local a, b = raw:receive(10), reliable:receive(10)
		local url = hub:get_client_access_token{user_id = "carol"}.url
		local byurl = wps.connect{url = url}
		local user = byurl.user_id
		raw:close(); reliable:close(); byurl:close()
		return {raw = a.data, reliable = b.data, from = b.from, user = user}`)
	if want := `{"from":"group","raw":"to both","reliable":"to both","user":"carol"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestConnect_BadArguments(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	for script, want := range map[string]string{
		`wps.connect{protocol = "mqtt"}`:                                           `bad argument #1 to 'wps.connect' (option 'protocol': json, reliable or raw expected, got "mqtt")`,
		`wps.connect{url = "ws://x", user_id = "u"}`:                               `bad argument #1 to 'wps.connect' (option 'url' carries its own token`,
		`wps.connect{userid = "u"}`:                                                `bad argument #1 to 'wps.connect' (unknown option 'userid'; known: groups, minutes_to_expire, protocol, roles, url, user_id)`,
		`local c = wps.connect{}; c.join("g")`:                                     `calling 'conn:join' on bad self (wps.connection expected, got string)`,
		`local c = wps.connect{}; c:send_to_group("g", {1}, {data_type = "text"})`: `bad argument #2 to 'conn:send_to_group' (string or wps.binary expected for data_type text, got table)`,
		`local c = wps.connect{}; c:send_to_group("g", "{", {data_type = "json"})`: `bad argument #2 to 'conn:send_to_group' (data_type is json but the data is not valid JSON)`,
		`local c = wps.connect{}; c:send_event("e", 1, {data_type = "xml"})`:       `bad argument #3 to 'conn:send_event' (option 'data_type': json, text or binary expected, got "xml")`,
		`local c = wps.connect{}; c:join(" ")`:                                     `bad argument #1 to 'conn:join' (a group name must not be empty or only spaces)`,
		`local c = wps.connect{}; c:receive(-1)`:                                   `bad argument #1 to 'conn:receive' (a non-negative number of seconds expected, got -1)`,
		`local c = wps.connect{}; c:close(); c:join("g")`:                          `wps: join: failed`,
	} {
		if got := mustFail(t, L, script); !strings.Contains(got, want) {
			t.Errorf("%s\nraised %q\nwant   %q", script, got, want)
		}
	}
}
