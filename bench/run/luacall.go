package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"wps/bench/internal/benchkit"
	"wps/engine"
	"wps/webpubsub"
)

// This file measures what a Lua call of the wps module costs beyond its
// HTTP request: the same send_to_all made from a Lua loop in a state made
// by the engine (as `wps run` does) and directly from Go with the REST
// client, both over a transport that answers at once without any network.
// The difference is the binding's cost: the Lua call, the argument checks,
// the message conversion and the default client lookup. A Lua loop calling
// a Go function that does nothing shows how much of it is gopher-lua's own
// call. BenchmarkLuaCall (go test -bench LuaCall ./bench/run) and
// measureLuaCall (go run ./bench/run) both use the senders below.

// instantTransport answers every request with 202 Accepted at once, and
// counts the send requests, so that a measurement can check that every
// call really sent one.
type instantTransport struct {
	sends atomic.Int64
}

// RoundTrip reads and closes the request body and answers 202 Accepted.
func (t *instantTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/:send") {
		t.sends.Add(1)
	}
	return &http.Response{
		Status:     "202 Accepted",
		StatusCode: http.StatusAccepted,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Body:       http.NoBody,
		Request:    req,
	}, nil
}

// sender makes n calls in one of the measured ways.
type sender struct {
	// send makes n calls.
	send func(n int) error
	// sends counts the requests that reached the transport; nil for the
	// no-op sender, which sends nothing.
	sends *atomic.Int64
	// close releases the sender.
	close func()
}

// instantService returns a connection string with a random key for a
// service that does not exist, and an HTTP client whose transport answers
// in its place.
func instantService() (connectionString string, httpClient *http.Client, transport *instantTransport) {
	key := make([]byte, 32)
	rand.Read(key)
	transport = &instantTransport{}
	return "Endpoint=http://bench.invalid;AccessKey=" + hex.EncodeToString(key) + ";Version=1.0;", &http.Client{Transport: transport}, transport
}

// newGoSender returns a sender calling client.SendToAll from Go.
func newGoSender() (*sender, error) {
	connectionString, httpClient, transport := instantService()
	client, err := webpubsub.NewClientFromConnectionString(connectionString, benchHub, &webpubsub.ClientOptions{HTTPClient: httpClient})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	send := func(n int) error {
		for range n {
			if err := client.SendToAll(ctx, webpubsub.TextMessage("x"), nil); err != nil {
				return err
			}
		}
		return nil
	}
	return &sender{send: send, sends: &transport.sends, close: func() {}}, nil
}

// newLuaSender returns a sender running wps.send_to_all("x") in a Lua loop.
func newLuaSender() (*sender, error) {
	connectionString, httpClient, transport := instantService()
	e := engine.New(engine.Options{
		Target:     engine.Target{ConnectionString: connectionString, Hub: benchHub},
		HTTPClient: httpClient,
		LookupEnv:  func(string) (string, bool) { return "", false },
		Stdout:     io.Discard,
	})
	s, err := newLuaLoop(e, `wps.send_to_all("x")`)
	if err != nil {
		return nil, err
	}
	s.sends = &transport.sends
	return s, nil
}

// newNoopSender returns a sender running noop("x") in a Lua loop, noop
// being a Go function that does nothing.
func newNoopSender() (*sender, error) {
	e := engine.New(engine.Options{
		LookupEnv: func(string) (string, bool) { return "", false },
		Stdout:    io.Discard,
		Setup: func(L *lua.LState) error {
			L.SetGlobal("noop", L.NewFunction(func(*lua.LState) int { return 0 }))
			return nil
		},
	})
	return newLuaLoop(e, `noop("x")`)
}

