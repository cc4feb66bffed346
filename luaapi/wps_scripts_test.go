package luaapi_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"wps/engine"
	"wps/luaapi"
)

// These tests run examples/hello.lua and the runbooks of scripts/ as `wps
// run` does, against the embedded service, and check their effect with
// client connections opened in another state of the same engine.

// syncBuffer is a bytes.Buffer safe for the engine's writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns what was written and empties the buffer.
func (b *syncBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

// scriptHarness is an engine on the embedded service, and a state of it
// that plays the clients.
type scriptHarness struct {
	t      *testing.T
	ctx    context.Context
	engine *engine.Engine
	out    *syncBuffer
	client *engine.Session
}

func newScriptHarness(t *testing.T) *scriptHarness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard against hangs
	out := &syncBuffer{}
	e := engine.New(engine.Options{
		Sandbox:   true,
		Stdout:    out,
		LookupEnv: func(string) (string, bool) { return "", false }, // the embedded service, whatever the environment
	})
	session, err := e.NewSession(engine.RunOptions{})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() {
		session.Close()
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("closing the engine: %v", err)
		}
		cancel()
	})
	return &scriptHarness{t: t, ctx: ctx, engine: e, out: out, client: session}
}

// clients runs Lua in the clients' state and returns its first result as
// JSON.
func (h *scriptHarness) clients(src string) string {
	h.t.Helper()
	script, err := engine.Compile("clients", src)
	if err != nil {
		h.t.Fatalf("compiling: %v", err)
	}
	values, err := h.client.Exec(h.ctx, script)
	if err != nil {
		h.t.Fatalf("clients: %v", err)
	}
	if len(values) == 0 {
		return ""
	}
	data, err := luaapi.ToJSON(h.client.State(), values[0])
	if err != nil {
		h.t.Fatalf("encoding: %v", err)
	}
	return string(data)
}

// run runs a script file with args and returns what it printed.
func (h *scriptHarness) run(path string, args ...string) (string, error) {
	h.t.Helper()
	err := h.engine.RunFile(h.ctx, path, args)
	return h.out.take(), err
}

func TestExamples_Hello(t *testing.T) {
	h := newScriptHarness(t)
	out, err := h.run("../examples/hello.lua")
	if err != nil {
		t.Fatalf("hello.lua failed: %v\n%s", err, out)
	}
	want := `client received from group greetings (json): {"group":"greetings","text":"hello from the REST API"}`
	if !strings.Contains(out, want) || !strings.Contains(out, "client connected: user hello-user, connection ") {
		t.Errorf("hello.lua printed:\n%s\nwant a line %q", out, want)
	}
}

func TestScripts_Help(t *testing.T) {
	h := newScriptHarness(t)
	for _, script := range []string{"announce", "kick_user", "audit_group", "permissions", "broadcast"} {
		out, err := h.run("../scripts/"+script+".lua", "--help")
		if err != nil || !strings.HasPrefix(out, "Usage: wps run scripts/"+script+".lua") || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: %v\n%s", script, err, out)
		}
		// There are no global flags: every example is "wps run [flags] FILE".
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "wps ") && !strings.HasPrefix(strings.TrimSpace(line), "wps run ") {
				t.Errorf("%s --help: example %q does not start with \"wps run \"", script, line)
			}
		}
		out, err = h.run("../scripts/"+script+".lua", "--no-such-flag")
		if want := "exit status 2: unknown flag --no-such-flag (run with --help for usage)"; err == nil || err.Error() != want || out != "" {
			t.Errorf("%s with an unknown flag: %v, printed %q; want %q", script, err, out, want)
		}
	}
}

