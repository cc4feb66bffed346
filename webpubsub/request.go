package webpubsub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// userAgent names this client in the service's logs.
var userAgent = "wps-webpubsub (" + runtime.Version() + "; " + runtime.GOOS + ")"

// maxResponseBody bounds how much of a response is read.
const maxResponseBody = 32 << 20

// request is one REST call, before signing.
type request struct {
	op          string // operation name for errors and logs
	method      string
	path        string // escaped path below the endpoint, starting with /api/
	query       query  // without api-version, which is added first
	contentType string
	body        []byte
	accept      string
	ok          []int // the statuses that mean success
	// rawURL, when set, is the URL to call instead of path and query (a
	// nextLink); api-version is added if it lacks one.
	rawURL string
}

// response is what a successful call returns.
type response struct {
	status int
	body   []byte
}

// query is an ordered list of encoded key=value pairs. Keys may repeat, as
// list parameters do.
type query []string

// add appends key=value, escaped as the Python SDK does it (%20 for spaces).
func (q *query) add(key, value string) {
	*q = append(*q, escape(key)+"="+escape(value))
}

// addAll appends key=value for each value.
func (q *query) addAll(key string, values []string) {
	for _, v := range values {
		q.add(key, v)
	}
}

// escape percent-encodes every byte except the unreserved characters
// A-Z a-z 0-9 - . _ ~ (Python's quote with safe=""), so that a user id such
// as "a/b c" stays one path segment.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || ch == '-' || ch == '.' || ch == '_' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", ch)
	}
	return b.String()
}

// hubPath returns /api/hubs/{hub} followed by the given segments, each
// escaped unless it is an action such as ":send".
func (c *Client) hubPath(segments ...string) string {
	var b strings.Builder
	b.WriteString("/api/hubs/")
	b.WriteString(escape(c.hub))
	for _, s := range segments {
		b.WriteByte('/')
		if strings.HasPrefix(s, ":") {
			b.WriteString(s)
		} else {
			b.WriteString(escape(s))
		}
	}
	return b.String()
}

// urls returns the URL to send r to and the URL its token is signed for.
// They differ only when a reverse proxy stands in front of the service.
func (c *Client) urls(r *request) (target, audience string, err error) {
	if r.rawURL != "" {
		// A nextLink names the service; keep its path and query, on our
		// endpoint, so that a proxy or a different host name keeps working.
		u, err := url.Parse(r.rawURL)
		if err != nil {
			return "", "", fmt.Errorf("the service returned a bad nextLink: %w", err)
		}
		rest := u.EscapedPath()
		if u.RawQuery != "" {
			rest += "?" + u.RawQuery
		}
		if u.Query().Get("api-version") == "" {
			rest += sepFor(rest) + "api-version=" + escape(c.opts.APIVersion)
		}
		return origin(c.target) + rest, origin(c.endpoint) + rest, nil
	}
	rest := r.path + "?api-version=" + escape(c.opts.APIVersion)
	if len(r.query) > 0 {
		rest += "&" + strings.Join(r.query, "&")
	}
	return c.target + rest, c.endpoint + rest, nil
}

func sepFor(s string) string {
	if strings.Contains(s, "?") {
		return "&"
	}
	return "?"
}

// origin returns scheme://host of an endpoint, dropping any path prefix.
func origin(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	return u.Scheme + "://" + u.Host
}

