package service_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wps/webpubsub"
	"wps/webpubsub/service"
)

// TestService_WithGoClient drives the service with wps's own REST client
// (package webpubsub), as scripts do: tokens, sends, groups, permissions,
// listing and closing.
func TestService_WithGoClient(t *testing.T) {
	ctx := context.Background()
	server, err := service.Listen("127.0.0.1:0", service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close(ctx)
	client, err := webpubsub.NewClientFromConnectionString(server.ConnectionString, "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := client.ServiceStatus(ctx); !ok || err != nil {
		t.Fatalf("ServiceStatus = %v, %v", ok, err)
	}

	access, err := client.GetClientAccessToken(&webpubsub.TokenOptions{UserID: "u1", Groups: []string{"g"}, Roles: []string{"webpubsub.sendToGroup"}})
	if err != nil {
		t.Fatal(err)
	}
	dialer := websocket.Dialer{Subprotocols: []string{"json.webpubsub.azure.v1"}, HandshakeTimeout: 10 * time.Second}
	ws, _, err := dialer.Dial(access.URL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", access.BaseURL, err)
	}
	defer ws.Close()
	var connected struct{ ConnectionID string }
	readInto(t, ws, &connected)

	if ok, err := client.UserExists(ctx, "u1"); !ok || err != nil {
		t.Errorf("UserExists = %v, %v", ok, err)
	}
	if ok, err := client.GroupExists(ctx, "g"); !ok || err != nil {
		t.Errorf("GroupExists = %v, %v", ok, err)
	}
	if ok, err := client.ConnectionExists(ctx, "nobody"); ok || err != nil {
		t.Errorf("ConnectionExists(nobody) = %v, %v", ok, err)
	}

	msg, _ := webpubsub.JSONMessage(map[string]int{"n": 1})
	if err := client.SendToGroup(ctx, "g", msg, &webpubsub.SendOptions{Filter: "userId eq 'u1'", TTLSeconds: 30}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		From, Group, DataType string
		Data                  map[string]int
	}
	readInto(t, ws, &got)
	if got.From != "group" || got.Group != "g" || got.DataType != "json" || got.Data["n"] != 1 {
		t.Errorf("received %+v", got)
	}

	if err := client.AddConnectionToGroup(ctx, "h", connected.ConnectionID); err != nil {
		t.Fatal(err)
	}
	members, err := client.ListConnections(ctx, "h", &webpubsub.ListOptions{MaxPageSize: 1})
	if err != nil || len(members) != 1 || members[0].ConnectionID != connected.ConnectionID || members[0].UserID != "u1" {
		t.Errorf("ListConnections = %+v, %v", members, err)
	}
	if err := client.AddUserToGroup(ctx, "x", "nobody"); err == nil {
		t.Error("AddUserToGroup for an unknown user succeeded")
	}

	perm := &webpubsub.PermissionOptions{TargetName: "h"}
	if err := client.GrantPermission(ctx, webpubsub.PermissionJoinLeaveGroup, connected.ConnectionID, perm); err != nil {
		t.Fatal(err)
	}
	if ok, err := client.CheckPermission(ctx, webpubsub.PermissionJoinLeaveGroup, connected.ConnectionID, perm); !ok || err != nil {
		t.Errorf("CheckPermission = %v, %v", ok, err)
	}
	if _, err := client.GenerateClientToken(ctx, &webpubsub.TokenOptions{UserID: "u2"}); err != nil {
		t.Errorf("GenerateClientToken: %v", err)
	}

	if err := client.CloseConnection(ctx, connected.ConnectionID, &webpubsub.CloseOptions{Reason: "done"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := client.ConnectionExists(ctx, connected.ConnectionID); ok || err != nil {
		t.Errorf("ConnectionExists after close = %v, %v", ok, err)
	}
}

func readInto(t *testing.T, ws *websocket.Conn, v any) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}
