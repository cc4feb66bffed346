package service

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// Limits of a connection.
const (
	maxFrameSize       = 1 << 20 // larger client frames close the connection with 1009
	maxUnacked         = 1000    // unacknowledged messages a reliable connection may hold
	maxUnackedBytes    = 16 << 20
	recoveryWindow     = 30 * time.Second // how long a dropped reliable connection waits for its client
	closeHandshakeWait = 5 * time.Second  // how long to wait for the client's close frame
	defaultWriteWait   = 10 * time.Second // how long one frame may take to write

	// frameOverhead is what a queued frame costs besides its payload; it
	// is counted against Options.MaxQueueBytes, so that a flood of tiny
	// frames (acks, pongs) is bounded too.
	frameOverhead = 64
)

// The reasons the service closes a connection with on its own, named as the
// real service names them in its metrics.
const (
	reasonSlowClient  = "SlowClient"
	reasonPingTimeout = "PingTimeout"
)

// clientKind is the kind of a client connection, set by its subprotocol.
type clientKind int

const (
	plainClient    clientKind = iota // no subprotocol: payloads only
	jsonClient                       // json.webpubsub.azure.v1
	reliableClient                   // json.reliable.webpubsub.azure.v1
)

// String returns the subprotocol of the kind, or "none".
func (k clientKind) String() string {
	switch k {
	case jsonClient:
		return jsonSubprotocol
	case reliableClient:
		return reliableSubprotocol
	}
	return "none"
}

// connection is one client connection. A reliable connection outlives its
// socket: when the socket drops, the connection keeps its groups and
// buffers messages until the client recovers it or recoveryWindow passes.
type connection struct {
	id      string
	userID  string // "" means anonymous
	kind    clientKind
	hub     *hub
	service *Service

	// Guarded by Service.mu.
	groups      map[string]bool
	permissions map[string]bool // "sendToGroup", "joinLeaveGroup.<group>", …

	// mu guards everything below; it is taken after Service.mu.
	mu             sync.Mutex
	sock           *socket // nil while a reliable connection waits for recovery
	queue          []outgoing
	queued         int // the bytes of queue, as outgoing.size counts them
	ended          bool
	nextSeq        uint64
	unacked        []sequenced
	unackedBytes   int
	reconnectToken string
	recoveryTimer  *time.Timer
	ackIDs         ackHistory
}

// socket is one WebSocket of a connection. Its reader goroutine runs as
// long as the socket; a writer goroutine runs only while there are frames
// to write, so an idle connection costs one goroutine.
type socket struct {
	ws *websocket.Conn // nil until the handshake is done; then set once, under connection.mu

	// heard is set by the reader whenever the client sends anything (a
	// frame, a pong, a ping); the keep-alive sweep clears it.
	heard atomic.Bool
	// dropped is set when the connection was closed as too slow: the
	// writer skips the data frames it still holds.
	dropped atomic.Bool

	// Guarded by connection.mu.
	writing   bool      // a writer goroutine is running, or the socket is done with writing
	closing   bool      // a close frame is queued
	inFlight  int       // the bytes of the batch the writer is writing
	lastHeard time.Time // when the sweep last saw heard set (or the socket opened)
}

// outgoing is one frame in a connection's queue: a data message, a JSON
// control message (ack, pong, system), a ping or a close frame.
type outgoing struct {
	msg         *outMessage
	seq         uint64 // the sequenceId of msg on a reliable connection
	control     []byte
	ping        bool
	close       bool
	closeCode   int
	closeReason string
	size        int // what the frame counts against Options.MaxQueueBytes
}

// sequenced is a message a reliable client has not acknowledged yet.
type sequenced struct {
	seq uint64
	msg *outMessage
}

// send queues a data message for c. It never blocks.
func (c *connection) send(m *outMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	var seq uint64
	if c.kind == reliableClient {
		c.nextSeq++
		seq = c.nextSeq
		c.unacked = append(c.unacked, sequenced{seq, m})
		c.unackedBytes += len(m.data)
		if len(c.unacked) > maxUnacked || c.unackedBytes > maxUnackedBytes {
			c.closeLocked(websocket.ClosePolicyViolation, "The reliable message buffer is full.")
			return
		}
	}
	c.queueLocked(outgoing{msg: m, seq: seq, size: m.wireSize(c.kind) + frameOverhead})
}

