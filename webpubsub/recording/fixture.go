// Package recording replays and records the HTTP traffic of the Web PubSub
// REST API, so that code calling the service can be tested with no network.
//
// Fixtures use the Azure SDK test-proxy JSON shape
// ({"Entries": [...], "Variables": {...}}), so the official SDKs' recorded
// sessions replay unchanged; vcrpy YAML cassettes load too. A [Replayer] is
// an [http.RoundTripper] that answers requests from a [Fixture] and never
// touches the network; a [Recorder] wraps a real transport and writes what
// went through it as a fixture, with every secret redacted.
//
// Reports name recorded entries by their index in the file's Entries array
// (or a cassette's interactions), counting from 0 as jq's .Entries[3] does.
//
// The package imports neither the REST client nor anything Lua, so the
// client's own tests and the wps test runner can both use it.
package recording

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
)

// Placeholder replaces every redacted value in a recorded fixture. When a
// replayed request is matched, a recorded query value or JSON string that is
// exactly Placeholder matches any value, since it was redacted.
const Placeholder = "Sanitized"

// PlaceholderHost replaces the service's host in a recorded fixture. A
// Replayer accepts requests to any host, this one included.
const PlaceholderHost = "Sanitized.webpubsub.azure.com"

// Interaction is one recorded request and the response it got.
type Interaction struct {
	// Index is the position of the interaction in its fixture, from 0.
	Index int
	// Method is the request's HTTP method.
	Method string
	// URL is the request's absolute URL as recorded.
	URL *url.URL
	// RequestHeader holds the recorded request headers.
	RequestHeader http.Header
	// RequestBody is the request's body, decoded from its stored form; nil
	// when there was none.
	RequestBody []byte
	// StatusCode is the response's HTTP status.
	StatusCode int
	// ResponseHeader holds the recorded response headers.
	ResponseHeader http.Header
	// ResponseBody is the response's body, decoded from its stored form.
	ResponseBody []byte
}

// String names the interaction as reports do: "entry 3 (POST /api/hubs/chat/:send)".
func (in Interaction) String() string {
	path := ""
	if in.URL != nil {
		path = in.URL.EscapedPath()
	}
	return fmt.Sprintf("entry %d (%s %s)", in.Index, in.Method, path)
}

// Fixture is a recorded session: its interactions in order and the
// variables the test drew when it was recorded.
type Fixture struct {
	// Interactions are the recorded requests and responses, in order.
	Interactions []Interaction
	// Variables are the test-proxy file's Variables (nil for a cassette).
	Variables map[string]string
}

// Load reads a fixture: a vcrpy YAML cassette when the file name ends in
// .yaml or .yml, a test-proxy JSON file otherwise.
func Load(path string) (*Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f *Fixture
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		f, err = ParseVCR(data)
	default:
		f, err = ParseTestProxy(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// testProxyFile is the Azure SDK test-proxy's recording format.
type testProxyFile struct {
	Entries   *[]testProxyEntry          `json:"Entries"`
	Variables map[string]json.RawMessage `json:"Variables"`
}

type testProxyEntry struct {
	RequestURI      string                 `json:"RequestUri"`
	RequestMethod   string                 `json:"RequestMethod"`
	RequestHeaders  map[string]headerValue `json:"RequestHeaders"`
	RequestBody     json.RawMessage        `json:"RequestBody"`
	StatusCode      int                    `json:"StatusCode"`
	ResponseHeaders map[string]headerValue `json:"ResponseHeaders"`
	ResponseBody    json.RawMessage        `json:"ResponseBody"`
}

// headerValue is a recorded header: one string in test-proxy files, though
// some older files store a list.
type headerValue []string

func (h *headerValue) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*h = headerValue{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return fmt.Errorf("a header value must be a string or a list of strings, not %s", data)
	}
	*h = list
	return nil
}

func (h headerValue) MarshalJSON() ([]byte, error) {
	return jsonString(strings.Join(h, ", ")), nil
}

// ParseTestProxy reads a fixture in the Azure SDK test-proxy JSON shape.
// Bodies are decoded by content type as the test proxy stores them: null
// for none, a JSON value for JSON, a string for text, base64 for
// application/octet-stream.
func ParseTestProxy(data []byte) (*Fixture, error) {
	var file testProxyFile
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("not a test-proxy recording: %w", err)
	}
	if file.Entries == nil {
		return nil, errors.New(`not a test-proxy recording: no "Entries"`)
	}
	f := &Fixture{}
	if file.Variables != nil {
		f.Variables = make(map[string]string, len(file.Variables))
		for k, raw := range file.Variables {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				s = string(raw)
			}
			f.Variables[k] = s
		}
	}
	for i, e := range *file.Entries {
		u, err := url.Parse(e.RequestURI)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		in := Interaction{
			Index: i, Method: e.RequestMethod, URL: u, StatusCode: e.StatusCode,
			RequestHeader: toHeader(e.RequestHeaders), ResponseHeader: toHeader(e.ResponseHeaders),
		}
		if in.RequestBody, err = decodeBody(in.RequestHeader.Get("Content-Type"), e.RequestBody); err != nil {
			return nil, fmt.Errorf("entry %d: request body: %w", i, err)
		}
		if in.ResponseBody, err = decodeBody(in.ResponseHeader.Get("Content-Type"), e.ResponseBody); err != nil {
			return nil, fmt.Errorf("entry %d: response body: %w", i, err)
		}
		f.Interactions = append(f.Interactions, in)
	}
	return f, nil
}

