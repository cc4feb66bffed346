package wsclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/gorilla/websocket"
)

// sequenceAckInterval is the least time between two sequenceAck frames, so
// that a burst of messages is acknowledged with a few frames.
const sequenceAckInterval = 100 * time.Millisecond

// recoveryAttemptTimeout bounds one reconnection attempt.
const recoveryAttemptTimeout = 10 * time.Second

// pushSequenced queues a reliable message unless it is a replay of one
// already received, and schedules its sequenceAck.
func (c *Conn) pushSequenced(m Message) error {
	c.mu.Lock()
	duplicate := m.SequenceID <= c.lastSeq
	if !duplicate {
		c.lastSeq = m.SequenceID
	}
	c.mu.Unlock()
	select {
	case c.seqSignal <- struct{}{}:
	default: // already scheduled
	}
	if duplicate {
		return nil
	}
	return c.push(m)
}

// sequenceAckLoop acknowledges, cumulatively, the highest sequence id
// received, at most once per sequenceAckInterval.
func (c *Conn) sequenceAckLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.seqSignal:
		case <-c.ctx.Done():
			return
		}
		c.mu.Lock()
		seq, acked := c.lastSeq, c.ackedSeq
		c.mu.Unlock()
		if seq > acked {
			frame, _ := json.Marshal(outgoing{Type: "sequenceAck", SequenceID: &seq})
			if c.send(c.ctx, websocket.TextMessage, frame) == nil {
				c.mu.Lock()
				c.ackedSeq = max(c.ackedSeq, seq)
				c.mu.Unlock()
			}
		}
		select {
		case <-time.After(sequenceAckInterval):
		case <-c.ctx.Done():
			return
		}
	}
}

// reconnect opens a new socket for the same connection id after the socket
// dropped with lost. It tries at once and then every recoveryRetryInterval,
// starting no attempt past RecoveryTimeout. It returns the new socket, or nil
// after ending the connection.
func (c *Conn) reconnect(lost error) *websocket.Conn {
	deadline := time.Now().Add(c.recoveryTimeout)
	for {
		ctx, cancel := context.WithTimeout(c.ctx, recoveryAttemptTimeout)
		ws, err := c.dialSocket(ctx, c.recoveryURL())
		cancel()
		if err == nil {
			c.mu.Lock()
			if c.err != nil { // closed meanwhile
				c.mu.Unlock()
				ws.Close()
				return nil
			}
			c.ws = ws
			close(c.ready)
			c.ackedSeq = 0 // the last sequenceAck may have been lost with the old socket
			frames := c.pendingFrames()
			c.mu.Unlock()
			select {
			case c.seqSignal <- struct{}{}:
			default:
			}
			for _, frame := range frames {
				if c.write(c.ctx, ws, websocket.TextMessage, frame) != nil {
					break // the reader sees the failure
				}
			}
			return ws
		}
		if c.ctx.Err() != nil {
			return nil // closed by Close
		}
		if !time.Now().Add(recoveryRetryInterval).Before(deadline) {
			c.finish(fmt.Errorf("%w: the socket dropped (%w) and reconnecting failed for %v: %w", ErrClosed, lost, c.recoveryTimeout, err))
			return nil
		}
		select {
		case <-time.After(recoveryRetryInterval):
		case <-c.ctx.Done():
			return nil
		}
	}
}

// recoveryURL is the client URL with the recovery parameters added; it keeps
// the original access_token, as the official clients do.
func (c *Conn) recoveryURL() *url.URL {
	u := *c.url
	q := u.Query()
	c.mu.Lock()
	q.Set("awps_connection_id", c.connectionID)
	q.Set("awps_reconnection_token", c.reconnectionToken)
	c.mu.Unlock()
	u.RawQuery = q.Encode()
	return &u
}
