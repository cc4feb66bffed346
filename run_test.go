package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"wps/webpubsub/service"
)

// runOutput collects a command's output; it closes ready when a line
// containing "ready" is written, so that tests interrupt a script only
// once it runs.
type runOutput struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func newRunOutput() *runOutput { return &runOutput{ready: make(chan struct{})} }

func (o *runOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if bytes.Contains(p, []byte("ready")) {
		o.once.Do(func() { close(o.ready) })
	}
	return o.buf.Write(p)
}

func (o *runOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// runWPS runs wps with args and returns its exit status, stdout and stderr.
// The default client uses the embedded service unless args say otherwise.
func runWPS(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("WEBPUBSUB_CONNECTION_STRING", "")
	t.Setenv("WEBPUBSUB_HUB", "")
	stdout, stderr := newRunOutput(), newRunOutput()
	status := runMain(context.Background(), args, stdout, stderr)
	return status, stdout.String(), stderr.String()
}

func TestRun_Help(t *testing.T) {
	status, stdout, _ := runWPS(t, "run", "--help")
	if status != 0 {
		t.Errorf("status %d, want 0", status)
	}
	for _, want := range []string{"Usage: wps run [flags] FILE [args...]", "-timeout", "-max-memory", "-log-level", "-log-format", "-sandbox", "-connection-string", "-hub", "Example:\n  wps run"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, stdout)
		}
	}
}

func TestRun_Args(t *testing.T) {
	status, stdout, stderr := runWPS(t, "run", "--sandbox", "testdata/run/args.lua", "one", "--two", "three four")
	if status != 0 {
		t.Fatalf("status %d, stderr:\n%s", status, stderr)
	}
	if want := "3\tone|--two|three four\t3\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
}

func TestRun_Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		stderr string // the beginning of stderr
	}{
		{"ScriptError", []string{"testdata/run/fail.lua"}, 1, "testdata/run/fail.lua:2: boom\nstack traceback:\n"},
		{"SyntaxError", []string{"testdata/run/syntax.lua"}, 1, "testdata/run/syntax.lua:2: syntax error at end of file\n"},
		{"MissingFile", []string{"testdata/run/nosuch.lua"}, 1, "wps run: open testdata/run/nosuch.lua: no such file or directory\n"},
		{"NoFile", nil, 2, "wps run: missing FILE, the Lua script to run\nRun 'wps run --help' for usage.\n"},
		{"BadLogLevel", []string{"--log-level", "loud", "testdata/run/args.lua"}, 2, "wps run: invalid --log-level \"loud\": use debug, info, warn or error\n"},
		{"BadLogFormat", []string{"--log-format", "xml", "testdata/run/args.lua"}, 2, "wps run: invalid --log-format \"xml\": use text or json\n"},
		{"BadTimeout", []string{"--timeout", "soon", "testdata/run/args.lua"}, 2, "wps run: invalid value \"soon\" for flag -timeout"},
		{"TimeoutWithoutUnit", []string{"--timeout", "30", "testdata/run/args.lua"}, 2,
			"wps run: invalid value \"30\" for flag -timeout: want a duration with a unit, such as 30s, 5m or 1h30m\n"},
		{"Exit", []string{"testdata/run/exit.lua"}, 4, ""},
		{"BadConnectionString", []string{"--connection-string", "Endpoint=http://x;SECRETKEY1234567890", "testdata/run/args.lua"}, 2,
			"wps run: --connection-string: invalid argument: connection string: segment 2 has no '='"},
		{"BadHub", []string{"--hub", "no spaces", "testdata/run/args.lua"}, 2, "wps run: --hub: invalid argument: hub name \"no spaces\""},
		{"Timeout", []string{"--timeout", "20ms", "testdata/run/busy.lua"}, 124, "wps run: timed out after 20ms (--timeout) at testdata/run/busy.lua:1\n"},
		{"TableError", []string{"testdata/run/table_error.lua"}, 1, "testdata/run/table_error.lua:1: { code = 42 }\nstack traceback:\n"},
		{"ControlCharacters", []string{"testdata/run/control.lua"}, 1, "testdata/run/control.lua:2: clear\x1b[2Jscreen\n"},
		{"BadMaxMemory", []string{"--max-memory", "lots", "testdata/run/args.lua"}, 2, "wps run: invalid value \"lots\" for flag -max-memory: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, stderr := runWPS(t, append([]string{"run"}, tc.args...)...)
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			if !strings.HasPrefix(stderr, tc.stderr) || (tc.stderr == "" && stderr != "") {
				t.Errorf("stderr:\n%s\nwant it to begin with:\n%s", stderr, tc.stderr)
			}
			if strings.Contains(stderr, "SECRETKEY") {
				t.Errorf("stderr shows the key:\n%s", stderr)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, ".go:") {
				t.Errorf("stderr shows a Go stack:\n%s", stderr)
			}
		})
	}
	t.Run("SyntaxErrorOnce", func(t *testing.T) {
		_, _, stderr := runWPS(t, "run", "testdata/run/syntax.lua")
		if strings.Count(stderr, "syntax error") != 1 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("stderr:\n%s\nwant one line", stderr)
		}
	})
}

