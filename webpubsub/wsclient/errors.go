package wsclient

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrClosed is wrapped by the errors of a connection that has ended, either
// by Close or because the service closed it; the wrapped cause says which.
var ErrClosed = errors.New("wsclient: connection closed")

// ErrNotSupported is returned by requests a raw connection cannot make
// (joining, leaving and sending to groups need a subprotocol).
var ErrNotSupported = errors.New("wsclient: not supported on a raw connection")

// AckError is the service's negative ack of a request.
type AckError struct {
	Name    string // e.g. "Forbidden", "InternalServerError", "BadRequest"
	Message string // the service's explanation
}

// Error returns e.g. "Forbidden: The client has no permission to join group 'g'."
func (e *AckError) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return e.Name + ": " + e.Message
}

// HandshakeError is the service's HTTP answer when it refuses the
// WebSocket upgrade, e.g. 401 for a missing, bad or expired token.
type HandshakeError struct {
	StatusCode int
	Body       string // the start of the response body, for the reason
}

// Error returns e.g. "wsclient: service refused the connection: 401 Unauthorized".
func (e *HandshakeError) Error() string {
	msg := fmt.Sprintf("wsclient: service refused the connection: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}
