package webpubsub

import (
	"errors"
	"strings"
	"testing"
)

// Text and JSON reach clients in text frames, which must be UTF-8: a message
// that is not is refused before it is sent, with a pointer to binary.
func TestMessageMustBeUTF8Text(t *testing.T) {
	for _, m := range []Message{
		TextMessage("caf\xe9"),
		{ContentType: ContentTypeJSON, Data: []byte("\"\xff\"")},
		{ContentType: "text/plain; charset=utf-8", Data: []byte{0xc3}},
	} {
		err := m.validate("send_to_all")
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "not valid UTF-8") ||
			!strings.Contains(err.Error(), ContentTypeBinary) {
			t.Errorf("%s %q: error %v, want an invalid-argument error that suggests %s", m.ContentType, m.Data, err, ContentTypeBinary)
		}
	}
	for _, m := range []Message{
		TextMessage("café ✓"),
		{ContentType: ContentTypeJSON, Data: []byte(`"\ud800"`)}, // an escape is ASCII
		BinaryMessage([]byte{0xff, 0xfe}),
	} {
		if err := m.validate("send_to_all"); err != nil {
			t.Errorf("%s %q: %v", m.ContentType, m.Data, err)
		}
	}
}
