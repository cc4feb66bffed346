package repl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wps/engine"
	"wps/webpubsub"
)

// guard asks the operator before a request that closes connections,
// removes them from every group (or from groups by filter) or revokes a
// permission, on any service but the embedded one: the mistake made at 3
// a.m. It recognises those REST operations by method and path, so it
// covers the default client, wps.hub(...) and wps.client{...} alike.
type guard struct {
	on atomic.Bool
	// local reports whether host is the embedded service, which is never
	// guarded.
	local func(host string) bool
	// counter returns a client for hub on the service at host that the
	// guard may use to count what a request touches, or nil when it has
	// no key for that service. Its requests bypass the guard.
	counter func(host, hub string) *webpubsub.Client
	ask     func(question []string) bool

	mu sync.Mutex // one question at a time (wps.each sends in parallel)
}

func newGuard(on bool, local func(host string) bool, counter func(host, hub string) *webpubsub.Client, ask func([]string) bool) *guard {
	g := &guard{local: local, counter: counter, ask: ask}
	g.on.Store(on)
	return g
}

// DeniedError is the end of an evaluation whose request the operator
// refused at the guard's question.
type DeniedError struct {
	// Operation is the refused operation, e.g. "close_group_connections".
	Operation string
}

// Error says what was cancelled.
func (e *DeniedError) Error() string {
	return e.Operation + " cancelled by the operator; nothing was sent, and the evaluation stopped"
}

// check returns nil when req may go, after asking when it is guarded. A
// refusal ends the evaluation (its context's cause is a *DeniedError) and
// returns that error.
func (g *guard) check(req *http.Request) error {
	if g == nil || !g.on.Load() {
		return nil
	}
	op, ok := classify(req)
	if !ok || g.local != nil && g.local(req.URL.Host) {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return err
	}
	ev := evaluationOf(ctx)
	key := req.Method + " " + req.URL.String()
	if ev != nil {
		ev.mu.Lock()
		confirmed := ev.confirmed[key]
		ev.mu.Unlock()
		if confirmed {
			return nil
		}
	}
	if !g.on.Load() {
		return nil
	}
	question := g.describe(ctx, req, op)
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.ask(question) {
		if ev != nil {
			ev.mu.Lock()
			ev.confirmed[key] = true
			ev.mu.Unlock()
		}
		return nil
	}
	denied := &DeniedError{Operation: op.name}
	if ev != nil {
		// Ending the evaluation, rather than failing this request alone,
		// keeps the client from retrying it and a loop from asking again.
		ev.cancel(denied)
	}
	return denied
}

// guardedOp is a request the guard asks about.
type guardedOp struct {
	name                                string // the operation, as the Lua function is named
	hub                                 string
	group, user, connection, permission string
	targetName                          string
	excluded                            []string
	groups                              []string // remove_connections_from_groups
	filter                              string
}

// classify recognises a guarded REST operation by method and path (after
// /api/hubs/{hub}/, so that a reverse proxy's prefix does not matter).
func classify(req *http.Request) (guardedOp, bool) {
	path := req.URL.EscapedPath()
	i := strings.Index(path, "/api/hubs/")
	if i < 0 {
		return guardedOp{}, false
	}
	segs := strings.Split(path[i+len("/api/hubs/"):], "/")
	for j, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[j] = u
		}
	}
	op := guardedOp{hub: segs[0], excluded: req.URL.Query()["excluded"], targetName: req.URL.Query().Get("targetName")}
	rest := segs[1:]
	is := func(method string, pattern ...string) bool {
		if req.Method != method || len(rest) != len(pattern) {
			return false
		}
		for j, p := range pattern {
			if p != "*" && p != rest[j] {
				return false
			}
		}
		return true
	}
	switch {
	case is(http.MethodPost, ":closeConnections"):
		op.name = "close_all_connections"
	case is(http.MethodDelete, "connections", "*"):
		op.name, op.connection = "close_connection", rest[1]
	case is(http.MethodPost, "groups", "*", ":closeConnections"):
		op.name, op.group = "close_group_connections", rest[1]
	case is(http.MethodPost, "users", "*", ":closeConnections"):
		op.name, op.user = "close_user_connections", rest[1]
	case is(http.MethodDelete, "connections", "*", "groups"):
		op.name, op.connection = "remove_connection_from_all_groups", rest[1]
	case is(http.MethodDelete, "users", "*", "groups"):
		op.name, op.user = "remove_user_from_all_groups", rest[1]
	case is(http.MethodDelete, "permissions", "*", "connections", "*"):
		op.name, op.permission, op.connection = "revoke_permission", rest[1], rest[3]
	case is(http.MethodPost, ":removeFromGroups"):
		op.name = "remove_connections_from_groups"
		if req.GetBody != nil {
			if body, err := req.GetBody(); err == nil {
				var b struct {
					Groups []string `json:"groups"`
					Filter string   `json:"filter"`
				}
				data, _ := io.ReadAll(io.LimitReader(body, 1<<20))
				body.Close()
				json.Unmarshal(data, &b)
				op.groups, op.filter = b.Groups, b.Filter
			}
		}
	default:
		return guardedOp{}, false
	}
	return op, true
}

// countTimeout bounds the requests the guard makes to count what a request
// touches.
const countTimeout = 5 * time.Second

