package service

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestClient_Handshake(t *testing.T) {
	ts := newTestService(t)
	base := "ws" + strings.TrimPrefix(ts.server.URL, "http")
	expired, _ := signClientToken(DevelopmentKey, ts.server.URL+"/client/hubs/chat", "", nil, nil, -time.Hour)
	otherHub, _ := signClientToken(DevelopmentKey, ts.server.URL+"/client/hubs/other", "", nil, nil, time.Hour)
	wrongKey, _ := signClientToken("some other key", ts.server.URL+"/client/hubs/chat", "", nil, nil, time.Hour)
	refused := []struct {
		name, url string
		status    int
	}{
		{"no token", base + "/client/hubs/chat", 401},
		{"expired", base + "/client/hubs/chat?access_token=" + expired, 401},
		{"token of another hub", base + "/client/hubs/chat?access_token=" + otherHub, 401},
		{"wrong key", base + "/client/hubs/chat?access_token=" + wrongKey, 401},
		{"garbage token", base + "/client/hubs/chat?access_token=abc", 401},
		{"bad hub", base + "/client/hubs/9lives", 400},
		{"no hub", base + "/client/", 404},
	}
	for _, c := range refused {
		_, resp, err := dialRaw(c.url, jsonSubprotocol)
		if err == nil || resp == nil || resp.StatusCode != c.status {
			t.Errorf("%s: err %v, response %v; want status %d", c.name, err, resp, c.status)
		}
	}

	// Not a WebSocket request.
	resp, err := http.Get(ts.server.URL + "/client/hubs/chat")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("plain GET: status %d, want 400", resp.StatusCode)
	}

	// The token in an Authorization header, the hub in the query, and a
	// hub name in another case than the token's.
	token, _ := signClientToken(DevelopmentKey, "http://localhost:8080/client/hubs/Chat", "u1", nil, nil, time.Hour)
	dialer := websocket.Dialer{Subprotocols: []string{jsonSubprotocol}, HandshakeTimeout: hangGuard}
	ws, resp, err := dialer.Dial(base+"/client/?hub=chat", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatalf("dial with header token: %v", err)
	}
	defer ws.Close()
	if resp.Header.Get("Sec-WebSocket-Protocol") != jsonSubprotocol {
		t.Errorf("subprotocol not echoed: %v", resp.Header)
	}
	if m := readJSON(t, ws); m["userId"] != "u1" {
		t.Errorf("connected = %v", m)
	}
}

func TestClient_Subprotocols(t *testing.T) {
	ts := newTestService(t)
	for _, c := range []struct {
		offered []string
		want    string
	}{
		{nil, ""},
		{[]string{"protobuf.webpubsub.azure.v1"}, ""},
		{[]string{jsonSubprotocol}, jsonSubprotocol},
		{[]string{reliableSubprotocol}, reliableSubprotocol},
		{[]string{"mqtt", reliableSubprotocol, jsonSubprotocol}, reliableSubprotocol},
	} {
		dialer := websocket.Dialer{Subprotocols: c.offered, HandshakeTimeout: hangGuard}
		ws, resp, err := dialer.Dial(ts.clientURL(t, "chat", "", nil, nil), nil)
		if err != nil {
			t.Fatalf("%v: %v", c.offered, err)
		}
		if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != c.want {
			t.Errorf("offered %v: chose %q, want %q", c.offered, got, c.want)
		}
		if c.want != "" {
			m := readJSON(t, ws)
			_, hasToken := m["reconnectionToken"]
			id, _ := m["connectionId"].(string)
			if m["event"] != "connected" || m["userId"] != nil || len(id) != 31 || hasToken != (c.want == reliableSubprotocol) {
				t.Errorf("%s connected = %v", c.want, m)
			}
			if _, ok := m["userId"]; !ok {
				t.Errorf("connected has no userId: %v", m)
			}
		}
		ws.Close()
	}
}

