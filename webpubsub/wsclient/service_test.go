package wsclient

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"wps/webpubsub/service"
)

// startService runs the embedded Web PubSub service for one test.
func startService(t *testing.T) *service.Server {
	t.Helper()
	srv, err := service.Listen("127.0.0.1:0", service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		srv.Close(ctx)
	})
	return srv
}

// clientURL signs a client access URL for hub chat, as
// get_client_access_token does.
func clientURL(t *testing.T, srv *service.Server, user string, roles ...string) string {
	t.Helper()
	claims := jwt.MapClaims{
		"aud": srv.URL + "/client/hubs/chat",
		"exp": time.Now().Add(time.Hour).Unix(),
		"iat": time.Now().Unix(),
	}
	if user != "" {
		claims["sub"] = user
	}
	if len(roles) > 0 {
		claims["role"] = roles
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(service.DevelopmentKey))
	if err != nil {
		t.Fatal(err)
	}
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/client/hubs/chat?access_token=" + token
}

func TestService_groupMessages(t *testing.T) {
	srv := startService(t)
	roles := []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}
	alice := dial(t, clientURL(t, srv, "alice", roles...), ProtocolJSON, nil)
	bob := dial(t, clientURL(t, srv, "bob", roles...), ProtocolReliable, nil)
	if alice.ConnectionID() == "" || alice.ConnectionID() == bob.ConnectionID() || alice.UserID() != "alice" {
		t.Fatalf("connection ids %q %q, user %q", alice.ConnectionID(), bob.ConnectionID(), alice.UserID())
	}
	ctx := testContext(t)
	for _, c := range []*Conn{alice, bob} {
		if err := c.JoinGroup(ctx, "ops"); err != nil {
			t.Fatalf("JoinGroup: %v", err)
		}
	}
	sent := []Data{
		{Type: DataText, Raw: []byte("hello")},
		{Type: DataJSON, Raw: []byte(`{"n":1}`)},
		{Type: DataBinary, Raw: []byte{0, 255}},
	}
	for _, d := range sent {
		if err := alice.SendToGroup(ctx, "ops", d, false); err != nil {
			t.Fatalf("SendToGroup: %v", err)
		}
	}
	// Both members receive, the sender included, without any REST call.
	for _, c := range []*Conn{alice, bob} {
		for _, d := range sent {
			m := receive(t, c)
			if m.From != "group" || m.Group != "ops" || m.FromUserID != "alice" || m.DataType != d.Type || string(m.Data) != string(d.Raw) {
				t.Errorf("%s received %+v, want %s %q from alice in ops", c.UserID(), m, d.Type, d.Raw)
			}
		}
	}
	if err := bob.LeaveGroup(ctx, "ops"); err != nil {
		t.Fatalf("LeaveGroup: %v", err)
	}
	if err := alice.SendEvent(ctx, "ping-handler", Data{Type: DataText, Raw: []byte("x")}); err != nil {
		t.Errorf("SendEvent: %v", err)
	}
}

func TestService_forbidden(t *testing.T) {
	srv := startService(t)
	c := dial(t, clientURL(t, srv, "eve"), ProtocolJSON, nil) // no roles
	err := c.JoinGroup(testContext(t), "ops")
	var ack *AckError
	if !errors.As(err, &ack) || ack.Name != "Forbidden" {
		t.Errorf("JoinGroup without a role: %v, want an AckError Forbidden", err)
	}
}

func TestService_badToken(t *testing.T) {
	srv := startService(t)
	url := clientURL(t, srv, "eve")
	_, err := Dial(testContext(t), url+"x", ProtocolJSON, nil)
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 401 {
		t.Errorf("Dial with a bad signature: %v, want a HandshakeError 401", err)
	}
}

func TestService_reliableRecovery(t *testing.T) {
	srv := startService(t)
	roles := []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}
	// The listener's reconnection waits at this gate, so that messages are
	// sent while it is away and must come from the service's replay.
	gate := make(chan struct{})
	dialer, dials := gatedDialer(gate)
	listener := dial(t, clientURL(t, srv, "listener", roles...), ProtocolReliable, &Options{Dialer: dialer})
	sender := dial(t, clientURL(t, srv, "sender", roles...), ProtocolJSON, nil)
	ctx := testContext(t)
	if err := listener.JoinGroup(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	send := func(text string) {
		t.Helper()
		if err := sender.SendToGroup(ctx, "ops", Data{Type: DataText, Raw: []byte(text)}, false); err != nil {
			t.Fatal(err)
		}
	}
	send("before")
	if m := receive(t, listener); string(m.Data) != "before" {
		t.Fatalf("received %q, want before", m.Data)
	}
	id := listener.ConnectionID()

	// Cut the listener's socket under it, as a network failure would.
	listener.mu.Lock()
	listener.ws.NetConn().Close()
	listener.mu.Unlock()
	eventually(t, "the listener tries to reconnect", func() bool { return dials.Load() == 2 })
	send("during 1")
	send("during 2")
	close(gate)
	for _, want := range []string{"during 1", "during 2"} {
		if m := receive(t, listener); string(m.Data) != want {
			t.Errorf("received %q #%d, want %q", m.Data, m.SequenceID, want)
		}
	}
	if listener.ConnectionID() != id {
		t.Errorf("connection id changed from %q to %q", id, listener.ConnectionID())
	}
	// Still a member of ops, on the same connection.
	send("after")
	if m := receive(t, listener); string(m.Data) != "after" {
		t.Errorf("received %q, want after", m.Data)
	}
	if err := listener.LeaveGroup(ctx, "ops"); err != nil {
		t.Errorf("LeaveGroup after recovery: %v", err)
	}
}
