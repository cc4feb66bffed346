package wsclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"
)

// gatedDialer returns a dialer whose dials after the first wait until gate
// is closed, and a counter of its dials.
func gatedDialer(gate <-chan struct{}) (*websocket.Dialer, *atomic.Int32) {
	var dials atomic.Int32
	return &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) > 1 {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}, &dials
}

func TestConn_reliableRecovery(t *testing.T) {
	h := newFakeHub(t)
	h.ignoreSequenceAcks = true // the hub replays everything, so the client must drop what it has seen
	c := dial(t, h.url("good", "alice"), ProtocolReliable, nil)
	id := c.ConnectionID()
	for _, text := range []string{"1", "2"} {
		h.sendToConnection(id, text)
	}
	for i, want := range []string{"1", "2"} {
		if m := receive(t, c); string(m.Data) != want || m.SequenceID != uint64(i+1) {
			t.Errorf("received %q #%d, want %q #%d", m.Data, m.SequenceID, want, i+1)
		}
	}
	eventually(t, "the hub gets sequenceAck 2", func() bool { return h.session(id).lastSeqAck == 2 })

	h.drop(id)
	h.sendToConnection(id, "3") // while the socket is down: buffered by the hub
	if m := receive(t, c); string(m.Data) != "3" || m.SequenceID != 3 {
		t.Errorf("after recovery received %q #%d, want 3 #3 (1 and 2 are replays)", m.Data, m.SequenceID)
	}
	if c.ConnectionID() != id {
		t.Errorf("connection id changed to %q", c.ConnectionID())
	}
	h.mu.Lock()
	recoveries, tokens := h.recoveries, h.recoveryTokens
	h.mu.Unlock()
	if recoveries != 1 || tokens[0] != "good" {
		t.Errorf("%d recoveries with tokens %q, want 1 with the original access_token", recoveries, tokens)
	}
	eventually(t, "the hub gets sequenceAck 3", func() bool { return h.session(id).lastSeqAck == 3 })

	// Requests work on the new socket.
	if err := c.JoinGroup(testContext(t), "chat"); err != nil {
		t.Errorf("JoinGroup after recovery: %v", err)
	}
}

func TestConn_reliableResendsPendingRequests(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolReliable, nil)
	// The hub joins, then drops the socket before acking; the client
	// recovers and sends the join again, which the hub answers Duplicate.
	if err := c.JoinGroup(testContext(t), "flaky"); err != nil {
		t.Fatalf("JoinGroup over a dropped socket: %v", err)
	}
	if h.recoveryCount() != 1 {
		t.Errorf("%d recoveries, want 1", h.recoveryCount())
	}
}

func TestConn_reliableRecoveryRefused(t *testing.T) {
	h := newFakeHub(t)
	h.refuseRecovery = true
	c := dial(t, h.url("good", "alice"), ProtocolReliable, nil)
	h.sendToConnection(c.ConnectionID(), "before")
	if m := receive(t, c); string(m.Data) != "before" {
		t.Fatalf("received %q", m.Data)
	}
	h.drop(c.ConnectionID())
	_, err := c.Receive(testContext(t))
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "close 1008") || !strings.Contains(err.Error(), "could not be recovered") {
		t.Errorf("Receive after refused recovery: %v, want ErrClosed with close 1008", err)
	}
}

func TestConn_reliableNoRecoveryAfterDisconnected(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolReliable, nil)
	h.disconnect(c.ConnectionID(), "bye")
	if m := receive(t, c); m.Event != "disconnected" {
		t.Errorf("received %+v, want the disconnected message", m)
	}
	if _, err := c.Receive(testContext(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Receive: %v, want ErrClosed", err)
	}
	if h.recoveryCount() != 0 {
		t.Errorf("%d recoveries, want none", h.recoveryCount())
	}
}

func TestConn_jsonNoRecovery(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolJSON, nil)
	h.drop(c.ConnectionID())
	if _, err := c.Receive(testContext(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Receive after a drop: %v, want ErrClosed", err)
	}
	if h.recoveryCount() != 0 {
		t.Errorf("%d recoveries on a json connection, want none", h.recoveryCount())
	}
}

func TestConn_reliableRecoveryTimeout(t *testing.T) {
	h := newFakeHub(t)
	h.recoveryStatus = http.StatusServiceUnavailable
	// The first failed attempt leaves less than the retry interval, so the
	// connection gives up at once.
	c := dial(t, h.url("good", "alice"), ProtocolReliable, &Options{RecoveryTimeout: 1})
	h.drop(c.ConnectionID())
	_, err := c.Receive(testContext(t))
	var he *HandshakeError
	if !errors.Is(err, ErrClosed) || !errors.As(err, &he) || he.StatusCode != 503 || !strings.Contains(err.Error(), "reconnecting failed") {
		t.Errorf("Receive: %v, want ErrClosed after a failed reconnection (503)", err)
	}
}

func TestConn_requestWhileReconnecting(t *testing.T) {
	h := newFakeHub(t)
	gate := make(chan struct{})
	dialer, dials := gatedDialer(gate)
	c := dial(t, h.url("good", "alice"), ProtocolReliable, &Options{Dialer: dialer})
	h.drop(c.ConnectionID())
	eventually(t, "the client tries to reconnect", func() bool { return dials.Load() == 2 })

	// A request waits for the new socket, and gives up with its context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.JoinGroup(ctx, "chat"); !errors.Is(err, context.Canceled) {
		t.Errorf("JoinGroup while reconnecting, cancelled: %v, want context.Canceled", err)
	}
	done := make(chan error)
	go func() { done <- c.JoinGroup(testContext(t), "chat") }()
	close(gate)
	if err := <-done; err != nil {
		t.Errorf("JoinGroup across the reconnection: %v", err)
	}
	if !h.session(c.ConnectionID()).groups["chat"] {
		t.Error("the hub does not have the connection in chat")
	}
}
