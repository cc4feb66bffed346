package webpubsub

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

const testKey = "test-access-key-0123456789"

// seenRequest is what the fake service saw of one request.
type seenRequest struct {
	Method      string
	Path        string   // raw, as sent
	Query       []string // decoded key=value pairs, sorted: a multiset
	ContentType string
	Accept      string
	Body        string
	Audience    string // the verified JWT's aud
	URL         string // the full URL the client sent to
	Claims      jwt.MapClaims
}

// fakeService records requests and answers each with respond.
type fakeService struct {
	*httptest.Server
	t       *testing.T
	mu      sync.Mutex
	seen    []seenRequest
	respond func(w http.ResponseWriter, r *http.Request)
}

func newFakeService(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *fakeService {
	t.Helper()
	f := &fakeService{t: t, respond: respond}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeService) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		f.t.Errorf("query %q does not parse: %v", rawQuery, err)
	}
	var pairs []string
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, k+"="+v)
		}
	}
	slices.Sort(pairs)
	seen := seenRequest{
		Method: r.Method, Path: rawPath, Query: pairs, ContentType: r.Header.Get("Content-Type"),
		Accept: r.Header.Get("Accept"), Body: string(body), URL: "http://" + r.Host + r.RequestURI,
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") {
		f.t.Errorf("%s %s: no bearer token", r.Method, r.RequestURI)
	} else {
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(strings.TrimPrefix(auth, "Bearer "), claims, func(*jwt.Token) (any, error) {
			return []byte(testKey), nil
		}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
		if err != nil {
			f.t.Errorf("%s %s: token does not verify with the key: %v", r.Method, r.RequestURI, err)
		}
		seen.Claims = claims
		seen.Audience, _ = claims["aud"].(string)
	}
	f.mu.Lock()
	f.seen = append(f.seen, seen)
	f.mu.Unlock()
	f.respond(w, r)
}

func (f *fakeService) last() seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		f.t.Fatal("the service saw no request")
	}
	return f.seen[len(f.seen)-1]
}

func (f *fakeService) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

