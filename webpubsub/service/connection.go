package service

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Limits of a connection.
const (
	maxFrameSize       = 1 << 20 // larger client frames close the connection with 1009
	maxQueuedFrames    = 8192    // a client this far behind is closed as too slow
	maxUnacked         = 1000    // unacknowledged messages a reliable connection may hold
	maxUnackedBytes    = 16 << 20
	recoveryWindow     = 30 * time.Second // how long a dropped reliable connection waits for its client
	closeHandshakeWait = 5 * time.Second  // how long to wait for the client's close frame
	writeTimeout       = 10 * time.Second
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

	// Guarded by connection.mu.
	writing bool // a writer goroutine is running, or the socket is done with writing
	closing bool // a close frame is queued
}

// outgoing is one frame in a connection's queue: a data message, a JSON
// control message (ack, pong, system) or a close frame.
type outgoing struct {
	msg         *outMessage
	seq         uint64 // the sequenceId of msg on a reliable connection
	control     []byte
	close       bool
	closeCode   int
	closeReason string
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
	c.queueLocked(outgoing{msg: m, seq: seq})
}

// sendControl queues a JSON control frame (ack, pong, system message).
func (c *connection) sendControl(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ended {
		c.queueLocked(outgoing{control: frame})
	}
}

// queueLocked appends o to the socket's queue and makes sure a writer
// runs. It drops o while no socket is attached (reliable data stays in
// unacked) and closes a client that has fallen maxQueuedFrames behind.
func (c *connection) queueLocked(o outgoing) {
	if c.sock == nil || c.sock.closing {
		return
	}
	if len(c.queue) >= maxQueuedFrames {
		c.closeLocked(websocket.ClosePolicyViolation, "The client is too slow to receive its messages.")
		return
	}
	c.queue = append(c.queue, o)
	c.startWriterLocked()
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
	c.unacked = append(c.unacked[:0], c.unacked[n:]...)
}

// writeLoop writes the queued frames of sock until the queue is empty.
// After a close frame or a failed write it leaves sock.writing set, so no
// writer starts again for sock.
func (c *connection) writeLoop(sock *socket) {
	defer c.service.sockets.Done()
	var batch []outgoing
	for {
		c.mu.Lock()
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
		c.mu.Unlock()
		for i, o := range batch {
			batch[i] = outgoing{}
			if o.close {
				closeSocket(sock.ws, o.closeCode, o.closeReason)
				return
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
	ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	switch {
	case o.control != nil:
		return ws.WriteMessage(websocket.TextMessage, o.control)
	case c.kind == plainClient:
		return ws.WritePreparedMessage(o.msg.plainFrame())
	case c.kind == jsonClient:
		return ws.WritePreparedMessage(o.msg.jsonFrame())
	default:
		return ws.WriteMessage(websocket.TextMessage, o.msg.sequencedFrame(o.seq))
	}
}

// closeSocket sends a close frame and gives the client closeHandshakeWait
// to answer before the reader gives up.
func closeSocket(ws *websocket.Conn, code int, reason string) {
	if len(reason) > 123 { // a close frame's reason is at most 123 bytes
		reason = strings.ToValidUTF8(reason[:123], "")
	}
	deadline := time.Now().Add(closeHandshakeWait)
	if err := ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline); err != nil {
		ws.Close()
		return
	}
	ws.SetReadDeadline(deadline)
}

// errNotRecoverable is why a recovery attempt failed.
var errNotRecoverable = errors.New("The connection could not be recovered.")
