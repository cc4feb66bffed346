package webpubsub

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ConnectionString is a parsed Web PubSub connection string, such as
// "Endpoint=https://contoso.webpubsub.azure.com;AccessKey=...;Version=1.0;".
type ConnectionString struct {
	// Endpoint is the service URL with any Port applied and no trailing slash.
	Endpoint string
	// AccessKey signs requests and client tokens. Printing, logging or
	// JSON-encoding a ConnectionString never shows it (see redact.go).
	AccessKey string
}

// ParseConnectionString parses a connection string of the service's format.
//
// Keys are case-insensitive and may come in any order; empty segments are
// ignored. Endpoint and AccessKey are required; Version, when present, must
// be 1.0; Port, when present, replaces the endpoint's port. The key is never
// part of an error message.
func ParseConnectionString(s string) (ConnectionString, error) {
	var cs ConnectionString
	var port string
	seen := map[string]bool{}
	for i, segment := range strings.Split(s, ";") {
		segment = strings.TrimSpace(segment)
		if segment == "" {
			continue
		}
		name, value, ok := strings.Cut(segment, "=")
		if !ok {
			return ConnectionString{}, fmt.Errorf("%w: connection string: segment %d has no '=' (want Key=Value;...)", ErrInvalidArgument, i+1)
		}
		key := strings.ToLower(strings.TrimSpace(name))
		if seen[key] {
			return ConnectionString{}, fmt.Errorf("%w: connection string: %q appears twice", ErrInvalidArgument, strings.TrimSpace(name))
		}
		seen[key] = true
		value = strings.TrimSpace(value)
		switch key {
		case "endpoint":
			cs.Endpoint = value
		case "accesskey":
			cs.AccessKey = value
		case "port":
			port = value
		case "version":
			if value != "1.0" {
				return ConnectionString{}, fmt.Errorf("%w: connection string: unsupported Version %q (want 1.0)", ErrInvalidArgument, value)
			}
		default:
			// Other keys (ClientEndpoint, ServerEndpoint, ...) belong to other
			// services or newer formats; like the Python SDK, ignore them.
		}
	}
	if cs.Endpoint == "" {
		return ConnectionString{}, fmt.Errorf("%w: connection string: missing Endpoint", ErrInvalidArgument)
	}
	if cs.AccessKey == "" {
		return ConnectionString{}, fmt.Errorf("%w: connection string: missing AccessKey (Entra ID credentials are not supported)", ErrInvalidArgument)
	}
	endpoint, err := parseEndpoint(cs.Endpoint)
	if err != nil {
		return ConnectionString{}, fmt.Errorf("connection string: %w", err)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return ConnectionString{}, fmt.Errorf("%w: connection string: Port %q is not a number from 1 to 65535", ErrInvalidArgument, port)
		}
		endpoint.Host = endpoint.Hostname() + ":" + strconv.Itoa(n)
		if strings.Contains(endpoint.Hostname(), ":") { // IPv6 literal
			endpoint.Host = "[" + endpoint.Hostname() + "]:" + strconv.Itoa(n)
		}
	}
	cs.Endpoint = strings.TrimSuffix(endpoint.String(), "/")
	return cs, nil
}

// parseEndpoint checks that s is an absolute http or https URL with a host
// and no query or fragment. An endpoint without a scheme gets https://, as in
// the JavaScript SDK.
func parseEndpoint(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: endpoint is empty", ErrInvalidArgument)
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: endpoint %q is not a URL", ErrInvalidArgument, s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: endpoint %q: scheme must be http or https", ErrInvalidArgument, s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: endpoint %q has no host", ErrInvalidArgument, s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: endpoint must not carry user information", ErrInvalidArgument)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: endpoint %q must not have a query or fragment", ErrInvalidArgument, s)
	}
	return u, nil
}
