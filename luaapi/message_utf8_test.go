package luaapi

import (
	"strings"
	"testing"
)

// Text and JSON reach clients in text frames, which must be UTF-8: a Lua
// string of other bytes is refused before anything is sent, with a pointer
// to wps.binary, which sends the same bytes as application/octet-stream.
func TestMessage_TextMustBeUTF8(t *testing.T) {
	srv := newWireServer(t)
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString()})
	for script, want := range map[string]string{
		`wps.send_to_all("\255")`: `bad argument #1 to 'wps.send_to_all' (the message is not valid UTF-8 text, which text/plain requires; send other bytes with wps.binary(s))`,
		`wps.send_to_group("g", '"\255"', {content_type = "application/json"})`:       `bad argument #2 to 'wps.send_to_group' (the message is not valid UTF-8 text, which application/json requires; send other bytes with wps.binary(s))`,
		`wps.send_to_user("u", wps.binary("caf\195"), {content_type = "text/plain"})`: `send other bytes with wps.binary(s)`,
	} {
		if got := mustFail(t, L, script); !strings.Contains(got, want) {
			t.Errorf("%s\nraised  %q\nwant it to contain %q", script, got, want)
		}
	}
	if n := len(srv.received()); n != 0 {
		t.Errorf("invalid text sent %d requests, want none", n)
	}
	if err := L.DoString(`wps.send_to_all(wps.binary("\255")); wps.send_to_all("café")`); err != nil {
		t.Fatalf("binary bytes and UTF-8 text: %v", err)
	}
}
