package wsclient

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/gorilla/websocket"
)

// pendingRequest is a request waiting for its ack.
type pendingRequest struct {
	frame []byte     // sent again after a reliable connection recovers
	done  chan error // receives the outcome once; buffered
}

// JoinGroup joins group and waits for the service's ack.
func (c *Conn) JoinGroup(ctx context.Context, group string) error {
	return c.request(ctx, fmt.Sprintf("join group %q", group), outgoing{Type: "joinGroup", Group: group})
}

// LeaveGroup leaves group and waits for the service's ack.
func (c *Conn) LeaveGroup(ctx context.Context, group string) error {
	return c.request(ctx, fmt.Sprintf("leave group %q", group), outgoing{Type: "leaveGroup", Group: group})
}

// SendToGroup publishes data to group and waits for the service's ack.
// With noEcho the connection itself does not receive the message.
func (c *Conn) SendToGroup(ctx context.Context, group string, data Data, noEcho bool) error {
	what := fmt.Sprintf("send to group %q", group)
	dataType, raw, err := encodeData(data)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return c.request(ctx, what, outgoing{Type: "sendToGroup", Group: group, DataType: dataType, Data: raw, NoEcho: &noEcho})
}

// SendEvent sends a custom event to the hub's event handler and waits for
// the service's ack. On a raw connection it sends data as one frame (text,
// or binary for DataBinary), which the service raises as the event
// "message"; other event names are refused, and there is no ack.
func (c *Conn) SendEvent(ctx context.Context, event string, data Data) error {
	what := fmt.Sprintf("send event %q", event)
	if c.protocol == ProtocolRaw {
		if event != "message" {
			return fmt.Errorf("%s: a raw connection can only send the event \"message\": %w", what, ErrNotSupported)
		}
		kind := websocket.TextMessage
		switch data.Type {
		case DataText, DataJSON:
		case DataBinary:
			kind = websocket.BinaryMessage
		default:
			_, _, err := encodeData(data) // for its error
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := c.send(ctx, kind, data.Raw); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	dataType, raw, err := encodeData(data)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return c.request(ctx, what, outgoing{Type: "event", Event: event, DataType: dataType, Data: raw})
}

// request sends req with a new ack id and waits for the ack. what names the
// request in errors.
func (c *Conn) request(ctx context.Context, what string, req outgoing) error {
	if c.protocol == ProtocolRaw {
		return fmt.Errorf("%s: %w", what, ErrNotSupported)
	}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", what, err)
	}
	c.lastAckID++
	id := c.lastAckID
	req.AckID = id
	frame, err := json.Marshal(req)
	if err != nil { // cannot happen: every field is plain data
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", what, err)
	}
	p := &pendingRequest{frame: frame, done: make(chan error, 1)}
	c.pending[id] = p
	c.mu.Unlock()

	// A reliable connection sends the frame again after recovering, so a
	// failed write there is not the end of the request.
	if err := c.send(ctx, websocket.TextMessage, frame); err != nil && (ctx.Err() != nil || c.protocol != ProtocolReliable) {
		c.forget(id)
		return fmt.Errorf("%s: %w", what, err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	case <-ctx.Done():
		c.forget(id)
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
}

// forget stops waiting for the ack of request id.
func (c *Conn) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// completeRequest hands an ack to the request waiting for it. A Duplicate
// ack means the service had already done the request: a success.
func (c *Conn) completeRequest(in incoming) {
	c.mu.Lock()
	p := c.pending[in.AckID]
	delete(c.pending, in.AckID)
	c.mu.Unlock()
	if p == nil {
		return // nobody waits: cancelled, or an ack for a request sent twice
	}
	var err error
	if !in.Success {
		ackErr := &AckError{Name: "Unknown", Message: "the service refused the request without saying why"}
		if in.Error != nil {
			ackErr = &AckError{Name: in.Error.Name, Message: in.Error.Message}
		}
		if ackErr.Name != "Duplicate" {
			err = ackErr
		}
	}
	p.done <- err
}

// pendingFrames returns the frames of the requests waiting for acks, oldest
// first. The caller holds c.mu.
func (c *Conn) pendingFrames() [][]byte {
	ids := make([]uint64, 0, len(c.pending))
	for id := range c.pending {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	frames := make([][]byte, len(ids))
	for i, id := range ids {
		frames[i] = c.pending[id].frame
	}
	return frames
}

// send writes one frame on the current socket, waiting while a reliable
// connection reconnects.
func (c *Conn) send(ctx context.Context, kind int, frame []byte) error {
	for {
		c.mu.Lock()
		ws, ready, err := c.ws, c.ready, c.err
		c.mu.Unlock()
		if err != nil {
			return err
		}
		if ws != nil {
			return c.write(ctx, ws, kind, frame)
		}
		select {
		case <-ready:
		case <-c.ctx.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// write writes one frame on ws, one writer at a time. When ctx ends during
// the write, the socket is closed, since a half-written frame spoils it.
func (c *Conn) write(ctx context.Context, ws *websocket.Conn, kind int, frame []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case c.writeSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.writeSem }()
	deadline := time.Now().Add(writeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ws.SetWriteDeadline(deadline)
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		// The net.Conn's deadline, not gorilla's: gorilla's setter must
		// not run beside a write, while the net.Conn's may.
		ws.NetConn().SetWriteDeadline(time.Now())
		close(fired)
	})
	err := ws.WriteMessage(kind, frame)
	if !stop() {
		<-fired
	}
	if err != nil {
		ws.Close() // the reader sees the failure and ends or recovers the connection
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("writing to the service: %w", err)
	}
	return nil
}
