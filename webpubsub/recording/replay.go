package recording

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// ReplayOptions tune how a Replayer matches requests.
type ReplayOptions struct {
	// IgnoreAPIVersion leaves the api-version query parameter out of the
	// comparison, so that recordings made at another API version replay.
	IgnoreAPIVersion bool
}

// ErrNoAuthorization is the error (wrapped) of a replayed request that has
// no Authorization header: a live request would be rejected, so a replayed
// one is too. The header's value is never compared.
var ErrNoAuthorization = errors.New("the request has no Authorization header")

// Replayer is an http.RoundTripper that answers requests with the responses
// of a fixture and never touches the network. A request takes the first
// interaction, in the fixture's order, that it matches and that has not
// been used yet; each interaction answers once. A request matches an
// interaction when the method, the path and the query (as a multiset) are
// the same and the body is the same by content type: JSON as JSON values,
// text as text, binary as bytes. The host and the headers other than
// Content-Type are not compared, but the Authorization header must be
// present. A request that matches nothing fails with a *MismatchError.
//
// A Replayer is safe for concurrent use.
type Replayer struct {
	fixture *Fixture
	parsed  []*parsedRequest
	opts    ReplayOptions

	mu   sync.Mutex
	used []bool
}

// NewReplayer returns a Replayer answering from f's interactions; opts may
// be nil.
func NewReplayer(f *Fixture, opts *ReplayOptions) *Replayer {
	r := &Replayer{fixture: f, used: make([]bool, len(f.Interactions))}
	if opts != nil {
		r.opts = *opts
	}
	for i := range f.Interactions {
		in := &f.Interactions[i]
		p := parseRequest(in.Method, in.URL, in.RequestHeader.Get("Content-Type"), in.RequestBody, r.opts.IgnoreAPIVersion)
		p.alt = nextLinkQuery(p, r.opts.IgnoreAPIVersion)
		r.parsed = append(r.parsed, p)
	}
	return r
}

// RoundTrip answers req with the response of the first unused interaction
// it matches, and marks that interaction used.
func (r *Replayer) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if req.Header.Get("Authorization") == "" {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.EscapedPath(), ErrNoAuthorization)
	}
	got := parseRequest(req.Method, req.URL, req.Header.Get("Content-Type"), body, r.opts.IgnoreAPIVersion)

	r.mu.Lock()
	defer r.mu.Unlock()
	for i, rec := range r.parsed {
		if r.used[i] {
			continue
		}
		if d, _ := compare(rec, got, false); d == 0 {
			r.used[i] = true
			return response(req, &r.fixture.Interactions[i]), nil
		}
	}
	return nil, r.mismatch(req, got)
}

// response builds the recorded response to req.
func response(req *http.Request, in *Interaction) *http.Response {
	h := in.ResponseHeader.Clone()
	if h == nil {
		h = http.Header{}
	}
	// The body is replayed decoded and whole: the recorded framing no
	// longer applies.
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	h.Del("Content-Encoding")
	var body io.ReadCloser = http.NoBody
	if len(in.ResponseBody) > 0 && req.Method != http.MethodHead {
		body = io.NopCloser(bytes.NewReader(in.ResponseBody))
	}
	status := in.StatusCode
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          body,
		ContentLength: int64(len(in.ResponseBody)),
		Request:       req,
	}
}

// mismatch builds the report of a request that matches no unused
// interaction, against the closest interaction. Must be called with r.mu
// held.
func (r *Replayer) mismatch(req *http.Request, got *parsedRequest) *MismatchError {
	target := req.URL.EscapedPath()
	if req.URL.RawQuery != "" {
		target += "?" + req.URL.RawQuery
	}
	e := &MismatchError{Method: got.method, Target: redactText(target), Closest: -1, Entries: len(r.parsed)}
	best := 0
	for i, rec := range r.parsed {
		d, diffs := compare(rec, got, true)
		// Prefer the nearest; at the same distance, an unused one, then
		// the first.
		better := e.Closest < 0 || d < best || d == best && r.used[e.Closest] && !r.used[i]
		if better {
			best, e.Closest, e.Differences, e.ClosestUsed = d, i, diffs, r.used[i]
			e.closest = r.fixture.Interactions[i].String()
		}
	}
	for i, d := range e.Differences {
		e.Differences[i] = redactText(d)
	}
	return e
}

// Unused returns the interactions that no request has used yet, in order,
// so that a runner can report them (and fail under --strict).
func (r *Replayer) Unused() []Interaction {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Interaction
	for i, used := range r.used {
		if !used {
			out = append(out, r.fixture.Interactions[i])
		}
	}
	return out
}

// MismatchError is the error of a replayed request that matches no unused
// recorded interaction. Its text is a report against the closest recorded
// interaction, for instance:
//
//	no recorded request matches POST /api/hubs/chat/:send?api-version=2024-12-01;
//	closest is entry 3 (POST /api/hubs/chat/:send): body differs at $.text:
//	recorded "hello", got "hullo"
type MismatchError struct {
	// Method and Target are the request's method, and its path and query
	// with access tokens redacted.
	Method, Target string
	// Entries is how many interactions the fixture has.
	Entries int
	// Closest is the index of the closest recorded interaction, or -1
	// when the fixture has none.
	Closest int
	// ClosestUsed says the closest interaction was already used by an
	// earlier request.
	ClosestUsed bool
	// Differences says what differs from the closest interaction, one
	// part each: method, path, each query key, content type, body.
	// Access tokens, keys and JWTs in them are redacted.
	Differences []string

	closest string
}

// Error returns the report.
func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no recorded request matches %s %s", e.Method, e.Target)
	switch {
	case e.Closest < 0:
		b.WriteString("; the recording has no entries")
	case len(e.Differences) == 0:
		fmt.Fprintf(&b, "; %s matches but was already used (each recorded request answers once)", e.closest)
	default:
		fmt.Fprintf(&b, "; closest is %s", e.closest)
		if e.ClosestUsed {
			b.WriteString(", already used,")
		}
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Differences, "; "))
	}
	return b.String()
}
