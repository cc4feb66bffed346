package luatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"wps/webpubsub/recording"
)

// This file holds the HTTP side of a test file: each test (and each setup
// or teardown) is a scope with its own transport, which replays the
// test's part of the fixture, records the test's requests, or sends them
// to the service as they are.
//
// How a fixture's entries map to tests: when recording, each request is
// stored with the header X-Wps-Test naming the test that made it (its
// full name; "name (setup)" or "name (teardown)" for hooks, "(loading)"
// for the file's top level). When replaying, a test answers from the
// entries tagged with its name, in order, each once; entries with no tag,
// such as those of the Azure SDKs' recordings, are one pool shared by the
// whole file, used in order by whichever test asks first. The header is
// never sent to the service.

// TagHeader is the request header of a fixture entry that names the test
// that made the request.
const TagHeader = "X-Wps-Test"

// mode is how a file's requests are served.
type mode int

const (
	// modeReplay answers from the fixture; nothing leaves the process.
	modeReplay mode = iota
	// modeRecord sends to the service and writes the fixture.
	modeRecord
	// modeLive sends to the service and writes nothing.
	modeLive
	// modeList refuses every request: --list only loads files.
	modeList
)

func (m mode) String() string {
	return [...]string{"replay", "record", "live", "list"}[m]
}

// Request is a request a test made, as fixture.requests() shows it.
type Request struct {
	Method      string
	Path        string // unescaped
	Query       url.Values
	ContentType string
	Body        []byte
	Status      int // 0 when no response arrived
}

// scope is what one test or hook sees of HTTP.
type scope struct {
	name string
	fx   *fileFixture
	// own answers from the entries tagged with name (replay); nil when
	// there are none.
	own *recording.Replayer

	mu sync.Mutex
	// cancel stops the call running in the scope, when a replayed
	// request matches nothing.
	cancel context.CancelCauseFunc
	// failure is the first replayed request that matched nothing.
	failure error
	// scriptWhere is where the script run by run_script was when a
	// replay failure stopped it.
	scriptWhere string
	requests    []Request
	output      syncBuffer
}

// setCancel sets (or, with nil, clears) the function that stops the
// scope's running call.
func (s *scope) setCancel(cancel context.CancelCauseFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel = cancel
}

// fail records err as the scope's failure and stops its running call.
func (s *scope) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failure == nil {
		s.failure = err
	}
	if s.cancel != nil {
		s.cancel(err)
	}
}

// Failure returns the first replay failure of the scope, or nil.
func (s *scope) Failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

// Requests returns the requests made in the scope so far.
func (s *scope) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *scope) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, Request{
		Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(),
		ContentType: req.Header.Get("Content-Type"), Body: body,
	})
	s.mu.Unlock()
	resp, err := s.roundTrip(req, body)
	if resp != nil {
		s.mu.Lock()
		s.requests[n].Status = resp.StatusCode
		s.mu.Unlock()
	}
	return resp, err
}

// withBody returns a copy of req whose body reads body.
func withBody(req *http.Request, body []byte) *http.Request {
	c := req.Clone(req.Context())
	if body == nil {
		c.Body = http.NoBody
		c.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return c
	}
	c.Body = io.NopCloser(bytes.NewReader(body))
	c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	c.ContentLength = int64(len(body))
	return c
}

func (s *scope) roundTrip(req *http.Request, body []byte) (*http.Response, error) {
	fx := s.fx
	switch fx.mode {
	case modeLive:
		return fx.real.RoundTrip(withBody(req, body))
	case modeRecord:
		rec, err := fx.rec()
		if err != nil {
			return nil, err
		}
		c := withBody(req, body)
		c.Header.Set(TagHeader, tagValue(s.name))
		return rec.RoundTrip(c)
	case modeList:
		err := errors.New("no request is sent while listing tests (--list)")
		s.fail(err)
		return nil, err
	}
	// Replay: the test's own entries, then the file's shared pool.
	var ownErr error
	if s.own != nil {
		resp, err := s.own.RoundTrip(withBody(req, body))
		if err == nil {
			return resp, nil
		}
		ownErr = err
	}
	if fx.shared != nil {
		resp, err := fx.shared.RoundTrip(withBody(req, body))
		if err == nil {
			return resp, nil
		}
		if ownErr == nil {
			ownErr = err
		}
	}
	var err error
	switch {
	case ownErr != nil:
		err = &ReplayError{Fixture: fx.path, Err: ownErr}
	default:
		err = &ReplayError{Fixture: fx.path, Err: fmt.Errorf("no recorded request for %s %s: %s has no entries for this test (re-record with --record)",
			req.Method, req.URL.EscapedPath(), fx.path)}
	}
	s.fail(err)
	return nil, err
}

// ReplayError is a replayed request that matched no recorded entry: the
// test fails with it, even when the script catches the call's error.
type ReplayError struct {
	// Fixture is the fixture file.
	Fixture string
	// Err is the *recording.MismatchError (or what else went wrong).
	Err error
}

func (e *ReplayError) Error() string { return e.Err.Error() }
func (e *ReplayError) Unwrap() error { return e.Err }

// tagValue makes a test name fit a header value.
func tagValue(name string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, name)
}

// switchTransport sends each request through the scope of the call
// running now: one http.Client serves every test of a file's state.
type switchTransport struct {
	mu  sync.Mutex
	cur *scope
}

func (t *switchTransport) set(s *scope) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cur = s
}

func (t *switchTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	s := t.cur
	t.mu.Unlock()
	if s == nil {
		return nil, errors.New("no test is running")
	}
	return s.RoundTrip(req)
}

// untagging removes TagHeader before a recorded request goes to the
// service: the recorder keeps the header, the service never sees it.
type untagging struct{ next http.RoundTripper }

func (u untagging) RoundTrip(req *http.Request) (*http.Response, error) {
	// A shallow copy with a header map of its own: the recorder keeps
	// req's, tag included, and nothing else in req changes.
	c := *req
	c.Header = make(http.Header, len(req.Header))
	for name, values := range req.Header {
		if name != TagHeader {
			c.Header[name] = values
		}
	}
	return u.next.RoundTrip(&c)
}
