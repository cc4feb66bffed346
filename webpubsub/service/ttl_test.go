package service

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// pipeListener is a net.Listener whose connections are net.Pipe ends. A
// pipe has no buffer: the service's write of a frame returns only once the
// client has read it, so a client that does not read holds the writer.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// Dial returns the client end of a new pipe whose server end is accepted.
func (l *pipeListener) Dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// TestClient_MessageTTLExpiresWhileQueued proves that a message still
// queued for a slow client when its messageTtlSeconds pass is dropped,
// while the messages around it are delivered.
func TestClient_MessageTTLExpiresWhileQueued(t *testing.T) {
	ts := newTestService(t)
	clock := &fakeClock{now: time.Now()}
	ts.now = clock.Now

	// The client reaches the service through a pipe and reads nothing
	// yet: the writer blocks on the first message.
	pipes := newPipeListener()
	server := &http.Server{Handler: ts.Service}
	go server.Serve(pipes)
	t.Cleanup(func() { pipes.Close() })
	u := strings.Replace(ts.clientURL(t, "chat", "slow", nil, nil), "ws://"+ts.server.Listener.Addr().String(), "ws://pipe", 1)
	dialer := websocket.Dialer{NetDialContext: pipes.Dial, HandshakeTimeout: hangGuard}
	ws, _, err := dialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	send := func(text, query string) {
		t.Helper()
		wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/users/slow/:send"+query, "text/plain", text), 202)
	}
	send("first", "")                            // taken by the writer, which blocks on the pipe
	send("short-lived", "?messageTtlSeconds=10") // queued behind it
	send("long-lived", "?messageTtlSeconds=300") // queued too, but does not expire
	send("no ttl", "")
	clock.Advance(11 * time.Second)

	for _, want := range []string{"first", "long-lived", "no ttl"} {
		if _, got := readFrame(t, ws); string(got) != want {
			t.Fatalf("received %q, want %q", got, want)
		}
	}
	// Nothing else is on its way: a close from the service is next.
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/users/slow/:closeConnections?reason=done", "", ""), 204)
	ws.SetReadDeadline(time.Now().Add(hangGuard))
	_, b, err := ws.ReadMessage()
	var closeErr *websocket.CloseError
	if !errors.As(err, &closeErr) {
		t.Fatalf("after the messages: read %q, %v; want the close frame", b, err)
	}
}
