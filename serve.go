package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"wps/webpubsub/service"
)

// runServe is wps serve: the embedded Web PubSub service on its own.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "[flags]", `Run the embedded Web PubSub service until interrupted (Ctrl-C or SIGTERM).
It prints its connection string, serves the REST API under /api/ and client
WebSockets under /client/hubs/{hub}, and logs connections and REST calls.

Example:
  wps serve --port 8080
  WEBPUBSUB_CONNECTION_STRING='Endpoint=http://127.0.0.1:8080;AccessKey=...;Version=1.0;' wps run script.lua`, stdout)
	port := fs.Int("port", 8080, "TCP `port` to listen on (0 picks a free one)")
	host := fs.String("host", "127.0.0.1", "`address` to listen on; 0.0.0.0 listens on every interface")
	key := fs.String("key", service.DevelopmentKey, "access `key` that signs and checks tokens")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "log `format`: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments")
	}
	if *port < 0 || *port > 65535 {
		return usagef("--port %d is not a TCP port (0 to 65535)", *port)
	}
	if err := service.CheckAccessKey(*key); err != nil {
		return usagef("--key: %v", err)
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}

	server, err := service.Listen(net.JoinHostPort(*host, strconv.Itoa(*port)), service.Options{AccessKey: *key, Logger: logger})
	if err != nil {
		return err
	}
	if *key == service.DevelopmentKey {
		fmt.Fprintf(stdout, "Web PubSub service listening on %s\nConnection string: %s\n", server.URL, server.ConnectionString)
	} else {
		fmt.Fprintf(stdout, "Web PubSub service listening on %s\nConnection string: Endpoint=%s;AccessKey=<the --key you passed>;Version=1.0;\n", server.URL, server.URL)
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "Shutting down: closing client connections.")
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return server.Close(closeCtx)
}
