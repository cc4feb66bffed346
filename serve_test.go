package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wps/webpubsub"
	"wps/webpubsub/service"
)

// serveHangGuard bounds every wait in the serve tests so that a bug fails a
// test instead of hanging it; it is not a speed assertion.
const serveHangGuard = 10 * time.Second

// servedCommand is `wps serve` running in the background.
type servedCommand struct {
	cancel context.CancelFunc
	lines  chan string   // the lines of stdout, as they are printed
	stderr *runOutput    // the log
	status chan int      // receives the exit status
	url    string        // from the "listening on" line
	conn   string        // from the "Connection string:" line
	stdout *bytes.Buffer // every stdout line read so far
}

// startServe runs `wps serve args...` until the test ends and waits for it
// to print its connection string.
func startServe(t *testing.T, args ...string) *servedCommand {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, outWriter := io.Pipe()
	cmd := &servedCommand{
		cancel: cancel,
		lines:  make(chan string, 16),
		stderr: newRunOutput(),
		status: make(chan int, 1),
		stdout: &bytes.Buffer{},
	}
	go func() {
		status := runMain(ctx, append([]string{"serve"}, args...), outWriter, cmd.stderr)
		outWriter.Close()
		cmd.status <- status
	}()
	go func() {
		defer close(cmd.lines)
		scanner := bufio.NewScanner(out)
		for scanner.Scan() {
			cmd.lines <- scanner.Text()
		}
	}()
	t.Cleanup(func() {
		cancel()
		for range cmd.lines {
		}
	})
	for cmd.conn == "" {
		line := cmd.nextLine(t)
		if u, ok := strings.CutPrefix(line, "Web PubSub service listening on "); ok {
			cmd.url, _, _ = strings.Cut(u, " ")
		}
		if cs, ok := strings.CutPrefix(line, "Connection string: "); ok {
			cmd.conn = cs
		}
	}
	return cmd
}

// nextLine returns the next line of stdout.
func (cmd *servedCommand) nextLine(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-cmd.lines:
		if !ok {
			t.Fatalf("wps serve ended; stdout:\n%s\nstderr:\n%s", cmd.stdout, cmd.stderr)
		}
		cmd.stdout.WriteString(line + "\n")
		return line
	case <-time.After(serveHangGuard):
		t.Fatalf("wps serve printed nothing more; stdout:\n%s\nstderr:\n%s", cmd.stdout, cmd.stderr)
		return ""
	}
}

// stop cancels the command's context, as Ctrl-C does, and returns its exit
// status once it has ended.
func (cmd *servedCommand) stop(t *testing.T) int {
	t.Helper()
	cmd.cancel()
	for line := range cmd.lines {
		cmd.stdout.WriteString(line + "\n")
	}
	select {
	case status := <-cmd.status:
		return status
	case <-time.After(serveHangGuard):
		t.Fatal("wps serve did not end after its context was cancelled")
		return -1
	}
}

