package wsclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// fakeHub is a minimal Web PubSub client endpoint for tests. It accepts the
// token "good" (and the user named by the "user" query parameter), speaks
// the three protocols and keeps reliable sessions for recovery. Groups with
// special names script its answers:
//
//	joinGroup "forbidden": negative ack Forbidden
//	joinGroup "silent":    no ack at all
//	joinGroup "flaky":     the join is done, then the socket drops before the ack
//	event "echo":          a server message with the same data, then the ack
//	event "boom":          negative ack InternalServerError
//
// A raw connection gets every frame back.
type fakeHub struct {
	t   *testing.T
	srv *httptest.Server

	mu                 sync.Mutex
	sessions           map[string]*fakeSession
	nextID             int
	noSubprotocolEcho  bool   // answer the upgrade without the subprotocol
	firstFrame         string // sent instead of the connected message
	silent             bool   // send no connected message
	refuseRecovery     bool   // close recovered sockets with 1008
	recoveryStatus     int    // answer recovery requests with this HTTP status
	ignoreSequenceAcks bool   // keep replaying everything
	recoveries         int
	recoveryTokens     []string // access_token seen on each recovery
	closeCodes         []int    // close codes the clients sent
}

// fakeSession is one client connection of the fakeHub.
type fakeSession struct {
	id, user, token string
	reliable        bool
	ws              *websocket.Conn // nil while dropped
	groups          map[string]bool
	doneAcks        map[uint64]bool // ack ids already processed
	seq             uint64
	unacked         []fakeFrame
	lastSeqAck      uint64
}

type fakeFrame struct {
	seq   uint64
	frame []byte
}

