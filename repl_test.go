package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"wps/webpubsub"
	"wps/webpubsub/service"
)

// The interactive REPL needs a real terminal: these tests run wps (this
// test binary, as TestREPLHelperProcess) in a pseudo-terminal, type into
// it and read what it shows. Each step waits for the output it means,
// never for a fixed time.

// TestREPLHelperProcess is wps itself when the tests start it in a
// terminal; otherwise it does nothing.
func TestREPLHelperProcess(t *testing.T) {
	if os.Getenv("WPS_REPL_HELPER") != "1" {
		t.Skip("runs wps for the pseudo-terminal tests")
	}
	args := strings.Split(os.Getenv("WPS_REPL_ARGS"), "\n")
	os.Exit(runMain(context.Background(), args, os.Stdout, os.Stderr))
}

// ptyREPL is wps repl running in a pseudo-terminal.
type ptyREPL struct {
	t      *testing.T
	cmd    *exec.Cmd
	pty    *os.File
	config string // XDG_CONFIG_HOME
	done   chan error
	// deadline bounds the whole test: generous, as the race detector and
	// a busy machine slow everything.
	deadline time.Time

	mu      sync.Mutex
	out     bytes.Buffer // everything the terminal showed
	changed chan struct{}
	mark    int // expect searches the cleaned output from here
}

// startREPL starts wps repl with args in a new 200x50 terminal, with a
// configuration directory of its own.
func startREPL(t *testing.T, args ...string) *ptyREPL {
	t.Helper()
	return startREPLIn(t, t.TempDir(), args...)
}

// startREPLIn starts wps repl with args and config as XDG_CONFIG_HOME.
func startREPLIn(t *testing.T, config string, args ...string) *ptyREPL {
	t.Helper()
	r := &ptyREPL{t: t, config: config, done: make(chan error, 1), changed: make(chan struct{}), deadline: time.Now().Add(90 * time.Second)}
	r.cmd = exec.Command(os.Args[0], "-test.run=^TestREPLHelperProcess$")
	r.cmd.Env = append(os.Environ(),
		"WPS_REPL_HELPER=1",
		"WPS_REPL_ARGS="+strings.Join(append([]string{"repl"}, args...), "\n"),
		"TERM=xterm", "NO_COLOR=1", "XDG_CONFIG_HOME="+r.config,
		"WEBPUBSUB_CONNECTION_STRING=", "WEBPUBSUB_HUB=",
	)
	f, err := pty.StartWithSize(r.cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if errors.Is(err, pty.ErrUnsupported) {
		t.Skip("no pseudo-terminals on this system")
	}
	if err != nil {
		t.Fatal(err)
	}
	r.pty = f
	go r.read()
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		f.Close()
		if t.Failed() {
			t.Logf("the terminal showed:\n%s", r.cleaned(0))
		}
	})
	return r
}

