package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Protocol is the client protocol of a connection.
type Protocol string

// The protocols Dial speaks.
const (
	ProtocolJSON     Protocol = "json"     // json.webpubsub.azure.v1
	ProtocolReliable Protocol = "reliable" // json.reliable.webpubsub.azure.v1
	ProtocolRaw      Protocol = "raw"      // no subprotocol: a simple WebSocket client
)

// subprotocols maps each Protocol to the WebSocket subprotocol it asks for.
var subprotocols = map[Protocol]string{
	ProtocolJSON:     "json.webpubsub.azure.v1",
	ProtocolReliable: "json.reliable.webpubsub.azure.v1",
	ProtocolRaw:      "",
}

// Defaults and fixed limits.
const (
	DefaultRecoveryTimeout = 30 * time.Second // the service keeps a dropped reliable session at least this long
	DefaultMaxQueued       = 10000            // received messages waiting for Receive
	recoveryRetryInterval  = time.Second      // between reconnection attempts, as the official clients do
	writeTimeout           = 30 * time.Second // for one frame, when the context has no earlier deadline
	closeTimeout           = time.Second      // for writing the close frame in Close
	maxFrameSize           = 4 << 20          // the service's messages are at most 1 MB, base64 adds a third
)

// Options configures a connection. The zero value (or nil) gives the defaults.
type Options struct {
	// Dialer opens the WebSockets; nil means one that honours the proxy
	// environment variables and gives up a handshake after 30 s.
	Dialer *websocket.Dialer
	// RecoveryTimeout is how long a reliable connection keeps trying to
	// reconnect after its socket drops (it tries at once, then every second);
	// zero means DefaultRecoveryTimeout.
	RecoveryTimeout time.Duration
	// MaxQueued is how many received messages may wait for Receive. One more
	// ends the connection with an error saying so (messages are never
	// dropped silently); zero means DefaultMaxQueued.
	MaxQueued int
}

// Conn is a client connection to a hub. Make one with Dial; call Close when
// finished.
type Conn struct {
	url             *url.URL // the client access URL; it holds the token, never print it
	protocol        Protocol
	dialer          websocket.Dialer // with Subprotocols set for protocol
	recoveryTimeout time.Duration
	maxQueued       int
	connectionID    string // from the connected message; "" on raw connections
	userID          string

	ctx       context.Context // done when the connection has ended
	cancel    context.CancelFunc
	writeSem  chan struct{}  // holds a token while a goroutine writes a frame
	seqSignal chan struct{}  // reliable: a sequence id waits to be acknowledged
	wg        sync.WaitGroup // the reader and sequence-ack goroutines

	mu                 sync.Mutex // guards the fields below
	ws                 *websocket.Conn
	ready              chan struct{} // closed once ws is set again after a drop
	reconnectionToken  string
	serverDisconnected bool // the service said "disconnected": do not reconnect
	closing            bool // Close was called
	err                error
	lastAckID          uint64
	pending            map[uint64]*pendingRequest
	queue              []Message
	received           uint64        // messages ever queued, for Queued
	queued             chan struct{} // closed when queue grows or the connection ends
	lastSeq, ackedSeq  uint64        // reliable: highest sequence id received and acknowledged
}

// Dial connects to a hub. clientURL is a client access URL such as
// ws://host/client/hubs/chat?access_token=... (http and https URLs are taken
// as ws and wss); protocol "" means ProtocolJSON. On the JSON protocols Dial
// returns once the service's connected message has arrived, so
// ConnectionID and UserID are set; ctx bounds the whole wait, and only the
// dial (the connection outlives it). A refused upgrade is a *HandshakeError.
func Dial(ctx context.Context, clientURL string, protocol Protocol, opts *Options) (*Conn, error) {
	if protocol == "" {
		protocol = ProtocolJSON
	}
	sub, ok := subprotocols[protocol]
	if !ok {
		return nil, fmt.Errorf("wsclient: unknown protocol %q (want %q, %q or %q)", protocol, ProtocolJSON, ProtocolReliable, ProtocolRaw)
	}
	u, err := parseClientURL(clientURL)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	c := &Conn{
		url:             u,
		protocol:        protocol,
		recoveryTimeout: opts.RecoveryTimeout,
		maxQueued:       opts.MaxQueued,
		writeSem:        make(chan struct{}, 1),
		seqSignal:       make(chan struct{}, 1),
		pending:         map[uint64]*pendingRequest{},
		queued:          make(chan struct{}),
	}
	if opts.Dialer != nil {
		c.dialer = *opts.Dialer
	} else {
		c.dialer = websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 30 * time.Second}
	}
	c.dialer.Subprotocols = nil
	if sub != "" {
		c.dialer.Subprotocols = []string{sub}
	}
	if c.recoveryTimeout <= 0 {
		c.recoveryTimeout = DefaultRecoveryTimeout
	}
	if c.maxQueued <= 0 {
		c.maxQueued = DefaultMaxQueued
	}

	ws, err := c.dialSocket(ctx, u)
	if err != nil {
		return nil, err
	}
	if protocol != ProtocolRaw {
		connected, err := readConnected(ctx, ws)
		if err != nil {
			ws.Close()
			return nil, err
		}
		c.connectionID = connected.ConnectionID
		c.userID = connected.UserID
		c.reconnectionToken = connected.ReconnectionToken
	}
	c.ws = ws
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(1)
	go c.readLoop(ws)
	if protocol == ProtocolReliable {
		c.wg.Add(1)
		go c.sequenceAckLoop()
	}
	return c, nil
}

