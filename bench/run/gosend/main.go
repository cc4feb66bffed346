// Command gosend sends one text message to every connection of a hub with
// the webpubsub Go client and nothing else: the bare Go side of
// `go run ./bench/run`, against which the cold start of `wps run
// send_one.lua` is compared (target: at most 1.3 times as long). The
// service and hub come from WEBPUBSUB_CONNECTION_STRING and WEBPUBSUB_HUB,
// as for send_one.lua.
package main

import (
	"context"
	"fmt"
	"os"

	"wps/webpubsub"
)

func main() {
	hub := os.Getenv("WEBPUBSUB_HUB")
	if hub == "" {
		hub = "hub"
	}
	client, err := webpubsub.NewClientFromConnectionString(os.Getenv("WEBPUBSUB_CONNECTION_STRING"), hub, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosend:", err)
		os.Exit(1)
	}
	if err := client.SendToAll(context.Background(), webpubsub.TextMessage("hello from send_one"), nil); err != nil {
		fmt.Fprintln(os.Stderr, "gosend:", err)
		os.Exit(1)
	}
}
