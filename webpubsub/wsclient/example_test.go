package wsclient_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"wps/webpubsub/service"
	"wps/webpubsub/wsclient"
)

func ExampleDial() {
	// An embedded service, and a client access URL for user alice on hub
	// chat, signed as get_client_access_token signs it.
	srv, err := service.Listen("127.0.0.1:0", service.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close(context.Background())
	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"aud":  srv.URL + "/client/hubs/chat",
		"exp":  time.Now().Add(time.Hour).Unix(),
		"sub":  "alice",
		"role": []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"},
	}).SignedString([]byte(service.DevelopmentKey))
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/client/hubs/chat?access_token=" + token

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := wsclient.Dial(ctx, url, wsclient.ProtocolJSON, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	if err := conn.JoinGroup(ctx, "ops"); err != nil {
		fmt.Println(err)
		return
	}
	if err := conn.SendToGroup(ctx, "ops", wsclient.Data{Type: wsclient.DataText, Raw: []byte("hello")}, false); err != nil {
		fmt.Println(err)
		return
	}
	m, err := conn.Receive(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s from %s in %s: %s\n", m.DataType, m.FromUserID, m.Group, m.Data)
	// Output: text from alice in ops: hello
}
