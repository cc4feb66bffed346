package webpubsub

import (
	"net/http"
	"regexp"
	"strings"
)

// redacted replaces a secret in logs and messages.
const redacted = "REDACTED"

// accessTokenValue matches the value of an access_token query parameter (or
// of a reconnection token), however it is escaped.
var accessTokenValue = regexp.MustCompile(`(?i)((?:access_token|awps_reconnection_token|accesskey)=)[^&;\s"]*`)

// redactURL replaces the values of access_token, awps_reconnection_token
// and AccessKey in s.
func redactURL(s string) string {
	return accessTokenValue.ReplaceAllString(s, "${1}"+redacted)
}

// redactHeaders returns a copy of h, flattened for logging, with the
// Authorization and cookie headers replaced.
func redactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		v := strings.Join(values, ", ")
		switch strings.ToLower(name) {
		case "authorization", "proxy-authorization", "cookie", "set-cookie":
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
	return bearer.ReplaceAllString(s, "${1}"+redacted)
}

var bearer = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+`)