func TestScripts_Announce(t *testing.T) {
	h := newScriptHarness(t)
	h.clients(`
		inside = wps.connect{groups = {"ops"}}
		outside = wps.connect{}`)
	if out, err := h.run("../scripts/announce.lua", "--group", "ops", "--ttl", "60", "deploy", "starting"); err != nil || out != "announced to group ops\n" {
		t.Fatalf("announce to a group: %v\n%s", err, out)
	}
	if out, err := h.run("../scripts/announce.lua", "--json", `{"text":"to all"}`); err != nil || out != "announced to every connection of the hub\n" {
		t.Fatalf("announce to all: %v\n%s", err, out)
	}
	got := h.clients(`return {inside:receive(10).data, inside:receive(10).data.text, outside:receive(10).data.text, outside:receive(0.05)}`)
	if want := `["deploy starting","to all","to all"]`; got != want {
		t.Errorf("clients received %s, want %s", got, want)
	}
	if _, err := h.run("../scripts/announce.lua", "--ttl", "soon", "x"); err == nil || !strings.Contains(err.Error(), `flag --ttl needs a number, got "soon"`) {
		t.Errorf("a bad --ttl: %v", err)
	}
	if _, err := h.run("../scripts/announce.lua"); err == nil || err.Error() != "exit status 2: missing MESSAGE (run with --help for usage)" {
		t.Errorf("no message: %v", err)
	}
}

func TestScripts_KickUser(t *testing.T) {
	h := newScriptHarness(t)
	h.clients(`
		mallory = wps.connect{user_id = "mallory", groups = {"ops", "lobby"}}
		alice = wps.connect{user_id = "alice", groups = {"ops"}}`)
	out, err := h.run("../scripts/kick_user.lua", "--reason", "abuse report", "mallory", "nobody")
	if err != nil {
		t.Fatalf("kick_user: %v\n%s", err, out)
	}
	want := "mallory: connections closed, removed from all groups\nnobody: was not connected, removed from all groups\n"
	if out != want {
		t.Errorf("printed\n%s\nwant\n%s", out, want)
	}
	got := h.clients(`
		local m = mallory:receive(10)
		return {event = m.event, reason = m.data, alice = wps.user_exists("alice"), lobby = wps.group_exists("lobby"),
			members = #wps.list_connections("ops")}`)
	if want := `{"alice":true,"event":"disconnected","lobby":false,"members":1,"reason":"abuse report"}`; got != want {
		t.Errorf("after the kick: %s, want %s", got, want)
	}
}

func TestScripts_AuditGroupAndPermissions(t *testing.T) {
	h := newScriptHarness(t)
	ids := h.clients(`
		a = wps.connect{user_id = "ann", groups = {"ops"}, roles = {"webpubsub.sendToGroup.ops"}}
		b = wps.connect{groups = {"ops"}}
		return {a.connection_id, b.connection_id}`)
	ids = strings.Trim(ids, `[]"`)
	a, b, _ := strings.Cut(ids, `","`)

	out, err := h.run("../scripts/audit_group.lua", "ops")
	if err != nil {
		t.Fatalf("audit_group: %v\n%s", err, out)
	}
	for _, line := range []string{"group ops: 2 connection(s)", "connection\tuser\tsendToGroup\tjoinLeaveGroup", a + "\tann\tyes\tno", b + "\t-\tno\tno"} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("audit output lacks %q:\n%s", line, out)
		}
	}

	// A connection id may start with "-": "--" ends the flags before them.
	out, err = h.run("../scripts/permissions.lua", "grant", "joinLeaveGroup", "ops", "--", a, b)
	if err != nil {
		t.Fatalf("permissions grant: %v\n%s", err, out)
	}
	if !strings.Contains(out, b+": has joinLeaveGroup on group ops\n") {
		t.Errorf("grant printed:\n%s", out)
	}
	out, err = h.run("../scripts/permissions.lua", "revoke", "sendToGroup", "ops", "--", a)
	if err != nil || out != a+": no longer has sendToGroup on group ops\n" {
		t.Fatalf("permissions revoke: %v\n%s", err, out)
	}
	out, err = h.run("../scripts/audit_group.lua", "--permission", "joinLeaveGroup", "ops")
	if err != nil || !strings.Contains(out, a+"\tann\tyes\n") || !strings.Contains(out, b+"\t-\tyes\n") {
		t.Errorf("audit after the changes: %v\n%s", err, out)
	}
	if _, err := h.run("../scripts/permissions.lua", "grant", "admin", "ops", "--", a); err == nil || !strings.HasPrefix(err.Error(), "exit status 2: PERMISSION must be") {
		t.Errorf("a bad permission: %v", err)
	}
}