// read copies what the terminal shows into out.
func (r *ptyREPL) read() {
	buf := make([]byte, 4096)
	for {
		n, err := r.pty.Read(buf)
		r.mu.Lock()
		r.out.Write(buf[:n])
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// escapes matches the terminal control sequences liner writes.
var escapes = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r`)

// cleaned returns the output from offset on, without control sequences.
func (r *ptyREPL) cleaned(from int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return escapes.ReplaceAllString(r.out.String(), "")[from:]
}

// expect waits until the output after the mark holds want, and moves the
// mark past it.
func (r *ptyREPL) expect(want string) {
	r.t.Helper()
	for {
		r.mu.Lock()
		all := escapes.ReplaceAllString(r.out.String(), "")
		changed := r.changed
		r.mu.Unlock()
		if i := strings.Index(all[r.mark:], want); i >= 0 {
			r.mark += i + len(want)
			return
		}
		select {
		case <-changed:
		case err := <-r.done:
			r.done <- err
			r.t.Fatalf("wps repl ended (%v) before showing %q; after the mark:\n%s", err, want, all[r.mark:])
		case <-time.After(time.Until(r.deadline)):
			r.t.Fatalf("no %q after %s; after the mark:\n%s", want, 90*time.Second, all[r.mark:])
		}
	}
}

// expectFirst waits for whichever of a and b shows first after the mark,
// moves the mark past it and returns it.
func (r *ptyREPL) expectFirst(a, b string) string {
	r.t.Helper()
	for {
		r.mu.Lock()
		all := escapes.ReplaceAllString(r.out.String(), "")[r.mark:]
		changed := r.changed
		r.mu.Unlock()
		i, j := strings.Index(all, a), strings.Index(all, b)
		switch {
		case i >= 0 && (j < 0 || i <= j):
			r.mark += i + len(a)
			return a
		case j >= 0:
			r.mark += j + len(b)
			return b
		}
		select {
		case <-changed:
		case <-time.After(time.Until(r.deadline)):
			r.t.Fatalf("neither %q nor %q shown; after the mark:\n%s", a, b, all)
		}
	}
}

// expectNot checks that the output between the mark and the next want
// does not hold unwanted, and moves the mark past want.
func (r *ptyREPL) expectNot(unwanted, want string) {
	r.t.Helper()
	start := r.mark
	r.expect(want)
	if got := r.cleaned(0)[start:r.mark]; strings.Contains(got, unwanted) {
		r.t.Errorf("%q shown before %q:\n%s", unwanted, want, got)
	}
}

// send types s.
func (r *ptyREPL) send(s string) {
	r.t.Helper()
	if _, err := r.pty.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// line types s and Enter.
func (r *ptyREPL) line(s string) { r.t.Helper(); r.send(s + "\r") }

// wait waits for wps to end and returns its exit status.
func (r *ptyREPL) wait() int {
	r.t.Helper()
	select {
	case err := <-r.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			r.t.Fatal(err)
		}
		return 0
	case <-time.After(time.Until(r.deadline)):
		r.t.Fatalf("wps repl did not end; the terminal showed:\n%s", r.cleaned(r.mark))
		return -1
	}
}

const embeddedPrompt = "hub@embedded> "

// TestREPL_Terminal drives a session on the embedded service: values,
// =expr, a multi-line function, REST calls, a failing call and .trace,
// help, completion, Ctrl-C during sleep and a busy loop with the state
// kept, a message arriving while a line is typed, history and Ctrl-D.
func TestREPL_Terminal(t *testing.T) {
	r := startREPL(t)
	r.expect("connection string: ")
	r.expect("\n")
	connectionString := strings.TrimSpace(r.cleaned(0)[strings.LastIndex(r.cleaned(0)[:r.mark-1], "connection string: ")+len("connection string: ") : r.mark])
	r.expect("client URL (24 h): ws://")
	r.expect(embeddedPrompt)

	r.line("20+22")
	r.expect("42\n")
	r.expect(embeddedPrompt)
	r.line("=7*9")
	r.expect("63\n")
	r.line(`"a", 1, {list = {1, 2}}, nil`)
	r.expect(`"a"	1	{ list = { 1, 2 } }	nil`)
	r.expect(embeddedPrompt)
	r.line("x = 5")
	r.expectNot("nil", embeddedPrompt)

	// A multi-line function continues on the .. prompt.
	r.line("function twice(n)")
	r.expect(".. ")
	r.line("  return n * 2")
	r.expect(".. ")
	r.line("end")
	r.expect(embeddedPrompt)
	r.line("twice(50)")
	r.expect("100\n")
	r.line(`s = "abc`)
	r.expect("unterminated string")
	r.expect(embeddedPrompt)

	// REST calls against the embedded service, and one that fails.
	r.line(`c = wps.connect{user_id = "alice", groups = {"ops"}}`)
	r.expect(embeddedPrompt)
	r.line(`wps.group_exists("ops"), wps.user_exists("nobody")`)
	r.expect("true	false\n")
	r.line(`wps.add_connection_to_group("ops", "no-such-connection")`)
	r.expect("stdin:1: wps: add_connection_to_group: 404")
	r.expect(embeddedPrompt)
	r.line(".trace")
	r.expect("stack traceback:")
	r.expect(embeddedPrompt)
	r.line(".timing on")
	r.expect("timing is on")
	r.line(`wps.user_exists("alice")`)
	r.expect("true\n")
	r.expect(", 1 REST call)")
	r.line(".timing off")
	r.expect("timing is off")
	r.line(".http")
	r.expect("HEAD http://")
	r.expect("Authorization: REDACTED")
	r.expect("200 OK")

	// help and completion.
	r.line("help(wps.send_to_group)")
	r.expect("wps.send_to_group(group: string, ")
	r.expect("also: client:send_to_group, conn:send_to_group")
	r.line(`help("close_user_connections")`)
	r.expect("wps.close_user_connections(user_id: string")
	r.line("help()")
	r.expect(".load FILE")
	r.expect(embeddedPrompt)
	r.send("wps.send_to_\t\t")
	r.expect("wps.send_to_all")
	r.expect("wps.send_to_user")
	r.send("\x03") // Ctrl-C at the prompt clears the line
	r.expect(embeddedPrompt)
	r.send("wps.user_ex\t(\"alice\")\r")
	r.expect("true\n")

	// Ctrl-C stops sleep and a busy loop; the state stays.
	r.line(`print("sleep" .. "ing") sleep(30)`)
	r.expect("sleeping\n")
	r.send("\x03")
	r.expect("interrupted")
	r.expect(embeddedPrompt)
	r.line(`print("spin" .. "ning") while true do end`)
	r.expect("spinning\n")
	r.send("\x03")
	r.expect("interrupted")
	r.expect(embeddedPrompt)
	r.line("=twice(x) + 1")
	r.expect("11\n")

	// A message arrives while a line is being typed: the line is intact,
	// and the message is shown before the next prompt and counted in it.
	r.send("=twice(2")
	client, err := webpubsub.NewClientFromConnectionString(connectionString, "hub", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.SendToGroup(context.Background(), "ops", webpubsub.TextMessage("ping-from-test"), nil); err != nil {
		t.Fatal(err)
	}
	typed := r.mark
	r.line("1)")
	r.expect("42\n")
	const notice = `from group "ops", text: "ping-from-test"`
	if !strings.Contains(r.cleaned(typed), notice) {
		// It arrived during the evaluation, and shows before the next
		// prompt; or after that prompt was drawn, and Enter shows it.
		for r.expectFirst(notice, embeddedPrompt) != notice {
			r.line("")
		}
	}
	r.expect("hub@embedded (1 message)> ")
	r.line("c:receive(5).data")
	r.expect(`"ping-from-test"`)
	r.expect(embeddedPrompt)

	// Secrets and lines starting with a space stay out of the history.
	r.line(`k = "Endpoint=http://localhost;AccessKey=c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3OA==;Version=1.0;"`)
	r.expect(embeddedPrompt)
	r.line(`h = "Bearer abcdef.ghijkl"`)
	r.expect(embeddedPrompt)
	r.line(`t = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl"`)
	r.expect(embeddedPrompt)
	r.line(` hidden = 1`)
	r.expect(embeddedPrompt)

	r.send("\x04") // Ctrl-D
	if status := r.wait(); status != 0 {
		t.Errorf("status %d after Ctrl-D, want 0", status)
	}

	path := filepath.Join(r.config, "wps", "history")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("history mode %o, want 600", mode)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	history := string(data)
	for _, want := range []string{"20+22\n", "function twice(n)\n", "  return n * 2\n", "=twice(x) + 1\n", "c:receive(5).data\n"} {
		if !strings.Contains(history, want) {
			t.Errorf("history lacks %q:\n%s", want, history)
		}
	}
	for _, secret := range []string{"AccessKey", "c2VjcmV0", "Bearer", "eyJ", "hidden"} {
		if strings.Contains(history, secret) {
			t.Errorf("history holds %q:\n%s", secret, history)
		}
	}

}

// TestREPL_StuckEvaluation checks that a second Ctrl-C while an evaluation
// will not stop (inside one string.find that backtracks for hours) ends the
// process at once with status 130.
func TestREPL_StuckEvaluation(t *testing.T) {
	r := startREPL(t, "--no-history")
	r.expect(embeddedPrompt)
	// Ctrl-C may land between the print and the find, and then simply
	// stops the evaluation: try again.
	for range 5 {
		r.line(`print("stu" .. "ck"); ("a"):rep(40):find(("a?"):rep(40) .. ("a"):rep(40))`)
		r.expect("stuck\n")
		r.send("\x03")
		if r.expectFirst("Ctrl-C again ends wps", embeddedPrompt) == "Ctrl-C again ends wps" {
			r.send("\x03")
			r.expect("the evaluation would not stop") // at once, or when the engine gives up
			if status := r.wait(); status != 130 {
				t.Errorf("status %d, want 130", status)
			}
			return
		}
	}
	t.Skip("every Ctrl-C stopped the evaluation: the engine stops this builtin, so nothing is stuck")
}

// TestREPL_HistoryAcrossSessions checks that a second session reads the
// first one's history (Up recalls it) and appends to the same file.
func TestREPL_HistoryAcrossSessions(t *testing.T) {
	config := t.TempDir()
	r := startREPLIn(t, config)
	r.expect(embeddedPrompt)
	r.line("=1000+1")
	r.expect("1001\n")
	r.send("\x04")
	r.wait()

	r = startREPLIn(t, config)
	r.expect(embeddedPrompt)
	r.send("\x1b[A") // Up
	r.expect("=1000+1")
	r.send("\r")
	r.expect("1001\n")
	r.line("=2000+2")
	r.expect("2002\n")
	r.send("\x04")
	r.wait()
	data, err := os.ReadFile(filepath.Join(config, "wps", "history"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), "=1000+1\n=2000+2\n"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
}

// listenApart starts a Web PubSub service apart from the REPL, which
// then treats it as a remote hub.
func listenApart(t *testing.T) *service.Server {
	t.Helper()
	server, err := service.Listen("127.0.0.1:0", service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(context.Background()) })
	return server
}

// TestREPL_Guard runs the REPL against a service started apart (as a
// remote hub would be): closing a group's connections asks first, naming
// the hub, the endpoint and how many connections it closes; "n" cancels,
// "y" goes on, and .guard off stops asking.
func TestREPL_Guard(t *testing.T) {
	server := listenApart(t)
	r := startREPL(t, "--connection-string", server.ConnectionString, "--hub", "chat")
	host := strings.TrimPrefix(server.URL, "http://")
	prompt := "chat@" + host + "> "
	r.expect("The guard is on")
	r.expect(prompt)
	r.line(`a = wps.connect{user_id = "u1", groups = {"ops"}}`)
	r.expect(prompt)
	r.line(`b = wps.connect{user_id = "u2", groups = {"ops"}}`)
	r.expect(prompt)

	r.line(`wps.close_group_connections("ops", {reason = "incident"})`)
	r.expect(`guard: close_group_connections on hub "chat" at ` + server.URL)
	r.expect(`closes every connection in group "ops": 2 connections now.`)
	r.expect("Proceed? [y/N] ")
	r.line("n")
	r.expect("close_group_connections cancelled by the operator")
	r.expect(prompt)
	r.line(`wps.group_exists("ops")`)
	r.expect("true\n")

	r.line(`wps.revoke_permission("sendToGroup", a.connection_id, {target_name = "ops"})`)
	r.expect(`revokes sendToGroup on group "ops" from connection`)
	r.expect("it is open (1 connection).")
	r.expect("Proceed? [y/N] ")
	// Ctrl-C at the question means no. (Typing first makes sure liner
	// reads the terminal: it prints the prompt before it turns signals
	// off.)
	r.send("x")
	r.expect("x")
	r.send("\x03")
	r.expect("cancelled by the operator")
	r.expect(prompt)

	r.line(`wps.close_group_connections("ops")`)
	r.expect("2 connections now.")
	r.expect("Proceed? [y/N] ")
	r.line("y")
	// From here the prompt may count the connections' "disconnected"
	// messages, once they arrive.
	prompt = "chat@" + host
	r.expect(prompt)
	r.line(`wps.group_exists("ops")`)
	r.expect("false\n")

	r.line(".guard off")
	r.expect("the guard is off")
	r.line(`wps.close_user_connections("u1")`)
	r.expectNot("guard:", prompt)
	r.send("\x04")
	if status := r.wait(); status != 0 {
		t.Errorf("status %d, want 0", status)
	}
}

// TestREPL_Yes checks that --yes turns the guard off from the start.
func TestREPL_Yes(t *testing.T) {
	server := listenApart(t)
	r := startREPL(t, "--connection-string", server.ConnectionString, "--yes", "--no-history")
	prompt := "hub@" + strings.TrimPrefix(server.URL, "http://") + "> "
	r.expect(prompt)
	r.line(`wps.close_all_connections()`)
	r.expectNot("guard:", prompt)
	r.send("\x04")
	r.wait()
	if _, err := os.Stat(filepath.Join(r.config, "wps", "history")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--no-history wrote a history file (%v)", err)
	}
}

// pipeREPL runs wps repl in-process with input on a pipe as stdin, and
// returns its exit status, stdout and stderr.
func pipeREPL(t *testing.T, input string, args ...string) (int, string, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.WriteString(input)
		w.Close()
	}()
	saved := replInput
	replInput = r
	defer func() { replInput = saved }()
	return runWPS(t, append([]string{"repl"}, args...)...)
}

// TestREPL_Piped checks the REPL reading from a pipe: plain values, no
// prompt, multi-line chunks, commands, and the exit status of the first
// error (or of all, with --keep-going).
func TestREPL_Piped(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "setup.lua")
	if err := os.WriteFile(script, []byte("y = 41\nreturn 'loaded'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, input    string
		args           []string
		status         int
		stdout, stderr string
	}{
		{name: "Values",
			input:  "1+1\n=2*3\n\"plain\"\n{a = 1, b = {true}}\nprint('p')\nx = 1\nnil\n1, 'two', {3}\n\n",
			stdout: "2\n6\nplain\n{\"a\":1,\"b\":[true]}\np\nnil\n1\ttwo\t[3]\n"},
		{name: "MultiLine",
			input:  "function f(n)\n  return n * 7\nend\nf(6)\nt = {\n  1,\n  2,\n}\n#t\n",
			stdout: "42\n2\n"},
		{name: "REST", input: `wps.group_exists("g")` + "\n" + `wps.user_exists("nobody")` + "\n", stdout: "false\nfalse\n"},
		{name: "StopsAtFirstError", input: "1\nerror('boom')\n2\n", status: 1, stdout: "1\n", stderr: "stdin:1: boom\n"},
		{name: "FailedCall", input: `wps.add_connection_to_group("g", "nope")` + "\n2\n", status: 1,
			stderr: "stdin:1: wps: add_connection_to_group: 404 Not Found"},
		{name: "KeepGoing", input: "1\nerror('boom')\n2\n", args: []string{"--keep-going"}, status: 1, stdout: "1\n2\n", stderr: "stdin:1: boom\n"},
		{name: "IncompleteAtEnd", input: "function f()\n", status: 1, stderr: "at end of file"},
		{name: "Unfixable", input: "x = \"abc\n1\n", status: 1, stderr: "unterminated string"},
		{name: "Exit", input: "os.exit(3)\n1\n", status: 3},
		{name: "Load", input: ".load " + script + "\ny + 1\n", stdout: "loaded\n42\n"},
		{name: "Hub", input: ".hub other\nwps.group_exists('g')\n.http\n", stdout: "/api/hubs/other/groups/g?"},
		{name: "Help", input: "help('send_to_group')\n", stdout: "wps.send_to_group(group: string, "},
		{name: "UnknownCommand", input: ".nope\n", status: 1, stderr: "unknown command .nope"},
		{name: "Timeout", input: "sleep(10)\n", args: []string{"--timeout", "50ms"}, status: 124, stderr: "timed out after 50ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, stdout, stderr := pipeREPL(t, tc.input, tc.args...)
			if status != tc.status {
				t.Errorf("status %d, want %d; stderr:\n%s", status, tc.status, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || tc.stdout == "" && stdout != "" {
				t.Errorf("stdout %q, want %q", stdout, tc.stdout)
			}
			if !strings.Contains(stderr, tc.stderr) || tc.stderr == "" && stderr != "" {
				t.Errorf("stderr %q, want %q", stderr, tc.stderr)
			}
			if strings.Contains(stdout+stderr, "> ") {
				t.Errorf("a prompt was printed:\n%s%s", stdout, stderr)
			}
		})
	}
}

// TestREPL_Usage checks --help and the usage mistakes.
func TestREPL_Usage(t *testing.T) {
	status, stdout, _ := runWPS(t, "repl", "--help")
	if status != 0 {
		t.Errorf("--help: status %d", status)
	}
	for _, want := range []string{"Usage: wps repl [flags]", "-yes", "-no-history", "-keep-going", "-timeout", "-connection-string", "$XDG_CONFIG_HOME/wps/history", "Examples:\n  wps repl"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if status, _, stderr := runWPS(t, "repl", "file.lua"); status != 2 || !strings.Contains(stderr, ".load FILE") {
		t.Errorf("an argument: status %d, stderr %q", status, stderr)
	}
	if status, _, stderr := runWPS(t, "repl", "--hub", "bad hub!"); status != 2 || !strings.Contains(stderr, "--hub") {
		t.Errorf("a bad hub: status %d, stderr %q", status, stderr)
	}
}