// ConnectionID returns the id the service gave the connection; "" on raw
// connections, which are not told.
func (c *Conn) ConnectionID() string { return c.connectionID }

// UserID returns the connection's user id; "" when anonymous or on raw
// connections.
func (c *Conn) UserID() string { return c.userID }

// Protocol returns the connection's protocol.
func (c *Conn) Protocol() Protocol { return c.protocol }

// String names the connection and where it goes, without the client URL's
// query, so that printing or logging a Conn never shows its access token.
// GoString, Format and LogValue keep the token and the reconnection token
// out of %#v, every other verb and slog.
func (c *Conn) String() string {
	return "wsclient.Conn(" + c.connectionID + " to " + redact(c.url) + ")"
}

// GoString is a Go literal of the connection's id, user and URL without its
// query, for %#v.
func (c *Conn) GoString() string {
	return fmt.Sprintf("&wsclient.Conn{connectionID:%q, userID:%q, protocol:%q, url:%q}", c.connectionID, c.userID, c.protocol, redact(c.url))
}

// Format prints String (or GoString for %#v) whatever the verb, so that no
// verb reaches the fields.
func (c *Conn) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), c.String())
}

// LogValue logs the connection's id, user, protocol and URL without its
// query.
func (c *Conn) LogValue() slog.Value {
	return slog.GroupValue(slog.String("connection_id", c.connectionID), slog.String("user_id", c.userID),
		slog.String("protocol", string(c.protocol)), slog.String("url", redact(c.url)))
}

// Receive returns the next message received, waiting until one arrives, the
// connection ends or ctx is done. Messages already received are returned
// even after the connection has ended. When ctx is done first it returns
// ctx.Err() (context.DeadlineExceeded for a timeout); when the connection has
// ended, an error wrapping ErrClosed.
func (c *Conn) Receive(ctx context.Context) (Message, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = Message{}
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return m, nil
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return Message{}, err
		}
		wait := c.queued
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// Close ends the connection with a normal close (which also ends a reliable
// session for good) and waits for its goroutines. Requests still waiting
// fail with ErrClosed; messages not yet received are dropped. Close always
// returns nil, and may be called more than once.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closing = true
	ws := c.ws
	ended := c.err != nil
	c.mu.Unlock()
	if ws != nil && !ended {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeTimeout))
	}
	c.finish(fmt.Errorf("%w by the client", ErrClosed))
	c.wg.Wait()
	return nil
}

// finish ends the connection with err, once: it fails waiting requests,
// wakes Receive and closes the socket.
func (c *Conn) finish(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	close(c.queued)
	ws := c.ws
	c.mu.Unlock()
	c.cancel()
	for _, p := range pending {
		p.done <- err
	}
	if ws != nil {
		ws.Close()
	}
}

// readLoop reads the socket until the connection ends, moving to a new
// socket when a reliable connection recovers.
func (c *Conn) readLoop(ws *websocket.Conn) {
	defer c.wg.Done()
	for ws != nil {
		err := c.readSocket(ws)
		ws = c.socketLost(ws, err)
	}
}

// readSocket handles the frames of one socket until reading fails.
func (c *Conn) readSocket(ws *websocket.Conn) error {
	for {
		kind, frame, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		if c.protocol == ProtocolRaw {
			m := Message{Type: "message", DataType: DataText, Data: frame}
			if kind == websocket.BinaryMessage {
				m.DataType = DataBinary
			}
			if err := c.push(m); err != nil {
				return err
			}
			continue
		}
		var in incoming
		if err := json.Unmarshal(frame, &in); err != nil {
			return fmt.Errorf("bad frame from the service: %w", err)
		}
		if err := c.handle(in); err != nil {
			return err
		}
	}
}

// handle acts on one frame of the JSON protocols.
func (c *Conn) handle(in incoming) error {
	switch in.Type {
	case "ack":
		c.completeRequest(in)
	case "message":
		data, err := decodeData(in.DataType, in.Data)
		if err != nil {
			return fmt.Errorf("bad message from the service: %w", err)
		}
		m := Message{Type: "message", From: in.From, Group: in.Group, FromUserID: in.FromUserID,
			DataType: in.DataType, Data: data, SequenceID: in.SequenceID}
		if c.protocol == ProtocolReliable && in.SequenceID != 0 {
			return c.pushSequenced(m)
		}
		return c.push(m)
	case "system":
		switch in.Event {
		case "connected": // sent again after a recovery, maybe with a new token
			c.mu.Lock()
			if in.ReconnectionToken != "" {
				c.reconnectionToken = in.ReconnectionToken
			}
			c.mu.Unlock()
		case "disconnected":
			c.mu.Lock()
			c.serverDisconnected = true
			c.mu.Unlock()
			return c.push(Message{Type: "system", Event: "disconnected", DataType: DataText, Data: []byte(in.Message)})
		}
	}
	return nil // pong, and types newer than this client
}

