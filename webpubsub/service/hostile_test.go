package service

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// The tests in this file are what a careless or hostile client tries: bytes
// that are not UTF-8 where text is promised, a client that never reads, a
// client that never answers, and tokens at the edges.

// userConnected reports whether user has a connection in hub, through REST.
func (ts *testService) userConnected(t *testing.T, hub, user string) bool {
	t.Helper()
	return ts.call(t, "HEAD", "/api/hubs/"+hub+"/users/"+user, "", "").StatusCode == http.StatusOK
}

// connectionOf returns the connection of user in hub, for checks of what
// the service holds.
func (ts *testService) connectionOf(t *testing.T, hub, user string) *connection {
	t.Helper()
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	for c := range ts.hubLocked(hub).users[user] {
		return c
	}
	t.Fatalf("user %s has no connection", user)
	return nil
}

// readData reads the next data message of a client of kind and returns its
// payload as text (binary data base64-encoded for JSON clients).
func readData(t *testing.T, ws *websocket.Conn, kind clientKind) string {
	t.Helper()
	for {
		frameType, b := readFrame(t, ws)
		if kind == plainClient {
			if frameType == websocket.TextMessage && !utf8.Valid(b) {
				t.Fatalf("a text frame that is not UTF-8: %q", b)
			}
			return string(b)
		}
		if !utf8.Valid(b) {
			t.Fatalf("a JSON frame that is not UTF-8: %q", b)
		}
		var m struct {
			Type       string
			SequenceID uint64
			Data       json.RawMessage
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("frame %q: %v", b, err)
		}
		if m.Type != "message" {
			continue // an ack
		}
		if kind == reliableClient {
			writeJSON(t, ws, fmt.Sprintf(`{"type":"sequenceAck","sequenceId":%d}`, m.SequenceID))
		}
		var text string
		if json.Unmarshal(m.Data, &text) == nil {
			return text
		}
		return string(m.Data)
	}
}

func TestUTF8_RESTBodiesAreRefused(t *testing.T) {
	ts := newTestService(t)
	plain := dial(t, ts.clientURL(t, "chat", "p", nil, []string{"room"}), "")
	jsonWS, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "j", nil, []string{"room"})
	for _, path := range []string{"/api/hubs/chat/:send", "/api/hubs/chat/groups/room/:send", "/api/hubs/chat/users/p/:send"} {
		for _, c := range []struct{ contentType, body string }{
			{"text/plain", "\xff"},
			{"text/plain; charset=utf-8", "caf\xc3"},
			{"application/json", "\"\xff\""},
			{"application/json", `{"t":"` + "\xed\xa0\x80" + `"}`}, // a UTF-16 surrogate, not UTF-8
		} {
			resp := ts.call(t, "POST", path, c.contentType, c.body)
			wantStatus(t, resp, http.StatusBadRequest)
			if !strings.Contains(resp.body, "not valid UTF-8") || !strings.Contains(resp.body, "application/octet-stream") {
				t.Errorf("%s %s: body %s does not explain and suggest application/octet-stream", path, c.contentType, resp.body)
			}
		}
	}
	// The same bytes as application/octet-stream are fine, and the
	// receivers, still connected, get them and nothing before them.
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:send", "application/octet-stream", "\xff"), http.StatusAccepted)
	if got := readData(t, plain, plainClient); got != "\xff" {
		t.Errorf("plain client got %q, want the binary byte", got)
	}
	if got := readData(t, jsonWS, jsonClient); got != "/w==" {
		t.Errorf("JSON client got %q, want the byte in base64", got)
	}
}

