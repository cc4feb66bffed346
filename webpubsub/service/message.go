package service

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Data types of a message, as the JSON subprotocols name them.
const (
	dataText   = "text"
	dataJSON   = "json"
	dataBinary = "binary"
)

// outMessage is one data message on its way to one or many connections.
// Each wire form is encoded once, on first use, and shared by every socket
// that receives it. Small messages are also framed once
// (websocket.PreparedMessage); large ones are written from the shared
// bytes, as a prepared copy would double the memory they hold.
type outMessage struct {
	from       string // "server" or "group"
	group      string // for from "group"
	fromUserID string // for from "group"; "" is an anonymous sender or REST
	dataType   string // dataText, dataJSON or dataBinary
	data       []byte // the payload: text, JSON text, or raw bytes
	expires    time.Time

	plainOnce sync.Once
	plain     *websocket.PreparedMessage // nil for a large message

	jsonOnce     sync.Once
	json         []byte                     // the message for json.webpubsub.azure.v1
	jsonPrepared *websocket.PreparedMessage // json framed, nil for a large message
}

// maxPreparedSize is the largest message framed once for all its sockets.
const maxPreparedSize = 32 << 10

// expired reports whether the message's time to live has passed.
func (m *outMessage) expired(now time.Time) bool {
	return !m.expires.IsZero() && now.After(m.expires)
}

// wireSize estimates the bytes of the frame a client of kind receives,
// without encoding it: the payload, base64 for binary data in JSON, and
// room for the JSON envelope.
func (m *outMessage) wireSize(kind clientKind) int {
	switch {
	case kind == plainClient:
		return len(m.data)
	case m.dataType == dataBinary:
		return (len(m.data)+2)/3*4 + 128 + len(m.group) + len(m.fromUserID)
	default:
		return len(m.data) + 128 + len(m.group) + len(m.fromUserID)
	}
}

// write writes the message to a client without subprotocol (the payload
// itself, in a binary frame for binary data and a text frame otherwise)
// or to a json.webpubsub.azure.v1 client.
func (m *outMessage) write(ws *websocket.Conn, kind clientKind) error {
	if kind == plainClient {
		frameType := websocket.TextMessage
		if m.dataType == dataBinary {
			frameType = websocket.BinaryMessage
		}
		if len(m.data) > maxPreparedSize {
			return ws.WriteMessage(frameType, m.data)
		}
		m.plainOnce.Do(func() { m.plain, _ = websocket.NewPreparedMessage(frameType, m.data) })
		return ws.WritePreparedMessage(m.plain)
	}
	m.encodeJSON()
	if m.jsonPrepared == nil {
		return ws.WriteMessage(websocket.TextMessage, m.json)
	}
	return ws.WritePreparedMessage(m.jsonPrepared)
}

// writeSequenced writes the message to a json.reliable.webpubsub.azure.v1
// client: the JSON message with its sequenceId first, written around the
// shared encoding rather than copied.
func (m *outMessage) writeSequenced(ws *websocket.Conn, seq uint64) error {
	m.encodeJSON()
	var head [40]byte
	prefix := append(head[:0], `{"sequenceId":`...)
	prefix = strconv.AppendUint(prefix, seq, 10)
	prefix = append(prefix, ',')
	w, err := ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	if _, err := w.Write(prefix); err != nil {
		w.Close()
		return err
	}
	if _, err := w.Write(m.json[1:]); err != nil { // the JSON after its '{'
		w.Close()
		return err
	}
	return w.Close()
}

func (m *outMessage) encodeJSON() {
	m.jsonOnce.Do(func() {
		var data json.RawMessage
		switch m.dataType {
		case dataJSON:
			data = m.data
		case dataText:
			data, _ = json.Marshal(string(m.data))
		default:
			data, _ = json.Marshal(base64.StdEncoding.EncodeToString(m.data))
		}
		if !json.Valid(data) {
			data = json.RawMessage("null") // unreachable: payloads are checked on arrival
		}
		var b []byte
		if m.from == "group" {
			var fromUser *string
			if m.fromUserID != "" {
				fromUser = &m.fromUserID
			}
			b, _ = json.Marshal(struct {
				Type       string          `json:"type"`
				From       string          `json:"from"`
				FromUserID *string         `json:"fromUserId"`
				Group      string          `json:"group"`
				DataType   string          `json:"dataType"`
				Data       json.RawMessage `json:"data"`
			}{"message", "group", fromUser, m.group, m.dataType, data})
		} else {
			b, _ = json.Marshal(struct {
				Type     string          `json:"type"`
				From     string          `json:"from"`
				DataType string          `json:"dataType"`
				Data     json.RawMessage `json:"data"`
			}{"message", "server", m.dataType, data})
		}
		m.json = b
		if len(b) <= maxPreparedSize {
			m.jsonPrepared, _ = websocket.NewPreparedMessage(websocket.TextMessage, b)
		}
	})
}
