package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// RecordOptions configure a Recorder.
type RecordOptions struct {
	// Transport sends the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Secrets are values that must never reach the fixture, such as the
	// access key. They are replaced wherever they appear as text,
	// whatever the case of their ASCII letters (keys, tokens and
	// connection strings are ASCII); a file that still holds one in any
	// form (base64 included) is refused. An empty secret is refused.
	Secrets []string
	// Patterns are extra regular expressions to redact, matched
	// case-insensitively over the whole file: each match is replaced
	// with Placeholder, or only its first group when the pattern has
	// groups. Patterns refused by CheckPattern make NewRecorder fail.
	Patterns []string
}

// Recorder is an http.RoundTripper that sends requests through a real
// transport and keeps each request and response, to write them as a
// test-proxy fixture that a Replayer answers from.
//
// Saving redacts, case-insensitively and over the whole file (Variables
// included): the Authorization, Proxy-Authorization, Cookie and Set-Cookie
// headers; the secrets given; connection strings; AccessKey values; bearer
// values; access_token and awps_reconnection_token values; JSON "token"
// members (what :generateToken returns) and key or connection string
// members; anything shaped like a JWT; and the custom patterns. The hosts
// requests went to become PlaceholderHost. Values become Placeholder.
//
// A Recorder keeps the URL and header map of each request and the header
// map of each response it passes on, without copying them: none may be
// changed after the round trip.
// It is safe for concurrent use.
type Recorder struct {
	transport http.RoundTripper
	redactor  *redactor
	secrets   []string

	mu           sync.Mutex
	interactions []*Interaction // in the order requests started; nil when one failed
	hosts        map[string]bool
	variables    map[string]string
}

// NewRecorder returns a Recorder, or an error when a secret is empty or a
// pattern is refused.
func NewRecorder(opts RecordOptions) (*Recorder, error) {
	red, err := newRedactor(opts.Secrets, opts.Patterns)
	if err != nil {
		return nil, err
	}
	t := opts.Transport
	if t == nil {
		t = http.DefaultTransport
	}
	return &Recorder{
		transport: t, redactor: red, secrets: slices.Clone(opts.Secrets),
		hosts: map[string]bool{}, variables: map[string]string{},
	}, nil
}

// RoundTrip sends req through the real transport and records it with its
// response. A request that gets no response is not recorded.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	switch {
	case req.Body == nil || req.Body == http.NoBody:
	case req.GetBody != nil:
		// The body can be read again: read a copy, and leave req as it is.
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		body, err = readBody(rc, req.ContentLength)
		if err != nil {
			return nil, err
		}
	default:
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	r.mu.Lock()
	slot := len(r.interactions)
	r.interactions = append(r.interactions, nil)
	r.hosts[req.URL.Host] = true
	if h := req.URL.Hostname(); h != "" {
		r.hosts[h] = true
	}
	r.mu.Unlock()

	resp, err := r.transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := readBody(resp.Body, resp.ContentLength)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	in := &Interaction{
		// The headers are kept as they are, not copied: the credential
		// ones are masked when the fixture is written (appendHeaders).
		Method: req.Method, URL: req.URL, RequestHeader: req.Header, RequestBody: body,
		StatusCode: resp.StatusCode, ResponseHeader: resp.Header, ResponseBody: respBody,
	}
	r.mu.Lock()
	r.interactions[slot] = in
	r.mu.Unlock()
	return resp, nil
}

// readBody reads and closes a body whose length is announced as n (-1 when
// unknown). It reads the body as it comes, whatever n says (a HEAD answer
// announces a length and has no body), but sized by n it allocates what
// the body needs, and nothing for an empty one, where io.ReadAll starts
// at 512 bytes.
func readBody(rc io.ReadCloser, n int64) ([]byte, error) {
	defer rc.Close()
	if n < 0 || n > 64<<20 {
		return io.ReadAll(rc)
	}
	body := make([]byte, n)
	read, err := io.ReadFull(rc, body)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		err = nil
	case err == nil:
		// The body may go on past the announced length.
		var more [1]byte
		if m, _ := rc.Read(more[:]); m > 0 {
			rest, err := io.ReadAll(rc)
			return append(append(body, more[0]), rest...), err
		}
	}
	if read == 0 {
		return nil, err
	}
	return body[:read], err
}

// SetVariable records a value in the fixture's Variables, as the test
// proxy does for values a test draws at record time. It is redacted like
// everything else.
func (r *Recorder) SetVariable(name, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.variables[name] = value
}

// Len returns how many interactions have been recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, in := range r.interactions {
		if in != nil {
			n++
		}
	}
	return n
}

// Bytes returns the redacted fixture, or an error when redaction left a
// secret in it (see Scan) or broke it.
func (r *Recorder) Bytes() ([]byte, error) {
	r.mu.Lock()
	f := &Fixture{Variables: maps.Clone(r.variables), Interactions: make([]Interaction, 0, len(r.interactions))}
	for _, in := range r.interactions {
		if in == nil {
			continue
		}
		c := *in
		c.Index = len(f.Interactions)
		u := *in.URL
		u.Host = PlaceholderHost
		u.User = nil
		c.URL = &u
		f.Interactions = append(f.Interactions, c)
	}
	hosts := slices.Collect(maps.Keys(r.hosts))
	r.mu.Unlock()

	data, err := f.MarshalTestProxy()
	if err != nil {
		return nil, err
	}
	data, risky := r.redactor.apply(data, hosts)
	if err := Scan(data, r.secrets...); err != nil {
		return nil, err
	}
	if risky {
		// A literal secret or a custom pattern was replaced: check that
		// the file is still JSON of the right shape.
		if !json.Valid(data) {
			return nil, errors.New("redaction broke the fixture's JSON (does a custom pattern match quotes or backslashes?)")
		}
		if _, err := ParseTestProxy(data); err != nil {
			return nil, fmt.Errorf("redaction broke the fixture: %w", err)
		}
	}
	return data, nil
}

// Save writes the redacted fixture to path. It scans the fixture first, and
// if a secret is left it writes nothing and returns the error: a fixture
// that would leak is never kept, and an older fixture at path is left as it
// was. It writes a temporary file beside path and renames it into place, so
// that a crash never leaves half a fixture.
func (r *Recorder) Save(path string) error {
	data, err := r.Bytes() // scanned
	if err != nil {
		return err
	}
	return writeFixture(path, data)
}

// SaveFixture writes f to path in the test-proxy shape, as Recorder.Save
// does (atomically, scanned for the secrets and for anything shaped like a
// JWT, an access key or a bearer value), for a fixture assembled from
// already redacted parts, such as a re-recording of some tests merged with
// the entries of the others. It redacts nothing itself.
func SaveFixture(path string, f *Fixture, secrets ...string) error {
	data, err := f.MarshalTestProxy()
	if err != nil {
		return err
	}
	if err := Scan(data, secrets...); err != nil {
		return err
	}
	return writeFixture(path, data)
}

// writeFixture writes data, which the caller has scanned, to path through
// a temporary file beside it, renamed into place once complete.
func writeFixture(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	// No fsync: the rename is atomic, so a crash leaves the old fixture
	// or the new one, and a fixture lost to a power cut is recorded
	// again; syncing would cost a test run more than the calls it records.
	_, err = tmp.Write(data)
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Chmod(name, 0o644)
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("writing fixture %s: %w", path, err)
	}
	return nil
}
