package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"wps/webpubsub/service"
)

// benchHub is the hub the service benchmark uses.
const benchHub = "bench"

// target is one broadcaster under test: where its clients connect, how a
// broadcast is sent to it over HTTP, and how it is stopped.
type target struct {
	name      string
	clientURL string // a plain WebSocket URL, with its token if one is needed
	send      func(payload []byte) error
	close     func()
}

// startBare starts the bare broadcaster on addr.
func startBare(addr string) (target, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return target{}, fmt.Errorf("bare broadcaster: %w", err)
	}
	b := newBareBroadcaster()
	srv := &http.Server{Handler: b}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	return target{
		name:      "bare",
		clientURL: "ws://" + ln.Addr().String() + "/ws",
		send:      newPoster(base+"/broadcast", nil),
		close: func() {
			srv.Close()
			b.closeAll()
		},
	}, nil
}

// startService starts the embedded Web PubSub service on addr and returns
// it as a target: clients connect to hub "bench" without a subprotocol, and
// broadcasts are REST send-to-all calls with application/octet-stream bodies.
func startService(addr string) (target, error) {
	key := service.DevelopmentKey
	srv, err := service.Listen(addr, service.Options{AccessKey: key})
	if err != nil {
		return target{}, err
	}
	clientToken, err := signToken(key, srv.URL+"/client/hubs/"+benchHub, "")
	if err != nil {
		return target{}, err
	}
	sendURL := srv.URL + "/api/hubs/" + benchHub + "/:send?api-version=2024-12-01"
	restToken, err := signToken(key, sendURL, "")
	if err != nil {
		return target{}, err
	}
	headers := http.Header{
		"Authorization": {"Bearer " + restToken},
		"Content-Type":  {"application/octet-stream"},
	}
	return target{
		name:      "service",
		clientURL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/client/hubs/" + benchHub + "?access_token=" + clientToken,
		send:      newPoster(sendURL, headers),
		close: func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Close(ctx)
		},
	}, nil
}

// signToken returns an HS256 token for audience (and user, if not ""),
// valid for two hours, signed with the UTF-8 bytes of key as the Web PubSub
// SDKs do.
func signToken(key, audience, user string) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{"aud": audience, "iat": now.Unix(), "exp": now.Add(2 * time.Hour).Unix()}
	if user != "" {
		claims["sub"] = user
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	if err != nil {
		return "", fmt.Errorf("signing a token: %w", err)
	}
	return token, nil
}

// newPoster returns a function that POSTs a payload to url with headers and
// expects a 2xx answer. It reuses one keep-alive connection.
func newPoster(url string, headers http.Header) func([]byte) error {
	client := &http.Client{Timeout: 10 * time.Second}
	return func(payload []byte) error {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		for name, values := range headers {
			req.Header[name] = values
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("POST %s: %s: %s", req.URL.Path, resp.Status, bytes.TrimSpace(body))
		}
		return nil
	}
}

// bareBroadcaster is the yardstick: a WebSocket broadcaster with no auth
// and no protocol. Each socket has one buffered queue and one writer
// goroutine; a broadcast builds one websocket.PreparedMessage and puts it on
// every queue.
type bareBroadcaster struct {
	upgrader websocket.Upgrader

	mu      sync.Mutex // guards sockets
	sockets map[*bareSocket]struct{}
}

// bareSocket is one client socket of the bare broadcaster.
type bareSocket struct {
	conn  *websocket.Conn // nil until the handshake is done; guarded by bareBroadcaster.mu
	queue chan *websocket.PreparedMessage
	done  chan struct{} // closed when the socket's reader ends
}

// newBareBroadcaster returns a broadcaster with no sockets.
func newBareBroadcaster() *bareBroadcaster {
	return &bareBroadcaster{
		upgrader: websocket.Upgrader{WriteBufferPool: &sync.Pool{}},
		sockets:  map[*bareSocket]struct{}{},
	}
}

// ServeHTTP accepts WebSockets on /ws and broadcasts POST bodies on /broadcast.
func (b *bareBroadcaster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/ws":
		b.accept(w, r)
	case r.URL.Path == "/broadcast" && r.Method == http.MethodPost:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.broadcast(body)
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// accept upgrades one client and runs its writer and reader. The socket is
// registered before the handshake completes, as the service registers its
// connections: a broadcast sent as soon as the client is connected waits in
// its queue instead of missing it.
func (b *bareBroadcaster) accept(w http.ResponseWriter, r *http.Request) {
	s := &bareSocket{queue: make(chan *websocket.PreparedMessage, 256), done: make(chan struct{})}
	b.mu.Lock()
	b.sockets[s] = struct{}{}
	b.mu.Unlock()
	conn, err := b.upgrader.Upgrade(w, r, nil)
	if err != nil {
		b.mu.Lock()
		delete(b.sockets, s)
		b.mu.Unlock()
		close(s.done)
		return
	}
	b.mu.Lock()
	s.conn = conn
	b.mu.Unlock()
	go func() {
		for {
			select {
			case pm := <-s.queue:
				if err := conn.WritePreparedMessage(pm); err != nil {
					conn.Close()
					return
				}
			case <-s.done:
				return
			}
		}
	}()
	go func() {
		for {
			if _, _, err := conn.NextReader(); err != nil {
				break
			}
		}
		b.mu.Lock()
		delete(b.sockets, s)
		b.mu.Unlock()
		close(s.done)
		conn.Close()
	}()
}

// broadcast queues body for every socket, waiting where a queue is full.
func (b *bareBroadcaster) broadcast(body []byte) {
	pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, body)
	if err != nil {
		return
	}
	b.mu.Lock()
	sockets := make([]*bareSocket, 0, len(b.sockets))
	for s := range b.sockets {
		sockets = append(sockets, s)
	}
	b.mu.Unlock()
	for _, s := range sockets {
		select {
		case s.queue <- pm:
		case <-s.done:
		}
	}
}

// closeAll closes every socket.
func (b *bareBroadcaster) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.sockets {
		if s.conn != nil {
			s.conn.Close()
		}
	}
}
