package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

// hangGuard bounds every wait in these tests so a bug fails a test instead
// of hanging it; it is not a speed assertion.
const hangGuard = 10 * time.Second

// testService is a Service behind an httptest.Server.
type testService struct {
	*Service
	server *httptest.Server
}

func newTestService(t *testing.T) *testService {
	t.Helper()
	return newTestServiceWith(t, Options{})
}

func newTestServiceWith(t *testing.T, opts Options) *testService {
	t.Helper()
	svc := New(opts)
	ts := httptest.NewServer(svc)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			t.Errorf("Service.Close: %v", err)
		}
		ts.Close()
	})
	return &testService{svc, ts}
}

// restToken signs a REST token for url, the way the Go SDK does.
func restToken(t *testing.T, key, url string, exp time.Time) string {
	t.Helper()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": url, "exp": exp.Unix()}).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// response is a REST response with its body read.
type response struct {
	*http.Response
	body string
}

// call sends an authorized REST request for path (which includes the query;
// api-version is added when missing) and returns the response.
func (ts *testService) call(t *testing.T, method, path, contentType, body string) response {
	t.Helper()
	if !strings.Contains(path, "api-version=") {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "api-version=2024-12-01"
	}
	u := ts.server.URL + path
	return ts.callWithToken(t, method, u, contentType, body, restToken(t, DevelopmentKey, u, time.Now().Add(time.Hour)))
}

func (ts *testService) callWithToken(t *testing.T, method, u, contentType, body, token string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp, string(b)}
}

// wantStatus fails the test unless resp has status.
func wantStatus(t *testing.T, resp response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, resp.body)
	}
}

// clientURL returns the WebSocket URL of hub with a token for user (""
// for anonymous) holding roles and groups.
func (ts *testService) clientURL(t *testing.T, hub, user string, roles, groups []string) string {
	t.Helper()
	token, err := signClientToken(DevelopmentKey, ts.server.URL+"/client/hubs/"+hub, user, roles, groups, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return "ws" + strings.TrimPrefix(ts.server.URL, "http") + "/client/hubs/" + url.PathEscape(hub) + "?access_token=" + token
}

// dial connects to u with subprotocol ("" for a plain client) and fails the
// test when the handshake fails.
func dial(t *testing.T, u, subprotocol string) *websocket.Conn {
	t.Helper()
	ws, resp, err := dialRaw(u, subprotocol)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", subprotocol, err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func dialRaw(u, subprotocol string) (*websocket.Conn, *http.Response, error) {
	dialer := websocket.Dialer{HandshakeTimeout: hangGuard}
	if subprotocol != "" {
		dialer.Subprotocols = []string{subprotocol}
	}
	return dialer.Dial(u, nil)
}

// connectJSON dials a JSON-subprotocol client and reads its connected
// message, which it returns.
func (ts *testService) connectJSON(t *testing.T, protocol, hub, user string, roles, groups []string) (*websocket.Conn, map[string]any) {
	t.Helper()
	ws := dial(t, ts.clientURL(t, hub, user, roles, groups), protocol)
	connected := readJSON(t, ws)
	if connected["type"] != "system" || connected["event"] != "connected" {
		t.Fatalf("first message = %v, want the connected system message", connected)
	}
	return ws, connected
}

// readFrame reads one frame.
func readFrame(t *testing.T, ws *websocket.Conn) (int, []byte) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(hangGuard))
	kind, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	return kind, b
}

// readJSON reads one text frame holding a JSON object.
func readJSON(t *testing.T, ws *websocket.Conn) map[string]any {
	t.Helper()
	kind, b := readFrame(t, ws)
	if kind != websocket.TextMessage {
		t.Fatalf("got a frame of type %d, want a text frame: %q", kind, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("frame %q is not a JSON object: %v", b, err)
	}
	return m
}

// writeJSON sends a JSON message.
func writeJSON(t *testing.T, ws *websocket.Conn, message string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(message)); err != nil {
		t.Fatal(err)
	}
}

// readClose reads until the server's close frame and returns it.
func readClose(t *testing.T, ws *websocket.Conn) *websocket.CloseError {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(hangGuard))
	for {
		_, b, err := ws.ReadMessage()
		if err == nil {
			t.Logf("frame before close: %s", b)
			continue
		}
		closeErr, ok := err.(*websocket.CloseError)
		if !ok {
			t.Fatalf("reading: %v, want a close frame", err)
		}
		return closeErr
	}
}

// jsonEqual fails unless got (a JSON text) equals want (a JSON text), ignoring
// layout and key order.
func jsonEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got %q: not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q: not JSON: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("got  %s\nwant %s", gb, wb)
	}
}

func timeoutFromNow() time.Time { return time.Now().Add(hangGuard) }