func TestUTF8_ClientFramesAreRefused(t *testing.T) {
	ts := newTestService(t)
	plain := dial(t, ts.clientURL(t, "chat", "p", nil, []string{"room"}), "")
	jsonWS, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "j", nil, []string{"room"})
	reliable, _ := ts.connectJSON(t, reliableSubprotocol, "chat", "r", nil, []string{"room"})
	receivers := []struct {
		ws   *websocket.Conn
		kind clientKind
	}{{plain, plainClient}, {jsonWS, jsonClient}, {reliable, reliableClient}}

	bad := []struct {
		name      string
		frameType int
		frame     string
	}{
		{"text frame, bad byte in JSON data", websocket.TextMessage, `{"type":"sendToGroup","group":"room","ackId":1,"data":{"t":"` + "\xff" + `"}}`},
		{"text frame, bad byte in text data", websocket.TextMessage, `{"type":"sendToGroup","group":"room","dataType":"text","data":"` + "\xc3(" + `"}`},
		{"binary frame, bad byte", websocket.BinaryMessage, `{"type":"sendToGroup","group":"room","data":"` + "\xff" + `"}`},
		{"bad byte in an event", websocket.TextMessage, `{"type":"event","event":"e","ackId":2,"dataType":"text","data":"` + "\xff" + `"}`},
	}
	for i, b := range bad {
		for _, protocol := range []string{jsonSubprotocol, reliableSubprotocol} {
			sender, _ := ts.connectJSON(t, protocol, "chat", "sender", []string{"webpubsub.sendToGroup"}, []string{"room"})
			if err := sender.WriteMessage(b.frameType, []byte(b.frame)); err != nil {
				t.Fatal(err)
			}
			m := readJSON(t, sender) // no ack: the disconnected message
			if m["event"] != "disconnected" || !strings.Contains(m["message"].(string), "not valid UTF-8") {
				t.Errorf("%s, %s: got %v, want the disconnected message", b.name, protocol, m)
			}
			if ce := readClose(t, sender); ce.Code != websocket.CloseInvalidFramePayloadData {
				t.Errorf("%s, %s: closed with %v, want 1007", b.name, protocol, ce)
			}
			// Nothing reached the group: the next message every member
			// gets is the marker, and they are all still connected.
			marker := fmt.Sprintf("marker-%d-%s", i, protocol)
			wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/groups/room/:send", "text/plain", marker), http.StatusAccepted)
			for _, r := range receivers {
				if got := readData(t, r.ws, r.kind); got != marker {
					t.Errorf("%s, %s: a %s member got %q before the marker", b.name, protocol, r.kind, got)
				}
			}
		}
	}

	// A plain client's text frame is checked too (its binary frames are
	// bytes, and only meet the missing event handler).
	raw := dial(t, ts.clientURL(t, "chat", "raw", nil, nil), "")
	if err := raw.WriteMessage(websocket.TextMessage, []byte("\xff")); err != nil {
		t.Fatal(err)
	}
	if ce := readClose(t, raw); ce.Code != websocket.CloseInvalidFramePayloadData || !strings.Contains(ce.Text, "UTF-8") {
		t.Errorf("plain client: closed with %v, want 1007 naming UTF-8", ce)
	}
}

func TestUTF8_CloseReasons(t *testing.T) {
	ts := newTestService(t)
	jsonWS, connected := ts.connectJSON(t, jsonSubprotocol, "chat", "j", nil, nil)
	id := connected["connectionId"].(string)
	resp := ts.call(t, "DELETE", "/api/hubs/chat/connections/"+id+"?reason=%FF", "", "")
	wantStatus(t, resp, http.StatusBadRequest)
	if !strings.Contains(resp.body, "UTF-8") || !strings.Contains(resp.body, "(Parameter 'reason')") {
		t.Errorf("body %s", resp.body)
	}
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:closeConnections?reason="+url.QueryEscape(strings.Repeat("é", 1025)), "", ""), http.StatusBadRequest)

	// A long reason reaches the disconnected message whole, and the close
	// frame cut to 123 bytes at a character boundary.
	reason := strings.Repeat("é", 100)
	wantStatus(t, ts.call(t, "DELETE", "/api/hubs/chat/connections/"+id+"?reason="+url.QueryEscape(reason), "", ""), http.StatusNoContent)
	if m := readJSON(t, jsonWS); m["message"] != reason {
		t.Errorf("disconnected message %v, want the whole reason", m)
	}
	ce := readClose(t, jsonWS)
	if ce.Text != strings.Repeat("é", 61) {
		t.Errorf("close reason %q (%d bytes), want 61 é (122 bytes)", ce.Text, len(ce.Text))
	}
}