// push queues a received message for Receive.
func (c *Conn) push(m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil // ended while the frame was read; nobody will receive it
	}
	if len(c.queue) >= c.maxQueued {
		return fmt.Errorf("%d received messages are waiting for Receive (Options.MaxQueued); the connection was closed rather than drop more", len(c.queue))
	}
	c.queue = append(c.queue, m)
	c.received++
	close(c.queued)
	c.queued = make(chan struct{})
	return nil
}

// socketLost decides what follows a read error on ws: for a reliable
// connection dropped unexpectedly it reconnects and returns the new socket;
// otherwise it ends the connection and returns nil.
func (c *Conn) socketLost(ws *websocket.Conn, readErr error) *websocket.Conn {
	c.mu.Lock()
	recoverable := c.protocol == ProtocolReliable && c.err == nil && !c.closing &&
		c.reconnectionToken != "" && !c.serverDisconnected && !isFinalClose(readErr)
	if recoverable {
		c.ws = nil
		c.ready = make(chan struct{})
	}
	c.mu.Unlock()
	if !recoverable {
		if !isCloseError(readErr) { // the service's close frames are answered by gorilla
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeTimeout))
		}
		c.finish(fmt.Errorf("%w: %w", ErrClosed, readErr))
		return nil
	}
	ws.Close()
	return c.reconnect(readErr)
}

// isFinalClose reports whether the service closed the socket in a way that
// rules out recovery: 1000 (normal) or 1008 (policy: cannot be recovered).
func isFinalClose(err error) bool {
	return websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.ClosePolicyViolation)
}

func isCloseError(err error) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce)
}

// dialSocket opens one WebSocket to u.
func (c *Conn) dialSocket(ctx context.Context, u *url.URL) (*websocket.Conn, error) {
	// gorilla applies ctx's deadline to the handshake but not its
	// cancellation: a service that accepts the TCP connection and never
	// answers would hold Ctrl-C for the whole HandshakeTimeout. So dial on
	// a goroutine and stop waiting when ctx ends; the goroutine closes
	// whatever it gets afterwards.
	type dialed struct {
		ws   *websocket.Conn
		resp *http.Response
		err  error
	}
	result := make(chan dialed, 1)
	go func() {
		ws, resp, err := c.dialer.DialContext(ctx, u.String(), nil)
		result <- dialed{ws, resp, err}
	}()
	var d dialed
	select {
	case d = <-result:
	case <-ctx.Done():
		go func() {
			if d := <-result; d.ws != nil {
				d.ws.Close()
			}
		}()
		return nil, fmt.Errorf("wsclient: connecting to %s: %w", redact(u), ctx.Err())
	}
	ws, resp, err := d.ws, d.resp, d.err
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			return nil, &HandshakeError{StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(body))}
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("wsclient: connecting to %s: %w", redact(u), ctx.Err())
		}
		return nil, fmt.Errorf("wsclient: connecting to %s: %w", redact(u), err)
	}
	if want := c.dialer.Subprotocols; len(want) > 0 && ws.Subprotocol() != want[0] {
		ws.Close()
		return nil, fmt.Errorf("wsclient: the service did not accept subprotocol %s", want[0])
	}
	ws.SetReadLimit(maxFrameSize)
	return ws, nil
}

// readConnected reads the first frame of a JSON-protocol socket, which must
// be the connected system message.
func readConnected(ctx context.Context, ws *websocket.Conn) (incoming, error) {
	var in incoming
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		ws.SetReadDeadline(time.Now())
		close(fired)
	})
	_, frame, err := ws.ReadMessage()
	if !stop() {
		<-fired
		return in, fmt.Errorf("wsclient: waiting for the connected message: %w", ctx.Err())
	}
	if err != nil {
		return in, fmt.Errorf("wsclient: connection closed before the connected message: %w", err)
	}
	if err := json.Unmarshal(frame, &in); err != nil {
		return in, fmt.Errorf("wsclient: bad first frame from the service: %w", err)
	}
	if in.Type != "system" || in.Event != "connected" || in.ConnectionID == "" {
		return in, fmt.Errorf("wsclient: the first frame from the service is not a connected message with a connectionId (type %q, event %q)", in.Type, in.Event)
	}
	return in, nil
}

// parseClientURL checks a client access URL without ever repeating it (it
// holds a token).
func parseClientURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("wsclient: the client URL is not a valid URL")
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("wsclient: the client URL must start with ws://, wss://, http:// or https://, not %q", u.Scheme+":")
	}
	if u.Host == "" {
		return nil, errors.New("wsclient: the client URL has no host")
	}
	return u, nil
}

// redact returns u without its query (which holds the token).
func redact(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}
