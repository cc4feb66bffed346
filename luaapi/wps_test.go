package luaapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"wps/webpubsub"
	"wps/webpubsub/service"
)

// testKey is the access key of the test servers; tests check it never
// shows up in errors.
const testKey = "c2VjcmV0LXRlc3Qta2V5LW5vdC1mb3ItcmVhbC11c2U="

// wireRequest is what a test server received.
type wireRequest struct {
	Method      string
	Path        string // escaped, as sent
	Query       url.Values
	ContentType string
	Body        string
	Auth        string
}

// wireServer is an httptest server that records every request and answers
// with reply.
type wireServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []wireRequest
	// reply answers a request; nil means successStatus with no body.
	reply func(w http.ResponseWriter, r *http.Request)
}

// successStatus is the status the REST API answers a successful request
// with: 202 for sends, 204 for closes and removals, 200 otherwise.
func successStatus(r *http.Request) int {
	switch {
	case strings.HasSuffix(r.URL.Path, "/:send"):
		return http.StatusAccepted
	case r.Method == http.MethodDelete, strings.HasSuffix(r.URL.Path, "/:closeConnections"):
		return http.StatusNoContent
	}
	return http.StatusOK
}

func newWireServer(t testing.TB) *wireServer {
	t.Helper()
	s := &wireServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, wireRequest{
			Method:      r.Method,
			Path:        r.URL.EscapedPath(),
			Query:       r.URL.Query(),
			ContentType: r.Header.Get("Content-Type"),
			Body:        string(body),
			Auth:        r.Header.Get("Authorization"),
		})
		reply := s.reply
		s.mu.Unlock()
		if reply != nil {
			reply(w, r)
		} else {
			w.WriteHeader(successStatus(r))
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// connectionString returns a connection string for the server.
func (s *wireServer) connectionString() string {
	return "Endpoint=" + s.URL + ";AccessKey=" + testKey + ";Version=1.0;"
}

// received returns the requests so far.
func (s *wireServer) received() []wireRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wireRequest(nil), s.requests...)
}

// testTarget says where the default client of a test state points: the
// service of ConnectionString, or an embedded service started for the
// test when it is empty, and Hub ("hub" when empty).
type testTarget struct {
	ConnectionString string
	Hub              string
	Stderr           io.Writer
}

// newTestState returns a Lua state with the wps module configured by
// target, closed with the test.
func newTestState(t testing.TB, target testTarget) (*lua.LState, *Module) {
	t.Helper()
	L := lua.NewState()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard against hangs
	L.SetContext(ctx)
	hub := target.Hub
	if hub == "" {
		hub = "hub"
	}
	var server *service.Server
	m := NewModule(Config{
		Hub:    hub,
		Stderr: target.Stderr,
		DefaultClient: func(ctx context.Context) (*webpubsub.Client, error) {
			connectionString := target.ConnectionString
			if connectionString == "" {
				var err error
				if server, err = service.Listen("127.0.0.1:0", service.Options{}); err != nil {
					return nil, err
				}
				connectionString = server.ConnectionString
			}
			return webpubsub.NewClientFromConnectionString(connectionString, hub, nil)
		},
	})
	Open(L, Options{WPS: m})
	t.Cleanup(func() {
		cancel()
		L.Close()
		if err := m.Close(); err != nil {
			t.Errorf("Module.Close: %v", err)
		}
		if server != nil {
			server.Close(context.Background())
		}
	})
	return L, m
}

// runScript runs script and returns the values it returns.
func runScript(t testing.TB, L *lua.LState, script string) ([]lua.LValue, error) {
	t.Helper()
	top := L.GetTop()
	fn, err := L.LoadString(script)
	if err != nil {
		t.Fatalf("loading script: %v", err)
	}
	L.Push(fn)
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		return nil, err
	}
	values := make([]lua.LValue, 0, L.GetTop()-top)
	for i := top + 1; i <= L.GetTop(); i++ {
		values = append(values, L.Get(i))
	}
	L.SetTop(top)
	return values, nil
}

// mustRun runs script, fails the test on error, and returns its first
// result encoded as JSON ("" when it returns nothing).
func mustRun(t testing.TB, L *lua.LState, script string) string {
	t.Helper()
	values, err := runScript(t, L, script)
	if err != nil {
		t.Fatalf("script failed: %v\n%s", scriptError(L, err), script)
	}
	if len(values) == 0 {
		return ""
	}
	data, err := ToJSON(L, values[0])
	if err != nil {
		t.Fatalf("encoding the result: %v", err)
	}
	return string(data)
}

// mustFail runs script and returns the error it raised, rendered as text.
func mustFail(t testing.TB, L *lua.LState, script string) string {
	t.Helper()
	_, err := runScript(t, L, script)
	if err == nil {
		t.Fatalf("script succeeded, want an error:\n%s", script)
	}
	return scriptError(L, err)
}

// scriptError renders a script's error as the runners would.
func scriptError(L *lua.LState, err error) string {
	if apiErr, ok := err.(*lua.ApiError); ok {
		return L.ToStringMeta(apiErr.Object).String()
	}
	return err.Error()
}