func toHeader(m map[string]headerValue) http.Header {
	h := make(http.Header, len(m))
	for k, v := range m {
		key := http.CanonicalHeaderKey(k)
		h[key] = append(h[key], v...)
	}
	return h
}

// bodyKind is how a body of some content type is stored and compared.
type bodyKind int

const (
	textBody bodyKind = iota
	jsonBody
	binaryBody
)

func kindOf(contentType string) bodyKind {
	media := mediaType(contentType)
	switch {
	case media == "application/json" || strings.HasSuffix(media, "+json"):
		return jsonBody
	case media == "application/octet-stream":
		return binaryBody
	}
	return textBody
}

// mediaType is the lower-cased media type of a Content-Type value, without
// its parameters.
func mediaType(contentType string) string {
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		media, _, _ = strings.Cut(contentType, ";")
	}
	return strings.ToLower(strings.TrimSpace(media))
}

// decodeBody turns a stored test-proxy body back into bytes.
func decodeBody(contentType string, raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '"' {
		// A JSON value stored as such (the Go SDK stores the JSON body
		// `true` as the literal true).
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if kindOf(contentType) == binaryBody {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("binary body %.40q is not base64", s)
		}
		return b, nil
	}
	// Text, and JSON stored as its text.
	return []byte(s), nil
}

// encodeBody stores a body as the test proxy does; decodeBody reverses it.
func encodeBody(contentType string, body []byte) json.RawMessage {
	if len(body) == 0 {
		return json.RawMessage("null")
	}
	switch kindOf(contentType) {
	case jsonBody:
		trimmed := bytes.TrimSpace(body)
		if json.Valid(trimmed) && trimmed[0] != '"' {
			var buf bytes.Buffer
			json.Compact(&buf, trimmed)
			return buf.Bytes()
		}
		// A JSON string, or a body that is not JSON at all: stored as
		// its text, which decodeBody reads back unchanged.
	case binaryBody:
		return jsonString(base64.StdEncoding.EncodeToString(body))
	}
	return jsonString(string(body))
}

// jsonString encodes s as a JSON string without escaping <, > and &.
func jsonString(s string) []byte {
	b, _ := encodeJSON(s)
	return b
}

// encodeJSON encodes v compactly without escaping <, > and &.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// MarshalTestProxy encodes the fixture in the test-proxy JSON shape, as
// ParseTestProxy reads it, indented by two spaces with keys in a fixed
// order (the bytes encoding/json would write for testProxyFile, written
// directly: recording writes a fixture at the end of every recorded test
// file). It redacts nothing: a Recorder does.
func (f *Fixture) MarshalTestProxy() ([]byte, error) {
	b := make([]byte, 0, 1024*(len(f.Interactions)+1))
	b = append(b, "{\n  \"Entries\": ["...)
	for i, in := range f.Interactions {
		if i > 0 {
			b = append(b, ',')
		}
		uri := ""
		if in.URL != nil {
			uri = in.URL.String()
		}
		b = append(b, "\n    {\n      \"RequestUri\": "...)
		b = appendString(b, uri)
		b = append(b, ",\n      \"RequestMethod\": "...)
		b = appendString(b, in.Method)
		b = append(b, ",\n      \"RequestHeaders\": "...)
		b = appendHeaders(b, in.RequestHeader)
		b = append(b, ",\n      \"RequestBody\": "...)
		var err error
		if b, err = appendRaw(b, encodeBody(in.RequestHeader.Get("Content-Type"), in.RequestBody), "      "); err != nil {
			return nil, fmt.Errorf("entry %d: request body: %w", i, err)
		}
		b = append(b, ",\n      \"StatusCode\": "...)
		b = strconv.AppendInt(b, int64(in.StatusCode), 10)
		b = append(b, ",\n      \"ResponseHeaders\": "...)
		b = appendHeaders(b, in.ResponseHeader)
		b = append(b, ",\n      \"ResponseBody\": "...)
		if b, err = appendRaw(b, encodeBody(in.ResponseHeader.Get("Content-Type"), in.ResponseBody), "      "); err != nil {
			return nil, fmt.Errorf("entry %d: response body: %w", i, err)
		}
		b = append(b, "\n    }"...)
	}
	if len(f.Interactions) > 0 {
		b = append(b, "\n  "...)
	}
	b = append(b, "],\n  \"Variables\": "...)
	b = appendObject(b, slices.Sorted(maps.Keys(f.Variables)), func(b []byte, k string) []byte { return appendString(b, f.Variables[k]) }, "  ")
	return append(b, "\n}\n"...), nil
}

