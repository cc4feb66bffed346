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
// that receives it.
type outMessage struct {
	from       string // "server" or "group"
	group      string // for from "group"
	fromUserID string // for from "group"; "" is an anonymous sender or REST
	dataType   string // dataText, dataJSON or dataBinary
	data       []byte // the payload: text, JSON text, or raw bytes
	expires    time.Time

	plainOnce sync.Once
	plain     *websocket.PreparedMessage

	jsonOnce sync.Once
	json     *websocket.PreparedMessage // for json.webpubsub.azure.v1
	jsonTail []byte                     // the JSON after its '{', for sequenced copies
}

// expired reports whether the message's time to live has passed.
func (m *outMessage) expired(now time.Time) bool {
	return !m.expires.IsZero() && now.After(m.expires)
}

// plainFrame returns the frame a client without subprotocol receives: the
// payload itself, in a binary frame for binary data and a text frame
// otherwise.
func (m *outMessage) plainFrame() *websocket.PreparedMessage {
	m.plainOnce.Do(func() {
		kind := websocket.TextMessage
		if m.dataType == dataBinary {
			kind = websocket.BinaryMessage
		}
		m.plain, _ = websocket.NewPreparedMessage(kind, m.data)
	})
	return m.plain
}

// jsonFrame returns the frame a json.webpubsub.azure.v1 client receives.
func (m *outMessage) jsonFrame() *websocket.PreparedMessage {
	m.encodeJSON()
	return m.json
}

// sequencedFrame returns the text a json.reliable.webpubsub.azure.v1
// client receives: the JSON message with its sequenceId.
func (m *outMessage) sequencedFrame(seq uint64) []byte {
	m.encodeJSON()
	b := make([]byte, 0, len(m.jsonTail)+32)
	b = append(b, `{"sequenceId":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, ',')
	return append(b, m.jsonTail...)
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
		m.jsonTail = b[1:]
		m.json, _ = websocket.NewPreparedMessage(websocket.TextMessage, b)
	})
}
