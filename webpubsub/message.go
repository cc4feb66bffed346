package webpubsub

import (
	"encoding/json"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"
)

// The three content types the REST API accepts for a message.
const (
	ContentTypeJSON   = "application/json"
	ContentTypeText   = "text/plain"
	ContentTypeBinary = "application/octet-stream"
)

// Message is the body of a send operation.
type Message struct {
	// ContentType is ContentTypeJSON, ContentTypeText or ContentTypeBinary,
	// optionally with parameters such as "; charset=utf-8".
	ContentType string
	// Data is sent as it is.
	Data []byte
}

// JSONMessage encodes v as a JSON message.
func JSONMessage(v any) (Message, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return Message{}, fmt.Errorf("%w: message is not JSON-encodable: %w", ErrInvalidArgument, err)
	}
	return Message{ContentType: ContentTypeJSON, Data: data}, nil
}

// TextMessage is a text/plain message: clients receive exactly s, which
// must be valid UTF-8 (use BinaryMessage for other bytes).
func TextMessage(s string) Message {
	return Message{ContentType: ContentTypeText, Data: []byte(s)}
}

// BinaryMessage is an application/octet-stream message.
func BinaryMessage(b []byte) Message {
	return Message{ContentType: ContentTypeBinary, Data: b}
}

// validate checks the content type, that a text or JSON message is valid
// UTF-8, and that a JSON message is valid JSON.
func (m Message) validate(op string) error {
	if m.ContentType == "" {
		return invalidf(op, "message has no content type (want %s, %s or %s)", ContentTypeJSON, ContentTypeText, ContentTypeBinary)
	}
	mediaType, _, err := mime.ParseMediaType(m.ContentType)
	if err != nil {
		return invalidf(op, "content type %q: %v", m.ContentType, err)
	}
	switch mediaType = strings.ToLower(mediaType); mediaType {
	case ContentTypeJSON, ContentTypeText:
		// Clients receive text and JSON in text frames, which must be
		// UTF-8 (json.Valid does not check that); the service refuses
		// anything else.
		if !utf8.Valid(m.Data) {
			return invalidf(op, "message has content type %s but is not valid UTF-8 text; send bytes as %s (BinaryMessage)", mediaType, ContentTypeBinary)
		}
		if mediaType == ContentTypeJSON && !json.Valid(m.Data) {
			return invalidf(op, "message has content type %s but is not valid JSON", ContentTypeJSON)
		}
	case ContentTypeBinary:
	default:
		return invalidf(op, "content type %q is not accepted (want %s, %s or %s)", m.ContentType, ContentTypeJSON, ContentTypeText, ContentTypeBinary)
	}
	return nil
}
