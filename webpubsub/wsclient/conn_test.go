package wsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// testTimeout bounds every wait in these tests, so a broken client fails
// instead of hanging; it is never what a test asserts.
const testTimeout = 10 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, url string, protocol Protocol, opts *Options) *Conn {
	t.Helper()
	c, err := Dial(testContext(t), url, protocol, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func receive(t *testing.T, c *Conn) Message {
	t.Helper()
	m, err := c.Receive(testContext(t))
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return m
}

// eventually waits until cond holds, failing the test after testTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDial(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), "", nil)
	if c.ConnectionID() != "conn1" || c.UserID() != "alice" || c.Protocol() != ProtocolJSON {
		t.Errorf("got id %q user %q protocol %q, want conn1 alice json", c.ConnectionID(), c.UserID(), c.Protocol())
	}
	anon := dial(t, h.url("good", ""), ProtocolJSON, nil)
	if anon.UserID() != "" {
		t.Errorf("anonymous UserID = %q, want empty", anon.UserID())
	}
}

func TestDial_errors(t *testing.T) {
	h := newFakeHub(t)
	t.Run("BadToken", func(t *testing.T) {
		_, err := Dial(testContext(t), h.url("secret-token", "u"), ProtocolJSON, nil)
		var he *HandshakeError
		if !errors.As(err, &he) || he.StatusCode != 401 || he.Body != "invalid token" {
			t.Fatalf("error %v, want a HandshakeError 401 invalid token", err)
		}
		if strings.Contains(err.Error(), "secret-token") {
			t.Errorf("error %q shows the token", err)
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		_, err := Dial(testContext(t), "ws://127.0.0.1:1/client/hubs/chat?access_token=secret-token", ProtocolJSON, nil)
		if err == nil || strings.Contains(err.Error(), "secret-token") || !strings.Contains(err.Error(), "ws://127.0.0.1:1/client/hubs/chat") {
			t.Errorf("error %v, want one naming the URL without its token", err)
		}
	})
	for _, tt := range []struct{ name, url, protocol, want string }{
		{"Scheme", "ftp://host/client?access_token=secret-token", "json", `must start with ws://, wss://, http:// or https://, not "ftp:"`},
		{"NoHost", "ws:///client?access_token=secret-token", "json", "has no host"},
		{"Malformed", "ws://ho st/?access_token=secret-token", "json", "not a valid URL"},
		{"Protocol", h.url("good", "u"), "protobuf", `unknown protocol "protobuf"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Dial(testContext(t), tt.url, Protocol(tt.protocol), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error %v, want one containing %q and no token", err, tt.want)
			}
		})
	}
	t.Run("NoSubprotocolEcho", func(t *testing.T) {
		h := newFakeHub(t)
		h.noSubprotocolEcho = true
		_, err := Dial(testContext(t), h.url("good", "u"), ProtocolReliable, nil)
		if err == nil || !strings.Contains(err.Error(), "did not accept subprotocol json.reliable.webpubsub.azure.v1") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("FirstFrameNotConnected", func(t *testing.T) {
		h := newFakeHub(t)
		h.firstFrame = `{"type":"message","from":"server","dataType":"text","data":"hi"}`
		_, err := Dial(testContext(t), h.url("good", "u"), ProtocolJSON, nil)
		if err == nil || !strings.Contains(err.Error(), `not a connected message with a connectionId (type "message"`) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("CancelDuringHandshake", func(t *testing.T) {
		// A server that accepts the TCP connection and never answers the
		// upgrade: cancelling must end Dial, even with no handshake timeout.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			if conn, err := ln.Accept(); err == nil {
				accepted <- conn
			}
		}()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			_, err := Dial(ctx, "ws://"+ln.Addr().String()+"/client/hubs/chat?access_token=secret-token", ProtocolJSON, &Options{Dialer: &websocket.Dialer{}})
			errc <- err
		}()
		select {
		case conn := <-accepted:
			defer conn.Close()
		case <-time.After(testTimeout):
			t.Fatal("the client did not connect")
		}
		cancel()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error %v, want context.Canceled without the token", err)
			}
		case <-time.After(testTimeout):
			t.Fatal("Dial did not return after its context was cancelled during the handshake")
		}
	})
	t.Run("CancelWhileWaitingForConnected", func(t *testing.T) {
		h := newFakeHub(t)
		h.silent = true
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := Dial(ctx, h.url("good", "u"), ProtocolJSON, nil)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for the connected message") {
			t.Errorf("error %v, want context.DeadlineExceeded while waiting for the connected message", err)
		}
	})
}

func TestConn_JoinGroup(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolJSON, nil)
	ctx := testContext(t)
	if err := c.JoinGroup(ctx, "chat"); err != nil {
		t.Fatalf("JoinGroup: %v", err)
	}
	if !h.session(c.ConnectionID()).groups["chat"] {
		t.Error("the hub does not have the connection in chat")
	}
	err := c.JoinGroup(ctx, "forbidden")
	var ack *AckError
	if !errors.As(err, &ack) || ack.Name != "Forbidden" || ack.Message != "The client has no permission to join group 'forbidden'." {
		t.Fatalf("error %v, want an AckError Forbidden", err)
	}
	if want := `join group "forbidden": Forbidden: The client has no permission to join group 'forbidden'.`; err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}
	if err := c.LeaveGroup(ctx, "chat"); err != nil {
		t.Fatalf("LeaveGroup: %v", err)
	}
	if h.session(c.ConnectionID()).groups["chat"] {
		t.Error("the connection is still in chat")
	}
}

func TestConn_JoinGroup_cancel(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolJSON, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.JoinGroup(ctx, "silent") }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("JoinGroup with no ack: %v, want context.Canceled", err)
	}
	// The connection still works.
	if err := c.JoinGroup(testContext(t), "chat"); err != nil {
		t.Fatalf("JoinGroup after a cancelled one: %v", err)
	}
}

func TestConn_SendToGroup(t *testing.T) {
	h := newFakeHub(t)
	alice := dial(t, h.url("good", "alice"), ProtocolJSON, nil)
	bob := dial(t, h.url("good", "bob"), ProtocolJSON, nil)
	ctx := testContext(t)
	for _, c := range []*Conn{alice, bob} {
		if err := c.JoinGroup(ctx, "chat"); err != nil {
			t.Fatal(err)
		}
	}
	sent := []Data{
		{Type: DataText, Raw: []byte("héllo \"world\"")},
		{Type: DataJSON, Raw: []byte(`{"a":[1,2]}`)},
		{Type: DataBinary, Raw: []byte{0, 1, 2, 255}},
	}
	for _, d := range sent {
		if err := alice.SendToGroup(ctx, "chat", d, false); err != nil {
			t.Fatalf("SendToGroup %s: %v", d.Type, err)
		}
	}
	for _, c := range []*Conn{alice, bob} {
		for _, d := range sent {
			m := receive(t, c)
			want := Message{Type: "message", From: "group", Group: "chat", FromUserID: "alice", DataType: d.Type, Data: d.Raw}
			if fmt.Sprint(m) != fmt.Sprint(want) {
				t.Errorf("%s received %+v, want %+v", c.UserID(), m, want)
			}
		}
	}

	// With noEcho the sender does not get its own message.
	if err := alice.SendToGroup(ctx, "chat", Data{Type: DataText, Raw: []byte("quiet")}, true); err != nil {
		t.Fatal(err)
	}
	if err := bob.SendToGroup(ctx, "chat", Data{Type: DataText, Raw: []byte("loud")}, false); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, alice); string(m.Data) != "loud" {
		t.Errorf("alice received %q first, want loud (her noEcho message must not come back)", m.Data)
	}
	if m := receive(t, bob); string(m.Data) != "quiet" {
		t.Errorf("bob received %q, want quiet", m.Data)
	}
}

func TestConn_SendEvent(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolJSON, nil)
	ctx := testContext(t)
	if err := c.SendEvent(ctx, "echo", Data{Type: DataJSON, Raw: []byte(`"hi"`)}); err != nil {
		t.Fatal(err)
	}
	m := receive(t, c)
	if m.From != "server" || m.DataType != DataJSON || string(m.Data) != `"hi"` {
		t.Errorf("received %+v, want a server json message \"hi\"", m)
	}
	var ack *AckError
	if err := c.SendEvent(ctx, "boom", Data{Type: DataText}); !errors.As(err, &ack) || ack.Name != "InternalServerError" {
		t.Errorf("event boom: %v, want an AckError InternalServerError", err)
	}
}

func TestConn_invalidData(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolJSON, nil)
	ctx := testContext(t)
	for _, tt := range []struct {
		data Data
		want string
	}{
		{Data{Type: DataJSON, Raw: []byte(`{"a":`)}, "json data is not one valid JSON value"},
		{Data{Type: DataText, Raw: []byte{0xff}}, "text data is not valid UTF-8; send it as binary"},
		{Data{Type: "xml", Raw: []byte("<a/>")}, `data type "xml" is not "text", "json" or "binary"`},
	} {
		if err := c.SendToGroup(ctx, "chat", tt.data, false); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SendToGroup(%s): %v, want %q", tt.data.Type, err, tt.want)
		}
		if err := c.SendEvent(ctx, "e", tt.data); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SendEvent(%s): %v, want %q", tt.data.Type, err, tt.want)
		}
	}
}

func TestConn_Receive(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolJSON, nil)

	t.Run("Timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		if _, err := c.Receive(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Receive with nothing to receive: %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("QueuedBeforeDone", func(t *testing.T) {
		h.sendToConnection(c.ConnectionID(), "one")
		h.sendToConnection(c.ConnectionID(), "two")
		eventually(t, "two messages are queued", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return len(c.queue) == 2
		})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, want := range []string{"one", "two"} {
			m, err := c.Receive(ctx)
			if err != nil || string(m.Data) != want {
				t.Errorf("Receive with a done context = %q, %v; want the queued %q", m.Data, err, want)
			}
		}
	})
	t.Run("Disconnected", func(t *testing.T) {
		h.sendToConnection(c.ConnectionID(), "last")
		h.disconnect(c.ConnectionID(), "closed by the operator")
		if m := receive(t, c); string(m.Data) != "last" {
			t.Errorf("received %q, want last", m.Data)
		}
		m := receive(t, c)
		if m.Type != "system" || m.Event != "disconnected" || string(m.Data) != "closed by the operator" {
			t.Errorf("received %+v, want the disconnected message", m)
		}
		_, err := c.Receive(testContext(t))
		if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "close 1000") {
			t.Errorf("Receive after the close: %v, want ErrClosed with close 1000", err)
		}
		if err := c.JoinGroup(testContext(t), "chat"); !errors.Is(err, ErrClosed) {
			t.Errorf("JoinGroup after the close: %v, want ErrClosed", err)
		}
	})
}

func TestConn_Close(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolReliable, nil)
	waiting := make(chan error)
	go func() { waiting <- c.JoinGroup(context.Background(), "silent") }()
	eventually(t, "the join is pending", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.pending) == 1
	})
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-waiting; !errors.Is(err, ErrClosed) {
		t.Errorf("pending JoinGroup: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Receive(testContext(t)); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "by the client") {
		t.Errorf("Receive after Close: %v", err)
	}
	eventually(t, "the hub sees close code 1000", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.closeCodes) == 1 && h.closeCodes[0] == 1000
	})
	if h.recoveryCount() != 0 {
		t.Errorf("%d recoveries after Close, want none", h.recoveryCount())
	}
}

func TestConn_MaxQueued(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolJSON, &Options{MaxQueued: 2})
	for _, text := range []string{"1", "2", "3"} {
		h.sendToConnection(c.ConnectionID(), text)
	}
	eventually(t, "the third message ends the connection", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.err != nil
	})
	for _, want := range []string{"1", "2"} {
		if m := receive(t, c); string(m.Data) != want {
			t.Errorf("received %q, want %q", m.Data, want)
		}
	}
	_, err := c.Receive(testContext(t))
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "2 received messages are waiting for Receive (Options.MaxQueued)") {
		t.Errorf("error %v, want ErrClosed naming MaxQueued", err)
	}
}

func TestConn_concurrentRequests(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolReliable, nil)
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Go(func() {
			group := fmt.Sprintf("g%d", i)
			errs <- c.JoinGroup(ctx, group)
			errs <- c.SendToGroup(ctx, group, Data{Type: DataText, Raw: []byte(group)}, false)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err) // a reused ack id would come back as an unexpected Duplicate or go unanswered
		}
	}
	got := map[string]bool{}
	for range 20 {
		got[string(receive(t, c).Data)] = true
	}
	if len(got) != 20 {
		t.Errorf("received %d distinct messages, want 20", len(got))
	}
	if s := h.session(c.ConnectionID()); len(s.doneAcks) != 40 {
		t.Errorf("the hub processed %d distinct ack ids, want 40", len(s.doneAcks))
	}
}

func TestConn_raw(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolRaw, nil)
	if c.ConnectionID() != "" {
		t.Errorf("raw ConnectionID = %q, want empty", c.ConnectionID())
	}
	ctx := testContext(t)
	if err := c.SendEvent(ctx, "message", Data{Type: DataText, Raw: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendEvent(ctx, "message", Data{Type: DataBinary, Raw: []byte{1, 2}}); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, c); m.DataType != DataText || string(m.Data) != "hi" || m.From != "" {
		t.Errorf("received %+v, want the text frame back", m)
	}
	if m := receive(t, c); m.DataType != DataBinary || string(m.Data) != "\x01\x02" {
		t.Errorf("received %+v, want the binary frame back", m)
	}
	if err := c.JoinGroup(ctx, "chat"); !errors.Is(err, ErrNotSupported) {
		t.Errorf("raw JoinGroup: %v, want ErrNotSupported", err)
	}
	if err := c.SendEvent(ctx, "custom", Data{Type: DataText}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("raw SendEvent custom: %v, want ErrNotSupported", err)
	}
}

func TestConn_closeDuringRequests(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolReliable, nil)
	ctx := testContext(t)
	if err := c.JoinGroup(ctx, "chat"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				err := c.SendToGroup(ctx, "chat", Data{Type: DataText, Raw: []byte("x")}, true)
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("SendToGroup during Close: %v, want nil or ErrClosed", err)
					}
					return
				}
			}
		})
	}
	c.Close()
	wg.Wait()
}