func TestScripts_Broadcast(t *testing.T) {
	h := newScriptHarness(t)
	h.clients(`
		conns = {}
		for i = 1, 30 do conns[i] = wps.connect{user_id = "user" .. i} end`)
	var users []string
	for i := 1; i <= 30; i++ {
		users = append(users, "user"+strconv.Itoa(i))
	}
	args := append([]string{"--concurrency", "4", "--users", "nobody", "maintenance tonight", "--users", "user1,user2"}, users[2:]...)
	out, err := h.run("../scripts/broadcast.lua", args...)
	if err != nil || out != "sent to 31 of 31 users\n" {
		t.Fatalf("broadcast: %v\n%s", err, out)
	}
	got := h.clients(`
		local all = true
		for i = 1, 30 do
			local m = conns[i]:receive(10)
			all = all and m ~= nil and m.data == "maintenance tonight"
		end
		return all`)
	if got != "true" {
		t.Errorf("not every user received the broadcast")
	}
}

// TestScripts_BadFlagValues checks that the runbooks reject bad flag values
// and empty names as usage mistakes (exit status 2, one line) before doing
// any work, instead of failing on every item or with a traceback.
func TestScripts_BadFlagValues(t *testing.T) {
	h := newScriptHarness(t)
	h.clients(`member = wps.connect{user_id = "ann", groups = {"ops"}}`)
	for _, tc := range []struct {
		script string
		args   []string
		want   string
	}{
		{"announce", []string{"--ttl", "999", "hi"}, "--ttl must be a whole number of seconds from 1 to 300, got 999"},
		{"announce", []string{"--ttl", "1.5", "hi"}, "--ttl must be a whole number of seconds from 1 to 300, got 1.5"},
		{"announce", []string{"--group", "", "hi"}, "--group must not be empty"},
		{"broadcast", []string{"--ttl", "500", "hi", "ann"}, "--ttl must be a whole number of seconds from 1 to 300, got 500"},
		{"broadcast", []string{"--concurrency", "0", "hi", "ann"}, "--concurrency must be a whole number from 1 to 1000, got 0"},
		{"broadcast", []string{"hi", "ann", ""}, "USER must not be empty"},
		{"audit_group", []string{"--permission", "admin", "ops"}, "--permission must be sendToGroup or joinLeaveGroup, got admin"},
		{"audit_group", []string{"--concurrency", "-3", "ops"}, "--concurrency must be a whole number from 1 to 1000, got -3"},
		{"audit_group", []string{""}, "GROUP must not be empty"},
		{"permissions", []string{"--concurrency", "1.5", "grant", "sendToGroup", "ops", "c1"}, "--concurrency must be a whole number from 1 to 1000, got 1.5"},
		{"permissions", []string{"grant", "sendToGroup", "", "c1"}, "GROUP must not be empty"},
		{"kick_user", []string{"ann", ""}, "USER must not be empty"},
	} {
		out, err := h.run("../scripts/"+tc.script+".lua", tc.args...)
		want := "exit status 2: " + tc.want + " (run with --help for usage)"
		if err == nil || err.Error() != want || out != "" {
			t.Errorf("%s %q: %v, printed %q; want %q", tc.script, tc.args, err, out, want)
		}
	}
	if got := h.clients(`return wps.user_exists("ann")`); got != "true" {
		t.Errorf("a rejected kick_user still disconnected the user")
	}
}
