package wsclient

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// The data types of the JSON protocols.
const (
	DataText   = "text"
	DataJSON   = "json"
	DataBinary = "binary"
)

// Data is a payload to send. Type is DataText (Raw is UTF-8 text), DataJSON
// (Raw is one JSON value) or DataBinary (any bytes; they travel base64 in the
// JSON protocols).
type Data struct {
	Type string
	Raw  []byte
}

// Message is one thing received on a connection.
type Message struct {
	// Type is "message" for data from a group or the server, or "system"
	// for the service's disconnected notice (Event says which).
	Type string
	// From is "group" or "server" for a message; "" on raw connections,
	// which cannot tell.
	From       string
	Group      string // the group, when From is "group"
	FromUserID string // the sender's user id, "" when none (REST or anonymous)
	// Event is "disconnected" for a system message; Data then holds the
	// service's reason as text.
	Event string
	// DataType is DataText, DataJSON or DataBinary (or a newer type the
	// service sent, with Data holding its raw JSON).
	DataType string
	// Data is the payload: the text, the JSON value's text, or the decoded bytes.
	Data []byte
	// SequenceID is the message's sequence id on reliable connections, else 0.
	SequenceID uint64
}

// outgoing is a request frame of the JSON protocols.
type outgoing struct {
	Type       string          `json:"type"`
	Group      string          `json:"group,omitempty"`
	Event      string          `json:"event,omitempty"`
	AckID      uint64          `json:"ackId,omitempty"`
	DataType   string          `json:"dataType,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	NoEcho     *bool           `json:"noEcho,omitempty"`
	SequenceID *uint64         `json:"sequenceId,omitempty"`
}

// incoming is any frame the service sends on the JSON protocols.
type incoming struct {
	Type string `json:"type"`
	// system messages
	Event             string `json:"event"`
	UserID            string `json:"userId"` // null decodes as ""
	ConnectionID      string `json:"connectionId"`
	ReconnectionToken string `json:"reconnectionToken"`
	Message           string `json:"message"`
	// acks
	AckID   uint64 `json:"ackId"`
	Success bool   `json:"success"`
	Error   *struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
	// data messages
	From       string          `json:"from"`
	Group      string          `json:"group"`
	FromUserID string          `json:"fromUserId"`
	DataType   string          `json:"dataType"`
	Data       json.RawMessage `json:"data"`
	SequenceID uint64          `json:"sequenceId"`
}

// encodeData returns d's dataType and data fields for the JSON protocols.
func encodeData(d Data) (string, json.RawMessage, error) {
	switch d.Type {
	case DataText:
		if !utf8.Valid(d.Raw) {
			return "", nil, errors.New("text data is not valid UTF-8; send it as binary")
		}
		raw, err := json.Marshal(string(d.Raw))
		return d.Type, raw, err
	case DataJSON:
		if !json.Valid(d.Raw) {
			return "", nil, errors.New("json data is not one valid JSON value")
		}
		return d.Type, d.Raw, nil
	case DataBinary:
		raw, err := json.Marshal(base64.StdEncoding.EncodeToString(d.Raw))
		return d.Type, raw, err
	}
	return "", nil, fmt.Errorf("data type %q is not %q, %q or %q", d.Type, DataText, DataJSON, DataBinary)
}

// decodeData turns a received data field into bytes.
func decodeData(dataType string, raw json.RawMessage) ([]byte, error) {
	switch dataType {
	case DataText:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("text data is not a JSON string")
		}
		return []byte(s), nil
	case DataBinary:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("binary data is not a JSON string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, errors.New("binary data is not valid base64")
		}
		return b, nil
	}
	return []byte(raw), nil // json, and types newer than this client
}