// describe returns the question for op: the operation, the hub, the
// endpoint and, where the service can tell, how many connections it
// touches.
func (g *guard) describe(ctx context.Context, req *http.Request, op guardedOp) []string {
	endpoint := req.URL.Scheme + "://" + req.URL.Host
	var client *webpubsub.Client
	if g.counter != nil {
		client = g.counter(req.URL.Host, op.hub)
	}
	ctx, cancel := context.WithTimeout(ctx, countTimeout)
	defer cancel()
	// exists says whether the service knows a connection or user, when a
	// client can ask.
	exists := func(check func(context.Context) (bool, error), yes, no string) string {
		if client == nil {
			return " (the guard has no key for this service, so it cannot tell how many)"
		}
		ok, err := check(ctx)
		switch {
		case err != nil:
			return " (could not tell how many: " + engine.EscapeControl(webpubsub.RedactSecrets(err.Error())) + ")"
		case ok:
			return yes
		}
		return no
	}
	members := func(group string) (int, error) {
		m, err := client.ListConnections(ctx, group, &webpubsub.ListOptions{Top: maxCounted + 1})
		return len(m), err
	}
	count := func(groups ...string) string {
		if client == nil {
			return " (the guard has no key for this service, so it cannot tell how many)"
		}
		total := 0
		for _, group := range groups {
			n, err := members(group)
			if err != nil {
				return " (could not tell how many: " + engine.EscapeControl(webpubsub.RedactSecrets(err.Error())) + ")"
			}
			total += n
		}
		if total > maxCounted {
			return fmt.Sprintf(": more than %d connections now", maxCounted)
		}
		return ": " + plural(total, "connection") + " now"
	}
	var what string
	switch op.name {
	case "close_all_connections":
		what = "closes EVERY connection of the hub (the service cannot tell how many)"
	case "close_connection":
		what = fmt.Sprintf("closes connection %q", op.connection) +
			exists(func(ctx context.Context) (bool, error) { return client.ConnectionExists(ctx, op.connection) }, ": it is open (1 connection)", ": it is not open (0 connections)")
	case "close_group_connections":
		what = fmt.Sprintf("closes every connection in group %q", op.group) + count(op.group)
	case "close_user_connections":
		what = fmt.Sprintf("closes every connection of user %q", op.user) +
			exists(func(ctx context.Context) (bool, error) { return client.UserExists(ctx, op.user) }, ": the user has at least one (the service cannot tell how many)", ": the user has none now (0 connections)")
	case "remove_connection_from_all_groups":
		what = fmt.Sprintf("removes connection %q from every group", op.connection) +
			exists(func(ctx context.Context) (bool, error) { return client.ConnectionExists(ctx, op.connection) }, ": it is open (1 connection)", ": it is not open (0 connections)")
	case "remove_user_from_all_groups":
		what = fmt.Sprintf("removes every connection of user %q from every group", op.user) +
			exists(func(ctx context.Context) (bool, error) { return client.UserExists(ctx, op.user) }, ": the user has at least one (the service cannot tell how many)", ": the user has none now (0 connections)")
	case "revoke_permission":
		scope := "on every group"
		if op.targetName != "" {
			scope = fmt.Sprintf("on group %q", op.targetName)
		}
		what = fmt.Sprintf("revokes %s %s from connection %q", op.permission, scope, op.connection) +
			exists(func(ctx context.Context) (bool, error) { return client.ConnectionExists(ctx, op.connection) }, ": it is open (1 connection)", ": it is not open (0 connections)")
	case "remove_connections_from_groups":
		filter := "every connection"
		if op.filter != "" {
			filter = fmt.Sprintf("the connections that match %q", op.filter)
		}
		what = fmt.Sprintf("removes %s from groups %s", filter, strings.Join(quoteAll(op.groups), ", "))
		if c := count(op.groups...); strings.HasPrefix(c, ": ") {
			what += ": the groups hold " + strings.TrimPrefix(c, ": ")
		} else {
			what += c
		}
	}
	if len(op.excluded) > 0 {
		what += fmt.Sprintf(", except %s", plural(len(op.excluded), "excluded connection"))
	}
	return []string{
		engine.EscapeControl(fmt.Sprintf("guard: %s on hub %q at %s", op.name, op.hub, endpoint)),
		engine.EscapeControl("guard: " + what + "."),
	}
}

// maxCounted is the most group members the guard counts one by one.
const maxCounted = 10000

// quoteAll quotes each string.
func quoteAll(ss []string) []string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return q
}

// isLocal reports whether host is the embedded service's, when the
// target is the embedded service (then it runs already, or is started
// now).
func (r *repl) isLocal(host string) bool {
	if !r.target.Embedded() {
		return false
	}
	cs, err := r.cfg.Engine.Service(context.Background())
	if err != nil {
		return false
	}
	parsed, err := webpubsub.ParseConnectionString(cs)
	if err != nil {
		return false
	}
	u, err := url.Parse(parsed.Endpoint)
	return err == nil && strings.EqualFold(u.Host, host)
}

// countingClient returns a client the guard may use to count what a
// request to hub at host touches: one made from the target's connection
// string when host is the target's, sending without the REPL's transport.
func (r *repl) countingClient(host, hub string) *webpubsub.Client {
	if r.target.Embedded() {
		return nil
	}
	cs, err := webpubsub.ParseConnectionString(r.target.ConnectionString)
	if err != nil {
		return nil
	}
	u, err := url.Parse(cs.Endpoint)
	if err != nil || !strings.EqualFold(u.Host, host) {
		return nil
	}
	inner := r.cfg.HTTPClient
	if inner == nil {
		inner = &http.Client{Transport: webpubsub.DefaultTransport()}
	}
	client, err := webpubsub.NewClientFromConnectionString(r.target.ConnectionString, hub, &webpubsub.ClientOptions{HTTPClient: inner, MaxRetries: -1})
	if err != nil {
		return nil
	}
	return client
}
