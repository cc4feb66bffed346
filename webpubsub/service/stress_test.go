package service

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// TestService_Concurrency runs clients publishing, joining and leaving while
// REST calls change groups and broadcast, under the race detector. Every
// client must get an ack for each of its requests: nothing deadlocks and
// nothing is lost.
func TestService_Concurrency(t *testing.T) {
	ts := newTestService(t)
	const clients, rounds = 8, 40
	roles := []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}
	var conns []*websocket.Conn
	for i := 0; i < clients; i++ {
		ws, _ := ts.connectJSON(t, reliableSubprotocol, "chat", fmt.Sprintf("u%d", i%3), roles, []string{"all"})
		conns = append(conns, ws)
	}

	var wg sync.WaitGroup
	for i, ws := range conns {
		var writing sync.Mutex // a gorilla client allows one writer at a time
		write := func(msg string) error {
			writing.Lock()
			defer writing.Unlock()
			return ws.WriteMessage(websocket.TextMessage, []byte(msg))
		}
		wg.Add(2)
		go func() { // requests
			defer wg.Done()
			for r := 1; r <= rounds; r++ {
				var msg string
				switch r % 3 {
				case 0:
					msg = fmt.Sprintf(`{"type":"joinGroup","group":"g%d","ackId":%d}`, r%4, r)
				case 1:
					msg = fmt.Sprintf(`{"type":"sendToGroup","group":"all","dataType":"text","data":"from %d","ackId":%d}`, i, r)
				default:
					msg = fmt.Sprintf(`{"type":"leaveGroup","group":"g%d","ackId":%d}`, r%4, r)
				}
				if err := write(msg); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() { // responses: count acks, acknowledge sequence ids
			defer wg.Done()
			acks := 0
			for acks < rounds {
				m := readJSON(t, ws)
				switch m["type"] {
				case "ack":
					if m["success"] != true {
						t.Errorf("client %d: %v", i, m)
					}
					acks++
				case "message":
					if err := write(fmt.Sprintf(`{"type":"sequenceAck","sequenceId":%v}`, m["sequenceId"])); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for r := 0; r < rounds; r++ {
		wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:send", "text/plain", "broadcast"), 202)
		wantStatus(t, ts.call(t, "PUT", fmt.Sprintf("/api/hubs/chat/users/u%d/groups/g%d", r%3, r%4), "", ""), 200)
		wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:removeFromGroups", "application/json", fmt.Sprintf(`{"groups":["g%d"],"filter":"userId ne 'u0'"}`, r%4)), 200)
		wantStatus(t, ts.call(t, "POST", fmt.Sprintf("/api/hubs/chat/groups/g%d/:send", r%4), "application/json", `{"r":1}`), 202)
		ts.call(t, "GET", "/api/hubs/chat/groups/all/connections?maxpagesize=3", "", "")
	}
	wg.Wait()
}