func TestCloseReason(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		"bye":                         "bye",
		"bad \xff byte":               "bad \uFFFD byte",
		strings.Repeat("a", 200):      strings.Repeat("a", 123),
		strings.Repeat("€", 50):       strings.Repeat("€", 41),
		"x" + strings.Repeat("€", 50): "x" + strings.Repeat("€", 40),
	} {
		if got := closeReason(in); got != want || len(got) > 123 || !utf8.ValidString(got) {
			t.Errorf("closeReason(%q) = %q, want %q", in, got, want)
		}
	}
}

// floodUntilDropped sends size-byte binary messages to every connection of
// hub until the slow user is gone, waiting for the healthy client to read
// each one before the next (so that only the slow client falls behind),
// and then a few more. It returns how many it sent. The healthy client's
// payloads are checked in order by the returned channel's reader.
func floodUntilDropped(t *testing.T, ts *testService, hub, slowUser string, size int, healthyGot *atomic.Int64) int {
	t.Helper()
	payload := make([]byte, size)
	sent := 0
	for extra := 0; extra < 5; sent++ {
		binary.BigEndian.PutUint32(payload, uint32(sent))
		wantStatus(t, ts.call(t, "POST", "/api/hubs/"+hub+"/:send", "application/octet-stream", string(payload)), http.StatusAccepted)
		waitFor(t, func() bool { return healthyGot.Load() > int64(sent) })
		if !ts.userConnected(t, hub, slowUser) {
			extra++
		}
		if sent > 10000 {
			t.Fatalf("%d messages of %d bytes and %s is still connected", sent, size, slowUser)
		}
	}
	return sent
}

func TestSlowClient_IsClosedAndReleased(t *testing.T) {
	for _, protocol := range []string{"", jsonSubprotocol, reliableSubprotocol} {
		t.Run(cmpOr(protocol, "plain"), func(t *testing.T) {
			ts := newTestServiceWith(t, Options{MaxQueueBytes: 256 << 10})
			ts.writeWait = time.Minute // the slow client reads only later, and should then get the close frame
			var slow *websocket.Conn
			if protocol == "" {
				slow = dial(t, ts.clientURL(t, "chat", "slow", nil, nil), "")
			} else {
				slow, _ = ts.connectJSON(t, protocol, "chat", "slow", nil, nil)
			}
			slowConn := ts.connectionOf(t, "chat", "slow")
			healthy := dial(t, ts.clientURL(t, "chat", "ok", nil, nil), "")
			var got atomic.Int64
			outOfOrder := make(chan string, 1)
			go func() {
				for {
					_, b, err := healthy.ReadMessage()
					if err != nil {
						return
					}
					if n := binary.BigEndian.Uint32(b); int64(n) != got.Load() {
						outOfOrder <- fmt.Sprintf("message %d after %d", n, got.Load())
						return
					}
					got.Add(1)
				}
			}()

			sent := floodUntilDropped(t, ts, "chat", "slow", 64<<10, &got)
			t.Logf("%d messages of 64 KiB before the slow client was closed", sent)
			select {
			case problem := <-outOfOrder:
				t.Fatalf("the healthy client lost a message: %s", problem)
			default:
			}
			if got.Load() != int64(sent) || !ts.userConnected(t, "chat", "ok") {
				t.Errorf("the healthy client got %d of %d messages", got.Load(), sent)
			}
			slowConn.mu.Lock()
			released := slowConn.queued == 0 && slowConn.unacked == nil && slowConn.ended
			for _, o := range slowConn.queue { // only the close is left, for the client to read
				released = released && o.msg == nil
			}
			slowConn.mu.Unlock()
			if !released {
				t.Error("the slow connection still holds its messages")
			}

			// Reading at last, the slow client gets what was already on
			// its way, then the reason it was closed.
			slow.SetReadDeadline(time.Now().Add(hangGuard))
			var disconnected string
			for {
				_, b, err := slow.ReadMessage()
				if ce, ok := err.(*websocket.CloseError); ok {
					if ce.Code != websocket.ClosePolicyViolation || ce.Text != "SlowClient" {
						t.Errorf("closed with %v, want 1008 SlowClient", ce)
					}
					break
				}
				if err != nil {
					t.Fatalf("reading: %v, want the close frame", err)
				}
				if strings.Contains(string(b), `"event":"disconnected"`) {
					disconnected = string(b)
				}
			}
			if protocol != "" && !strings.Contains(disconnected, `"message":"SlowClient"`) {
				t.Errorf("disconnected message %q, want reason SlowClient", disconnected)
			}
		})
	}
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// A client allowed to send to its own group, that never reads, floods only
// itself: it is closed as slow, and another member gets every message it
// sent before that.
func TestSlowClient_SelfFlood(t *testing.T) {
	ts := newTestServiceWith(t, Options{MaxQueueBytes: 256 << 10})
	sender, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "flooder", []string{"webpubsub.sendToGroup"}, []string{"room"})
	member, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "member", nil, []string{"room"})
	data := strings.Repeat("x", 60<<10)
	var acked atomic.Int64
	done := make(chan struct{})
	go func() { // the member reads everything
		defer close(done)
		member.SetReadDeadline(time.Now().Add(hangGuard))
		for {
			_, b, err := member.ReadMessage()
			if err != nil {
				return
			}
			var m struct{ Data string }
			json.Unmarshal(b, &m)
			if m.Data != data {
				return
			}
			acked.Add(1)
		}
	}()
	sent := 0
	for ts.userConnected(t, "chat", "flooder") {
		writeJSON(t, sender, fmt.Sprintf(`{"type":"sendToGroup","group":"room","ackId":%d,"dataType":"text","data":%q}`, sent+1, data))
		sent++
		waitFor(t, func() bool { return acked.Load() >= int64(sent) || !ts.userConnected(t, "chat", "flooder") })
		if sent > 2000 {
			t.Fatal("the flooder was never closed")
		}
	}
	if n := acked.Load(); n < int64(sent)-1 {
		t.Errorf("the member got %d of the %d messages sent", n, sent)
	}
	if !ts.userConnected(t, "chat", "member") {
		t.Error("the member was closed too")
	}
	if ce := readClose(t, sender); ce.Code != websocket.ClosePolicyViolation || ce.Text != "SlowClient" {
		t.Errorf("the flooder was closed with %v, want 1008 SlowClient", ce)
	}
}