// sendControl queues a JSON control frame (ack, pong, system message).
func (c *connection) sendControl(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ended {
		c.queueLocked(outgoing{control: frame, size: len(frame) + frameOverhead})
	}
}

// queueLocked appends o to the socket's queue and makes sure a writer
// runs. It drops o while no socket is attached (reliable data stays in
// unacked). A client whose queue, with the batch its writer is writing,
// would pass Options.MaxQueueBytes is closed as a slow client; a frame
// that meets an empty queue is always taken, however large.
func (c *connection) queueLocked(o outgoing) {
	sock := c.sock
	if sock == nil || sock.closing {
		return
	}
	if pending := c.queued + sock.inFlight; pending > 0 && pending+o.size > c.service.maxQueueBytes {
		c.service.log.Warn("closing a client that does not keep up with its messages", "hub", c.hub.name, "connectionId", c.id,
			"userId", c.userID, "waitingBytes", pending, "limitBytes", c.service.maxQueueBytes)
		c.dropLocked(reasonSlowClient)
		return
	}
	c.queue = append(c.queue, o)
	c.queued += o.size
	c.startWriterLocked()
}

// dropLocked ends the connection for reason (SlowClient, PingTimeout): it
// lets go of every message queued for it, so that their memory can be
// reclaimed at once, tells the client why (if the client still reads),
// and takes the connection out of its hub, so nothing more is sent to it.
func (c *connection) dropLocked(reason string) {
	c.sock.dropped.Store(true) // the writer skips the data it still holds
	c.queue, c.queued = nil, 0
	c.releaseLocked()
	c.closeLocked(websocket.ClosePolicyViolation, reason)
	c.service.drain(c)
	go c.service.removeConnection(c, reason)
}

// releaseLocked forgets the unacknowledged messages of a connection that
// ends, so they are not kept alive by it.
func (c *connection) releaseLocked() {
	c.unacked, c.unackedBytes = nil, 0
}

// startWriterLocked starts a writer goroutine for the queue of the current
// socket, unless one runs already or the handshake is not done yet (then
// serveClient starts it). The socket's reader is counted in
// Service.sockets until after c.sock changes, so adding the writer there
// never races with Close's Wait.
func (c *connection) startWriterLocked() {
	sock := c.sock
	if sock.writing || sock.ws == nil {
		return
	}
	sock.writing = true
	c.service.sockets.Add(1)
	go c.writeLoop(sock)
}

// close ends the connection from the service side: a JSON client first
// gets a disconnected system message with reason, then every client gets a
// close frame with code and reason. A closed connection cannot be recovered.
func (c *connection) close(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason)
}

func (c *connection) closeLocked(code int, reason string) {
	if c.ended {
		return
	}
	c.ended = true
	c.releaseLocked()
	if c.sock == nil || c.sock.closing {
		if c.recoveryTimer != nil {
			c.recoveryTimer.Stop()
		}
		go c.service.removeConnection(c, reason)
		return
	}
	if c.kind != plainClient {
		c.queue = append(c.queue, outgoing{control: disconnectedFrame(reason)})
	}
	c.queue = append(c.queue, outgoing{close: true, closeCode: code, closeReason: reason})
	c.sock.closing = true
	c.startWriterLocked()
}

// abort closes the socket without a close handshake.
func (c *connection) abort() {
	c.mu.Lock()
	var ws *websocket.Conn
	if c.sock != nil {
		ws = c.sock.ws
	}
	c.mu.Unlock()
	if ws != nil {
		ws.Close()
	}
}

// acknowledge drops the messages a reliable client has acknowledged, up to
// and including seq.
func (c *connection) acknowledge(seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for n < len(c.unacked) && c.unacked[n].seq <= seq {
		c.unackedBytes -= len(c.unacked[n].msg.data)
		n++
	}
	c.unacked = slices.Delete(c.unacked, 0, n) // clears the tail, which would keep messages alive
}

