package luaapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestModule_DefaultHub(t *testing.T) {
	srv := newWireServer(t)
	L, m := newTestState(t, testTarget{ConnectionString: srv.connectionString()})
	mustRun(t, L, `wps.send_to_all("x")`)
	if got := srv.received()[0].Path; got != "/api/hubs/hub/:send" {
		t.Errorf("path = %s, want the hub named hub", got)
	}
	c, err := m.DefaultClient(context.Background())
	if err != nil || c.Hub() != "hub" {
		t.Errorf("DefaultClient = %v, %v", c, err)
	}
}

func TestModule_ConfiguredHub(t *testing.T) {
	srv := newWireServer(t)
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString(), Hub: "chat"})
	mustRun(t, L, `wps.send_to_all("x")`)
	if got := srv.received()[0].Path; got != "/api/hubs/chat/:send" {
		t.Errorf("path = %s", got)
	}
}

func TestHub(t *testing.T) {
	srv := newWireServer(t)
	srv.reply = func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(successStatus(r))
	}
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString()})
	got := mustRun(t, L, `
		local other = wps.hub("other")
		other:send_to_group("g", {x = 1})
		local third = other:hub("third")
		return {exists = third:user_exists("u"), text = tostring(other)}`)
	if want := `{"exists":false,"text":"wps.client(hub=other, endpoint=` + srv.URL + `)"}`; got != want {
		t.Errorf("result = %s, want %s", got, want)
	}
	reqs := srv.received()
	if reqs[0].Path != "/api/hubs/other/groups/g/:send" || reqs[1].Path != "/api/hubs/third/users/u" {
		t.Errorf("paths = %s, %s", reqs[0].Path, reqs[1].Path)
	}
}

func TestClient(t *testing.T) {
	srv := newWireServer(t)
	L, _ := newTestState(t, testTarget{})
	mustRun(t, L, `
		local a = wps.client{connection_string = "`+srv.connectionString()+`", hub = "alpha"}
		a:send_to_user("u1", "hi")
		local b = wps.client{endpoint = "`+srv.URL+`", key = "`+testKey+`", hub = "beta", api_version = "2024-01-01", timeout = 5, retries = 0}
		b:close_all_connections({reason = "r"})
		local c = wps.client{endpoint = "http://unused.example", key = "k", reverse_proxy = "`+srv.URL+`"}
		c:remove_user_from_all_groups("u1")`)
	reqs := srv.received()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests", len(reqs))
	}
	if reqs[0].Path != "/api/hubs/alpha/users/u1/:send" {
		t.Errorf("connection_string client sent to %s", reqs[0].Path)
	}
	if reqs[1].Path != "/api/hubs/beta/:closeConnections" || reqs[1].Query.Get("api-version") != "2024-01-01" {
		t.Errorf("endpoint/key client sent %s?%s", reqs[1].Path, reqs[1].Query.Encode())
	}
	if reqs[2].Path != "/api/hubs/hub/users/u1/groups" {
		t.Errorf("reverse proxy client sent to %s", reqs[2].Path)
	}
	if srv.received()[0].Auth == "" {
		t.Error("no Authorization header")
	}
}

func TestClient_BadOptions(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	tests := map[string]string{
		`wps.client()`: `bad argument #1 to 'wps.client' (table expected, got nil)`,
		`wps.client{connection_string = "Endpoint=http://x;AccessKey=k;Version=1.0;", endpoint = "http://x"}`: `bad argument #1 to 'wps.client' (give either connection_string or endpoint and key, not both)`,
		`wps.client{endpoint = "http://x"}`:                           `bad argument #1 to 'wps.client' (option 'connection_string', or 'endpoint' and 'key', expected)`,
		`wps.client{endpoint = "http://x", key = "k", hub = 3}`:       `bad argument #1 to 'wps.client' (option 'hub': string expected, got number)`,
		`wps.client{endpoint = "http://x", key = "k", tiemout = 3}`:   `bad argument #1 to 'wps.client' (unknown option 'tiemout'; known: api_version, connection_string, endpoint, hub, key, retries, reverse_proxy, timeout)`,
		`wps.client{endpoint = "http://x", key = "k", timeout = -1}`:  `bad argument #1 to 'wps.client' (option 'timeout': a positive number of seconds expected, got -1)`,
		`wps.client{endpoint = "http://x", key = "k", retries = 1.5}`: `bad argument #1 to 'wps.client' (option 'retries': integer from 0 to 100 expected, got 1.5)`,
		`wps.client{endpoint = "http://x", key = "k", hub = "9"}`:     `hub name "9"`,
		`wps.hub()`: `bad argument #1 to 'wps.hub' (string expected, got nil)`,
		`local c = wps.client{endpoint = "http://x", key = "k"}; c.send_to_all("x")`: `calling 'client:send_to_all' on bad self (wps.client expected, got string)`,
	}
	for script, want := range tests {
		if got := mustFail(t, L, script); !strings.Contains(got, want) {
			t.Errorf("%s\nraised  %q\nwant it to contain %q", script, got, want)
		}
	}
}

