package service

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// The subprotocols a client may ask for. Any other (or none) makes a plain
// WebSocket client.
const (
	jsonSubprotocol     = "json.webpubsub.azure.v1"
	reliableSubprotocol = "json.reliable.webpubsub.azure.v1"
)

// clientMessage is one request from a JSON-subprotocol client, decoded and
// checked by decodeClientMessage.
type clientMessage struct {
	Type       string          `json:"type"`
	Group      string          `json:"group"`
	Event      string          `json:"event"`
	AckID      *uint64         `json:"ackId"`
	DataType   string          `json:"dataType"`
	Data       json.RawMessage `json:"data"`
	NoEcho     bool            `json:"noEcho"`
	SequenceID *uint64         `json:"sequenceId"`

	// payload is Data decoded by DataType: the text, the compact JSON
	// text, or the bytes of base64 data.
	payload []byte
}

// maxEventNameLength is the longest event name accepted.
const maxEventNameLength = 128

// decodeClientMessage decodes one frame of the JSON subprotocol. The error
// says what is wrong; the service closes the connection with it (code 1007).
func decodeClientMessage(frame []byte) (*clientMessage, error) {
	var m clientMessage
	dec := json.NewDecoder(bytes.NewReader(frame))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("the message is not a valid JSON object of the json.webpubsub.azure.v1 protocol: %w", err)
	}
	if dec.More() {
		return nil, errors.New("the message has data after its JSON object")
	}
	switch m.Type {
	case "joinGroup", "leaveGroup":
		if err := checkGroup(m.Group); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Type, err)
		}
	case "sendToGroup":
		if err := checkGroup(m.Group); err != nil {
			return nil, fmt.Errorf("sendToGroup: %w", err)
		}
		if err := m.decodeData(true); err != nil {
			return nil, fmt.Errorf("sendToGroup: %w", err)
		}
	case "event":
		if err := checkEventName(m.Event); err != nil {
			return nil, err
		}
		if err := m.decodeData(false); err != nil {
			return nil, fmt.Errorf("event: %w", err)
		}
	case "sequenceAck":
		if m.SequenceID == nil {
			return nil, errors.New("sequenceAck: sequenceId is missing")
		}
	case "ping":
	case "":
		return nil, errors.New("the message has no type")
	default:
		return nil, fmt.Errorf("unsupported message type %q", m.Type)
	}
	return &m, nil
}

// checkEventName checks an event name: a letter, then up to 127 letters,
// digits or the characters _ . -.
func checkEventName(name string) error {
	if name == "" {
		return errors.New("event: the event name is missing")
	}
	ok := len(name) <= maxEventNameLength
	for i, r := range name {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')) {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("event: invalid event name %q: it starts with a letter and has at most 128 letters, digits or _ . - characters", name)
	}
	return nil
}

// decodeData checks DataType and Data and fills payload.
func (m *clientMessage) decodeData(required bool) error {
	if m.DataType == "" {
		m.DataType = dataJSON
	}
	if len(m.Data) == 0 {
		if required {
			return errors.New("data is missing")
		}
		m.Data = json.RawMessage("null")
	}
	switch m.DataType {
	case dataJSON:
		var buf bytes.Buffer
		if err := json.Compact(&buf, m.Data); err != nil {
			return fmt.Errorf("data is not valid JSON: %w", err)
		}
		m.payload = buf.Bytes()
	case dataText:
		var text string
		if err := json.Unmarshal(m.Data, &text); err != nil {
			return errors.New(`data must be a JSON string when dataType is "text"`)
		}
		m.payload = []byte(text)
	case dataBinary:
		var encoded string
		if err := json.Unmarshal(m.Data, &encoded); err != nil {
			return errors.New(`data must be a base64 string when dataType is "binary"`)
		}
		b, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			return fmt.Errorf(`data is not valid base64: %w`, err)
		}
		m.payload = b
	default:
		return fmt.Errorf(`unsupported dataType %q: use "json", "text" or "binary"`, m.DataType)
	}
	return nil
}

// ackFrame encodes an ack. errName and errMessage are empty on success.
func ackFrame(ackID uint64, errName, errMessage string) []byte {
	b := []byte(`{"type":"ack","ackId":`)
	b = strconv.AppendUint(b, ackID, 10)
	if errName == "" {
		return append(b, `,"success":true}`...)
	}
	detail, _ := json.Marshal(struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	}{errName, errMessage})
	b = append(b, `,"success":false,"error":`...)
	b = append(b, detail...)
	return append(b, '}')
}

// connectedFrame encodes the connected system message. userID "" is
// written as null; reconnectionToken is left out when empty.
func connectedFrame(userID, connectionID, reconnectionToken string) []byte {
	var user *string
	if userID != "" {
		user = &userID
	}
	b, _ := json.Marshal(struct {
		Type              string  `json:"type"`
		Event             string  `json:"event"`
		UserID            *string `json:"userId"`
		ConnectionID      string  `json:"connectionId"`
		ReconnectionToken string  `json:"reconnectionToken,omitempty"`
	}{"system", "connected", user, connectionID, reconnectionToken})
	return b
}

// disconnectedFrame encodes the disconnected system message.
func disconnectedFrame(reason string) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Event   string `json:"event"`
		Message string `json:"message"`
	}{"system", "disconnected", reason})
	return b
}

// pongFrame is the answer to {"type":"ping"}.
var pongFrame = []byte(`{"type":"pong"}`)
