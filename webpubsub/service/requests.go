package service

import (
	"fmt"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// handleFrame handles one frame (of websocket frame type kind) from the
// client. JSON-subprotocol clients may send their messages in text or
// binary frames. A frame that must be text and is not valid UTF-8 closes
// the connection with 1007 before anything of it is forwarded: receivers
// such as browsers drop a connection that delivers invalid UTF-8 text.
func (c *connection) handleFrame(kind int, frame []byte) {
	c.mu.Lock()
	ended := c.ended
	c.mu.Unlock()
	if ended { // closed by the service (REST, SlowClient, PingTimeout): its requests are not acted on
		return
	}
	if (kind == websocket.TextMessage || c.kind != plainClient) && !utf8.Valid(frame) {
		c.close(websocket.CloseInvalidFramePayloadData, "The message is not valid UTF-8 text; send binary data in a binary frame, or as dataType binary.")
		return
	}
	if c.kind == plainClient {
		// With no event handler there is nobody to take the frame: the
		// service drops the connection, as the real one does.
		c.close(websocket.CloseNormalClosure, "No event handler is configured for the message event.")
		return
	}
	m, err := decodeClientMessage(frame)
	if err != nil {
		c.close(websocket.CloseInvalidFramePayloadData, err.Error())
		return
	}
	switch m.Type {
	case "ping":
		c.sendControl(pongFrame)
	case "sequenceAck":
		if c.kind == reliableClient {
			c.acknowledge(*m.SequenceID)
		}
	default:
		c.handleRequest(m)
	}
}

// handleRequest runs a joinGroup, leaveGroup, sendToGroup or event request
// and acknowledges it when it has an ackId. A request without ackId that
// fails is dropped, as the protocol says.
func (c *connection) handleRequest(m *clientMessage) {
	if m.AckID != nil {
		c.mu.Lock()
		duplicate := c.ackIDs.has(*m.AckID)
		c.mu.Unlock()
		if duplicate {
			c.sendControl(ackFrame(*m.AckID, "Duplicate", fmt.Sprintf("Message with ack-id: %d has been processed", *m.AckID)))
			return
		}
	}
	var errName, errMessage string
	s := c.service
	switch m.Type {
	case "joinGroup", "leaveGroup":
		s.mu.Lock()
		if !c.may(permJoinLeave, m.Group) {
			verb := "join"
			if m.Type == "leaveGroup" {
				verb = "leave"
			}
			errName, errMessage = "Forbidden", fmt.Sprintf("The client has no permission to %s group '%s'.", verb, m.Group)
		} else if m.Type == "joinGroup" {
			c.hub.join(c, m.Group)
		} else {
			c.hub.leave(c, m.Group)
		}
		s.mu.Unlock()
	case "sendToGroup":
		msg := &outMessage{from: "group", group: m.Group, fromUserID: c.userID, dataType: m.DataType, data: m.payload}
		s.mu.RLock()
		if !c.may(permSend, m.Group) {
			errName, errMessage = "Forbidden", fmt.Sprintf("The client has no permission to send message to group '%s'.", m.Group)
		} else {
			for member := range c.hub.groups[m.Group] {
				if !(m.NoEcho && member == c) {
					member.send(msg)
				}
			}
		}
		s.mu.RUnlock()
	case "event":
		s.log.Debug("event dropped: no event handler", "hub", c.hub.name, "connectionId", c.id, "event", m.Event)
	}
	if m.AckID == nil {
		return
	}
	if errName == "" {
		c.mu.Lock()
		c.ackIDs.add(*m.AckID)
		c.mu.Unlock()
	}
	c.sendControl(ackFrame(*m.AckID, errName, errMessage))
}