func newTestClient(t *testing.T, endpoint, hub string) *Client {
	t.Helper()
	c, err := NewClient(endpoint, testKey, hub, &ClientOptions{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// status answers every request with the given status and no body.
func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
}

// TestOperationsOnTheWire checks, for every operation, the exact method, raw
// path, query, content type and body, and that the JWT verifies with the key
// and names the request URL as its audience.
func TestOperationsOnTheWire(t *testing.T) {
	v := "api-version=2024-12-01"
	jsonMsg := Message{ContentType: ContentTypeJSON, Data: []byte(`{"a":1}`)}
	cases := []struct {
		name        string
		status      int
		body        string // the fake service's answer
		call        func(ctx context.Context, c *Client) error
		method      string
		path        string
		query       []string // besides api-version
		contentType string
		accept      string
		reqBody     string
	}{
		{"service_status", 200, "", func(ctx context.Context, c *Client) error {
			ok, err := c.ServiceStatus(ctx)
			return want(ok, true, err)
		}, "HEAD", "/api/health", nil, "", "", ""},
		{"send_to_all json with excluded, filter, ttl", 202, "", func(ctx context.Context, c *Client) error {
			return c.SendToAll(ctx, jsonMsg, &SendOptions{Excluded: []string{"c1", "c 2"}, Filter: "userId eq 'a''b'", TTLSeconds: 15})
		}, "POST", "/api/hubs/my_hub/:send", []string{"excluded=c 2", "excluded=c1", "filter=userId eq 'a''b'", "messageTtlSeconds=15"}, "application/json", "application/json", `{"a":1}`},
		{"send_to_all text", 202, "", func(ctx context.Context, c *Client) error {
			return c.SendToAll(ctx, TextMessage("hello"), nil)
		}, "POST", "/api/hubs/my_hub/:send", nil, "text/plain", "application/json", "hello"},
		{"send_to_all binary", 202, "", func(ctx context.Context, c *Client) error {
			return c.SendToAll(ctx, BinaryMessage([]byte{0, 1, 2}), nil)
		}, "POST", "/api/hubs/my_hub/:send", nil, "application/octet-stream", "application/json", "\x00\x01\x02"},
		{"send_to_user with slash and space", 202, "", func(ctx context.Context, c *Client) error {
			return c.SendToUser(ctx, "a/b c", TextMessage("x"), &SendOptions{Filter: "'g' in groups", TTLSeconds: 300})
		}, "POST", "/api/hubs/my_hub/users/a%2Fb%20c/:send", []string{"filter='g' in groups", "messageTtlSeconds=300"}, "text/plain", "application/json", "x"},
		{"send_to_group", 202, "", func(ctx context.Context, c *Client) error {
			return c.SendToGroup(ctx, "ops:team", jsonMsg, &SendOptions{Excluded: []string{"c1"}})
		}, "POST", "/api/hubs/my_hub/groups/ops%3Ateam/:send", []string{"excluded=c1"}, "application/json", "application/json", `{"a":1}`},
		{"send_to_connection", 202, "", func(ctx context.Context, c *Client) error {
			return c.SendToConnection(ctx, "conn+1", TextMessage("x"), &SendOptions{TTLSeconds: 1})
		}, "POST", "/api/hubs/my_hub/connections/conn%2B1/:send", []string{"messageTtlSeconds=1"}, "text/plain", "application/json", "x"},
		{"close_all_connections", 204, "", func(ctx context.Context, c *Client) error {
			return c.CloseAllConnections(ctx, &CloseOptions{Excluded: []string{"a", "b"}, Reason: "maintenance now"})
		}, "POST", "/api/hubs/my_hub/:closeConnections", []string{"excluded=a", "excluded=b", "reason=maintenance now"}, "", "application/json", ""},
		{"close_connection", 204, "", func(ctx context.Context, c *Client) error {
			return c.CloseConnection(ctx, "c1", &CloseOptions{Reason: "bye"})
		}, "DELETE", "/api/hubs/my_hub/connections/c1", []string{"reason=bye"}, "", "application/json", ""},
		{"close_group_connections", 204, "", func(ctx context.Context, c *Client) error {
			return c.CloseGroupConnections(ctx, "g 1", &CloseOptions{Excluded: []string{"x"}})
		}, "POST", "/api/hubs/my_hub/groups/g%201/:closeConnections", []string{"excluded=x"}, "", "application/json", ""},
		{"close_user_connections", 204, "", func(ctx context.Context, c *Client) error {
			return c.CloseUserConnections(ctx, "u'1", nil)
		}, "POST", "/api/hubs/my_hub/users/u%271/:closeConnections", nil, "", "application/json", ""},
		{"connection_exists", 200, "", func(ctx context.Context, c *Client) error {
			ok, err := c.ConnectionExists(ctx, "c1")
			return want(ok, true, err)
		}, "HEAD", "/api/hubs/my_hub/connections/c1", nil, "", "", ""},
		{"connection_exists 404", 404, "", func(ctx context.Context, c *Client) error {
			ok, err := c.ConnectionExists(ctx, "c1")
			return want(ok, false, err)
		}, "HEAD", "/api/hubs/my_hub/connections/c1", nil, "", "", ""},
		{"group_exists", 404, "", func(ctx context.Context, c *Client) error {
			ok, err := c.GroupExists(ctx, "g/1")
			return want(ok, false, err)
		}, "HEAD", "/api/hubs/my_hub/groups/g%2F1", nil, "", "", ""},
		{"user_exists", 200, "", func(ctx context.Context, c *Client) error {
			ok, err := c.UserExists(ctx, "ü")
			return want(ok, true, err)
		}, "HEAD", "/api/hubs/my_hub/users/%C3%BC", nil, "", "", ""},
		{"add_connection_to_group", 200, "", func(ctx context.Context, c *Client) error {
			return c.AddConnectionToGroup(ctx, "g", "c1")
		}, "PUT", "/api/hubs/my_hub/groups/g/connections/c1", nil, "", "application/json", ""},
		{"remove_connection_from_group", 204, "", func(ctx context.Context, c *Client) error {
			return c.RemoveConnectionFromGroup(ctx, "g", "c1")
		}, "DELETE", "/api/hubs/my_hub/groups/g/connections/c1", nil, "", "application/json", ""},
		{"remove_connection_from_all_groups", 204, "", func(ctx context.Context, c *Client) error {
			return c.RemoveConnectionFromAllGroups(ctx, "c1")
		}, "DELETE", "/api/hubs/my_hub/connections/c1/groups", nil, "", "application/json", ""},
		{"add_user_to_group", 200, "", func(ctx context.Context, c *Client) error {
			return c.AddUserToGroup(ctx, "g", "a/b c")
		}, "PUT", "/api/hubs/my_hub/users/a%2Fb%20c/groups/g", nil, "", "application/json", ""},
		{"remove_user_from_group", 204, "", func(ctx context.Context, c *Client) error {
			return c.RemoveUserFromGroup(ctx, "g", "u1")
		}, "DELETE", "/api/hubs/my_hub/users/u1/groups/g", nil, "", "application/json", ""},
		{"remove_user_from_all_groups", 204, "", func(ctx context.Context, c *Client) error {
			return c.RemoveUserFromAllGroups(ctx, "u1")
		}, "DELETE", "/api/hubs/my_hub/users/u1/groups", nil, "", "application/json", ""},
		{"add_connections_to_groups", 200, "", func(ctx context.Context, c *Client) error {
			return c.AddConnectionsToGroups(ctx, []string{"g1", "g2"}, "userId eq 'u1'")
		}, "POST", "/api/hubs/my_hub/:addToGroups", nil, "application/json", "application/json", `{"groups":["g1","g2"],"filter":"userId eq 'u1'"}`},
		{"remove_connections_from_groups", 200, "", func(ctx context.Context, c *Client) error {
			return c.RemoveConnectionsFromGroups(ctx, []string{"g1"}, "")
		}, "POST", "/api/hubs/my_hub/:removeFromGroups", nil, "application/json", "application/json", `{"groups":["g1"]}`},
		{"grant_permission", 200, "", func(ctx context.Context, c *Client) error {
			return c.GrantPermission(ctx, PermissionSendToGroup, "c1", &PermissionOptions{TargetName: "g 1"})
		}, "PUT", "/api/hubs/my_hub/permissions/sendToGroup/connections/c1", []string{"targetName=g 1"}, "", "application/json", ""},
		{"revoke_permission", 204, "", func(ctx context.Context, c *Client) error {
			return c.RevokePermission(ctx, PermissionJoinLeaveGroup, "c1", &PermissionOptions{TargetName: "g"})
		}, "DELETE", "/api/hubs/my_hub/permissions/joinLeaveGroup/connections/c1", []string{"targetName=g"}, "", "application/json", ""},
		{"check_permission", 200, "", func(ctx context.Context, c *Client) error {
			ok, err := c.CheckPermission(ctx, PermissionJoinLeaveGroup, "c1", nil)
			return want(ok, true, err)
		}, "HEAD", "/api/hubs/my_hub/permissions/joinLeaveGroup/connections/c1", nil, "", "", ""},
		{"list_connections", 200, `{"value":[{"connectionId":"c1","userId":"u1"},{"connectionId":"c2"}]}`, func(ctx context.Context, c *Client) error {
			members, err := c.ListConnections(ctx, "g", &ListOptions{Top: 5, MaxPageSize: 2})
			return want(len(members), 2, err)
		}, "GET", "/api/hubs/my_hub/groups/g/connections", []string{"maxpagesize=2", "top=5"}, "", "application/json", ""},
		{"generate_client_token", 200, `{"token":"abc"}`, func(ctx context.Context, c *Client) error {
			tok, err := c.GenerateClientToken(ctx, &TokenOptions{UserID: "u1", Roles: []string{"r1", "r2"}, MinutesToExpire: 10, Groups: []string{"g1"}, ClientProtocol: ClientProtocolMQTT})
			return want(tok, "abc", err)
		}, "POST", "/api/hubs/my_hub/:generateToken", []string{"clientType=MQTT", "group=g1", "minutesToExpire=10", "role=r1", "role=r2", "userId=u1"}, "", "application/json, text/json", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeService(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.body != "" {
					w.Header().Set("Content-Type", "application/json; charset=utf-8")
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			c := newTestClient(t, f.URL, "my_hub")
			if err := tc.call(context.Background(), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			got := f.last()
			wantQuery := append([]string{v}, tc.query...)
			slices.Sort(wantQuery)
			if got.Method != tc.method || got.Path != tc.path {
				t.Errorf("request = %s %s, want %s %s", got.Method, got.Path, tc.method, tc.path)
			}
			if !slices.Equal(got.Query, wantQuery) {
				t.Errorf("query = %q, want %q", got.Query, wantQuery)
			}
			if got.ContentType != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got.ContentType, tc.contentType)
			}
			if got.Accept != tc.accept {
				t.Errorf("Accept = %q, want %q", got.Accept, tc.accept)
			}
			if got.Body != tc.reqBody {
				t.Errorf("body = %q, want %q", got.Body, tc.reqBody)
			}
			if got.Audience != got.URL {
				t.Errorf("token aud = %q, want the request URL %q", got.Audience, got.URL)
			}
			if len(got.Claims) != 2 {
				t.Errorf("token claims = %v, want exactly aud and exp", got.Claims)
			}
		})
	}
}

// want returns an error if got differs from wanted, or err.
func want[T comparable](got, wanted T, err error) error {
	if err != nil {
		return err
	}
	if got != wanted {
		return &Error{Operation: "test", Message: "got " + jsonString(got) + ", want " + jsonString(wanted)}
	}
	return nil
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
