package luaapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestEach_BoundsCallsInFlight(t *testing.T) {
	const concurrency = 4
	var (
		mu       sync.Mutex
		inFlight int
		maxSeen  int
		release  = make(chan struct{})
		released bool
	)
	srv := newWireServer(t)
	srv.reply = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		maxSeen = max(maxSeen, inFlight)
		if inFlight == concurrency && !released {
			released = true
			close(release) // every worker is waiting on a call: let them all go
		}
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done(): // the calls were not concurrent: the test failed
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString()})
	got := mustRun(t, L, `
		local users = {}
		for i = 1, 20 do users[i] = "user" .. i end
		local results = wps.each(users, function(u, i)
			wps.send_to_user(u, "hello " .. i)
			return i * 10
		end, {concurrency = 4})
		local values = {}
		for i, r in ipairs(results) do
			assert(r.ok, "item " .. i .. " failed")
			values[i] = r.value
		end
		return values`)
	if want := "[10,20,30,40,50,60,70,80,90,100,110,120,130,140,150,160,170,180,190,200]"; got != want {
		t.Errorf("values = %s, want %s", got, want)
	}
	if maxSeen != concurrency {
		t.Errorf("at most %d calls were in flight, want %d", maxSeen, concurrency)
	}
	sent := map[string]string{}
	for _, r := range srv.received() {
		sent[r.Path] = r.Body
	}
	if len(sent) != 20 || sent["/api/hubs/hub/users/user7/:send"] != "hello 7" {
		t.Errorf("sent %d distinct messages (user7 got %q), want 20", len(sent), sent["/api/hubs/hub/users/user7/:send"])
	}
}

func TestEach_ResultsAndErrors(t *testing.T) {
	srv := newWireServer(t)
	srv.reply = func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/bad") {
			w.Header().Set("x-ms-error-code", "Error.Forbidden")
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(successStatus(r))
	}
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString()})
	got := mustRun(t, L, `
		local hub = wps.hub("other")
		local results = wps.each({"a", "bad", "c", "boom", "pcall", "exists", "method", "yield", "nested"}, function(u)
			if u == "boom" then error("boom!", 0) end
			if u == "pcall" then
				local ok, err = pcall(wps.send_to_user, "bad", "x")
				return {ok = ok, status = err.status}
			end
			if u == "exists" then return wps.user_exists(u) end
			if u == "method" then hub:send_to_user(u, "x"); return "via method" end
			if u == "yield" then coroutine.yield("mine") end
			if u == "nested" then
				local co = coroutine.wrap(function() wps.send_to_user("n", "x"); return "inner" end)
				return co()
			end
			wps.send_to_user(u, "x")
			return u
		end)
		local out = {}
		for i, r in ipairs(results) do
			if r.ok then out[i] = r.value else out[i] = "error: " .. tostring(r.error) end
		end
		return out`)
	want := `["a","error: wps: send_to_user: 403 Forbidden (Error.Forbidden)","c","error: boom!",{"ok":false,"status":403},` +
		`false,"via method","error: wps.each: the function yielded; only wps operations may yield inside wps.each","inner"]`
	if got != want {
		t.Errorf("results =\n%s\nwant\n%s", got, want)
	}
}

func TestEach_Arguments(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	if got := mustRun(t, L, `return #wps.each({}, function() end)`); got != "0" {
		t.Errorf("each over an empty list returned %s items", got)
	}
	for script, want := range map[string]string{
		`wps.each("x", print)`:                    `bad argument #1 to 'wps.each' (table expected, got string)`,
		`wps.each({}, 1)`:                         `bad argument #2 to 'wps.each' (function expected, got number)`,
		`wps.each({}, print, {concurrency = 0})`:  `bad argument #3 to 'wps.each' (option 'concurrency': integer from 1 to 1000 expected, got 0)`,
		`wps.each({}, print, {parallel = 2})`:     `bad argument #3 to 'wps.each' (unknown option 'parallel'; known: concurrency, progress)`,
		`wps.each({}, print, {progress = "yes"})`: `bad argument #3 to 'wps.each' (option 'progress': boolean expected, got string)`,
	} {
		if got := mustFail(t, L, script); !strings.Contains(got, want) {
			t.Errorf("%s raised %q, want %q", script, got, want)
		}
	}
}