func TestClient_Groups(t *testing.T) {
	ts := newTestService(t)
	anon, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "", nil, nil)
	alice, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "alice", []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}, nil)
	bob, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "bob", []string{"webpubsub.joinLeaveGroup.room", "webpubsub.sendToGroup.room"}, []string{"lobby"})
	plain := dial(t, ts.clientURL(t, "chat", "carol", nil, []string{"room"}), "")

	// No role: join, leave and send are forbidden, with the error named.
	writeJSON(t, anon, `{"type":"joinGroup","group":"room","ackId":1}`)
	jsonEqual(t, mustRead(t, anon), `{"type":"ack","ackId":1,"success":false,"error":{"name":"Forbidden","message":"The client has no permission to join group 'room'."}}`)
	writeJSON(t, anon, `{"type":"leaveGroup","group":"room","ackId":2}`)
	jsonEqual(t, mustRead(t, anon), `{"type":"ack","ackId":2,"success":false,"error":{"name":"Forbidden","message":"The client has no permission to leave group 'room'."}}`)
	writeJSON(t, anon, `{"type":"sendToGroup","group":"room","data":"hi","ackId":3}`)
	jsonEqual(t, mustRead(t, anon), `{"type":"ack","ackId":3,"success":false,"error":{"name":"Forbidden","message":"The client has no permission to send message to group 'room'."}}`)
	// Without ackId a forbidden request is dropped silently; ping shows
	// nothing else came back.
	writeJSON(t, anon, `{"type":"joinGroup","group":"room"}`)
	writeJSON(t, anon, `{"type":"ping"}`)
	jsonEqual(t, mustRead(t, anon), `{"type":"pong"}`)
	wantStatus(t, ts.call(t, "HEAD", "/api/hubs/chat/users/bob", "", ""), 200)

	// Roles for one group cover that group only.
	writeJSON(t, bob, `{"type":"joinGroup","group":"other","ackId":1}`)
	if ack := readJSON(t, bob); ack["success"] != false {
		t.Errorf("bob joined other: %v", ack)
	}
	writeJSON(t, bob, `{"type":"joinGroup","group":"room","ackId":2}`)
	jsonEqual(t, mustRead(t, bob), `{"type":"ack","ackId":2,"success":true}`)
	writeJSON(t, alice, `{"type":"joinGroup","group":"room","ackId":1}`)
	jsonEqual(t, mustRead(t, alice), `{"type":"ack","ackId":1,"success":true}`)

	// A group message reaches every member in its format, the sender too
	// unless noEcho.
	writeJSON(t, alice, `{"type":"sendToGroup","group":"room","dataType":"json","data":{"n": 1},"ackId":2}`)
	for _, ws := range []*websocket.Conn{alice, bob} {
		jsonEqual(t, mustRead(t, ws), `{"type":"message","from":"group","fromUserId":"alice","group":"room","dataType":"json","data":{"n":1}}`)
	}
	jsonEqual(t, mustRead(t, alice), `{"type":"ack","ackId":2,"success":true}`)
	if kind, b := readFrame(t, plain); kind != websocket.TextMessage || string(b) != `{"n":1}` {
		t.Errorf("plain client got %d %q", kind, b)
	}
	writeJSON(t, bob, `{"type":"sendToGroup","group":"room","dataType":"binary","data":"AAEC","noEcho":true,"ackId":3}`)
	jsonEqual(t, mustRead(t, bob), `{"type":"ack","ackId":3,"success":true}`)
	jsonEqual(t, mustRead(t, alice), `{"type":"message","from":"group","fromUserId":"bob","group":"room","dataType":"binary","data":"AAEC"}`)
	if kind, b := readFrame(t, plain); kind != websocket.BinaryMessage || string(b) != "\x00\x01\x02" {
		t.Errorf("plain client got %d %q", kind, b)
	}

	// A resent ackId is not executed twice.
	writeJSON(t, bob, `{"type":"sendToGroup","group":"room","dataType":"text","data":"once","noEcho":true,"ackId":3}`)
	jsonEqual(t, mustRead(t, bob), `{"type":"ack","ackId":3,"success":false,"error":{"name":"Duplicate","message":"Message with ack-id: 3 has been processed"}}`)

	// Leaving stops delivery: alice leaves, bob sends, only carol gets it.
	writeJSON(t, alice, `{"type":"leaveGroup","group":"room","ackId":3}`)
	jsonEqual(t, mustRead(t, alice), `{"type":"ack","ackId":3,"success":true}`)
	writeJSON(t, bob, `{"type":"sendToGroup","group":"room","dataType":"text","data":"after","noEcho":true}`)
	if _, b := readFrame(t, plain); string(b) != "after" {
		t.Errorf("plain client got %q", b)
	}
	writeJSON(t, alice, `{"type":"ping"}`)
	jsonEqual(t, mustRead(t, alice), `{"type":"pong"}`)

	// The token's groups were joined without any role.
	wantStatus(t, ts.call(t, "HEAD", "/api/hubs/chat/groups/lobby", "", ""), 200)
}