// writeLoop writes the queued frames of sock until the queue is empty.
// After a close frame or a failed write it leaves sock.writing set, so no
// writer starts again for sock. The bytes of the batch it writes count as
// in flight until it comes back for the next one.
func (c *connection) writeLoop(sock *socket) {
	defer c.service.sockets.Done()
	var batch []outgoing
	for {
		c.mu.Lock()
		sock.inFlight = 0
		if c.sock != sock { // the socket ended, or a recovery replaced it: the queue is not sock's
			c.mu.Unlock()
			return
		}
		if len(c.queue) == 0 {
			sock.writing = false
			c.queue = nil // an idle connection keeps no buffer
			c.mu.Unlock()
			return
		}
		batch, c.queue = c.queue, batch[:0]
		sock.inFlight, c.queued = c.queued, 0
		c.mu.Unlock()
		for i, o := range batch {
			batch[i] = outgoing{}
			if o.close {
				closeSocket(sock.ws, o.closeCode, o.closeReason)
				return
			}
			if o.msg != nil && sock.dropped.Load() {
				continue
			}
			if err := c.write(sock.ws, o); err != nil {
				sock.ws.Close()
				return
			}
		}
	}
}

// write writes one frame. A message whose time to live has passed while
// it waited is skipped; the clock is read for each message, since writing
// the ones before it may have taken long on a slow client.
func (c *connection) write(ws *websocket.Conn, o outgoing) error {
	if o.msg != nil && o.msg.expired(c.service.now()) {
		return nil
	}
	deadline := time.Now().Add(c.service.writeWait)
	ws.SetWriteDeadline(deadline)
	switch {
	case o.control != nil:
		return ws.WriteMessage(websocket.TextMessage, o.control)
	case o.ping:
		return ws.WriteControl(websocket.PingMessage, nil, deadline)
	case c.kind == reliableClient:
		return o.msg.writeSequenced(ws, o.seq)
	default:
		return o.msg.write(ws, c.kind)
	}
}

// closeSocket sends a close frame and gives the client closeHandshakeWait
// to answer before the reader gives up.
func closeSocket(ws *websocket.Conn, code int, reason string) {
	deadline := time.Now().Add(closeHandshakeWait)
	if err := ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, closeReason(reason)), deadline); err != nil {
		ws.Close()
		return
	}
	ws.SetReadDeadline(deadline)
}

// closeReason returns reason as a close frame can carry it: valid UTF-8
// (WebSocket clients drop a connection whose close reason is not) and at
// most 123 bytes, cut at a character boundary.
func closeReason(reason string) string {
	reason = strings.ToValidUTF8(reason, "\uFFFD")
	if len(reason) <= maxCloseReason {
		return reason
	}
	cut := maxCloseReason
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
}

// maxCloseReason is the most bytes of reason a close frame holds.
const maxCloseReason = 123

// keepAlive is one keep-alive sweep over c at time now: a client heard
// from since the last sweep is fine; one silent for the ping timeout is
// closed with PingTimeout; any other silent one gets a ping. It also moves
// the socket's read deadline, which bounds every read should the sweeps
// stop.
func (c *connection) keepAlive(now time.Time) {
	s := c.service
	c.mu.Lock()
	defer c.mu.Unlock()
	sock := c.sock
	if c.ended || sock == nil || sock.ws == nil || sock.closing {
		return
	}
	if sock.heard.Swap(false) {
		sock.lastHeard = now
		sock.ws.SetReadDeadline(s.readDeadline(now))
		return
	}
	if now.Sub(sock.lastHeard) >= s.pingTimeout {
		s.log.Info("closing a client that answered no ping", "hub", c.hub.name, "connectionId", c.id,
			"userId", c.userID, "silentFor", now.Sub(sock.lastHeard).Round(time.Millisecond))
		c.dropLocked(reasonPingTimeout)
		return
	}
	c.queueLocked(outgoing{ping: true, size: frameOverhead})
}

// errNotRecoverable is why a recovery attempt failed.
var errNotRecoverable = errors.New("The connection could not be recovered.")