// dialServed opens a json.webpubsub.azure.v1 client connection to hub and
// reads its connected message.
func dialServed(t *testing.T, client *webpubsub.Client) *websocket.Conn {
	t.Helper()
	token, err := client.GetClientAccessToken(&webpubsub.TokenOptions{UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	dialer := websocket.Dialer{HandshakeTimeout: serveHangGuard, Subprotocols: []string{"json.webpubsub.azure.v1"}}
	ws, _, err := dialer.Dial(token.URL, nil)
	if err != nil {
		t.Fatalf("dialing the served hub: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	ws.SetReadDeadline(time.Now().Add(serveHangGuard))
	if _, b, err := ws.ReadMessage(); err != nil || !strings.Contains(string(b), `"event":"connected"`) {
		t.Fatalf("first message %q, %v: want the connected message", b, err)
	}
	return ws
}

func TestServe_ConnectionStringWorks(t *testing.T) {
	cmd := startServe(t, "--port", "0")
	if strings.HasSuffix(cmd.url, ":0") || !strings.HasPrefix(cmd.url, "http://127.0.0.1:") {
		t.Fatalf("listening on %q, want the real loopback port", cmd.url)
	}
	if !strings.HasPrefix(cmd.conn, "Endpoint="+cmd.url+";") {
		t.Errorf("connection string %q does not name the endpoint %s", cmd.conn, cmd.url)
	}
	client, err := webpubsub.NewClientFromConnectionString(cmd.conn, "chat", nil)
	if err != nil {
		t.Fatalf("the printed connection string does not parse: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), serveHangGuard)
	defer cancel()
	ws := dialServed(t, client)
	if err := client.SendToUser(ctx, "alice", webpubsub.TextMessage("hello"), nil); err != nil {
		t.Fatalf("a REST call with the printed connection string failed: %v", err)
	}
	if _, b, err := ws.ReadMessage(); err != nil || !strings.Contains(string(b), `"data":"hello"`) {
		t.Errorf("client got %q, %v: want the message sent through REST", b, err)
	}

	// Cancelling the context (Ctrl-C) closes clients with 1001 and ends
	// the command with status 0. The client reads meanwhile, so that it
	// answers the close frame.
	closed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				closed <- err
				return
			}
		}
	}()
	status := cmd.stop(t)
	err = <-closed // the read deadline bounds this wait
	var closeErr *websocket.CloseError
	if !errors.As(err, &closeErr) || closeErr.Code != websocket.CloseGoingAway {
		t.Errorf("after shutdown the client read %v, want close frame 1001", err)
	}
	if status != 0 {
		t.Errorf("exit status %d, want 0; stderr:\n%s", status, cmd.stderr)
	}
	if !strings.Contains(cmd.stdout.String(), "Shutting down") {
		t.Errorf("stdout does not announce the shutdown:\n%s", cmd.stdout)
	}
	if !strings.Contains(cmd.stderr.String(), "rest call") {
		t.Errorf("the log does not show the REST call:\n%s", cmd.stderr)
	}
}

func TestServe_CustomKeyStaysSecret(t *testing.T) {
	const key = "my-own-secret-key-1234567890"
	cmd := startServe(t, "--port", "0", "--key", key, "--log-level", "debug", "--log-format", "json")
	if strings.Contains(cmd.conn, key) {
		t.Fatalf("stdout shows the key: %q", cmd.conn)
	}
	client, err := webpubsub.NewClientFromConnectionString("Endpoint="+cmd.url+";AccessKey="+key+";Version=1.0;", "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), serveHangGuard)
	defer cancel()
	dialServed(t, client).Close() // the token signed with --key is accepted
	if err := client.SendToAll(ctx, webpubsub.TextMessage("x"), nil); err != nil {
		t.Fatalf("a REST call signed with --key failed: %v", err)
	}
	if !strings.Contains(cmd.conn, "AccessKey=<the key from --key>;") {
		t.Errorf("connection string %q does not say where the key is", cmd.conn)
	}
	wrong, err := webpubsub.NewClientFromConnectionString(strings.Replace(cmd.conn, "<the key from --key>", service.DevelopmentKey, 1), "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.SendToAll(ctx, webpubsub.TextMessage("x"), nil); err == nil {
		t.Error("a REST call signed with the development key succeeded, want 401")
	}
	if status := cmd.stop(t); status != 0 {
		t.Errorf("exit status %d, want 0", status)
	}
	if out := cmd.stdout.String() + cmd.stderr.String(); strings.Contains(out, key) {
		t.Errorf("the output shows the key:\n%s", out)
	}
}

func TestServe_Help(t *testing.T) {
	for _, args := range [][]string{{"serve", "--help"}, {"help", "serve"}} {
		var stdout, stderr bytes.Buffer
		if status := runMain(context.Background(), args, &stdout, &stderr); status != 0 {
			t.Errorf("%v: status %d, want 0; stderr %s", args, status, &stderr)
		}
		for _, want := range []string{"Usage: wps serve", "-port", "-key", "0 picks a free one", "-key-file", "WEBPUBSUB_SERVE_KEY",
			"-allow-dev-key-on-network", "-ping-interval", "-ping-timeout", "-max-queue", "SlowClient", "PingTimeout", "a second\nCtrl-C stops it at once"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%v: help lacks %q:\n%s", args, want, &stdout)
			}
		}
	}
}

func TestServe_UsageErrors(t *testing.T) {
	t.Setenv(serveKeyEnv, "") // the development key, unless a case gives one
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"PortNotANumber", []string{"--port", "http"}, `invalid value "http" for flag -port`},
		{"PortTooLarge", []string{"--port", "70000"}, "--port 70000 is not a TCP port"},
		{"PortNegative", []string{"--port", "-1"}, "--port -1 is not a TCP port"},
		{"EmptyKey", []string{"--key", ""}, "--key: the access key must not be empty"},
		{"KeyWithSemicolon", []string{"--key", "abc;Endpoint=x"}, "--key: the access key must not contain ';'"},
		{"KeyWithSpace", []string{"--key", "abc def"}, "--key: the access key must not contain ';', spaces"},
		{"LogLevel", []string{"--log-level", "loud"}, `--log-level "loud"`},
		{"LogFormat", []string{"--log-format", "xml"}, `--log-format "xml"`},
		{"Argument", []string{"extra"}, "serve takes no arguments"},
		{"KeyAndKeyFile", []string{"--key", "abc", "--key-file", "k.txt"}, "give the access key with --key or --key-file, not both"},
		{"PingInterval", []string{"--ping-interval", "0s"}, "--ping-interval must be positive"},
		{"PingTimeout", []string{"--ping-interval", "1m", "--ping-timeout", "30s"}, "the ping timeout (30s) must be longer than the ping interval (1m0s)"},
		{"MaxQueue", []string{"--max-queue", "lots"}, `--max-queue: "lots" is not a size`},
		{"MaxQueueZero", []string{"--max-queue", "0MiB"}, `--max-queue: "0MiB" is not a size`},
		{"DevKeyOnNetwork", []string{"--host", "0.0.0.0", "--port", "0"}, "refusing to listen on 0.0.0.0 with the public development key"},
		{"DevKeyOnAnAddress", []string{"--host", "192.0.2.10", "--port", "0"}, "Give your own key with --key-file FILE, the WEBPUBSUB_SERVE_KEY environment variable or --key, or pass --allow-dev-key-on-network"},
		{"DevKeyGivenOnNetwork", []string{"--host", "::", "--key", service.DevelopmentKey}, "refusing to listen on :: with the public development key"},
		{"UnknownFlag", []string{"--prot", "1"}, "flag provided but not defined: -prot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := runMain(context.Background(), append([]string{"serve"}, tc.args...), &stdout, &stderr)
			if status != 2 {
				t.Errorf("status %d, want 2 (usage)", status)
			}
			if !strings.Contains(stderr.String(), tc.want) || !strings.Contains(stderr.String(), "Run 'wps serve --help'") {
				t.Errorf("stderr = %q, want %q and the pointer to --help", &stderr, tc.want)
			}
			if strings.Contains(stderr.String(), "abc") {
				t.Errorf("stderr shows the bad key: %q", &stderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", &stdout)
			}
		})
	}
}

func TestServe_PortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	var stdout, stderr bytes.Buffer
	status := runMain(context.Background(), []string{"serve", "--port", strconv.Itoa(port)}, &stdout, &stderr)
	if status != 1 {
		t.Errorf("status %d, want 1", status)
	}
	if !strings.Contains(stderr.String(), "starting the Web PubSub service") || !strings.Contains(stderr.String(), "address already in use") {
		t.Errorf("stderr = %q, want a clear error for port %d", &stderr, port)
	}
}

