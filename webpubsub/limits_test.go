package webpubsub

import (
	"strings"
	"testing"
)

// TestLimitsAreTheChecks holds the exported names and limits to the checks
// the client makes: each listed name is accepted, and each limit is the
// last value accepted (TestInvalidArgumentsSendNothing rejects the next).
func TestLimitsAreTheChecks(t *testing.T) {
	c := newTestClient(t, "https://x.example", "hub")
	for _, p := range ClientProtocols() {
		if _, err := c.GetClientAccessToken(&TokenOptions{ClientProtocol: p}); err != nil {
			t.Errorf("client protocol %q: %v", p, err)
		}
	}
	for _, p := range Permissions() {
		if _, _, err := c.permissionRequest("op", p, "c", nil); err != nil {
			t.Errorf("permission %q: %v", p, err)
		}
	}
	for _, ct := range ContentTypes() {
		if err := (Message{ContentType: ct, Data: []byte("{}")}).validate("op"); err != nil {
			t.Errorf("content type %q: %v", ct, err)
		}
	}
	for _, minutes := range []int{MinMinutesToExpire, MaxMinutesToExpire} {
		if _, err := c.GetClientAccessToken(&TokenOptions{MinutesToExpire: minutes}); err != nil {
			t.Errorf("minutes to expire %d: %v", minutes, err)
		}
	}
	if err := CheckHubName(strings.Repeat("h", MaxHubNameLength)); err != nil {
		t.Errorf("a hub name of %d characters: %v", MaxHubNameLength, err)
	}
	if err := CheckHubName(strings.Repeat("h", MaxHubNameLength+1)); err == nil {
		t.Errorf("a hub name of %d characters was accepted", MaxHubNameLength+1)
	}
	if err := checkGroup("op", strings.Repeat("g", MaxGroupNameLength)); err != nil {
		t.Errorf("a group name of %d characters: %v", MaxGroupNameLength, err)
	}
}
