package service

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeClientMessage feeds arbitrary frames to the JSON protocol
// decoder. It must never panic, and whatever it accepts must be a request
// the service can act on and re-encode as valid JSON for every client kind.
// Seeds live in testdata/fuzz/FuzzDecodeClientMessage.
func FuzzDecodeClientMessage(f *testing.F) {
	f.Add([]byte(`{"type":"joinGroup","group":"g","ackId":1}`))
	f.Add([]byte(`{"type":"sendToGroup","group":"g","dataType":"binary","data":"AAE=","noEcho":true}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := decodeClientMessage(frame)
		if err != nil {
			if m != nil {
				t.Fatalf("an error with a message: %v", err)
			}
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			if msg := err.Error(); strings.Contains(msg, "Go ") || strings.Contains(msg, "clientMessage") || strings.Contains(msg, "json:") {
				t.Fatalf("the error shows Go internals: %s", msg)
			}
			return
		}
		switch m.Type {
		case "joinGroup", "leaveGroup":
			if checkGroup(m.Group) != nil {
				t.Fatalf("accepted group %q", m.Group)
			}
		case "sendToGroup", "event":
			if m.Type == "sendToGroup" && checkGroup(m.Group) != nil {
				t.Fatalf("accepted group %q", m.Group)
			}
			if m.DataType == dataJSON && !json.Valid(m.payload) {
				t.Fatalf("json payload %q is not JSON", m.payload)
			}
			msg := &outMessage{from: "group", group: m.Group, dataType: m.DataType, data: m.payload}
			msg.encodeJSON()
			sequenced := append([]byte(`{"sequenceId":7,`), msg.json[1:]...)
			if !json.Valid(msg.json) || !json.Valid(sequenced) {
				t.Fatalf("re-encoded message is not JSON: %s", sequenced)
			}
			if (msg.jsonPrepared == nil) != (len(msg.json) > maxPreparedSize) {
				t.Fatal("a small message has no prepared frame")
			}
			// The service checks frames for UTF-8 before it decodes them;
			// from a valid frame, every text it forwards is valid too.
			if utf8.Valid(frame) && (!utf8.Valid(msg.json) || m.DataType != dataBinary && !utf8.Valid(m.payload)) {
				t.Fatalf("valid UTF-8 frame %q gave invalid UTF-8 text", frame)
			}
		case "sequenceAck":
			if m.SequenceID == nil {
				t.Fatal("sequenceAck without sequenceId")
			}
		case "ping":
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
		if m.AckID != nil && !json.Valid(ackFrame(*m.AckID, "Forbidden", m.Group)) {
			t.Fatal("ack is not JSON")
		}
	})
}

func TestDecodeClientMessage(t *testing.T) {
	m, err := decodeClientMessage([]byte(`{"type":"sendToGroup","group":"g","data":{"a": [1, 2]},"ackId":18446744073709551615,"metadata":{"k":"v"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.DataType != dataJSON || string(m.payload) != `{"a":[1,2]}` || *m.AckID != 1<<64-1 {
		t.Errorf("decoded %+v", m)
	}
	m, err = decodeClientMessage([]byte(`{"type":"event","event":"e"}`))
	if err != nil || string(m.payload) != "null" {
		t.Errorf("event without data: %v %+v", err, m)
	}
	for _, bad := range []string{`{"type":"ping"} {}`, `{"type":"sendToGroup","group":"g"}`, `{"type":"sendToGroup","group":"g","dataType":"xml","data":"x"}`, `{"type":"sequenceAck"}`} {
		if _, err := decodeClientMessage([]byte(bad)); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}