func TestServe_KeyFromTheEnvironmentOrAFile(t *testing.T) {
	const key = "a-key-from-somewhere-safe-0123456789"
	file := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(file, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		env    string
		args   []string
		source string
	}{
		{"environment", key, nil, serveKeyEnv},
		{"file", "", []string{"--key-file", file}, "--key-file"},
		{"file over environment", "another-key-in-the-environment-000", []string{"--key-file", file}, "--key-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(serveKeyEnv, tc.env)
			cmd := startServe(t, append([]string{"--port", "0"}, tc.args...)...)
			if want := "AccessKey=<the key from " + tc.source + ">;"; !strings.Contains(cmd.conn, want) {
				t.Errorf("connection string %q, want %q", cmd.conn, want)
			}
			client, err := webpubsub.NewClientFromConnectionString("Endpoint="+cmd.url+";AccessKey="+key+";Version=1.0;", "chat", nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), serveHangGuard)
			defer cancel()
			if err := client.SendToAll(ctx, webpubsub.TextMessage("x"), nil); err != nil {
				t.Errorf("a REST call signed with the key failed: %v", err)
			}
			if status := cmd.stop(t); status != 0 {
				t.Errorf("exit status %d", status)
			}
			if out := cmd.stdout.String() + cmd.stderr.String(); strings.Contains(out, key) {
				t.Errorf("the output shows the key:\n%s", out)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	status := runMain(context.Background(), []string{"serve", "--key-file", filepath.Join(t.TempDir(), "missing")}, &stdout, &stderr)
	if status != 1 || !strings.Contains(stderr.String(), "--key-file:") {
		t.Errorf("a missing key file: status %d, stderr %q", status, &stderr)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	stderr.Reset()
	status = runMain(context.Background(), []string{"serve", "--key-file", empty}, &stdout, &stderr)
	if status != 2 || !strings.Contains(stderr.String(), "the access key must not be empty") {
		t.Errorf("an empty key file: status %d, stderr %q", status, &stderr)
	}
}

// On every interface, with a key of its own, wps serve starts and its
// banner names the address it really listens on.
func TestServe_NetworkAddress(t *testing.T) {
	t.Setenv(serveKeyEnv, "")
	for _, tc := range []struct {
		name string
		args []string
		warn bool
	}{
		{"own key", []string{"--key", "a-network-key-0123456789abcdef"}, false},
		{"development key, on purpose", []string{"--allow-dev-key-on-network"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := startServe(t, append([]string{"--host", "0.0.0.0", "--port", "0"}, tc.args...)...)
			banner := cmd.stdout.String()
			port := strings.TrimPrefix(cmd.url, "http://0.0.0.0:")
			if port == cmd.url || !strings.Contains(banner, "(every interface; from this machine http://127.0.0.1:"+port+")") {
				t.Errorf("banner does not name the real address:\n%s", banner)
			}
			if !strings.Contains(cmd.conn, "Endpoint=http://127.0.0.1:"+port+";") {
				t.Errorf("connection string %q does not name a dialable endpoint", cmd.conn)
			}
			cmd.stop(t)
			if warned := strings.Contains(cmd.stderr.String(), "public development key"); warned != tc.warn {
				t.Errorf("warning about the development key: %v, want %v; log:\n%s", warned, tc.warn, cmd.stderr)
			}
		})
	}
}

// The keep-alive flags reach the service: a client that answers no ping is
// closed with PingTimeout after --ping-timeout.
func TestServe_PingFlags(t *testing.T) {
	cmd := startServe(t, "--port", "0", "--ping-interval", "20ms", "--ping-timeout", "100ms", "--max-queue", "1MiB")
	client, err := webpubsub.NewClientFromConnectionString(cmd.conn, "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := dialServed(t, client)
	ws.SetPingHandler(func(string) error { return nil }) // never answers
	// The disconnected message, then the close frame.
	for err == nil {
		_, _, err = ws.ReadMessage()
	}
	var closeErr *websocket.CloseError
	if !errors.As(err, &closeErr) || closeErr.Code != websocket.ClosePolicyViolation || closeErr.Text != "PingTimeout" {
		t.Errorf("a silent client read %v, want close 1008 PingTimeout", err)
	}
}

// During a graceful shutdown the log says what it waits for.
func TestServe_ShutdownSaysWhatItWaitsFor(t *testing.T) {
	cmd := startServe(t, "--port", "0")
	client, err := webpubsub.NewClientFromConnectionString(cmd.conn, "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := dialServed(t, client)
	go func() { // answers the close frame
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	if status := cmd.stop(t); status != 0 {
		t.Errorf("exit status %d", status)
	}
	if !strings.Contains(cmd.stdout.String(), "Ctrl-C again stops at once") {
		t.Errorf("stdout does not say how to stop at once:\n%s", cmd.stdout)
	}
	if log := cmd.stderr.String(); !strings.Contains(log, "waiting for clients to answer their close frames") || !strings.Contains(log, "connections=1") {
		t.Errorf("the log does not say what the shutdown waits for:\n%s", log)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"1": 1, "16MiB": 16 << 20, "512KiB": 512 << 10, "2 MB": 2 << 20, "1GiB": 1 << 30, "100B": 100} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "1.5MiB", "MiB", "2TiB", "9999999GiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "localhost": true, "LOCALHOST": true, "::1": true, "[::1]": true,
		"0.0.0.0": false, "::": false, "": false, "192.168.1.5": false, "example.com": false, "localhost.example.com": false,
	} {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
