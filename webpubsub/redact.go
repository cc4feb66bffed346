package webpubsub

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// redacted replaces a secret in logs and messages.
const redacted = "REDACTED"

// accessTokenValue matches the value of an access_token query parameter (or
// of a reconnection token), however it is escaped. It and bearer are
// compiled on first use rather than at start, which every wps command pays.
var accessTokenValue = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)((?:access_token|awps_reconnection_token|accesskey)=)[^&;\s"]*`)
})

// redactURL replaces the values of access_token, awps_reconnection_token
// and AccessKey in s.
func redactURL(s string) string {
	return accessTokenValue().ReplaceAllString(s, "${1}"+redacted)
}

// credentialHeaders are the headers whose values are never shown.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Ms-Encryption-Key"}

// IsCredentialHeader reports whether the header name (in any case) carries
// credentials, whose value logs and displays must never show.
func IsCredentialHeader(name string) bool {
	return slices.ContainsFunc(credentialHeaders, func(c string) bool { return strings.EqualFold(c, name) })
}

// redactHeaders returns a copy of h, flattened for logging, with the
// credential headers replaced.
func redactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		v := strings.Join(values, ", ")
		if IsCredentialHeader(name) {
			v = redacted
		}
		out[name] = redactURL(v)
	}
	return out
}

// RedactSecrets returns s with access tokens, reconnection tokens, access
// keys and bearer tokens replaced, for callers that print text which might
// hold a client URL or a connection string.
func RedactSecrets(s string) string {
	s = redactURL(s)
	return bearer().ReplaceAllString(s, "${1}"+redacted)
}

// bearer matches a bearer token after its scheme.
var bearer = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+`)
})

// The types that hold an access key or a signed token render themselves
// redacted however they are printed or logged: String (%v, %+v, %s),
// GoString (%#v), Format (every other verb, so that none reaches the
// fields), LogValue (slog) and MarshalJSON (slog's JSON handler, for a
// value nested in another). The methods have value receivers, so that a
// value and a pointer behave alike. The secret stays readable only through
// the field or method that holds it.

// mask returns redacted for a secret that is set, and "" for one that is
// not, so that a missing key still shows.
func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return redacted
}

// formatRedacted implements fmt.Formatter for a secret-holding type: %#v
// writes goString, any other verb formats s (already redacted) as a string.
func formatRedacted(f fmt.State, verb rune, s, goString string) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, goString)
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s)
}

// String returns the connection string with the access key redacted.
func (cs ConnectionString) String() string {
	return "Endpoint=" + cs.Endpoint + ";AccessKey=" + mask(cs.AccessKey) + ";Version=1.0;"
}

// GoString is String as a Go literal, for %#v.
func (cs ConnectionString) GoString() string {
	return fmt.Sprintf("webpubsub.ConnectionString{Endpoint:%q, AccessKey:%q}", cs.Endpoint, mask(cs.AccessKey))
}

// Format prints String (or GoString for %#v) whatever the verb.
func (cs ConnectionString) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, cs.String(), cs.GoString())
}

// LogValue logs the endpoint and a redacted key.
func (cs ConnectionString) LogValue() slog.Value {
	return slog.GroupValue(slog.String("endpoint", cs.Endpoint), slog.String("access_key", mask(cs.AccessKey)))
}

// MarshalJSON encodes the fields with the key redacted.
func (cs ConnectionString) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Endpoint, AccessKey string }{cs.Endpoint, mask(cs.AccessKey)})
}

// String names the client's hub and endpoint (and reverse proxy, if any).
func (c Client) String() string {
	s := "webpubsub.Client(hub=" + c.hub + ", endpoint=" + c.endpoint
	if c.target != c.endpoint {
		s += ", proxy=" + c.target
	}
	return s + ")"
}

// GoString is a Go literal of the client's hub and endpoint, for %#v.
func (c Client) GoString() string {
	return fmt.Sprintf("webpubsub.Client{hub:%q, endpoint:%q, target:%q, accessKey:%q}", c.hub, c.endpoint, c.target, mask(c.accessKey))
}

// Format prints String (or GoString for %#v) whatever the verb.
func (c Client) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, c.String(), c.GoString())
}

// LogValue logs the hub and endpoint (and reverse proxy, if any).
func (c Client) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("hub", c.hub), slog.String("endpoint", c.endpoint)}
	if c.target != c.endpoint {
		attrs = append(attrs, slog.String("proxy", c.target))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON encodes the hub and endpoint.
func (c Client) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Hub      string `json:"hub"`
		Endpoint string `json:"endpoint"`
	}{c.hub, c.endpoint})
}

// redactedURL is t.URL with the token redacted.
func (t ClientAccessToken) redactedURL() string {
	u := redactURL(t.URL)
	if t.Token != "" {
		u = strings.ReplaceAll(u, t.Token, redacted)
	}
	return u
}

// String returns the client URL with the token redacted.
func (t ClientAccessToken) String() string {
	return "webpubsub.ClientAccessToken(" + t.redactedURL() + ")"
}

// GoString is a Go literal with the token redacted, for %#v.
func (t ClientAccessToken) GoString() string {
	return fmt.Sprintf("webpubsub.ClientAccessToken{Token:%q, BaseURL:%q, URL:%q}", mask(t.Token), t.BaseURL, t.redactedURL())
}

// Format prints String (or GoString for %#v) whatever the verb.
func (t ClientAccessToken) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, t.String(), t.GoString())
}

// LogValue logs the base URL and a redacted token.
func (t ClientAccessToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", t.BaseURL), slog.String("token", mask(t.Token)))
}

// MarshalJSON encodes the fields with the token redacted, so that a token
// never reaches a JSON log. To hand a token to a client, encode its URL (or
// Token) field itself.
func (t ClientAccessToken) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Token, BaseURL, URL string }{mask(t.Token), t.BaseURL, t.redactedURL()})
}