func TestOperations_BadArguments(t *testing.T) {
	srv := newWireServer(t)
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString()})
	tests := map[string]string{
		`wps.send_to_group()`:                                          `bad argument #1 to 'wps.send_to_group' (string expected, got nil)`,
		`wps.send_to_group("g")`:                                       `bad argument #2 to 'wps.send_to_group' (string, table or wps.binary expected, got nil)`,
		`wps.send_to_group("g", true)`:                                 `bad argument #2 to 'wps.send_to_group' (string, table or wps.binary expected, got boolean)`,
		`wps.hub("h"):send_to_group("g", 1.5)`:                         `bad argument #2 to 'client:send_to_group' (string, table or wps.binary expected, got number)`,
		`wps.send_to_all("x", {tll = 3})`:                              `bad argument #2 to 'wps.send_to_all' (unknown option 'tll'; known: content_type, excluded, filter, ttl)`,
		`wps.send_to_user("u", "x", {excluded = {"c"}})`:               `bad argument #3 to 'wps.send_to_user' (unknown option 'excluded'; known: content_type, filter, ttl)`,
		`wps.send_to_connection("c", "x", {filter = "a"})`:             `bad argument #3 to 'wps.send_to_connection' (unknown option 'filter'; known: content_type, ttl)`,
		`wps.send_to_all("x", "ttl=3")`:                                `bad argument #2 to 'wps.send_to_all' (table expected, got string)`,
		`wps.send_to_all("x", {ttl = "3"})`:                            `bad argument #2 to 'wps.send_to_all' (option 'ttl': integer expected, got string)`,
		`wps.send_to_all("x", {ttl = 301})`:                            `bad argument #2 to 'wps.send_to_all' (option 'ttl': integer from 0 to 300 expected, got 301)`,
		`wps.send_to_all("x", {excluded = {1}})`:                       `bad argument #2 to 'wps.send_to_all' (option 'excluded': list of strings expected, item 1 is number)`,
		`wps.send_to_all({1}, {content_type = "text/plain"})`:          `bad argument #1 to 'wps.send_to_all' (a table is sent as application/json, not text/plain`,
		`wps.send_to_all("x", {content_type = "text/html"})`:           `bad argument #2 to 'wps.send_to_all' (option 'content_type': application/json, text/plain or application/octet-stream expected, got "text/html")`,
		`wps.send_to_all("{bad", {content_type = "application/json"})`: `bad argument #1 to 'wps.send_to_all' (content_type is application/json but the message is not valid JSON)`,
		`wps.send_to_all({f = print})`:                                 `bad argument #1 to 'wps.send_to_all' (cannot encode the message as JSON`,
		`wps.close_connection("c", {excluded = {"x"}})`:                `bad argument #2 to 'wps.close_connection' (unknown option 'excluded'; known: reason)`,
		`wps.grant_permission("admin", "c")`:                           `bad argument #1 to 'wps.grant_permission' (sendToGroup or joinLeaveGroup expected, got "admin")`,
		`wps.check_permission("sendToGroup", "c", {target = "g"})`:     `bad argument #3 to 'wps.check_permission' (unknown option 'target'; known: target_name)`,
		`wps.add_connections_to_groups("g", "f")`:                      `bad argument #1 to 'wps.add_connections_to_groups' (list of strings expected, got string)`,
		`wps.add_connections_to_groups({"a", x = 1}, "f")`:             `bad argument #1 to 'wps.add_connections_to_groups' (list of strings expected, found key x)`,
		`wps.list_connections("g", {top = 0})`:                         `bad argument #2 to 'wps.list_connections' (option 'top': integer from 1 to 2147483647 expected, got 0)`,
		`wps.get_client_access_token({client_protocol = "grpc"})`:      `bad argument #1 to 'wps.get_client_access_token' (option 'client_protocol': default, mqtt or socketio expected, got "grpc")`,
		`wps.get_client_access_token({roles = "a", role = "b"})`:       `bad argument #1 to 'wps.get_client_access_token' (unknown option 'role'; known: client_protocol, groups, minutes_to_expire, roles, user_id)`,
	}
	for script, want := range tests {
		if got := mustFail(t, L, script); !strings.Contains(got, want) {
			t.Errorf("%s\nraised  %q\nwant it to contain %q", script, got, want)
		}
	}
	if n := len(srv.received()); n != 0 {
		t.Errorf("bad arguments sent %d requests, want none", n)
	}
}

func TestGetClientAccessToken(t *testing.T) {
	srv := newWireServer(t)
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString(), Hub: "chat"})
	got := mustRun(t, L, `
		local t = wps.get_client_access_token{user_id = "u1", roles = {"webpubsub.joinLeaveGroup"}, groups = {"g"}, minutes_to_expire = 5}
		assert(type(t.token) == "string" and #t.token > 20, "token")
		assert(t.url == t.base_url .. "?access_token=" .. t.token, "url")
		local m = wps.get_client_access_token{client_protocol = "mqtt"}
		return {base = t.base_url, mqtt = m.base_url}`)
	host := strings.TrimPrefix(srv.URL, "http://")
	want := `{"base":"ws://` + host + `/client/hubs/chat","mqtt":"ws://` + host + `/clients/mqtt/hubs/chat"}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if n := len(srv.received()); n != 0 {
		t.Errorf("signing a token sent %d requests, want none", n)
	}
}

func TestRequire(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	if got := mustRun(t, L, `return require("wps") == wps and wps.json == json`); got != "true" {
		t.Errorf(`require("wps") == wps and wps.json == json: %s`, got)
	}
}