// TestRun_ScriptFlags checks the endings of flags.parse through wps run:
// --help prints the usage and exits 0, a bad flag exits 2 with one line.
func TestRun_ScriptFlags(t *testing.T) {
	status, stdout, stderr := runWPS(t, "run", "--sandbox", "scripts/kick_user.lua", "--help")
	if status != 0 || !strings.HasPrefix(stdout, "Usage: wps run scripts/kick_user.lua") || stderr != "" {
		t.Errorf("--help: status %d, stdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	status, stdout, stderr = runWPS(t, "run", "--sandbox", "scripts/kick_user.lua", "--reason")
	if want := "flag --reason needs a value (run with --help for usage)\n"; status != 2 || stderr != want || stdout != "" {
		t.Errorf("a bad flag: status %d, stdout %q, stderr %q; want status 2 and stderr %q", status, stdout, stderr, want)
	}
}

func TestRun_Sandbox(t *testing.T) {
	_, stdout, _ := runWPS(t, "run", "--sandbox", "testdata/run/sandbox.lua")
	if stdout != "true\ttrue\ttrue\n" {
		t.Errorf("with --sandbox: %q", stdout)
	}
	_, stdout, _ = runWPS(t, "run", "testdata/run/sandbox.lua")
	if stdout != "false\tfalse\tfalse\n" {
		t.Errorf("without --sandbox: %q", stdout)
	}
}

func TestRun_Log(t *testing.T) {
	status, _, stderr := runWPS(t, "run", "--log-format", "json", "testdata/run/log.lua")
	if status != 0 {
		t.Fatalf("status %d, stderr:\n%s", status, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want info and warn:\n%s", len(lines), stderr)
	}
	var record struct {
		Level, Msg, User string
		Count            int
	}
	if err := json.Unmarshal([]byte(lines[0]), &record); err != nil {
		t.Fatalf("not JSON: %q: %v", lines[0], err)
	}
	if record.Level != "INFO" || record.Msg != "info line" || record.User != "u1" || record.Count != 2 {
		t.Errorf("record %+v from %s", record, lines[0])
	}

	_, _, stderr = runWPS(t, "run", "--log-level", "warn", "testdata/run/log.lua")
	if want := "level=WARN msg=\"warn line\"\n"; !strings.HasSuffix(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("at warn level, stderr %q, want one line ending %q", stderr, want)
	}
}

// TestRun_EmbeddedService runs a script that sends through the default
// client, which starts the embedded service on first use, with debug logs
// showing the HTTP calls but not the development key.
func TestRun_EmbeddedService(t *testing.T) {
	status, stdout, stderr := runWPS(t, "run", "--log-level", "debug", "testdata/run/send.lua")
	if status != 0 {
		t.Fatalf("status %d, stderr:\n%s", status, stderr)
	}
	if stdout != "sent\tfalse\n" {
		t.Errorf("stdout %q", stdout)
	}
	if !strings.Contains(stderr, "msg=\"http request\"") || !strings.Contains(stderr, "msg=\"http response\"") {
		t.Errorf("debug log lacks the HTTP calls:\n%s", stderr)
	}
	if strings.Contains(stderr, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH") || strings.Contains(stderr, "AccessKey") {
		t.Errorf("debug log shows the access key:\n%s", stderr)
	}
}

// TestRun_Interrupt cancels wps run (as SIGINT does) while the script
// sleeps and while a REST call waits for its answer.
func TestRun_Interrupt(t *testing.T) {
	const key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3OA=="
	arrived := make(chan struct{}, 10)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices when the client hangs up
		arrived <- struct{}{}
		<-r.Context().Done() // never answer
	}))
	defer server.Close()
	connectionString := "Endpoint=" + server.URL + ";AccessKey=" + key + ";Version=1.0;"

	for _, tc := range []struct {
		name   string
		args   []string
		inside chan struct{} // closed or sent to when the script waits
	}{
		{"Sleep", []string{"testdata/run/sleep.lua"}, nil},
		{"PendingCall", []string{"--log-level", "debug", "--connection-string", connectionString, "testdata/run/pending.lua"}, arrived},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("WEBPUBSUB_CONNECTION_STRING", "")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stdout, stderr := newRunOutput(), newRunOutput()
			done := make(chan int, 1)
			go func() { done <- runMain(ctx, append([]string{"run"}, tc.args...), stdout, stderr) }()
			<-stdout.ready
			if tc.inside != nil {
				<-tc.inside
			}
			cancel()
			if status := <-done; status != 130 {
				t.Errorf("status %d, want 130", status)
			}
			if got := stderr.String(); !strings.HasSuffix(got, "wps run: interrupted\n") {
				t.Errorf("stderr %q, want it to end with the interruption", got)
			}
			if strings.Contains(stderr.String(), key) || strings.Contains(stdout.String(), "not reached") {
				t.Errorf("stderr shows the key, or the script went on:\n%s", stderr)
			}
		})
	}
}

