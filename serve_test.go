package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
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
			cmd.url = u
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
	wrong, err := webpubsub.NewClientFromConnectionString(strings.Replace(cmd.conn, "<the --key you passed>", service.DevelopmentKey, 1), "chat", nil)
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
		for _, want := range []string{"Usage: wps serve", "-port", "-key", "0 picks a free one"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%v: help lacks %q:\n%s", args, want, &stdout)
			}
		}
	}
}

func TestServe_UsageErrors(t *testing.T) {
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
