package repl

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"wps/webpubsub"
	"wps/webpubsub/service"
	"wps/webpubsub/wsclient"
)

// TestGuard calls every REST operation through the guarded transport
// against a service started apart: the dangerous ones ask, with the hub,
// the endpoint and what the service can count; the others go through.
func TestGuard(t *testing.T) {
	server, err := service.Listen("127.0.0.1:0", service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(context.Background()) })
	admin, err := webpubsub.NewClientFromConnectionString(server.ConnectionString, "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var conns []*wsclient.Conn
	for _, user := range []string{"u1", "u1", "u2"} {
		token, err := admin.GetClientAccessToken(&webpubsub.TokenOptions{UserID: user, Groups: []string{"ops"}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := wsclient.Dial(ctx, token.URL, wsclient.ProtocolJSON, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	id := conns[2].ConnectionID()

	var questions []string
	answer := false
	local := ""
	g := newGuard(true, func(host string) bool { return host == local }, func(host, hub string) *webpubsub.Client {
		c, _ := admin.WithHub(hub)
		return c
	}, func(q []string) bool {
		questions = append(questions, strings.Join(q, "\n"))
		return answer
	})
	client, err := webpubsub.NewClientFromConnectionString(server.ConnectionString, "chat",
		&webpubsub.ClientOptions{HTTPClient: &http.Client{Transport: newTransport(nil, g)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
		want string // in the question; "" means none is asked
	}{
		{"send_to_all", func(ctx context.Context) error { return client.SendToAll(ctx, webpubsub.TextMessage("hi"), nil) }, ""},
		{"remove_connection_from_group", func(ctx context.Context) error { return client.RemoveConnectionFromGroup(ctx, "other", id) }, ""},
		{"grant_permission", func(ctx context.Context) error {
			return client.GrantPermission(ctx, webpubsub.PermissionSendToGroup, id, nil)
		}, ""},
		{"close_all_connections", func(ctx context.Context) error { return client.CloseAllConnections(ctx, nil) }, "closes EVERY connection of the hub"},
		{"close_group_connections", func(ctx context.Context) error {
			return client.CloseGroupConnections(ctx, "ops", &webpubsub.CloseOptions{Excluded: []string{id}})
		}, `closes every connection in group "ops": 3 connections now, except 1 excluded connection.`},
		{"close_group_connections", func(ctx context.Context) error { return client.CloseGroupConnections(ctx, "empty", nil) }, `group "empty": 0 connections now.`},
		{"close_user_connections", func(ctx context.Context) error { return client.CloseUserConnections(ctx, "u1", nil) }, `user "u1": the user has at least one`},
		{"close_user_connections", func(ctx context.Context) error { return client.CloseUserConnections(ctx, "nobody", nil) }, `user "nobody": the user has none now (0 connections).`},
		{"close_connection", func(ctx context.Context) error { return client.CloseConnection(ctx, id, nil) }, `closes connection "` + id + `": it is open (1 connection).`},
		{"remove_connection_from_all_groups", func(ctx context.Context) error { return client.RemoveConnectionFromAllGroups(ctx, "gone") }, `"gone" from every group: it is not open (0 connections).`},
		{"remove_user_from_all_groups", func(ctx context.Context) error { return client.RemoveUserFromAllGroups(ctx, "u2") }, `user "u2" from every group: the user has at least one`},
		{"revoke_permission", func(ctx context.Context) error {
			return client.RevokePermission(ctx, webpubsub.PermissionJoinLeaveGroup, id, &webpubsub.PermissionOptions{TargetName: "ops"})
		}, `revokes joinLeaveGroup on group "ops" from connection "` + id + `"`},
		{"remove_connections_from_groups", func(ctx context.Context) error {
			return client.RemoveConnectionsFromGroups(ctx, []string{"ops"}, "userId eq 'u1'")
		}, `removes the connections that match "userId eq 'u1'" from groups "ops": the groups hold 3 connections now.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			questions = nil
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			err := tc.call(withEvaluation(ctx, cancel))
			if tc.want == "" {
				if len(questions) > 0 || err != nil {
					t.Errorf("asked %q, error %v; want neither", questions, err)
				}
				return
			}
			if len(questions) != 1 {
				t.Fatalf("asked %d questions, want 1", len(questions))
			}
			if q := questions[0]; !strings.Contains(q, tc.want) || !strings.Contains(q, tc.name+` on hub "chat" at `+server.URL) {
				t.Errorf("question %q, want it to name the operation, hub, endpoint and %q", q, tc.want)
			}
			var denied *DeniedError
			if !errors.As(context.Cause(ctx), &denied) || denied.Operation != tc.name {
				t.Errorf("the evaluation's cause is %v, want the refusal", context.Cause(ctx))
			}
			if err == nil {
				t.Errorf("the refused call succeeded")
			}
		})
	}
	if ok, _ := admin.GroupExists(ctx, "ops"); !ok {
		t.Fatal("a refused call went through: group ops is empty")
	}

	// Allowed, the call goes, asked once.
	answer, questions = true, nil
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if err := client.CloseGroupConnections(withEvaluation(ctx, cancel), "ops", nil); err != nil {
		t.Fatal(err)
	}
	if len(questions) != 1 {
		t.Errorf("asked %d times, want once", len(questions))
	}
	if ok, _ := admin.GroupExists(ctx, "ops"); ok {
		t.Error("the allowed call did not close the group's connections")
	}

	// Off, or on the embedded service's host, nothing is asked.
	questions = nil
	local = strings.TrimPrefix(server.URL, "http://")
	if err := client.CloseAllConnections(ctx, nil); err != nil || len(questions) > 0 {
		t.Errorf("local: error %v, questions %q", err, questions)
	}
	local = ""

	g.on.Store(false)
	if err := client.CloseAllConnections(ctx, nil); err != nil || len(questions) > 0 {
		t.Errorf("off: error %v, questions %q", err, questions)
	}
}