func TestClient_WildcardRoles(t *testing.T) {
	ts := newTestService(t)
	ws, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "", []string{`webpubsub.joinLeaveGroups.team.*`}, nil)
	for i, c := range []struct {
		group string
		ok    bool
	}{{"team.a", true}, {"team.", true}, {"team.a.b", false}, {"teams", false}} {
		writeJSON(t, ws, `{"type":"joinGroup","group":"`+c.group+`","ackId":`+string(rune('1'+i))+`}`)
		if ack := readJSON(t, ws); ack["success"] != c.ok {
			t.Errorf("join %q: %v", c.group, ack)
		}
	}
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"**", "a.b.c", true}, {"a.**", "a.b.c", true}, {"a?c", "abc", true}, {"a?c", "a.c", false},
		{`a\*`, "a*", true}, {`a\*`, "ab", false}, {"*.x", "y.x", true}, {"*", "", true},
	} {
		if got := matchGroupPattern(c.pattern, c.name); got != c.want {
			t.Errorf("matchGroupPattern(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
}

func TestClient_EventWithoutHandler(t *testing.T) {
	ts := newTestService(t)
	ws, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "", nil, nil)
	writeJSON(t, ws, `{"type":"event","event":"chat.message","dataType":"text","data":"hi","ackId":7}`)
	jsonEqual(t, mustRead(t, ws), `{"type":"ack","ackId":7,"success":true}`)
}

func TestClient_InvalidMessages(t *testing.T) {
	ts := newTestService(t)
	for _, c := range []struct{ message, mention string }{
		{`not json`, "The message is not valid JSON: invalid character 'o' in literal null (expecting 'u') (at byte 2)."},
		{`{"type":"dance"}`, `The message type "dance" is not supported.`},
		{`{"group":"g"}`, "The message has no type"},
		{`{"type":"joinGroup"}`, "joinGroup: invalid group name: it must not be empty."},
		{`{"type":"sendToGroup","group":"g","dataType":"text","data":5}`, "JSON string"},
		{`{"type":"sendToGroup","group":"g","dataType":"binary","data":"%%%"}`, "base64"},
		{`{"type":"event","event":"1bad","data":"x"}`, "event name"},
		{`{"type":"joinGroup","group":"g","ackId":-1}`, "The field ackId must be a whole number from 0 to 18446744073709551615, not -1."},
		{`{"type":"joinGroup","group":"g","ackId":"1"}`, "The field ackId must be a whole number from 0 to 18446744073709551615, not a string."},
		{`{"type":"joinGroup","group":["g"]}`, "The field group must be a string, not an array."},
		{`{"type":"sendToGroup","group":"g","noEcho":1,"data":1}`, "The field noEcho must be true or false, not a number."},
		{`[1]`, "The message must be a JSON object, not an array."},
		{`{"type":"ping"`, "The message is not complete JSON: it ends too soon."},
	} {
		ws, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "", nil, nil)
		writeJSON(t, ws, c.message)
		m := readJSON(t, ws)
		if m["event"] != "disconnected" || !strings.Contains(m["message"].(string), c.mention) {
			t.Errorf("%s: got %v, want a disconnected message mentioning %q", c.message, m, c.mention)
		}
		ce := readClose(t, ws)
		if ce.Code != websocket.CloseInvalidFramePayloadData || !strings.Contains(ce.Text, c.mention) {
			t.Errorf("%s: closed with %v, want 1007 mentioning %q", c.message, ce, c.mention)
		}
		for _, internal := range []string{"Go struct", "clientMessage", "json:", "uint64"} {
			if strings.Contains(ce.Text, internal) {
				t.Errorf("%s: the close reason %q shows Go internals (%s)", c.message, ce.Text, internal)
			}
		}
	}
}

func TestClient_PlainFrameWithoutHandler(t *testing.T) {
	ts := newTestService(t)
	ws := dial(t, ts.clientURL(t, "chat", "", nil, nil), "")
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if ce := readClose(t, ws); ce.Code != websocket.CloseNormalClosure || !strings.Contains(ce.Text, "event handler") {
		t.Errorf("closed with %v", ce)
	}
}

func TestClient_FrameTooLarge(t *testing.T) {
	ts := newTestService(t)
	ws, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "", nil, nil)
	big := `{"type":"event","event":"e","dataType":"text","data":"` + strings.Repeat("x", maxFrameSize) + `"}`
	writeJSON(t, ws, big)
	if ce := readClose(t, ws); ce.Code != websocket.CloseMessageTooBig {
		t.Errorf("closed with %v, want 1009", ce)
	}
}

