package service

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// supportedVersions is the api-supported-versions header the real service
// sends on every hub operation.
const supportedVersions = "2021-10-01, 2022-11-01, 2023-07-01, 2024-01-01, 2024-12-01"

// errorBody is the JSON error the real service returns, for example
// {"code":"Warning.User.NotExisted","message":"User `u1` is not found.",
// "target":"User","details":null,"innererror":null}.
type errorBody struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Target     string `json:"target"`
	Details    any    `json:"details"`
	InnerError any    `json:"innererror"`
}

// problemBody is the ASP.NET validation problem the real service returns for
// a bad parameter, such as a filter with a syntax error.
type problemBody struct {
	Code       string              `json:"code"`
	Message    string              `json:"message"`
	Target     string              `json:"target"`
	Errors     map[string][]string `json:"errors"`
	Type       any                 `json:"type"`
	Title      string              `json:"title"`
	Status     int                 `json:"status"`
	Detail     any                 `json:"detail"`
	Instance   any                 `json:"instance"`
	Extensions map[string]any      `json:"extensions"`
}

// writeError answers with status, the x-ms-error-code header and a JSON
// error body. A HEAD response gets the headers (with the body's length) but
// no body, as the real service does.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, target, message string) {
	body := marshal(errorBody{Code: code, Message: message, Target: target})
	writeJSONError(w, r, status, code, "application/json; charset=utf-8", body)
}

// writeBadParameter answers 400 with the validation-problem body the real
// service uses for a bad query or body parameter. param names the parameter,
// e.g. "filter"; it must not be empty.
func writeBadParameter(w http.ResponseWriter, r *http.Request, param, message string) {
	target := strings.ToUpper(param[:1]) + param[1:]
	full := message + " (Parameter '" + param + "')"
	body := marshal(problemBody{
		Code:       "Error.BadRequest",
		Message:    full,
		Target:     target,
		Errors:     map[string][]string{target: {full}},
		Title:      "One or more validation errors occurred.",
		Status:     http.StatusBadRequest,
		Extensions: map[string]any{},
	})
	writeJSONError(w, r, http.StatusBadRequest, "Error.BadRequest", "application/problem+json; charset=utf-8", body)
}

func writeJSONError(w http.ResponseWriter, r *http.Request, status int, code, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("x-ms-error-code", code)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// notFound answers 404 for a user, group or connection that does not exist,
// with the code and message the real service uses, e.g. kind "User" gives
// Warning.User.NotExisted and "User `u1` is not found.".
func notFound(w http.ResponseWriter, r *http.Request, severity, kind, name string) {
	writeError(w, r, http.StatusNotFound, severity+"."+kind+".NotExisted", kind, kind+" `"+name+"` is not found.")
}

// marshal encodes v as JSON without escaping <, > and &, as .NET does.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