func TestKeepAlive_AnsweredPingsKeepAClient(t *testing.T) {
	ts := newTestServiceWith(t, Options{PingInterval: 20 * time.Millisecond, PingTimeout: 150 * time.Millisecond})
	ws := dial(t, ts.clientURL(t, "chat", "u", nil, nil), "")
	pings := make(chan struct{}, 100)
	ws.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(hangGuard))
	})
	go func() {
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}()
	// Ten pings answered span more than the ping timeout: a client that
	// answers pings and sends nothing else stays connected.
	start := time.Now()
	for i := 0; i < 10; i++ {
		select {
		case <-pings:
		case <-time.After(hangGuard):
			t.Fatalf("got %d pings, want 10", i)
		}
	}
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("the pings came faster than the interval")
	}
	if !ts.userConnected(t, "chat", "u") {
		t.Error("a client that answered every ping was closed")
	}
}

func TestKeepAlive_SilentClientsAreClosed(t *testing.T) {
	ts := newTestServiceWith(t, Options{PingInterval: 20 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	plain := dial(t, ts.clientURL(t, "chat", "p", nil, nil), "")
	jsonWS, _ := ts.connectJSON(t, reliableSubprotocol, "chat", "j", nil, nil)
	for _, ws := range []*websocket.Conn{plain, jsonWS} {
		var pinged atomic.Bool
		ws.SetPingHandler(func(string) error { pinged.Store(true); return nil }) // never answers
		ce := readClose(t, ws)
		if ce.Code != websocket.ClosePolicyViolation || ce.Text != "PingTimeout" || !pinged.Load() {
			t.Errorf("closed with %v (pinged: %v), want 1008 PingTimeout after pings", ce, pinged.Load())
		}
	}
	waitFor(t, func() bool {
		return !ts.userConnected(t, "chat", "p") && !ts.userConnected(t, "chat", "j")
	})
}

func TestCheckOptions(t *testing.T) {
	for _, bad := range []Options{
		{MaxQueueBytes: -1},
		{PingInterval: -time.Second},
		{PingInterval: time.Minute, PingTimeout: time.Minute},
		{PingInterval: 5 * time.Minute}, // longer than the default timeout
	} {
		if CheckOptions(bad) == nil {
			t.Errorf("CheckOptions(%+v) = nil", bad)
		}
	}
	if err := CheckOptions(Options{PingInterval: time.Second, PingTimeout: 3 * time.Second, MaxQueueBytes: 1}); err != nil {
		t.Error(err)
	}
}

func TestGenerateToken_Limits(t *testing.T) {
	ts := newTestService(t)
	for _, c := range []struct{ query, param, mention string }{
		{"minutesToExpire=1000000000000", "minutesToExpire", "minutesToExpire must be a whole number from 1 to 525600, not"},
		{"minutesToExpire=99999999999999999999999", "minutesToExpire", "from 1 to 525600"},
		{"minutesToExpire=0", "minutesToExpire", "from 1 to 525600"},
		{"minutesToExpire=1.5", "minutesToExpire", "from 1 to 525600"},
		{"userId=%FF", "userId", "valid UTF-8"},
		{"userId=" + strings.Repeat("u", 1025), "userId", "1025 characters; the limit is 1024"},
		{strings.Repeat("role=r&", 101), "role", "101 roles; the limit is 100"},
		{"role=", "role", "non-empty"},
		{strings.Repeat("group=g&", 101), "group", "101 groups; the limit is 100"},
		{"group=%20", "group", "whitespace"},
	} {
		resp := ts.call(t, "POST", "/api/hubs/chat/:generateToken?"+c.query, "", "")
		wantStatus(t, resp, http.StatusBadRequest)
		if !strings.Contains(resp.body, c.mention) || !strings.Contains(resp.body, "(Parameter '"+c.param+"')") {
			t.Errorf("%.40s: body %s, want %q about %s", c.query, resp.body, c.mention, c.param)
		}
	}
	resp := ts.call(t, "POST", "/api/hubs/chat/:generateToken?minutesToExpire=525600", "", "")
	wantStatus(t, resp, http.StatusOK)
	var body struct{ Token string }
	json.Unmarshal([]byte(resp.body), &body)
	claims, err := parseToken(body.Token, DevelopmentKey)
	if err != nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) != 525600*time.Minute {
		t.Errorf("a year's token: %v %+v", err, claims)
	}
}

// The REST audience is compared with the path as the client escaped it,
// case included below the hub; only scheme, host, query, a trailing slash
// and the hub's case are ignored (REST spec §4.1).
func TestAudience_REST(t *testing.T) {
	ts := newTestService(t)
	ts.connectJSON(t, jsonSubprotocol, "chat", "u", nil, nil)
	hour := time.Now().Add(time.Hour)
	try := func(method, path, audPath string) int {
		t.Helper()
		u := ts.server.URL + path + "?api-version=2024-12-01"
		return ts.callWithToken(t, method, u, "text/plain", "x", restToken(t, DevelopmentKey, "http://proxy.example"+audPath, hour)).StatusCode
	}
	for _, c := range []struct {
		method, path, aud string
		want              int
	}{
		{"POST", "/api/hubs/chat/groups/public/:send", "/api/hubs/chat/groups/public/:send", 202},
		{"POST", "/api/hubs/chat/groups/public/:send", "/api/hubs/CHAT/groups/public/:send/", 202},
		{"POST", "/api/hubs/chat/groups/public/:send", "/api/hubs/chat/groups/PUBLIC/:send", 401},
		{"POST", "/api/hubs/chat/groups/PUBLIC/:send", "/api/hubs/chat/groups/public/:send", 401},
		{"PUT", "/api/hubs/chat/users/u/groups/g", "/api/hubs/chat/users/u%2Fgroups%2Fg", 401},
		{"PUT", "/api/hubs/chat/users/u/groups/g", "/api/hubs/chat/users/u/groups/g", 200},
		{"HEAD", "/api/hubs/chat/users/u%2Fx", "/api/hubs/chat/users/u/x", 401},
		{"HEAD", "/api/hubs/chat/users/u%2Fx", "/api/hubs/chat/users/u%2Fx", 404},
		{"HEAD", "/api/hubs/chat/users/U", "/api/hubs/chat/users/u", 401},
		{"HEAD", "/api/hubs/chat/users/u", "/api/hubs/chat", 401},
	} {
		if got := try(c.method, c.path, c.aud); got != c.want {
			t.Errorf("%s %s with a token for %s: %d, want %d", c.method, c.path, c.aud, got, c.want)
		}
	}
}

// A client token's audience must be the hub's client URL.
func TestAudience_Client(t *testing.T) {
	ts := newTestService(t)
	base := "ws" + strings.TrimPrefix(ts.server.URL, "http") + "/client/hubs/chat?access_token="
	for _, c := range []struct {
		aud string
		ok  bool
	}{
		{"http://localhost:8080/client/hubs/chat", true},
		{"https://X.example/client/hubs/CHAT/", true},
		{"http://localhost:8080/client/hubs/chat?x=1", true},
		{"http://localhost:8080client/hubs/chat", true}, // a Java SDK's audience (REST spec §11)
		{"http://localhost:8080/api/xclient/hubs/chat", false},
		{"http://localhost:8080/xclient/hubs/chat", false},
		{"http://localhost:8080/prefix/client/hubs/chat", false},
		{"http://localhost:8080/client/hubs/chat/more", false},
		{"http://localhost:8080/client/hubs/chats", false},
		{"http://localhost:8080/clients/mqtt/hubs/chat", false},
		{"http://localhost/x/8080client/hubs/chat", false},
		{"client/hubs/chat", false},
	} {
		token, _ := signClientToken(DevelopmentKey, c.aud, "", nil, nil, time.Hour)
		ws, resp, err := dialRaw(base+token, jsonSubprotocol)
		if ws != nil {
			ws.Close()
		}
		if ok := err == nil; ok != c.ok {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Errorf("aud %s: connected %v (status %d), want %v", c.aud, ok, status, c.ok)
		}
	}
}

func TestMessages_MissingTokens(t *testing.T) {
	ts := newTestService(t)
	_, resp, _ := dialRaw(strings.Split(ts.clientURL(t, "chat", "", nil, nil), "?")[0], "")
	if resp == nil || resp.StatusCode != 401 {
		t.Fatalf("no token: %v", resp)
	}
	buf := make([]byte, 512)
	n, _ := resp.Body.Read(buf)
	if body := string(buf[:n]); !strings.Contains(body, "access_token query parameter") {
		t.Errorf("body %q does not name access_token", body)
	}
	rest := ts.callWithToken(t, "HEAD", ts.server.URL+"/api/hubs/chat/users/u?api-version=2024-12-01", "", "", "")
	wantStatus(t, rest, http.StatusUnauthorized)
	rest = ts.callWithToken(t, "DELETE", ts.server.URL+"/api/hubs/chat/users/u/groups?api-version=2024-12-01", "", "", "")
	if !strings.Contains(rest.body, "Authorization header") {
		t.Errorf("REST body %s does not name the Authorization header", rest.body)
	}
}

func TestMessages_FilterErrorsInTheServiceWording(t *testing.T) {
	ts := newTestService(t)
	for filter, want := range map[string]string{
		// The answer recorded from Azure, word for word.
		"invalid filter":          "Invalid syntax for 'invalid filter': Syntax error at position 14 in 'invalid filter'. (Parameter 'filter')",
		"userId eq":               "Invalid syntax for 'userId eq': Syntax error at position 9 in 'userId eq'. (Parameter 'filter')",
		"not length(userId) gt 5": "Invalid syntax for 'not length(userId)': Type 'int', expect 'bool'. (Parameter 'filter')",
		"foo eq 'a'":              "Invalid syntax for 'foo': Unknown identifier 'foo' (the identifiers are userId, connectionId and groups). (Parameter 'filter')",
	} {
		resp := ts.call(t, "POST", "/api/hubs/chat/:send?filter="+url.QueryEscape(filter), "text/plain", "x")
		wantStatus(t, resp, http.StatusBadRequest)
		var problem struct{ Message string }
		json.Unmarshal([]byte(resp.body), &problem)
		if problem.Message != want {
			t.Errorf("filter %q:\n got %s\nwant %s", filter, problem.Message, want)
		}
	}
	resp := ts.call(t, "POST", "/api/hubs/chat/:addToGroups", "application/json", `{"groups":"g"}`)
	wantStatus(t, resp, http.StatusBadRequest)
	if !strings.Contains(resp.body, "The field groups must be an array of strings, not a string.") || strings.Contains(resp.body, "Go struct") {
		t.Errorf("body %s", resp.body)
	}
}
