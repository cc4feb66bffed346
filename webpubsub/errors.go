package webpubsub

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrInvalidArgument is wrapped by every error for an argument that is
// rejected before a request is sent: a malformed connection string, a bad
// hub name, an empty id, a TTL out of range, an unknown content type.
var ErrInvalidArgument = errors.New("invalid argument")

// Error is returned by every call that reached for the service and failed:
// the service answered with an unexpected status, or the request could not
// be sent at all (StatusCode is 0 and Err holds the cause).
type Error struct {
	// StatusCode is the HTTP status, or 0 when no response arrived.
	StatusCode int
	// Code is the service's error code, from the x-ms-error-code header or
	// the body, such as "Info.Connection.NotExisted".
	Code string
	// Message is the service's message, or a description of the failure.
	Message string
	// Operation is the operation's name in snake_case, such as "send_to_group".
	Operation string
	// Method and Path are the HTTP method and the escaped request path.
	Method string
	Path   string
	// RequestID identifies the request in the service's logs, when it said.
	RequestID string
	// Err is the underlying transport error, when there was no response.
	Err error
}

// Error reads as one line: "send_to_group: 403 Forbidden (Error.Forbidden): message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Operation)
	b.WriteString(": ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	} else {
		b.WriteString("request failed")
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// errorBody is the service's ErrorDetail, and the fields of the problem+json
// variant it sends for validation errors.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Title   string `json:"title"`
	Detail  string `json:"detail"`
}

// newResponseError builds the Error for a response with an unexpected status.
func newResponseError(op, method, path string, resp *http.Response, body []byte) *Error {
	e := &Error{
		StatusCode: resp.StatusCode,
		Code:       resp.Header.Get("x-ms-error-code"),
		Operation:  op,
		Method:     method,
		Path:       path,
		RequestID:  requestID(resp.Header),
	}
	var detail errorBody
	if len(body) > 0 && json.Unmarshal(body, &detail) == nil {
		if e.Code == "" {
			e.Code = detail.Code
		}
		e.Message = firstNonEmpty(detail.Message, detail.Detail, detail.Title)
	} else if len(body) > 0 {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 512 {
			e.Message = e.Message[:512] + "..."
		}
	}
	return e
}

// requestID returns the service's identifier of a request, from whichever
// header carries it.
func requestID(h http.Header) string {
	return firstNonEmpty(h.Get("x-ms-request-id"), h.Get("x-request-id"), h.Get("x-ms-client-request-id"))
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// invalidf returns an error wrapping ErrInvalidArgument, prefixed with the
// operation's name.
func invalidf(op, format string, a ...any) error {
	return fmt.Errorf("%s: %w: %s", op, ErrInvalidArgument, fmt.Sprintf(format, a...))
}