func TestClient_Reliable(t *testing.T) {
	ts := newTestService(t)
	u := ts.clientURL(t, "chat", "r1", nil, nil)
	ws := dial(t, u, reliableSubprotocol)
	connected := readJSON(t, ws)
	id, token := connected["connectionId"].(string), connected["reconnectionToken"].(string)

	send := func(text string) {
		wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/users/r1/:send", "text/plain", text), 202)
	}
	for i, text := range []string{"one", "two", "three"} {
		send(text)
		m := readJSON(t, ws)
		if m["sequenceId"] != float64(i+1) || m["data"] != text {
			t.Fatalf("message %d = %v", i+1, m)
		}
	}
	// Acks and pongs carry no sequenceId; a sequenceAck of 0 is accepted.
	writeJSON(t, ws, `{"type":"sequenceAck","sequenceId":0}`)
	writeJSON(t, ws, `{"type":"ping"}`)
	jsonEqual(t, mustRead(t, ws), `{"type":"pong"}`)

	// The client acknowledges up to 1, then its socket drops without a close.
	writeJSON(t, ws, `{"type":"sequenceAck","sequenceId":1}`)
	writeJSON(t, ws, `{"type":"ping"}`) // the ack is handled before the pong comes back
	jsonEqual(t, mustRead(t, ws), `{"type":"pong"}`)
	ws.NetConn().Close()

	// The connection survives, keeps receiving, and replays 2, 3 and 4 on
	// recovery with the old (even expired) URL plus the recovery parameters.
	waitRecovering(t, ts.Service, id)
	wantStatus(t, ts.call(t, "HEAD", "/api/hubs/chat/connections/"+id, "", ""), 200)
	send("four")
	recovered := dial(t, u+"&awps_connection_id="+id+"&awps_reconnection_token="+token, reliableSubprotocol)
	for i, text := range []string{"two", "three", "four"} {
		m := readJSON(t, recovered)
		if m["sequenceId"] != float64(i+2) || m["data"] != text || m["type"] != "message" {
			t.Fatalf("replayed message %d = %v", i+2, m)
		}
	}
	send("five")
	if m := readJSON(t, recovered); m["sequenceId"] != float64(5) {
		t.Errorf("after recovery: %v", m)
	}

	// A wrong token cannot take the connection over: 1008.
	bad := dial(t, u+"&awps_connection_id="+id+"&awps_reconnection_token=wrong", reliableSubprotocol)
	if ce := readClose(t, bad); ce.Code != websocket.ClosePolicyViolation || ce.Text != "The connection could not be recovered." {
		t.Errorf("bad recovery closed with %v", ce)
	}
	// A normal close by the client ends the session; it cannot be recovered.
	recovered.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(hangGuard))
	readClose(t, recovered)
	waitGoneService(t, ts.Service, id)
	again := dial(t, u+"&awps_connection_id="+id+"&awps_reconnection_token="+token, reliableSubprotocol)
	if ce := readClose(t, again); ce.Code != websocket.ClosePolicyViolation {
		t.Errorf("recovery after a normal close: %v", ce)
	}
}

// waitRecovering waits until the service has seen the socket of connection
// id drop.
func waitRecovering(t *testing.T, s *Service, id string) {
	t.Helper()
	waitFor(t, func() bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		for _, h := range s.hubs {
			if c := h.connections[id]; c != nil {
				c.mu.Lock()
				defer c.mu.Unlock()
				return c.sock == nil
			}
		}
		return false
	})
}

// waitGoneService waits until connection id has left its hub.
func waitGoneService(t *testing.T, s *Service, id string) {
	t.Helper()
	waitFor(t, func() bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		for _, h := range s.hubs {
			if h.connections[id] != nil {
				return false
			}
		}
		return true
	})
}

// waitFor polls cond until it holds, failing after hangGuard.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestClient_ReliableBufferFull(t *testing.T) {
	ts := newTestService(t)
	ws, _ := ts.connectJSON(t, reliableSubprotocol, "chat", "full", nil, nil)
	for i := 0; i <= maxUnacked; i++ {
		wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/users/full/:send", "text/plain", "x"), 202)
	}
	ce := readClose(t, ws)
	if ce.Code != websocket.ClosePolicyViolation || ce.Text != "The reliable message buffer is full." {
		t.Errorf("closed with %v", ce)
	}
}