func TestEach_NoProgressBarOffTerminal(t *testing.T) {
	var stderr bytes.Buffer
	L, _ := newTestState(t, testTarget{Stderr: &stderr})
	mustRun(t, L, `wps.each({1, 2, 3}, function(x) return x end)`)
	if stderr.Len() != 0 {
		t.Errorf("wrote %q to a stderr that is not a terminal", stderr.String())
	}
}

func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	bar := &progressBar{w: &out, total: 4}
	bar.add(true)
	bar.add(false)
	bar.add(true)
	bar.add(true)
	bar.finish()
	lines := strings.Split(out.String(), "\r")
	last := strings.TrimSuffix(lines[len(lines)-1], "\n")
	if want := "[" + strings.Repeat("#", 30) + "] 4/4, 1 failed"; last != want {
		t.Errorf("final bar = %q, want %q", last, want)
	}
	var nilBar *progressBar
	nilBar.add(true) // a nil bar draws nothing and does not crash
	nilBar.finish()
}

func TestEach_TailCalls(t *testing.T) {
	srv := newWireServer(t)
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString()})
	got := mustRun(t, L, `
		local function exists(u) return wps.user_exists(u) end -- a tail call one level down
		local results = wps.each({"a", "b"}, function(u)
			local found = exists(u)
			return {user = u, found = found}
		end, {concurrency = 2})
		local direct = wps.each({"c"}, function(u) return wps.group_exists(u) end)
		return {results[1].value, results[2].value, direct[1].value}`)
	if want := `[{"found":true,"user":"a"},{"found":true,"user":"b"},true]`; got != want {
		t.Errorf("results = %s, want %s", got, want)
	}
	if n := len(srv.received()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestEach_Cancelled(t *testing.T) {
	srv := newWireServer(t)
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString()})
	ctx, cancel := context.WithCancel(L.Context())
	L.SetContext(ctx)
	srv.reply = func(w http.ResponseWriter, r *http.Request) {
		cancel()             // Ctrl-C while calls are in flight
		<-r.Context().Done() // the client gives up the call
	}
	got := mustFail(t, L, `wps.each({"a", "b", "c"}, function(u) wps.send_to_user(u, "x") end, {concurrency = 2})`)
	if !strings.Contains(got, "context canceled") {
		t.Errorf("a cancelled wps.each raised %q", got)
	}
}

func TestEach_NestedInterpreterLoops(t *testing.T) {
	srv := newWireServer(t)
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString()})
	got := mustRun(t, L, `
		local proxy = setmetatable({}, {__index = function(_, u) return wps.user_exists(u) end})
		local function sorted(u)
			local t = {u .. "2", u .. "1"}
			table.sort(t, function(a, b) wps.group_exists(a); return a < b end)
			return t
		end
		local results = wps.each({"a", "b"}, function(u)
			return {meta = proxy[u], sorted = sorted(u)}
		end, {concurrency = 2})
		local direct = wps.each({"c"}, wps.user_exists)
		return {results[1].value, results[2].value, direct[1].value}`)
	want := `[{"meta":true,"sorted":["a1","a2"]},{"meta":true,"sorted":["b1","b2"]},true]`
	if got != want {
		t.Errorf("results = %s, want %s", got, want)
	}
}

// TestEach_ExitEndsTheScript checks that an exit request raised by fn (here
// flags.usage_error; os.exit in the engine's states) ends the whole script
// rather than being recorded as the item's error.
func TestEach_ExitEndsTheScript(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	_, err := runScript(t, L, `
		wps.each({1, 2, 3}, function(i) if i == 2 then flags.usage_error("stop at 2") end end)
		error("the script went on after the exit")`)
	apiErr, ok := err.(*lua.ApiError)
	if !ok {
		t.Fatalf("error %v, want the exit request", err)
	}
	ud, ok := apiErr.Object.(*lua.LUserData)
	if !ok {
		t.Fatalf("raised %s, want the exit request", scriptError(L, err))
	}
	if exit, ok := ud.Value.(*ExitRequest); !ok || exit.Code != 2 || !strings.Contains(exit.Message, "stop at 2") {
		t.Errorf("raised %#v, want exit status 2 with the message", ud.Value)
	}
}
