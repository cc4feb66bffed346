package service

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
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
// says in plain words what is wrong; the service closes the connection
// with it (code 1007), so the client sees it as the close reason.
func decodeClientMessage(frame []byte) (*clientMessage, error) {
	var m clientMessage
	dec := json.NewDecoder(bytes.NewReader(frame))
	if err := dec.Decode(&m); err != nil {
		return nil, errors.New(describeJSONError("The message", err))
	}
	if dec.More() {
		return nil, errors.New("The message has more data after its JSON object.")
	}
	switch m.Type {
	case "joinGroup", "leaveGroup":
		if err := checkGroup(m.Group); err != nil {
			return nil, fmt.Errorf("%s: %w.", m.Type, err)
		}
	case "sendToGroup":
		if err := checkGroup(m.Group); err != nil {
			return nil, fmt.Errorf("sendToGroup: %w.", err)
		}
		if err := m.decodeData(true); err != nil {
			return nil, fmt.Errorf("sendToGroup: %w.", err)
		}
	case "event":
		if err := checkEventName(m.Event); err != nil {
			return nil, err
		}
		if err := m.decodeData(false); err != nil {
			return nil, fmt.Errorf("event: %w.", err)
		}
	case "sequenceAck":
		if m.SequenceID == nil {
			return nil, errors.New("sequenceAck: the sequenceId is missing.")
		}
	case "ping":
	case "":
		return nil, errors.New(`The message has no type; json.webpubsub.azure.v1 messages have a "type" such as "sendToGroup".`)
	default:
		return nil, fmt.Errorf("The message type %q is not supported.", m.Type)
	}
	return &m, nil
}

// describeJSONError says in plain words why JSON did not decode into one of
// the service's structs, without the Go names that encoding/json puts in
// its errors; subject names the JSON, e.g. "The message".
func describeJSONError(subject string, err error) string {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return subject + " is not complete JSON: it ends too soon."
	case errors.As(err, &syntax):
		return fmt.Sprintf("%s is not valid JSON: %s (at byte %d).", subject, strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return fmt.Sprintf("%s must be a JSON object, not %s.", subject, withArticle(typeErr.Value))
	case errors.As(err, &typeErr):
		return fmt.Sprintf("The field %s must be %s, not %s.", typeErr.Field, describeType(typeErr.Type), withArticle(typeErr.Value))
	}
	return subject + " is not valid JSON."
}

// describeType names what a field of clientMessage takes.
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Uint64:
		return "a whole number from 0 to 18446744073709551615"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
	}
	return "another JSON value"
}

// withArticle names the JSON value encoding/json describes ("string",
// "number -1", "array") as a sentence does: "a string", "-1", "an array".
func withArticle(value string) string {
	if number, ok := strings.CutPrefix(value, "number "); ok {
		return number
	}
	switch value {
	case "":
		return "this value"
	case "bool":
		return "a boolean"
	case "array", "object":
		return "an " + value
	}
	return "a " + value
}

// checkEventName checks an event name: a letter, then up to 127 letters,
// digits or the characters _ . -.
func checkEventName(name string) error {
	if name == "" {
		return errors.New("event: the event name is missing.")
	}
	ok := len(name) <= maxEventNameLength
	for i, r := range name {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')) {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("event: the event name %q is not valid: it starts with a letter and has at most 128 letters, digits or _ . - characters.", name)
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
			return errors.New("the data is missing")
		}
		m.Data = json.RawMessage("null")
	}
	switch m.DataType {
	case dataJSON:
		var buf bytes.Buffer
		if err := json.Compact(&buf, m.Data); err != nil {
			return fmt.Errorf("the data is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
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
			return fmt.Errorf("the data is not valid base64: %v", err)
		}
		m.payload = b
	default:
		return fmt.Errorf(`the dataType %q is not supported: use "json", "text" or "binary"`, m.DataType)
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
