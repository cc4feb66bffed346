package webpubsub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recordSleeps makes c record its retry delays instead of waiting.
func recordSleeps(c *Client) *[]time.Duration {
	var delays []time.Duration
	c.sleep = func(_ <-chan struct{}, d time.Duration) bool {
		delays = append(delays, d)
		return true
	}
	return &delays
}

func TestRetriesTransientStatuses(t *testing.T) {
	for _, code := range []int{408, 429, 500, 502, 503, 504} {
		var calls atomic.Int32
		f := newFakeService(t, func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) < 3 {
				w.WriteHeader(code)
				return
			}
			w.WriteHeader(202)
		})
		c, _ := NewClient(f.URL, testKey, "hub", &ClientOptions{MaxRetries: 3, RetryDelay: 100 * time.Millisecond})
		delays := recordSleeps(c)
		if err := c.SendToAll(context.Background(), TextMessage("x"), nil); err != nil {
			t.Fatalf("%d: %v", code, err)
		}
		if f.count() != 3 {
			t.Errorf("%d: %d requests, want 3", code, f.count())
		}
		// Exponential with jitter: the first in [50ms,100ms], the second in [100ms,200ms].
		if len(*delays) != 2 || (*delays)[0] < 50*time.Millisecond || (*delays)[0] > 100*time.Millisecond ||
			(*delays)[1] < 100*time.Millisecond || (*delays)[1] > 200*time.Millisecond {
			t.Errorf("%d: delays = %v", code, *delays)
		}
	}
}

func TestRetryGivesUpAndReportsLastStatus(t *testing.T) {
	f := newFakeService(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-error-code", "Error.Busy")
		w.WriteHeader(503)
	})
	c, _ := NewClient(f.URL, testKey, "hub", &ClientOptions{MaxRetries: 2})
	recordSleeps(c)
	err := c.SendToAll(context.Background(), TextMessage("x"), nil)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 503 || e.Code != "Error.Busy" {
		t.Fatalf("err = %v", err)
	}
	if f.count() != 3 {
		t.Errorf("%d requests, want 3 (1 + 2 retries)", f.count())
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var calls atomic.Int32
	f := newFakeService(t, func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		case 2:
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(429)
		default:
			w.WriteHeader(202)
		}
	})
	c, _ := NewClient(f.URL, testKey, "hub", &ClientOptions{MaxRetryDelay: 30 * time.Second})
	delays := recordSleeps(c)
	if err := c.SendToAll(context.Background(), TextMessage("x"), nil); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{7 * time.Second, 30 * time.Second}; fmt.Sprint(*delays) != fmt.Sprint(want) {
		t.Errorf("delays = %v, want %v", *delays, want)
	}
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := http.Header{"Retry-After": {now.Add(5 * time.Second).Format(http.TimeFormat)}}
	if d, ok := retryAfter(h, now); !ok || d != 5*time.Second {
		t.Errorf("retryAfter = %v, %v", d, ok)
	}
	if _, ok := retryAfter(http.Header{"Retry-After": {"soon"}}, now); ok {
		t.Error("a bad Retry-After was accepted")
	}
}

func TestRetriesConnectionErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every attempt is refused
	c, _ := NewClient("http://"+addr, testKey, "hub", &ClientOptions{MaxRetries: 2})
	delays := recordSleeps(c)
	err = c.SendToAll(context.Background(), TextMessage("x"), nil)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 0 || e.Err == nil || e.Operation != "send_to_all" {
		t.Fatalf("err = %#v", err)
	}
	if len(*delays) != 2 {
		t.Errorf("retried %d times, want 2", len(*delays))
	}
	if !strings.Contains(err.Error(), "send_to_all: request failed") {
		t.Errorf("message = %q", err)
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	f := newFakeService(t, status(400))
	c, _ := NewClient(f.URL, testKey, "hub", nil)
	recordSleeps(c)
	if err := c.SendToAll(context.Background(), TextMessage("x"), nil); err == nil {
		t.Fatal("no error")
	}
	if f.count() != 1 {
		t.Errorf("%d requests, want 1", f.count())
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	f := newFakeService(t, status(503))
	c, _ := NewClient(f.URL, testKey, "hub", &ClientOptions{MaxRetries: 10, RetryDelay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the client has read the 503 and begun its backoff (not
	// merely once the server has seen the request, which may be before the
	// client has the response): the real wait must then end early.
	backingOff := make(chan struct{})
	c.sleep = func(done <-chan struct{}, d time.Duration) bool {
		close(backingOff) // a second backoff would panic: cancel must stop the first
		return sleepOrDone(done, d)
	}
	go func() {
		select {
		case <-backingOff:
			cancel()
		case <-ctx.Done(): // the test ended first
		}
	}()
	err := c.SendToAll(ctx, TextMessage("x"), nil)
	if f.count() != 1 {
		t.Errorf("%d requests, want 1", f.count())
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "canceled while retrying after: send_to_all: 503 Service Unavailable") {
		t.Errorf("message %q does not say why it was retrying", err)
	}
}

func TestTimeoutBoundsAPendingCall(t *testing.T) {
	release := make(chan struct{})
	f := newFakeService(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	c, _ := NewClient(f.URL, testKey, "hub", &ClientOptions{Timeout: 50 * time.Millisecond})
	err := c.SendToAll(context.Background(), TextMessage("x"), nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestDefaultTransportBoundsASilentService(t *testing.T) {
	tr := defaultHTTPClient.Transport.(*http.Transport)
	if tr.ResponseHeaderTimeout <= 0 || tr.TLSHandshakeTimeout <= 0 {
		t.Errorf("the default transport would wait forever for a service that never answers: %+v", tr)
	}
}

func TestErrorFromServiceBodies(t *testing.T) {
	cases := []struct {
		name, contentType, header, body string
		code, message                   string
	}{
		{"error detail", "application/json; charset=utf-8", "Info.Connection.NotExisted",
			`{"code":"Info.Connection.NotExisted","message":"Connection ` + "`conn1`" + ` is not found.","target":"Connection","details":null,"innererror":null}`,
			"Info.Connection.NotExisted", "Connection `conn1` is not found."},
		{"problem json", "application/problem+json; charset=utf-8", "Error.BadRequest",
			`{"code":"Error.BadRequest","message":"Invalid syntax for 'invalid filter'","target":"Filter","errors":{"Filter":["x"]},"title":"One or more validation errors occurred.","status":400}`,
			"Error.BadRequest", "Invalid syntax for 'invalid filter'"},
		{"code only in body", "application/json", "", `{"code":"Error.X","message":"m"}`, "Error.X", "m"},
		{"plain text", "text/plain", "", "upstream exploded", "", "upstream exploded"},
	}
	for _, tc := range cases {
		f := newFakeService(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", tc.contentType)
			if tc.header != "" {
				w.Header().Set("x-ms-error-code", tc.header)
			}
			w.Header().Set("x-ms-request-id", "req-42")
			w.WriteHeader(404)
			io.WriteString(w, tc.body)
		})
		c := newTestClient(t, f.URL, "hub")
		err := c.GrantPermission(context.Background(), PermissionJoinLeaveGroup, "conn1", &PermissionOptions{TargetName: "group1"})
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
		if e.StatusCode != 404 || e.Code != tc.code || e.Message != tc.message || e.RequestID != "req-42" ||
			e.Operation != "grant_permission" || e.Method != "PUT" || e.Path != "/api/hubs/hub/permissions/joinLeaveGroup/connections/conn1" {
			t.Errorf("%s: error = %+v", tc.name, e)
		}
	}
	e := &Error{StatusCode: 403, Code: "Error.Forbidden", Message: "no", Operation: "send_to_group"}
	if e.Error() != "send_to_group: 403 Forbidden (Error.Forbidden): no" {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestExistsTreatsOtherStatusesAsErrors(t *testing.T) {
	f := newFakeService(t, status(401))
	c := newTestClient(t, f.URL, "hub")
	if ok, err := c.UserExists(context.Background(), "u"); err == nil || ok {
		t.Errorf("UserExists on 401 = %v, %v; want an error", ok, err)
	}
}

// TestInvalidArgumentsSendNothing checks that every argument the service
// would refuse is rejected before any request, with a message naming it.
func TestInvalidArgumentsSendNothing(t *testing.T) {
	f := newFakeService(t, status(500))
	c := newTestClient(t, f.URL, "hub")
	ctx := context.Background()
	text := TextMessage("x")
	cases := []struct {
		want string
		call func() error
	}{
		{"content type \"text/html\" is not accepted", func() error {
			return c.SendToAll(ctx, Message{ContentType: "text/html", Data: []byte("x")}, nil)
		}},
		{"has no content type", func() error { return c.SendToAll(ctx, Message{Data: []byte("x")}, nil) }},
		{"not valid JSON", func() error {
			return c.SendToAll(ctx, Message{ContentType: ContentTypeJSON, Data: []byte("{")}, nil)
		}},
		{"TTL must be from 0 to 300", func() error { return c.SendToAll(ctx, text, &SendOptions{TTLSeconds: 301}) }},
		{"TTL must be from 0 to 300", func() error { return c.SendToGroup(ctx, "g", text, &SendOptions{TTLSeconds: -1}) }},
		{"user id is empty", func() error { return c.SendToUser(ctx, "", text, nil) }},
		{"excluded connections are not supported", func() error {
			return c.SendToUser(ctx, "u", text, &SendOptions{Excluded: []string{"c"}})
		}},
		{"a filter is not supported", func() error {
			return c.SendToConnection(ctx, "c", text, &SendOptions{Filter: "userId eq 'a'"})
		}},
		{"excluded connection id is empty", func() error { return c.SendToAll(ctx, text, &SendOptions{Excluded: []string{""}}) }},
		{"group name is empty", func() error { return c.SendToGroup(ctx, "", text, nil) }},
		{"only white space", func() error { return c.AddUserToGroup(ctx, "  ", "u") }},
		{"longer than 1024", func() error { return c.AddUserToGroup(ctx, strings.Repeat("g", 1025), "u") }},
		{"connection id is empty", func() error { return c.CloseConnection(ctx, "", nil) }},
		{"excluded connections are not supported", func() error {
			return c.CloseConnection(ctx, "c", &CloseOptions{Excluded: []string{"d"}})
		}},
		{"unknown permission \"admin\"", func() error { return c.GrantPermission(ctx, "admin", "c", nil) }},
		{"no groups given", func() error { return c.AddConnectionsToGroups(ctx, nil, "") }},
		{"max page size must be from 1 to 200", func() error {
			_, err := c.ListConnections(ctx, "g", &ListOptions{MaxPageSize: 201})
			return err
		}},
		{"top must be at least 1", func() error {
			_, err := c.ListConnections(ctx, "g", &ListOptions{Top: -5})
			return err
		}},
		{"unknown client protocol", func() error {
			_, err := c.GenerateClientToken(ctx, &TokenOptions{ClientProtocol: "x"})
			return err
		}},
		{"minutes to expire must be from 1 to 525600", func() error {
			_, err := c.GenerateClientToken(ctx, &TokenOptions{MinutesToExpire: MaxMinutesToExpire + 1})
			return err
		}},
		{"minutes to expire must be from 1 to 525600", func() error {
			_, err := c.GenerateClientToken(ctx, &TokenOptions{MinutesToExpire: -1})
			return err
		}},
		{"max page size must be from 1 to 200", func() error {
			_, err := c.ListConnections(ctx, "g", &ListOptions{MaxPageSize: -1})
			return err
		}},
		{"connection id is empty", func() error {
			_, err := c.ConnectionExists(ctx, "")
			return err
		}},
	}
	for _, tc := range cases {
		err := tc.call()
		if err == nil || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want ErrInvalidArgument saying %q", err, tc.want)
		}
	}
	if f.count() != 0 {
		t.Errorf("%d requests were sent for invalid arguments", f.count())
	}
}

func TestListConnectionsFollowsNextLink(t *testing.T) {
	var base string
	f := newFakeService(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("continuationToken") {
		case "":
			fmt.Fprintf(w, `{"value":[{"connectionId":"c1","userId":"u1"},{"connectionId":"c2","userId":null}],"nextLink":"%s/api/hubs/hub/groups/g/connections?maxpagesize=2&continuationToken=p2&api-version=2024-12-01"}`, base)
		case "p2":
			// A nextLink on another host and without api-version: the
			// client keeps its own endpoint and adds the version.
			io.WriteString(w, `{"value":[{"connectionId":"c3"},{"connectionId":"c4"}],"nextLink":"https://elsewhere.example/api/hubs/hub/groups/g/connections?maxpagesize=2&continuationToken=p3"}`)
		case "p3":
			io.WriteString(w, `{"value":[{"connectionId":"c5"}]}`)
		}
	})
	base = f.URL
	c := newTestClient(t, f.URL, "hub")
	members, err := c.ListConnections(context.Background(), "g", &ListOptions{MaxPageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(members); got != "[{c1 u1} {c2 } {c3 } {c4 } {c5 }]" {
		t.Errorf("members = %s", got)
	}
	last := f.last()
	if last.Audience != last.URL || !strings.Contains(last.URL, "api-version=2024-12-01") {
		t.Errorf("last page: aud %q, url %q", last.Audience, last.URL)
	}

	// top stops early, even if the service sent more.
	members, err = c.ListConnections(context.Background(), "g", &ListOptions{Top: 3})
	if err != nil || len(members) != 3 {
		t.Errorf("top=3: %v, %v", members, err)
	}
}

func TestListConnectionsStopsOnALoop(t *testing.T) {
	var base string
	f := newFakeService(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"value":[{"connectionId":"c1"}],"nextLink":"%s/api/hubs/hub/groups/g/connections?continuationToken=same"}`, base)
	})
	base = f.URL
	c := newTestClient(t, f.URL, "hub")
	if _, err := c.ListConnections(context.Background(), "g", nil); err == nil || !strings.Contains(err.Error(), "same nextLink twice") {
		t.Errorf("err = %v", err)
	}
}

func TestListConnectionsBadNextLink(t *testing.T) {
	f := newFakeService(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"value":[{"connectionId":"c1"}],"nextLink":"http://h/%zz"}`)
	})
	c := newTestClient(t, f.URL, "hub")
	_, err := c.ListConnections(context.Background(), "g", nil)
	var e *Error
	if !errors.As(err, &e) || e.Operation != "list_connections" || !strings.Contains(e.Message, "bad nextLink") {
		t.Errorf("err = %v, want an *Error of list_connections about a bad nextLink", err)
	}
}

func TestReverseProxy(t *testing.T) {
	proxy := newFakeService(t, status(202))
	c, err := NewClient("https://real.webpubsub.azure.com", testKey, "hub",
		&ClientOptions{ReverseProxyEndpoint: proxy.URL + "/prefix"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendToAll(context.Background(), TextMessage("x"), &SendOptions{Filter: "userId eq 'u'"}); err != nil {
		t.Fatal(err)
	}
	got := proxy.last()
	if got.Path != "/prefix/api/hubs/hub/:send" {
		t.Errorf("proxy saw path %q", got.Path)
	}
	if got.Audience != "https://real.webpubsub.azure.com/api/hubs/hub/:send?api-version=2024-12-01&filter=userId%20eq%20%27u%27" {
		t.Errorf("aud = %q, want the real endpoint's URL", got.Audience)
	}
	tok, _ := c.GetClientAccessToken(nil)
	if !strings.HasPrefix(tok.BaseURL, "wss://real.webpubsub.azure.com/") {
		t.Errorf("client URL %q should name the real endpoint", tok.BaseURL)
	}
}

func TestWithHub(t *testing.T) {
	f := newFakeService(t, status(202))
	c := newTestClient(t, f.URL, "one")
	other, err := c.WithHub("two")
	if err != nil {
		t.Fatal(err)
	}
	other.SendToAll(context.Background(), TextMessage("x"), nil)
	if f.last().Path != "/api/hubs/two/:send" || c.Hub() != "one" {
		t.Errorf("path %q, original hub %q", f.last().Path, c.Hub())
	}
	if _, err := c.WithHub("no spaces"); err == nil {
		t.Error("bad hub accepted")
	}
}

func TestDebugLoggingRedactsSecrets(t *testing.T) {
	f := newFakeService(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "generateToken") {
			io.WriteString(w, `{"token":"eyJhbGciOiJIUzI1NiJ9.SECRET-TOKEN.sig"}`)
			return
		}
		w.WriteHeader(400)
		io.WriteString(w, `{"code":"Error.BadRequest","message":"bad filter"}`)
	})
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := NewClient(f.URL, testKey, "hub", &ClientOptions{Logger: logger, MaxRetries: -1})
	c.GenerateClientToken(context.Background(), &TokenOptions{UserID: "u"})
	c.SendToAll(context.Background(), TextMessage("x"), &SendOptions{Filter: "bad"})
	out := buf.String()
	for _, secret := range []string{testKey, "SECRET-TOKEN", "Bearer ey"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"msg":"http request"`, `"msg":"http response"`, `"Authorization":"REDACTED"`, `"status":400`, "bad filter"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestRedactSecretsExactly(t *testing.T) {
	for in, want := range map[string]string{
		"dial ws://h/client/hubs/x?access_token=eyJabc.def&x=1":                  "dial ws://h/client/hubs/x?access_token=REDACTED&x=1",
		"Endpoint=http://h;AccessKey=abc==;Version=1.0;":                         "Endpoint=http://h;AccessKey=REDACTED;Version=1.0;",
		"Authorization: Bearer eyJ.x.y":                                          "Authorization: Bearer REDACTED",
		"wss://h/client/hubs/x?awps_connection_id=c&awps_reconnection_token=tok": "wss://h/client/hubs/x?awps_connection_id=c&awps_reconnection_token=REDACTED",
	} {
		if got := RedactSecrets(in); got != want {
			t.Errorf("RedactSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactSecrets(t *testing.T) {
	in := "wss://h/client/hubs/hub?access_token=eyJ.abc.def&x=1 Endpoint=h;AccessKey=KEY123;Version=1.0; Authorization: Bearer eyJ.x.y awps_reconnection_token=tok"
	out := RedactSecrets(in)
	for _, secret := range []string{"eyJ.abc.def", "KEY123", "eyJ.x.y", "=tok"} {
		if strings.Contains(out, secret) {
			t.Errorf("RedactSecrets left %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "x=1") || !strings.Contains(out, "Endpoint=h") {
		t.Errorf("RedactSecrets removed too much: %s", out)
	}
}