func newFakeHub(t *testing.T) *fakeHub {
	h := &fakeHub{t: t, sessions: map[string]*fakeSession{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

// url is the client URL of the hub with the given token and user.
func (h *fakeHub) url(token, user string) string {
	return "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/client/hubs/chat?access_token=" + token + "&user=" + user
}

func (h *fakeHub) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	h.mu.Lock()
	status := h.recoveryStatus
	h.mu.Unlock()
	if status != 0 && q.Get("awps_connection_id") != "" {
		http.Error(w, "service unavailable", status)
		return
	}
	if q.Get("access_token") != "good" {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	var sub string
	for _, p := range websocket.Subprotocols(r) {
		if p == subprotocols[ProtocolJSON] || p == subprotocols[ProtocolReliable] {
			sub = p
			break
		}
	}
	var header http.Header
	h.mu.Lock()
	if sub != "" && !h.noSubprotocolEcho {
		header = http.Header{"Sec-Websocket-Protocol": {sub}}
	}
	h.mu.Unlock()
	upgrader := websocket.Upgrader{}
	ws, err := upgrader.Upgrade(w, r, header)
	if err != nil {
		return
	}
	ws.SetCloseHandler(func(code int, text string) error {
		h.mu.Lock()
		h.closeCodes = append(h.closeCodes, code)
		h.mu.Unlock()
		return nil
	})

	h.mu.Lock()
	var s *fakeSession
	if id := q.Get("awps_connection_id"); id != "" {
		h.recoveries++
		h.recoveryTokens = append(h.recoveryTokens, q.Get("access_token"))
		s = h.sessions[id]
		if h.refuseRecovery || s == nil || s.token != q.Get("awps_reconnection_token") {
			h.mu.Unlock()
			ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "The connection could not be recovered."))
			ws.Close()
			return
		}
		s.ws = ws
		for _, f := range s.unacked {
			ws.WriteMessage(websocket.TextMessage, f.frame)
		}
	} else {
		h.nextID++
		s = &fakeSession{
			id: fmt.Sprintf("conn%d", h.nextID), user: q.Get("user"), token: fmt.Sprintf("token%d", h.nextID),
			reliable: sub == subprotocols[ProtocolReliable], ws: ws,
			groups: map[string]bool{}, doneAcks: map[uint64]bool{},
		}
		h.sessions[s.id] = s
		switch {
		case h.silent:
		case h.firstFrame != "":
			ws.WriteMessage(websocket.TextMessage, []byte(h.firstFrame))
		case sub != "":
			connected := map[string]any{"type": "system", "event": "connected", "connectionId": s.id, "userId": nil}
			if s.user != "" {
				connected["userId"] = s.user
			}
			if s.reliable {
				connected["reconnectionToken"] = s.token
			}
			h.writeJSON(ws, connected)
		}
	}
	h.mu.Unlock()

	for {
		kind, frame, err := ws.ReadMessage()
		if err != nil {
			h.mu.Lock()
			if s.ws == ws {
				s.ws = nil
			}
			h.mu.Unlock()
			return
		}
		h.mu.Lock()
		if sub == "" {
			ws.WriteMessage(kind, frame)
		} else {
			h.handle(s, frame)
		}
		h.mu.Unlock()
	}
}

// handle answers one request of a JSON-protocol client. The caller holds h.mu.
func (h *fakeHub) handle(s *fakeSession, frame []byte) {
	var req struct {
		Type       string          `json:"type"`
		Group      string          `json:"group"`
		Event      string          `json:"event"`
		AckID      uint64          `json:"ackId"`
		DataType   string          `json:"dataType"`
		Data       json.RawMessage `json:"data"`
		NoEcho     bool            `json:"noEcho"`
		SequenceID uint64          `json:"sequenceId"`
	}
	if err := json.Unmarshal(frame, &req); err != nil {
		h.t.Errorf("fake hub: bad frame %q: %v", frame, err)
		return
	}
	if req.Type == "sequenceAck" {
		s.lastSeqAck = req.SequenceID
		if !h.ignoreSequenceAcks {
			for len(s.unacked) > 0 && s.unacked[0].seq <= req.SequenceID {
				s.unacked = s.unacked[1:]
			}
		}
		return
	}
	if s.doneAcks[req.AckID] {
		h.ack(s, req.AckID, "Duplicate", fmt.Sprintf("Message with ack-id: %d has been processed", req.AckID))
		return
	}
	switch {
	case req.Type == "joinGroup" && req.Group == "forbidden":
		h.ack(s, req.AckID, "Forbidden", "The client has no permission to join group 'forbidden'.")
		return
	case req.Type == "joinGroup" && req.Group == "silent":
		return
	case req.Type == "joinGroup" && req.Group == "flaky":
		s.groups[req.Group] = true
		s.doneAcks[req.AckID] = true
		s.ws.NetConn().Close()
		return
	case req.Type == "joinGroup":
		s.groups[req.Group] = true
	case req.Type == "leaveGroup":
		delete(s.groups, req.Group)
	case req.Type == "sendToGroup":
		for _, other := range h.sessions {
			if other.groups[req.Group] && !(req.NoEcho && other == s) {
				h.deliver(other, map[string]any{"type": "message", "from": "group", "group": req.Group,
					"fromUserId": s.user, "dataType": req.DataType, "data": req.Data})
			}
		}
	case req.Type == "event" && req.Event == "echo":
		h.deliver(s, map[string]any{"type": "message", "from": "server", "dataType": req.DataType, "data": req.Data})
	case req.Type == "event" && req.Event == "boom":
		h.ack(s, req.AckID, "InternalServerError", "the handler failed")
		return
	case req.Type == "event":
	default:
		h.t.Errorf("fake hub: unexpected request %s", frame)
		return
	}
	s.doneAcks[req.AckID] = true
	h.ack(s, req.AckID, "", "")
}

// ack answers request ackID; errName "" is a success. The caller holds h.mu.
func (h *fakeHub) ack(s *fakeSession, ackID uint64, errName, errMessage string) {
	if ackID == 0 {
		return
	}
	ack := map[string]any{"type": "ack", "ackId": ackID, "success": errName == ""}
	if errName != "" {
		ack["error"] = map[string]string{"name": errName, "message": errMessage}
	}
	h.writeJSON(s.ws, ack)
}

// deliver sends a data message to s, numbering and keeping it when s is
// reliable. The caller holds h.mu.
func (h *fakeHub) deliver(s *fakeSession, msg map[string]any) {
	if s.reliable {
		s.seq++
		msg["sequenceId"] = s.seq
	}
	frame, err := json.Marshal(msg)
	if err != nil {
		h.t.Fatal(err)
	}
	if s.reliable {
		s.unacked = append(s.unacked, fakeFrame{s.seq, frame})
	}
	if s.ws != nil {
		s.ws.WriteMessage(websocket.TextMessage, frame)
	}
}

// writeJSON writes v as a text frame. The caller holds h.mu.
func (h *fakeHub) writeJSON(ws *websocket.Conn, v any) {
	if ws == nil {
		return
	}
	frame, err := json.Marshal(v)
	if err != nil {
		h.t.Fatal(err)
	}
	ws.WriteMessage(websocket.TextMessage, frame)
}

// sendToConnection delivers a server text message to connection id.
func (h *fakeHub) sendToConnection(id, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	data, _ := json.Marshal(text)
	h.deliver(h.sessions[id], map[string]any{"type": "message", "from": "server", "dataType": "text", "data": json.RawMessage(data)})
}

// drop cuts the socket of connection id without a close frame.
func (h *fakeHub) drop(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ws := h.sessions[id].ws; ws != nil {
		ws.NetConn().Close()
		h.sessions[id].ws = nil
	}
}

// disconnect sends the disconnected system message to connection id and
// closes its socket with code 1000.
func (h *fakeHub) disconnect(id, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[id]
	h.writeJSON(s.ws, map[string]any{"type": "system", "event": "disconnected", "message": reason})
	s.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, reason))
	s.ws.Close()
}

// session returns a copy of connection id's state for assertions.
func (h *fakeHub) session(id string) fakeSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	return *h.sessions[id]
}

// recoveryCount returns how many recoveries clients attempted.
func (h *fakeHub) recoveryCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.recoveries
}
