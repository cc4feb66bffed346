package service

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestClient_ReliableRecoveryUnderLoad recovers a reliable connection while
// REST sends keep arriving, many times over: once while the old socket is
// still open (the recovery takes it over) and once after it dropped. The
// recovered socket must deliver every unacknowledged message exactly in
// sequence, with no gap: a client drops any sequenceId at or below the
// highest it has seen, so a message overtaken by a later one is lost.
func TestClient_ReliableRecoveryUnderLoad(t *testing.T) {
	ts := newTestService(t)
	const rounds, messages = 30, 40
	for _, oldSocketOpen := range []bool{true, false} {
		for round := range rounds {
			t.Run(fmt.Sprintf("oldSocketOpen=%v/%d", oldSocketOpen, round), func(t *testing.T) {
				user := fmt.Sprintf("r%v%d", oldSocketOpen, round)
				u := ts.clientURL(t, "chat", user, nil, nil)
				ws := dial(t, u, reliableSubprotocol)
				connected := readJSON(t, ws)
				id, token := connected["connectionId"].(string), connected["reconnectionToken"].(string)

				// Messages 1 to messages/2 go out before the recovery,
				// the rest while it happens.
				sendURL := ts.server.URL + "/api/hubs/chat/users/" + user + "/:send?api-version=2024-12-01"
				sent := make(chan error, 1)
				send := func(from, to int) error {
					for i := from; i <= to; i++ {
						req, _ := http.NewRequest("POST", sendURL, strings.NewReader(fmt.Sprint(i)))
						req.Header.Set("Content-Type", "text/plain")
						req.Header.Set("Authorization", "Bearer "+restToken(t, DevelopmentKey, sendURL, time.Now().Add(time.Hour)))
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							return err
						}
						resp.Body.Close()
						if resp.StatusCode != http.StatusAccepted {
							return fmt.Errorf("send %d: status %d", i, resp.StatusCode)
						}
					}
					return nil
				}
				if err := send(1, messages/2); err != nil {
					t.Fatal(err)
				}
				if m := readJSON(t, ws); m["sequenceId"] != float64(1) {
					t.Fatalf("first message = %v", m)
				}
				writeJSON(t, ws, `{"type":"sequenceAck","sequenceId":1}`)
				writeJSON(t, ws, `{"type":"ping"}`)
				for m := readJSON(t, ws); m["type"] != "pong"; m = readJSON(t, ws) {
				}
				if !oldSocketOpen {
					ws.NetConn().Close()
					waitRecovering(t, ts.Service, id)
				}
				go func() { sent <- send(messages/2+1, messages) }()
				recovered := dial(t, u+"&awps_connection_id="+id+"&awps_reconnection_token="+token, reliableSubprotocol)
				for want := 2; want <= messages; want++ {
					m := readJSON(t, recovered)
					if m["sequenceId"] != float64(want) || m["data"] != fmt.Sprint(want) {
						t.Fatalf("recovered socket: got %v, want sequenceId %d", m, want)
					}
				}
				if err := <-sent; err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestClient_ReliableClientCloseEndsConnection: a reliable client that
// sends a close frame has stopped on purpose, whatever its code (the
// JavaScript client's stop() sends one without a status code), so the
// service ends the connection at once instead of waiting for a recovery.
func TestClient_ReliableClientCloseEndsConnection(t *testing.T) {
	ts := newTestService(t)
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"NoStatus", []byte{}},
		{"Normal", websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")},
		{"GoingAway", websocket.FormatCloseMessage(websocket.CloseGoingAway, "")},
		{"AppCode", websocket.FormatCloseMessage(4000, "done")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, connected := ts.connectJSON(t, reliableSubprotocol, "chat", "stopper", nil, []string{"room" + tc.name})
			id := connected["connectionId"].(string)
			if err := ws.WriteControl(websocket.CloseMessage, tc.frame, time.Now().Add(hangGuard)); err != nil {
				t.Fatal(err)
			}
			readClose(t, ws)
			waitGoneService(t, ts.Service, id)
			wantStatus(t, ts.call(t, "HEAD", "/api/hubs/chat/groups/room"+tc.name, "", ""), 404)
		})
	}
}