// appendHeaders appends a header map as an object at the depth of an
// entry's members: keys sorted, each value one string (see headerValue).
// The credential headers are written as Placeholder: they stay present, as
// a replayed request must be signed too, but no value of theirs is ever
// written.
func appendHeaders(b []byte, h http.Header) []byte {
	var buf [16]string // most header maps fit: no allocation for the keys
	keys := buf[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return appendObject(b, keys, func(b []byte, k string) []byte {
		if isCredentialHeader(k) {
			return appendString(b, Placeholder)
		}
		if v := h[k]; len(v) == 1 {
			return appendString(b, v[0])
		}
		return appendString(b, strings.Join(h[k], ", "))
	}, "      ")
}

// credentialHeaders are the headers whose values a fixture never holds:
// webpubsub.IsCredentialHeader's list, kept here too because the REST
// client's tests replay through this package, which therefore cannot
// import the client.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Ms-Encryption-Key"}

// isCredentialHeader reports whether name is one of credentialHeaders, in
// any case.
func isCredentialHeader(name string) bool {
	return slices.ContainsFunc(credentialHeaders, func(c string) bool { return strings.EqualFold(c, name) })
}

// appendObject appends an object of the given keys, with value appending
// each key's value, its members indented one level deeper than indent.
func appendObject(b []byte, keys []string, value func([]byte, string) []byte, indent string) []byte {
	if len(keys) == 0 {
		return append(b, "{}"...)
	}
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = append(b, indent...)
		b = append(b, "  "...)
		b = appendString(b, k)
		b = append(b, ": "...)
		b = value(b, k)
	}
	b = append(b, '\n')
	b = append(b, indent...)
	return append(b, '}')
}

// appendRaw appends a JSON value indented as a member at indent.
func appendRaw(b []byte, raw json.RawMessage, indent string) ([]byte, error) {
	if len(raw) > 0 && raw[0] != '{' && raw[0] != '[' {
		return append(b, raw...), nil // a string, number, literal: one line
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, indent, "  "); err != nil {
		return nil, err
	}
	return append(b, buf.Bytes()...), nil
}

// appendString appends s as a JSON string, as encoding/json writes it
// without HTML escaping.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			// Something to escape, or UTF-8 to check: encoding/json
			// knows every case.
			return append(b, jsonString(s)...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// ParseVCR reads a vcrpy YAML cassette (the old Python SDK's and the Azure
// CLI's recordings). Bodies are stored raw.
func ParseVCR(data []byte) (*Fixture, error) {
	var cassette struct {
		Interactions []struct {
			Request struct {
				Body    *string             `yaml:"body"`
				Headers map[string][]string `yaml:"headers"`
				Method  string              `yaml:"method"`
				URI     string              `yaml:"uri"`
			} `yaml:"request"`
			Response struct {
				Body struct {
					String string `yaml:"string"`
				} `yaml:"body"`
				Headers map[string][]string `yaml:"headers"`
				Status  struct {
					Code int `yaml:"code"`
				} `yaml:"status"`
			} `yaml:"response"`
		} `yaml:"interactions"`
	}
	if err := yaml.Unmarshal(data, &cassette); err != nil {
		// One line, "[line:column] what", without the excerpt of the file
		// the YAML library adds by default.
		return nil, fmt.Errorf("not a vcrpy cassette: %s", yaml.FormatError(err, false, false))
	}
	f := &Fixture{}
	for i, c := range cassette.Interactions {
		u, err := url.Parse(c.Request.URI)
		if err != nil {
			return nil, fmt.Errorf("interaction %d: %w", i, err)
		}
		in := Interaction{
			Index: i, Method: c.Request.Method, URL: u, StatusCode: c.Response.Status.Code,
			RequestHeader: http.Header{}, ResponseHeader: http.Header{},
		}
		for k, v := range c.Request.Headers {
			in.RequestHeader[http.CanonicalHeaderKey(k)] = v
		}
		for k, v := range c.Response.Headers {
			in.ResponseHeader[http.CanonicalHeaderKey(k)] = v
		}
		if c.Request.Body != nil {
			in.RequestBody = []byte(*c.Request.Body)
		}
		if c.Response.Body.String != "" {
			in.ResponseBody = []byte(c.Response.Body.String)
		}
		f.Interactions = append(f.Interactions, in)
	}
	return f, nil
}