// TestRun_BadEnvironment checks that a malformed connection string or hub
// name in the environment stops wps run before the script, naming the
// variable and not the key.
func TestRun_BadEnvironment(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"WEBPUBSUB_CONNECTION_STRING", "Endpoint=ftp://x;AccessKey=SECRETKEY1234567890", "wps run: $WEBPUBSUB_CONNECTION_STRING: "},
		{"WEBPUBSUB_HUB", "9lives", "wps run: $WEBPUBSUB_HUB: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("WEBPUBSUB_CONNECTION_STRING", "")
			t.Setenv("WEBPUBSUB_HUB", "")
			t.Setenv(tc.name, tc.value)
			stdout, stderr := newRunOutput(), newRunOutput()
			status := runMain(context.Background(), []string{"run", "testdata/run/args.lua"}, stdout, stderr)
			if status != 1 || stdout.String() != "" || !strings.HasPrefix(stderr.String(), tc.want) || strings.Contains(stderr.String(), "SECRETKEY") {
				t.Errorf("status %d, stdout %q, stderr %q", status, stdout, stderr)
			}
		})
	}
}

// TestRun_SandboxKeepsTheKey runs, under --sandbox, a script that tries
// every route to the default client's credential (the environment, the
// client object, its tokens, errors, everything reachable from _G) against
// a real service with a key of its own, and checks that neither the key
// nor the connection string appears in anything the script printed or
// wps wrote.
func TestRun_SandboxKeepsTheKey(t *testing.T) {
	const key = "c2FuZGJveC1rZXktdGhhdC1tdXN0LW5ldmVyLWxlYWstMTIzNDU2Nzg5MA=="
	server, err := service.Listen("127.0.0.1:0", service.Options{AccessKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close(context.Background())
	t.Setenv("WEBPUBSUB_CONNECTION_STRING", server.ConnectionString)
	t.Setenv("WEBPUBSUB_HUB", "hub")
	t.Setenv("HOME", "/home/probe")
	stdout, stderr := newRunOutput(), newRunOutput()
	status := runMain(context.Background(), []string{"run", "--sandbox", "--log-level", "debug", "testdata/run/sandbox_secrets.lua"}, stdout, stderr)
	out := stdout.String()
	if status != 0 || !strings.HasSuffix(out, "done\n") {
		t.Fatalf("status %d, stdout ending:\n%s\nstderr:\n%s", status, out[max(0, len(out)-2000):], stderr)
	}
	for _, secret := range []string{key, key[:16], server.ConnectionString, "AccessKey"} {
		if strings.Contains(out, secret) || strings.Contains(stderr.String(), secret) {
			t.Errorf("the output shows %q", secret)
		}
	}
	for _, want := range []string{
		"env\tnil nil nil default\n",
		"getenv\tnil nil nil\n",
		"gone\tnil nil nil nil nil nil nil nil nil\n",
		"\ntoken\t{", // a token was signed, from the key it does not show
		"\nstatus\ttrue true\n",
		"\ncall\ttrue\n",
		"\nconnect\ttrue wps.connection(",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out[:min(len(out), 3000)])
		}
	}
}