func TestOperations_Wire(t *testing.T) {
	tests := []struct {
		name   string
		script string
		// status and body of the server's answer
		status int
		reply  string
		// what must arrive
		method, path, contentType, body string
		query                           url.Values
		// the script's result as JSON
		want string
	}{
		{name: "send_to_all text", script: `wps.send_to_all("hello")`, status: 202,
			method: "POST", path: "/api/hubs/hub/:send", contentType: "text/plain", body: "hello"},
		{name: "send_to_all table with options", script: `wps.send_to_all({text = "hi", n = 2}, {excluded = {"c1", "c2"}, filter = "userId ne 'x'", ttl = 15})`, status: 202,
			method: "POST", path: "/api/hubs/hub/:send", contentType: "application/json", body: `{"n":2,"text":"hi"}`,
			query: url.Values{"excluded": {"c1", "c2"}, "filter": {"userId ne 'x'"}, "messageTtlSeconds": {"15"}}},
		{name: "send_to_all binary", script: `wps.send_to_all(wps.binary("\0\1\2"))`, status: 202,
			method: "POST", path: "/api/hubs/hub/:send", contentType: "application/octet-stream", body: "\x00\x01\x02"},
		{name: "send_to_all string as json", script: `wps.send_to_all('{"a":[1,2]}', {content_type = "application/json"})`, status: 202,
			method: "POST", path: "/api/hubs/hub/:send", contentType: "application/json", body: `{"a":[1,2]}`},
		{name: "send_to_all string as binary", script: `wps.send_to_all("raw", {content_type = "application/octet-stream"})`, status: 202,
			method: "POST", path: "/api/hubs/hub/:send", contentType: "application/octet-stream", body: "raw"},
		{name: "send_to_user", script: `wps.send_to_user("user 1", {1, 2, 3}, {filter = "'a' in groups", ttl = 300})`, status: 202,
			method: "POST", path: "/api/hubs/hub/users/user%201/:send", contentType: "application/json", body: `[1,2,3]`,
			query: url.Values{"filter": {"'a' in groups"}, "messageTtlSeconds": {"300"}}},
		{name: "send_to_group", script: `wps.send_to_group("ops/eu", "deploy", {excluded = {"c9"}})`, status: 202,
			method: "POST", path: "/api/hubs/hub/groups/ops%2Feu/:send", contentType: "text/plain", body: "deploy",
			query: url.Values{"excluded": {"c9"}}},
		{name: "send_to_connection", script: `wps.send_to_connection("conn1", "ping", {ttl = 1})`, status: 202,
			method: "POST", path: "/api/hubs/hub/connections/conn1/:send", contentType: "text/plain", body: "ping",
			query: url.Values{"messageTtlSeconds": {"1"}}},
		{name: "add_connection_to_group", script: `wps.add_connection_to_group("g", "c1")`, status: 200,
			method: "PUT", path: "/api/hubs/hub/groups/g/connections/c1"},
		{name: "remove_connection_from_group", script: `wps.remove_connection_from_group("g", "c1")`, status: 204,
			method: "DELETE", path: "/api/hubs/hub/groups/g/connections/c1"},
		{name: "remove_connection_from_all_groups", script: `wps.remove_connection_from_all_groups("c1")`, status: 204,
			method: "DELETE", path: "/api/hubs/hub/connections/c1/groups"},
		{name: "add_user_to_group", script: `wps.add_user_to_group("g", "u1")`, status: 200,
			method: "PUT", path: "/api/hubs/hub/users/u1/groups/g"},
		{name: "remove_user_from_group", script: `wps.remove_user_from_group("g", "u1")`, status: 204,
			method: "DELETE", path: "/api/hubs/hub/users/u1/groups/g"},
		{name: "remove_user_from_all_groups", script: `wps.remove_user_from_all_groups("u1")`, status: 204,
			method: "DELETE", path: "/api/hubs/hub/users/u1/groups"},
		{name: "add_connections_to_groups", script: `wps.add_connections_to_groups({"a", "b"}, "userId eq 'u1'")`, status: 200,
			method: "POST", path: "/api/hubs/hub/:addToGroups", contentType: "application/json", body: `{"groups":["a","b"],"filter":"userId eq 'u1'"}`},
		{name: "remove_connections_from_groups", script: `wps.remove_connections_from_groups({"a"}, "userId eq 'u1'")`, status: 200,
			method: "POST", path: "/api/hubs/hub/:removeFromGroups", contentType: "application/json", body: `{"groups":["a"],"filter":"userId eq 'u1'"}`},
		{name: "close_connection", script: `wps.close_connection("c1", {reason = "bye"})`, status: 204,
			method: "DELETE", path: "/api/hubs/hub/connections/c1", query: url.Values{"reason": {"bye"}}},
		{name: "close_all_connections", script: `wps.close_all_connections({excluded = {"c1"}, reason = "maintenance"})`, status: 204,
			method: "POST", path: "/api/hubs/hub/:closeConnections", query: url.Values{"excluded": {"c1"}, "reason": {"maintenance"}}},
		{name: "close_group_connections", script: `wps.close_group_connections("g", {reason = "r"})`, status: 204,
			method: "POST", path: "/api/hubs/hub/groups/g/:closeConnections", query: url.Values{"reason": {"r"}}},
		{name: "close_user_connections", script: `wps.close_user_connections("u1", {excluded = {"c2"}})`, status: 204,
			method: "POST", path: "/api/hubs/hub/users/u1/:closeConnections", query: url.Values{"excluded": {"c2"}}},
		{name: "connection_exists true", script: `return wps.connection_exists("c1")`, status: 200,
			method: "HEAD", path: "/api/hubs/hub/connections/c1", want: "true"},
		{name: "connection_exists false", script: `return wps.connection_exists("c1")`, status: 404,
			method: "HEAD", path: "/api/hubs/hub/connections/c1", want: "false"},
		{name: "group_exists", script: `return wps.group_exists("g 1")`, status: 200,
			method: "HEAD", path: "/api/hubs/hub/groups/g%201", want: "true"},
		{name: "user_exists", script: `return wps.user_exists("u1")`, status: 404,
			method: "HEAD", path: "/api/hubs/hub/users/u1", want: "false"},
		{name: "grant_permission", script: `wps.grant_permission("sendToGroup", "c1", {target_name = "g"})`, status: 200,
			method: "PUT", path: "/api/hubs/hub/permissions/sendToGroup/connections/c1", query: url.Values{"targetName": {"g"}}},
		{name: "revoke_permission", script: `wps.revoke_permission("joinLeaveGroup", "c1")`, status: 204,
			method: "DELETE", path: "/api/hubs/hub/permissions/joinLeaveGroup/connections/c1"},
		{name: "check_permission", script: `return wps.check_permission("joinLeaveGroup", "c1", {target_name = "g"})`, status: 200,
			method: "HEAD", path: "/api/hubs/hub/permissions/joinLeaveGroup/connections/c1", query: url.Values{"targetName": {"g"}}, want: "true"},
		{name: "list_connections", script: `return wps.list_connections("g", {top = 5, max_page_size = 2})`, status: 200,
			reply:  `{"value":[{"connectionId":"c1","userId":"u1"},{"connectionId":"c2"}]}`,
			method: "GET", path: "/api/hubs/hub/groups/g/connections", query: url.Values{"top": {"5"}, "maxpagesize": {"2"}},
			want: `[{"connection_id":"c1","user_id":"u1"},{"connection_id":"c2"}]`},
		{name: "service_status", script: `return wps.service_status()`, status: 200,
			method: "HEAD", path: "/api/health", want: "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newWireServer(t)
			srv.reply = func(w http.ResponseWriter, r *http.Request) {
				if tt.reply != "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.reply)
			}
			L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString()})
			got := mustRun(t, L, tt.script)
			if got != tt.want {
				t.Errorf("result = %s, want %s", got, tt.want)
			}
			reqs := srv.received()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1: %+v", len(reqs), reqs)
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path {
				t.Errorf("request = %s %s, want %s %s", r.Method, r.Path, tt.method, tt.path)
			}
			if r.ContentType != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", r.ContentType, tt.contentType)
			}
			if r.Body != tt.body {
				t.Errorf("body = %q, want %q", r.Body, tt.body)
			}
			wantQuery := url.Values{"api-version": {"2024-12-01"}}
			for k, v := range tt.query {
				wantQuery[k] = v
			}
			if r.Query.Encode() != wantQuery.Encode() {
				t.Errorf("query = %s, want %s", r.Query.Encode(), wantQuery.Encode())
			}
			if !strings.HasPrefix(r.Auth, "Bearer ") {
				t.Errorf("Authorization = %q, want a bearer token", r.Auth)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	got := mustRun(t, L, `return wps.filter("userId eq {} and {} in groups or x eq {} or y eq {} or z ne {}", "o'brien", "ops", 42, true, nil)`)
	want := `"userId eq 'o''brien' and 'ops' in groups or x eq 42 or y eq true or z ne null"`
	if got != want {
		t.Errorf("filter = %s, want %s", got, want)
	}
	for script, wantErr := range map[string]string{
		`wps.filter("a eq {}", {})`:       `bad argument #2 to 'wps.filter' (string, number, boolean or nil expected, got table)`,
		`wps.filter("a eq {} and {}", 1)`: `bad argument #1 to 'wps.filter' (filter template has more {} placeholders than the 1 values given)`,
		`wps.filter()`:                    `bad argument #1 to 'wps.filter' (string expected, got nil)`,
	} {
		if got := mustFail(t, L, script); !strings.Contains(got, wantErr) {
			t.Errorf("%s raised %q, want %q", script, got, wantErr)
		}
	}
}

func TestBinary(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	got := mustRun(t, L, `local b = wps.binary("a\0b"); return {len = #b, text = tostring(b)}`)
	if want := `{"len":3,"text":"a\u0000b"}`; got != want {
		t.Errorf("binary = %s, want %s", got, want)
	}
}
