package repl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"wps/engine"
	"wps/webpubsub"
)

// transport is the session's HTTP transport: it lets the guard stop a
// request, counts the requests of each evaluation (.timing) and keeps the
// last exchange (.http). Requests may come from several goroutines at
// once (wps.each).
type transport struct {
	inner http.RoundTripper
	guard *guard

	mu    sync.Mutex // guards the fields below
	count int
	last  *exchange
}

func newTransport(inner http.RoundTripper, g *guard) *transport {
	if inner == nil {
		inner = http.DefaultTransport
	}
	return &transport{inner: inner, guard: g}
}

// RoundTrip asks the guard, then sends req and records the exchange.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.guard.check(req); err != nil {
		return nil, err
	}
	ex := &exchange{method: req.Method, url: req.URL.String(), reqHeader: req.Header.Clone(), start: time.Now()}
	if req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			ex.reqBody, _ = io.ReadAll(io.LimitReader(body, maxShownBody+1))
			body.Close()
		}
	}
	t.mu.Lock()
	t.count++
	t.last = ex
	t.mu.Unlock()
	resp, err := t.inner.RoundTrip(req)
	t.mu.Lock()
	defer t.mu.Unlock()
	ex.elapsed = time.Since(ex.start)
	if err != nil {
		ex.err = err
		return nil, err
	}
	ex.status, ex.respHeader = resp.Status, resp.Header.Clone()
	resp.Body = &capturedBody{ReadCloser: resp.Body, t: t, ex: ex}
	return resp, nil
}

// reset starts counting the requests of a new evaluation.
func (t *transport) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count = 0
}

// calls returns how many requests were sent since reset.
func (t *transport) calls() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.count
}

// lastExchange renders the last exchange, redacted, or "" if none.
func (t *transport) lastExchange() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		return ""
	}
	return t.last.String()
}

// maxShownBody is how much of a body .http shows.
const maxShownBody = 4 << 10

// exchange is one request and its response, as .http shows them.
type exchange struct {
	method, url string
	reqHeader   http.Header
	reqBody     []byte
	start       time.Time
	elapsed     time.Duration
	err         error
	status      string
	respHeader  http.Header
	respBody    bytes.Buffer
	truncated   bool
}

// capturedBody keeps the first maxShownBody bytes of a response body as
// the client reads it.
type capturedBody struct {
	io.ReadCloser
	t  *transport
	ex *exchange
}

func (b *capturedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.t.mu.Lock()
		room := maxShownBody - b.ex.respBody.Len()
		if room < n {
			b.ex.truncated = true
		}
		b.ex.respBody.Write(p[:max(0, min(room, n))])
		b.t.mu.Unlock()
	}
	return n, err
}

// String renders the exchange with the Authorization header, cookies,
// tokens and keys redacted.
func (ex *exchange) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", ex.method, webpubsub.RedactSecrets(ex.url))
	writeHeaders(&b, ex.reqHeader)
	writeBody(&b, ex.reqBody, len(ex.reqBody) > maxShownBody)
	b.WriteString("\n")
	switch {
	case ex.err != nil:
		fmt.Fprintf(&b, "failed after %s: %s\n", roundDuration(ex.elapsed), webpubsub.RedactSecrets(ex.err.Error()))
	case ex.status == "":
		b.WriteString("(no response yet)\n")
	default:
		fmt.Fprintf(&b, "%s (%s)\n", ex.status, roundDuration(ex.elapsed))
		writeHeaders(&b, ex.respHeader)
		writeBody(&b, ex.respBody.Bytes(), ex.truncated)
	}
	return strings.TrimRight(b.String(), "\n")
}

// writeHeaders writes h sorted by name, redacted.
func writeHeaders(b *strings.Builder, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		value := strings.Join(h[name], ", ")
		if webpubsub.IsCredentialHeader(name) {
			value = "REDACTED"
		}
		fmt.Fprintf(b, "%s: %s\n", name, webpubsub.RedactSecrets(value))
	}
}

// writeBody writes a body, redacted and made printable.
func writeBody(b *strings.Builder, body []byte, truncated bool) {
	if len(body) == 0 {
		return
	}
	b.WriteString("\n")
	b.WriteString(engine.EscapeControl(webpubsub.RedactSecrets(string(body[:min(len(body), maxShownBody)]))))
	if truncated {
		b.WriteString("\n(truncated)")
	}
	b.WriteString("\n")
}

// evaluation is what the guard needs of the evaluation a request belongs
// to, carried by the request's context.
type evaluation struct {
	// cancel ends the evaluation (the guard's "no").
	cancel context.CancelCauseFunc
	mu     sync.Mutex
	// confirmed holds the requests the operator allowed, so that a retry
	// of one is not asked again.
	confirmed map[string]bool
}

type evaluationKey struct{}

// withEvaluation returns ctx carrying a new evaluation ended by cancel.
func withEvaluation(ctx context.Context, cancel context.CancelCauseFunc) context.Context {
	return context.WithValue(ctx, evaluationKey{}, &evaluation{cancel: cancel, confirmed: map[string]bool{}})
}

// evaluationOf returns the evaluation ctx belongs to, or nil.
func evaluationOf(ctx context.Context) *evaluation {
	ev, _ := ctx.Value(evaluationKey{}).(*evaluation)
	return ev
}