// do sends r, retrying transient failures, and returns the response if its
// status is one of r.ok.
func (c *Client) do(ctx context.Context, r request) (response, error) {
	if c.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.Timeout)
		defer cancel()
	}
	target, audience, err := c.urls(&r)
	if err != nil {
		return response{}, &Error{Operation: r.op, Method: r.method, Path: r.path, Message: err.Error(), Err: err}
	}
	pathOnly := target
	if u, err := url.Parse(target); err == nil {
		pathOnly = u.EscapedPath()
	}
	fail := func(err error, msg string) error {
		return &Error{Operation: r.op, Method: r.method, Path: pathOnly, Message: msg, Err: err}
	}
	// lastFailure says what went wrong with the previous attempt, so that a
	// call cut short while waiting to retry still tells why it was retrying.
	lastFailure := ""
	stopped := func() error {
		msg := contextMessage(ctx.Err())
		if lastFailure != "" {
			msg += " while retrying after: " + lastFailure
		}
		return fail(ctx.Err(), msg)
	}
	for attempt := 0; ; attempt++ {
		req, err := c.newHTTPRequest(ctx, &r, target, audience)
		if err != nil {
			return response{}, fail(err, err.Error())
		}
		start := time.Now()
		c.logRequest(ctx, &r, req, attempt)
		resp, err := c.http.Do(req)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return response{}, fail(ctxErr, contextMessage(ctxErr))
			}
			c.logFailure(ctx, &r, err, time.Since(start))
			lastFailure = redactURL(err.Error())
			if attempt < c.opts.MaxRetries {
				if !c.sleep(ctx.Done(), c.backoff(attempt, nil)) {
					return response{}, stopped()
				}
				continue
			}
			return response{}, fail(err, redactURL(err.Error()))
		}
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
		resp.Body.Close()
		c.logResponse(ctx, &r, resp, body, time.Since(start))
		if readErr != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return response{}, fail(ctxErr, contextMessage(ctxErr))
			}
			readErr = fmt.Errorf("reading the response: %w", readErr)
			lastFailure = readErr.Error()
			if attempt < c.opts.MaxRetries {
				if !c.sleep(ctx.Done(), c.backoff(attempt, nil)) {
					return response{}, stopped()
				}
				continue
			}
			return response{}, fail(readErr, readErr.Error())
		}
		if slices.Contains(r.ok, resp.StatusCode) {
			return response{status: resp.StatusCode, body: body}, nil
		}
		if isRetryable(resp.StatusCode) && attempt < c.opts.MaxRetries {
			lastFailure = newResponseError(r.op, r.method, pathOnly, resp, body).Error()
			if !c.sleep(ctx.Done(), c.backoff(attempt, resp.Header)) {
				return response{}, stopped()
			}
			continue
		}
		return response{}, newResponseError(r.op, r.method, pathOnly, resp, body)
	}
}

// newHTTPRequest builds one attempt of r, with a freshly signed token.
func (c *Client) newHTTPRequest(ctx context.Context, r *request, target, audience string) (*http.Request, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	token, err := c.signRESTToken(audience)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", userAgent)
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	return req, nil
}

func isRetryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff returns the delay before retry number attempt+1: the response's
// Retry-After when it gives one, else an exponential delay with jitter;
// never more than MaxRetryDelay.
func (c *Client) backoff(attempt int, h http.Header) time.Duration {
	if d, ok := retryAfter(h, c.now()); ok {
		return min(d, c.opts.MaxRetryDelay)
	}
	d := c.opts.RetryDelay << attempt
	if d <= 0 || d > c.opts.MaxRetryDelay {
		d = c.opts.MaxRetryDelay
	}
	return jitter(d)
}

// retryAfter reads Retry-After (seconds or an HTTP date) and the
// retry-after-ms headers.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func contextMessage(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return "canceled"
}

// logRequest, logResponse and logFailure write the debug records of a call.
// Neither the Authorization header nor any body that could hold a token is
// logged.
func (c *Client) logRequest(ctx context.Context, r *request, req *http.Request, attempt int) {
	if c.opts.Logger == nil || !c.opts.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "http request",
		slog.String("op", r.op),
		slog.String("method", req.Method),
		slog.String("url", redactURL(req.URL.String())),
		slog.Int("attempt", attempt+1),
		slog.Any("headers", redactHeaders(req.Header)),
		slog.Int("body_bytes", len(r.body)),
	)
}

func (c *Client) logResponse(ctx context.Context, r *request, resp *http.Response, body []byte, elapsed time.Duration) {
	if c.opts.Logger == nil || !c.opts.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", r.op),
		slog.Int("status", resp.StatusCode),
		slog.Duration("elapsed", elapsed),
		slog.Any("headers", redactHeaders(resp.Header)),
		slog.Int("body_bytes", len(body)),
	}
	if resp.StatusCode >= 400 && len(body) > 0 {
		// Error bodies are the service's messages; success bodies may
		// carry client tokens and are never logged.
		attrs = append(attrs, slog.String("body", truncate(string(body), 1024)))
	}
	c.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "http response", attrs...)
}

func (c *Client) logFailure(ctx context.Context, r *request, err error, elapsed time.Duration) {
	if c.opts.Logger == nil || !c.opts.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "http failure",
		slog.String("op", r.op), slog.Duration("elapsed", elapsed), slog.String("error", redactURL(err.Error())))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