// newLuaLoop returns a sender running statement n times in a Lua loop, in
// a state of e. The sender's close closes the state and e.
func newLuaLoop(e *engine.Engine, statement string) (*sender, error) {
	ctx := context.Background()
	closeEngine := func() { e.Close(ctx) }
	script, err := engine.Compile("luacall.lua", "local n = tonumber((...))\nfor i = 1, n do "+statement+" end")
	if err != nil {
		closeEngine()
		return nil, err
	}
	session, err := e.NewSession(engine.RunOptions{})
	if err != nil {
		closeEngine()
		return nil, err
	}
	send := func(n int) error {
		_, err := session.Exec(ctx, script, strconv.Itoa(n))
		return err
	}
	return &sender{send: send, close: func() { session.Close(); closeEngine() }}, nil
}

// Paired rounds of measureLuaCall. The difference it looks for is small
// beside the cost of a request (about 10 µs, mostly signing its token) and
// the noise of a busy machine, so it times the Go and Lua senders in turn,
// many short rounds each, starting each from a fresh heap, and takes the
// median of the per-round differences.
const (
	callRounds        = 301
	callsPerRound     = 200
	noopCallsPerRound = 20000
)

// callCost is what measureLuaCall found, in nanoseconds per call.
type callCost struct {
	goSend, luaSend, noop []float64
	// overhead holds luaSend-goSend for each round.
	overhead []float64
}

// measureLuaCall measures the three senders in paired rounds.
func measureLuaCall() (callCost, error) {
	var c callCost
	goSender, err := newGoSender()
	if err != nil {
		return c, err
	}
	defer goSender.close()
	luaSender, err := newLuaSender()
	if err != nil {
		return c, err
	}
	defer luaSender.close()
	noopSender, err := newNoopSender()
	if err != nil {
		return c, err
	}
	defer noopSender.close()

	// Warm up: the Lua sender makes its default client on its first call.
	for _, s := range []*sender{goSender, luaSender} {
		if _, err := timeCalls(s, callsPerRound); err != nil {
			return c, err
		}
	}
	for round := range callRounds {
		first, second := goSender, luaSender
		if round%2 == 1 {
			first, second = luaSender, goSender
		}
		times := map[*sender]float64{}
		for _, s := range []*sender{first, second} {
			ns, err := timeCalls(s, callsPerRound)
			if err != nil {
				return c, err
			}
			times[s] = ns
		}
		noop, err := timeCalls(noopSender, noopCallsPerRound)
		if err != nil {
			return c, err
		}
		c.goSend = append(c.goSend, times[goSender])
		c.luaSend = append(c.luaSend, times[luaSender])
		c.noop = append(c.noop, noop)
		c.overhead = append(c.overhead, times[luaSender]-times[goSender])
	}
	return c, nil
}

// timeCalls makes n calls with s, from a freshly collected heap, checks
// that each sent one request, and returns the nanoseconds per call.
func timeCalls(s *sender, n int) (float64, error) {
	var before int64
	if s.sends != nil {
		before = s.sends.Load()
	}
	runtime.GC()
	start := time.Now()
	if err := s.send(n); err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	if s.sends != nil {
		if sent := s.sends.Load() - before; sent != int64(n) {
			return 0, fmt.Errorf("%d calls sent %d requests", n, sent)
		}
	}
	return float64(elapsed.Nanoseconds()) / float64(n), nil
}

// reportLuaCall prints the medians of the rounds and the binding's
// overhead against its target.
func reportLuaCall(w io.Writer, c callCost) {
	row := func(name string, ns []float64) {
		fmt.Fprintf(w, "%-42s median %7.0f ns  p10 %7.0f  p90 %7.0f\n", name, benchkit.Median(ns), benchkit.Percentile(ns, 10), benchkit.Percentile(ns, 90))
	}
	fmt.Fprintf(w, "%d paired rounds of %d calls:\n", callRounds, callsPerRound)
	row("Go client.SendToAll", c.goSend)
	row("Lua wps.send_to_all", c.luaSend)
	row("Lua - Go, per round", c.overhead)
	row("Lua call of a no-op Go function", c.noop)
	overhead := benchkit.Median(c.overhead)
	verdict(w, fmt.Sprintf("Lua-to-Go call overhead %.0f ns", overhead), overhead < targetCallNS, fmt.Sprintf("< %.0f µs", targetCallNS/1000))
}
