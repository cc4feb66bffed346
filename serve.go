package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"wps/engine"
	"wps/webpubsub/service"
)

// serveKeyEnv is the environment variable wps serve takes its access key
// from when neither --key nor --key-file is given: unlike the command line,
// the environment of a process is not shown to other users by ps.
const serveKeyEnv = "WEBPUBSUB_SERVE_KEY"

// shutdownWait is how long wps serve waits for clients to answer their
// close frames and for REST calls to finish before it closes them.
const shutdownWait = 10 * time.Second

// runServe is wps serve: the embedded Web PubSub service on its own.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "[flags]", `Run the embedded Web PubSub service until interrupted (Ctrl-C or SIGTERM).
It prints its connection string, serves the REST API under /api/ and client
WebSockets under /client/hubs/{hub}, and logs connections and REST calls.
On Ctrl-C it closes the clients and waits up to 10s for them; a second
Ctrl-C stops it at once.

The access key is, in this order: --key, the contents of --key-file, the
`+serveKeyEnv+` environment variable, or else the public development key
`+service.DevelopmentKey+`, which anyone can use: with it,
wps serve listens only on a loopback address unless --allow-dev-key-on-network
is given. Prefer --key-file or `+serveKeyEnv+` to --key, which other users of
the machine can see in the process list.

Clients are pinged when silent for --ping-interval and closed (PingTimeout)
when silent for --ping-timeout; a client that falls more than --max-queue
behind in reading its messages is closed (SlowClient).

Example:
  wps serve --port 8080
  WEBPUBSUB_CONNECTION_STRING='Endpoint=http://127.0.0.1:8080;AccessKey=...;Version=1.0;' wps run script.lua
  `+serveKeyEnv+`="$(cat key.txt)" wps serve --host 0.0.0.0`, stdout)
	port := fs.Int("port", 8080, "TCP `port` to listen on (0 picks a free one)")
	host := fs.String("host", "127.0.0.1", "`address` to listen on; 0.0.0.0 listens on every interface")
	key := fs.String("key", "", "access `key` that signs and checks tokens (visible in the process list; see --key-file)")
	keyFile := fs.String("key-file", "", "read the access key from `file` (its first line)")
	allowDevKey := fs.Bool("allow-dev-key-on-network", false, "listen on a non-loopback address with the public development key, letting anyone who reaches it in")
	pingInterval := fs.Duration("ping-interval", service.DefaultPingInterval, "ping a client that has been silent for this `duration`")
	pingTimeout := fs.Duration("ping-timeout", service.DefaultPingTimeout, "close a client that has been silent for this `duration` (PingTimeout)")
	maxQueue := fs.String("max-queue", "16MiB", "close a client with more than this `size` of messages waiting for it (SlowClient), e.g. 512KiB, 16MiB")
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
	keySet := false
	fs.Visit(func(f *flag.Flag) { keySet = keySet || f.Name == "key" })
	accessKey, keySource, err := serveKey(keySet, *key, *keyFile)
	if err != nil {
		return err
	}
	queueBytes, err := parseSize(*maxQueue)
	if err != nil {
		return usagef("--max-queue: %v", err)
	}
	opts := service.Options{AccessKey: accessKey, MaxQueueBytes: queueBytes, PingInterval: *pingInterval, PingTimeout: *pingTimeout}
	switch {
	case *pingInterval <= 0:
		return usagef("--ping-interval must be positive, not %s", *pingInterval)
	case *pingTimeout <= 0:
		return usagef("--ping-timeout must be positive, not %s", *pingTimeout)
	}
	if err := service.CheckOptions(opts); err != nil {
		return usagef("%v", err)
	}
	devKey := accessKey == service.DevelopmentKey
	if devKey && !isLoopbackHost(*host) && !*allowDevKey {
		return usagef("refusing to listen on %s with the public development key: anyone who can reach this address could "+
			"send to your clients and connect as any user. Give your own key with --key-file FILE, the %s environment "+
			"variable or --key, or pass --allow-dev-key-on-network if that is really what you want", *host, serveKeyEnv)
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	opts.Logger = logger

	server, err := service.Listen(net.JoinHostPort(*host, strconv.Itoa(*port)), opts)
	if err != nil {
		return err
	}
	listening := server.URL
	if ip := net.ParseIP(strings.Trim(*host, "[]")); ip != nil && ip.IsUnspecified() {
		_, port, _ := net.SplitHostPort(server.Addr)
		listening = "http://" + net.JoinHostPort(ip.String(), port) + " (every interface; from this machine " + server.URL + ")"
	}
	fmt.Fprintf(stdout, "Web PubSub service listening on %s\n", listening)
	if devKey {
		fmt.Fprintf(stdout, "Connection string: %s\n", server.ConnectionString)
	} else {
		fmt.Fprintf(stdout, "Connection string: Endpoint=%s;AccessKey=<the key from %s>;Version=1.0;\n", server.URL, keySource)
	}
	if devKey && !isLoopbackHost(*host) {
		logger.Warn("listening on the network with the public development key: anyone who can reach " + server.Addr + " can use this service")
	}
	<-ctx.Done()
	fmt.Fprintf(stdout, "Shutting down: closing client connections (waiting up to %s; Ctrl-C again stops at once).\n", shutdownWait)
	closeCtx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := server.Close(closeCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// serveKey returns the access key of wps serve and where it came from, for
// the banner: --key (when keySet), --key-file, the environment, or the
// development key. Errors never quote the key.
func serveKey(keySet bool, key, keyFile string) (accessKey, source string, err error) {
	switch {
	case keySet && keyFile != "":
		return "", "", usagef("give the access key with --key or --key-file, not both")
	case keySet:
		if err := service.CheckAccessKey(key); err != nil {
			return "", "", usagef("--key: %v", err)
		}
		return key, "--key", nil
	case keyFile != "":
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return "", "", fmt.Errorf("--key-file: %w", err)
		}
		key, _, _ = strings.Cut(string(b), "\n")
		key = strings.TrimSpace(key)
		if err := service.CheckAccessKey(key); err != nil {
			return "", "", usagef("--key-file %s: %v", keyFile, err)
		}
		return key, "--key-file", nil
	}
	if env := strings.TrimSpace(os.Getenv(serveKeyEnv)); env != "" {
		key = env
		if err := service.CheckAccessKey(key); err != nil {
			return "", "", usagef("%s: %v", serveKeyEnv, err)
		}
		return key, serveKeyEnv, nil
	}
	return service.DevelopmentKey, "", nil
}

// isLoopbackHost reports whether host (an IP address or a name) is a
// loopback address: localhost, 127.0.0.0/8 or ::1. Any other name counts as
// reachable from the network.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// parseSize reads --max-queue with engine.ParseSize, which reads
// --max-memory too: a whole number of bytes, KiB, MiB or GiB, from 1 byte
// to 1 TiB, such as 16777216, 512KiB or 16MiB (KB and MB are taken as KiB
// and MiB).
func parseSize(s string) (int, error) {
	n, err := engine.ParseSize(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 1<<40 || strings.Contains(s, ".") {
		return 0, fmt.Errorf("%q is not a size: give a whole number of bytes, KiB, MiB or GiB, from 1 byte to 1TiB", s)
	}
	return int(n), nil
}
