package webpubsub

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
)

// DefaultAPIVersion is the REST API version the client speaks by default.
const DefaultAPIVersion = "2024-12-01"

// ClientOptions configures a Client. The zero value is ready to use.
type ClientOptions struct {
	// APIVersion overrides DefaultAPIVersion.
	APIVersion string
	// ReverseProxyEndpoint sends requests to a proxy (such as Azure API
	// Management) instead of the endpoint. The signed audience still names
	// the real endpoint, as the official SDKs do.
	ReverseProxyEndpoint string
	// HTTPClient sends the requests; nil means a client of this package's
	// own with keep-alive connection reuse.
	HTTPClient *http.Client
	// Timeout bounds each call, retries included; 0 means no bound beyond
	// the caller's context.
	Timeout time.Duration
	// MaxRetries is how many times a transient failure is retried: 0 means
	// the default (3), a negative number means never.
	MaxRetries int
	// RetryDelay is the first backoff delay (default 800 ms, doubling on
	// each retry); MaxRetryDelay caps every delay, Retry-After included
	// (default 60 s).
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// Logger receives a debug record for each request and response, with
	// keys and tokens redacted; nil means no logging.
	Logger *slog.Logger
}

// Client calls the Web PubSub REST API for one hub. It is safe for
// concurrent use.
type Client struct {
	endpoint  string // the real service, no trailing slash; names the JWT audience
	target    string // where requests go: endpoint, or the reverse proxy
	accessKey string
	hub       string
	opts      ClientOptions
	http      *http.Client
	// sleep waits between retries; tests replace it.
	sleep func(ctxDone <-chan struct{}, d time.Duration) bool
	// now is the clock used for token lifetimes; tests replace it.
	now func() time.Time
}

// defaultHTTPClient is shared by every Client without an HTTPClient, so that
// clients for several hubs reuse the same keep-alive connections. A service
// that accepts a connection and never answers fails the attempt after
// ResponseHeaderTimeout (and it is retried) instead of hanging a script.
var defaultHTTPClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   10 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second,
	MaxIdleConnsPerHost:   16,
	IdleConnTimeout:       90 * time.Second,
	ForceAttemptHTTP2:     true,
}}

// DefaultTransport returns the transport of every Client made without an
// HTTPClient, for a caller that wraps it (a recorder, a REPL's guard) and
// should behave as a plain Client does: the same timeouts, proxy and
// keep-alive connections.
func DefaultTransport() http.RoundTripper { return defaultHTTPClient.Transport }

// NewClient returns a client for hub on the service at endpoint (such as
// "https://contoso.webpubsub.azure.com"), signing with accessKey.
func NewClient(endpoint, accessKey, hub string, opts *ClientOptions) (*Client, error) {
	u, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if accessKey == "" {
		return nil, fmt.Errorf("%w: access key is empty", ErrInvalidArgument)
	}
	if err := validateHub(hub); err != nil {
		return nil, err
	}
	c := &Client{
		endpoint:  strings.TrimSuffix(u.String(), "/"),
		accessKey: accessKey,
		hub:       hub,
		http:      defaultHTTPClient,
		sleep:     sleepOrDone,
		now:       time.Now,
	}
	c.target = c.endpoint
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.APIVersion == "" {
		c.opts.APIVersion = DefaultAPIVersion
	}
	if c.opts.ReverseProxyEndpoint != "" {
		proxy, err := parseEndpoint(c.opts.ReverseProxyEndpoint)
		if err != nil {
			return nil, fmt.Errorf("reverse proxy: %w", err)
		}
		c.target = strings.TrimSuffix(proxy.String(), "/")
	}
	if c.opts.HTTPClient != nil {
		c.http = c.opts.HTTPClient
	}
	if c.opts.RetryDelay <= 0 {
		c.opts.RetryDelay = 800 * time.Millisecond
	}
	if c.opts.MaxRetryDelay <= 0 {
		c.opts.MaxRetryDelay = 60 * time.Second
	}
	switch {
	case c.opts.MaxRetries == 0:
		c.opts.MaxRetries = 3
	case c.opts.MaxRetries < 0:
		c.opts.MaxRetries = 0
	}
	return c, nil
}

// NewClientFromConnectionString returns a client for hub on the service a
// connection string names (see ParseConnectionString).
func NewClientFromConnectionString(connectionString, hub string, opts *ClientOptions) (*Client, error) {
	cs, err := ParseConnectionString(connectionString)
	if err != nil {
		return nil, err
	}
	return NewClient(cs.Endpoint, cs.AccessKey, hub, opts)
}

// Hub returns the name of the client's hub.
func (c *Client) Hub() string { return c.hub }

// Endpoint returns the service endpoint, without a trailing slash.
func (c *Client) Endpoint() string { return c.endpoint }

// WithHub returns a client for another hub of the same service, with the
// same options.
func (c *Client) WithHub(hub string) (*Client, error) {
	if err := validateHub(hub); err != nil {
		return nil, err
	}
	other := *c
	other.hub = hub
	return &other, nil
}

// CheckHubName reports whether hub is a valid hub name, with an error that
// wraps ErrInvalidArgument and says what is wrong.
func CheckHubName(hub string) error { return validateHub(hub) }

// validateHub applies the REST API's rule for hub names,
// ^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$ (checked by hand: a regexp compiled at
// start-up would cost every run of wps).
func validateHub(hub string) error {
	if hub == "" {
		return fmt.Errorf("%w: hub name is empty", ErrInvalidArgument)
	}
	valid := len(hub) <= MaxHubNameLength && isLetter(hub[0])
	for i := 1; valid && i < len(hub); i++ {
		ch := hub[i]
		valid = isLetter(ch) || '0' <= ch && ch <= '9' || strings.IndexByte("_`,.[]", ch) >= 0
	}
	if !valid {
		return fmt.Errorf("%w: hub name %q: must start with a letter and have at most %d letters, digits and _`,.[]", ErrInvalidArgument, hub, MaxHubNameLength)
	}
	return nil
}

func isLetter(ch byte) bool { return 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' }

// sleepOrDone waits for d, returning false if done closes first.
func sleepOrDone(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// jitter returns a duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
