package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const recordingsDir = "../testdata/recordings"

func recordingFiles(t testing.TB) []string {
	files, _ := filepath.Glob(recordingsDir + "/*/*")
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, ".json") || strings.HasSuffix(f, ".yaml") {
			out = append(out, f)
		}
	}
	if len(out) < 11 {
		t.Fatalf("found %d recordings, want the 11 of %s", len(out), recordingsDir)
	}
	return out
}

func TestLoadDecodesBodiesByContentType(t *testing.T) {
	f, err := Load(recordingsDir + "/go/TestClient_SendToAll.json")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range f.Interactions {
		got = append(got, in.RequestHeader.Get("Content-Type")+" "+string(in.RequestBody))
	}
	want := []string{"text/plain Hello world!", "application/json true", "application/octet-stream true"}
	if !slices.Equal(got, want) {
		t.Errorf("bodies %q, want %q", got, want)
	}
	v, err := Load(recordingsDir + "/python-vcr/test_smoke.test_add_user_to_group.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := v.Interactions[0]
	if in.Method != "PUT" || in.StatusCode != 404 || !strings.Contains(string(in.ResponseBody), "Warning.User.NotExisted") || in.ResponseHeader.Get("x-ms-error-code") == "" {
		t.Errorf("cassette read as %+v", in)
	}
	n, err := Load(recordingsDir + "/net/ServiceClientCanListConnectionsInGroupWithContinuationToken.json")
	if err != nil {
		t.Fatal(err)
	}
	if n.Variables["RandomSeed"] != "1535384090" {
		t.Errorf("variables %v", n.Variables)
	}
	if _, err := ParseTestProxy([]byte(`{"entries": 3}`)); err == nil {
		t.Error("a file without Entries loaded")
	}
	// A broken cassette is named in one line, with where it breaks, and
	// without quoting the file.
	_, err = ParseVCR([]byte("interactions:\n- request:\n    body: [1, 2\n    uri: secret-looking-text\n"))
	if err == nil || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "secret-looking-text") || !strings.Contains(err.Error(), "[4:5]") {
		t.Errorf("broken cassette: %v", err)
	}
}

// TestFixtureRoundTrip checks that MarshalTestProxy writes what
// ParseTestProxy reads back, for every recording.
func TestFixtureRoundTrip(t *testing.T) {
	for _, path := range recordingFiles(t) {
		f, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		data, err := f.MarshalTestProxy()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseTestProxy(data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for i, in := range f.Interactions {
			b := back.Interactions[i]
			if b.Method != in.Method || b.URL.String() != in.URL.String() || b.StatusCode != in.StatusCode ||
				!bytes.Equal(b.RequestBody, in.RequestBody) || !bytes.Equal(b.ResponseBody, in.ResponseBody) {
				t.Errorf("%s entry %d: %+v, wrote %+v", path, i, b, in)
			}
		}
	}
}

// replayRequest builds the request an interaction records, as another
// client would send it: another host, the query in another order, JSON
// object keys in another order and another Authorization value.
func replayRequest(t testing.TB, in *Interaction, rng *rand.Rand) *http.Request {
	pairs := strings.Split(in.URL.RawQuery, "&")
	rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	target := "https://contoso.webpubsub.azure.com" + in.URL.EscapedPath()
	if in.URL.RawQuery != "" {
		target += "?" + strings.Join(pairs, "&")
	}
	body := in.RequestBody
	if kindOf(in.RequestHeader.Get("Content-Type")) == jsonBody && len(body) > 0 {
		v, ok := decodeJSON(body)
		if !ok {
			t.Fatalf("entry %d: JSON body %q does not decode", in.Index, body)
		}
		body = []byte(reversedJSON(v))
	}
	req, err := http.NewRequest(in.Method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct := in.RequestHeader.Get("Content-Type"); ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Authorization", fmt.Sprintf("Bearer another-token-%d", rng.Int()))
	return req
}

// reversedJSON encodes v with every object's keys in reverse order and
// spaces around the punctuation.
func reversedJSON(v any) string {
	switch v := v.(type) {
	case map[string]any:
		var keys []string
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		slices.Reverse(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%q : %s", k, reversedJSON(v[k])))
		}
		return "{ " + strings.Join(parts, " , ") + " }"
	case []any:
		var parts []string
		for _, e := range v {
			parts = append(parts, reversedJSON(e))
		}
		return "[ " + strings.Join(parts, " , ") + " ]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestReplayEveryRecording(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, path := range recordingFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			r := NewReplayer(f, nil)
			client := &http.Client{Transport: r}
			for i := range f.Interactions {
				in := &f.Interactions[i]
				resp, err := client.Do(replayRequest(t, in, rng))
				if err != nil {
					t.Fatalf("entry %d: %v", i, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != in.StatusCode || (in.Method != "HEAD" && !bytes.Equal(body, in.ResponseBody)) {
					t.Errorf("entry %d: got %d %q, want %d %q", i, resp.StatusCode, body, in.StatusCode, in.ResponseBody)
				}
				for k := range in.ResponseHeader {
					if k != "Content-Length" && k != "Transfer-Encoding" && resp.Header.Get(k) != in.ResponseHeader.Get(k) {
						t.Errorf("entry %d: header %s %q, want %q", i, k, resp.Header.Get(k), in.ResponseHeader.Get(k))
					}
				}
			}
			if unused := r.Unused(); len(unused) > 0 {
				t.Errorf("unused: %v", unused)
			}
		})
	}
}

// mismatchFixture has one interaction of each kind.
const mismatchFixture = `{"Entries": [
 {"RequestUri": "https://Sanitized.webpubsub.azure.com/api/hubs/chat/:send?api-version=2024-12-01", "RequestMethod": "POST",
  "RequestHeaders": {"Content-Type": "application/json"}, "RequestBody": {"text": "hello", "n": [1, 2]},
  "StatusCode": 202, "ResponseHeaders": {}, "ResponseBody": null},
 {"RequestUri": "https://Sanitized.webpubsub.azure.com/api/hubs/chat/groups/ops/connections/c1?api-version=2024-12-01", "RequestMethod": "PUT",
  "RequestHeaders": {}, "RequestBody": null, "StatusCode": 200, "ResponseHeaders": {}, "ResponseBody": null},
 {"RequestUri": "https://Sanitized.webpubsub.azure.com/api/hubs/chat/:send?api-version=2024-12-01&excluded=a&excluded=b", "RequestMethod": "POST",
  "RequestHeaders": {"Content-Type": "text/plain"}, "RequestBody": "hello world", "StatusCode": 202, "ResponseHeaders": {}, "ResponseBody": null},
 {"RequestUri": "https://Sanitized.webpubsub.azure.com/api/hubs/chat/users/u1/:send?api-version=2024-12-01", "RequestMethod": "POST",
  "RequestHeaders": {"Content-Type": "application/octet-stream"}, "RequestBody": "AAECAw==", "StatusCode": 202, "ResponseHeaders": {}, "ResponseBody": null},
 {"RequestUri": "https://Sanitized.webpubsub.azure.com/api/hubs/chat/groups/ops/connections?api-version=2024-12-01&top=10", "RequestMethod": "GET",
  "RequestHeaders": {}, "RequestBody": null, "StatusCode": 200,
  "ResponseHeaders": {"Content-Type": "application/json"}, "ResponseBody": {"value": []}}
], "Variables": {}}`

func mustParse(t testing.TB, s string) *Fixture {
	t.Helper()
	f, err := ParseTestProxy([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// do sends one signed request through rt.
func do(rt http.RoundTripper, method, target, contentType, body string) (*http.Response, error) {
	req, _ := http.NewRequest(method, "https://whatever.example"+target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer x")
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestMismatchReports(t *testing.T) {
	const v = "?api-version=2024-12-01"
	cases := []struct {
		name, method, target, contentType, body string
		want                                    string
	}{
		{"json path", "POST", "/api/hubs/chat/:send" + v, "application/json", `{"n":[1,2],"text":"hullo"}`,
			`no recorded request matches POST /api/hubs/chat/:send?api-version=2024-12-01; closest is entry 0 (POST /api/hubs/chat/:send): body differs at $.text: recorded "hello", got "hullo"`},
		{"json array", "POST", "/api/hubs/chat/:send" + v, "application/json", `{"text":"hello","n":[1,3]}`,
			`closest is entry 0 (POST /api/hubs/chat/:send): body differs at $.n[1]: recorded 2, got 3`},
		{"json missing key", "POST", "/api/hubs/chat/:send" + v, "application/json", `{"text":"hello"}`,
			`body differs at $.n: recorded [1,2], got nothing`},
		{"method", "DELETE", "/api/hubs/chat/groups/ops/connections/c1" + v, "", "",
			`closest is entry 1 (PUT /api/hubs/chat/groups/ops/connections/c1): method differs: recorded PUT, got DELETE`},
		{"path", "PUT", "/api/hubs/chat/groups/ops/connections/c2" + v, "", "",
			`closest is entry 1 (PUT /api/hubs/chat/groups/ops/connections/c1): path differs: recorded /api/hubs/chat/groups/ops/connections/c1, got /api/hubs/chat/groups/ops/connections/c2`},
		{"query value", "GET", "/api/hubs/chat/groups/ops/connections" + v + "&top=20", "", "",
			`closest is entry 4 (GET /api/hubs/chat/groups/ops/connections): query differs at "top": recorded "10", got "20"`},
		{"query missing", "GET", "/api/hubs/chat/groups/ops/connections" + v, "", "",
			`query differs at "top": recorded "10", got nothing`},
		{"api-version", "GET", "/api/hubs/chat/groups/ops/connections?top=10&api-version=2023-07-01", "", "",
			`query differs at "api-version": recorded "2024-12-01", got "2023-07-01"`},
		{"repeated key", "POST", "/api/hubs/chat/:send" + v + "&excluded=a", "text/plain", "hello world",
			`closest is entry 2 (POST /api/hubs/chat/:send): query differs at "excluded": recorded ["a", "b"], got "a"`},
		{"text body", "POST", "/api/hubs/chat/:send" + v + "&excluded=b&excluded=a", "text/plain", "hello world!",
			`closest is entry 2 (POST /api/hubs/chat/:send): text body differs at byte 11: recorded "hello world", got "hello world!"`},
		{"binary body", "POST", "/api/hubs/chat/users/u1/:send" + v, "application/octet-stream", "\x00\x01\x09\x03",
			`closest is entry 3 (POST /api/hubs/chat/users/u1/:send): binary body differs at byte 2: recorded 4 bytes, got 4`},
		{"content type", "POST", "/api/hubs/chat/:send" + v, "text/plain", `{"text":"hello","n":[1,2]}`,
			`closest is entry 0 (POST /api/hubs/chat/:send): content type differs: recorded application/json, got text/plain`},
		{"access token redacted", "GET", "/client/hubs/chat?access_token=eyJsecret", "", "",
			`no recorded request matches GET /client/hubs/chat?access_token=Sanitized;`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := do(NewReplayer(mustParse(t, mismatchFixture), nil), c.method, c.target, c.contentType, c.body)
			var m *MismatchError
			if !errors.As(err, &m) {
				t.Fatalf("got %v, want a *MismatchError", err)
			}
			if !strings.Contains(m.Error(), c.want) {
				t.Errorf("report\n  %s\nwant it to hold\n  %s", m.Error(), c.want)
			}
		})
	}
}

func TestIgnoreAPIVersion(t *testing.T) {
	r := NewReplayer(mustParse(t, mismatchFixture), &ReplayOptions{IgnoreAPIVersion: true})
	if _, err := do(r, "GET", "/api/hubs/chat/groups/ops/connections?top=10&api-version=2023-07-01", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := do(r, "PUT", "/api/hubs/chat/groups/ops/connections/c1", "", ""); err != nil {
		t.Fatal(err)
	}
}

func TestEachInteractionAnswersOnceInOrder(t *testing.T) {
	f := mustParse(t, `{"Entries": [
	 {"RequestUri": "https://h/api/health", "RequestMethod": "HEAD", "StatusCode": 503},
	 {"RequestUri": "https://h/api/hubs/x/groups/g", "RequestMethod": "HEAD", "StatusCode": 404},
	 {"RequestUri": "https://h/api/health", "RequestMethod": "HEAD", "StatusCode": 200}]}`)
	r := NewReplayer(f, nil)
	var statuses []int
	for _, path := range []string{"/api/health", "/api/health", "/api/hubs/x/groups/g"} {
		resp, err := do(r, "HEAD", path, "", "")
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.StatusCode)
	}
	if want := []int{503, 200, 404}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	_, err := do(r, "HEAD", "/api/health", "", "")
	if err == nil || !strings.Contains(err.Error(), "entry 0 (HEAD /api/health) matches but was already used") {
		t.Errorf("a third health check gave %v", err)
	}
}

func TestUnused(t *testing.T) {
	r := NewReplayer(mustParse(t, mismatchFixture), nil)
	if _, err := do(r, "PUT", "/api/hubs/chat/groups/ops/connections/c1?api-version=2024-12-01", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := do(r, "POST", "/api/hubs/chat/users/u1/:send?api-version=2024-12-01", "application/octet-stream", "\x00\x01\x02\x03"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range r.Unused() {
		got = append(got, in.String())
	}
	want := []string{
		"entry 0 (POST /api/hubs/chat/:send)",
		"entry 2 (POST /api/hubs/chat/:send)",
		"entry 4 (GET /api/hubs/chat/groups/ops/connections)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("unused %q, want %q", got, want)
	}
}

func TestReplayRequiresAuthorization(t *testing.T) {
	r := NewReplayer(mustParse(t, mismatchFixture), nil)
	req, _ := http.NewRequest("PUT", "https://h/api/hubs/chat/groups/ops/connections/c1?api-version=2024-12-01", nil)
	_, err := r.RoundTrip(req)
	if !errors.Is(err, ErrNoAuthorization) {
		t.Errorf("unsigned request gave %v", err)
	}
	if len(r.Unused()) != 5 {
		t.Error("an unsigned request used an interaction")
	}
}

func TestPlaceholderMatchesAnyValue(t *testing.T) {
	f := mustParse(t, `{"Entries": [
	 {"RequestUri": "https://h/api/hubs/x/:generateToken?userId=Sanitized", "RequestMethod": "POST",
	  "RequestHeaders": {"Content-Type": "application/json"}, "RequestBody": {"token": "Sanitized", "n": 1},
	  "StatusCode": 200, "ResponseHeaders": {"Content-Type": "application/json"}, "ResponseBody": {"token": "Sanitized"}}]}`)
	if _, err := do(NewReplayer(f, nil), "POST", "/api/hubs/x/:generateToken?userId=alice", "application/json", `{"n": 1.0, "token": "abc"}`); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyFixture(t *testing.T) {
	_, err := do(NewReplayer(&Fixture{}, nil), "GET", "/api/health", "", "")
	if err == nil || !strings.Contains(err.Error(), "no recorded request matches GET /api/health; the recording has no entries") {
		t.Errorf("got %v", err)
	}
}

// BenchmarkReplay100 parses a fixture of 100 recorded calls and replays
// them all, as one wps test file of 100 calls would.
func BenchmarkReplay100(b *testing.B) {
	f := &Fixture{}
	for i := range 100 {
		u, _ := http.NewRequest("POST", fmt.Sprintf("https://%s/api/hubs/chat/groups/g%d/:send?api-version=2024-12-01&excluded=c%d", PlaceholderHost, i%7, i), nil)
		f.Interactions = append(f.Interactions, Interaction{
			Index: i, Method: "POST", URL: u.URL,
			RequestHeader: http.Header{"Content-Type": {"application/json"}, "Authorization": {Placeholder}},
			RequestBody:   fmt.Appendf(nil, `{"type":"notice","seq":%d,"text":"deploy starting"}`, i),
			StatusCode:    202, ResponseHeader: http.Header{"Content-Length": {"0"}},
		})
	}
	data, err := f.MarshalTestProxy()
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	reqs := make([]*http.Request, 100)
	bodies := make([][]byte, 100)
	for i := range f.Interactions {
		reqs[i] = replayRequest(b, &f.Interactions[i], rng)
		bodies[i], _ = io.ReadAll(reqs[i].Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		fx, err := ParseTestProxy(data)
		if err != nil {
			b.Fatal(err)
		}
		client := &http.Client{Transport: NewReplayer(fx, nil)}
		for i, req := range reqs {
			req.Body = io.NopCloser(bytes.NewReader(bodies[i]))
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	}
}

// TestConcurrentReplay replays calls made at once, as wps.each makes them:
// each takes its own interaction whatever the order they arrive in.
func TestConcurrentReplay(t *testing.T) {
	f := &Fixture{}
	for i := range 40 {
		u, _ := url.Parse(fmt.Sprintf("https://h/api/hubs/chat/users/u%d/:send", i%20))
		f.Interactions = append(f.Interactions, Interaction{
			Index: i, Method: "POST", URL: u, StatusCode: 202,
			RequestHeader: http.Header{"Content-Type": {"text/plain"}}, RequestBody: []byte("hi"),
			ResponseHeader: http.Header{"X-Entry": {strconv.Itoa(i)}},
		})
	}
	r := NewReplayer(f, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			_, err := do(r, "POST", fmt.Sprintf("/api/hubs/chat/users/u%d/:send", i%20), "text/plain", "hi")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if unused := r.Unused(); len(unused) != 0 {
		t.Errorf("unused %v", unused)
	}
}

// marshalReflect is how MarshalTestProxy wrote fixtures before it wrote
// them directly: encoding/json over testProxyFile, indented by two spaces.
func marshalReflect(f *Fixture) ([]byte, error) {
	entries := make([]testProxyEntry, 0, len(f.Interactions))
	for _, in := range f.Interactions {
		header := func(h http.Header) map[string]headerValue {
			m := make(map[string]headerValue, len(h))
			for k, v := range h {
				m[k] = headerValue(v)
			}
			return m
		}
		entries = append(entries, testProxyEntry{
			RequestURI: in.URL.String(), RequestMethod: in.Method,
			RequestHeaders: header(in.RequestHeader),
			RequestBody:    encodeBody(in.RequestHeader.Get("Content-Type"), in.RequestBody),
			StatusCode:     in.StatusCode, ResponseHeaders: header(in.ResponseHeader),
			ResponseBody: encodeBody(in.ResponseHeader.Get("Content-Type"), in.ResponseBody),
		})
	}
	vars := make(map[string]json.RawMessage, len(f.Variables))
	for k, v := range f.Variables {
		vars[k] = jsonString(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(testProxyFile{Entries: &entries, Variables: vars})
	return buf.Bytes(), err
}

// TestMarshalWritesWhatEncodingJSONWould checks MarshalTestProxy against
// encoding/json, byte for byte, on every recording and on values that need
// escaping.
func TestMarshalWritesWhatEncodingJSONWould(t *testing.T) {
	odd := &Fixture{Variables: map[string]string{"b": "quote \" backslash \\ tab \t nl \n <&> é \u2028 \x01 \xff", "a": ""}}
	u, _ := url.Parse("https://h/api/hubs/chat/users/%C3%A9/:send?filter=a%20eq%20%27%3C%3E%27")
	odd.Interactions = append(odd.Interactions,
		Interaction{Method: "POST", URL: u, StatusCode: 202,
			RequestHeader:  http.Header{"Content-Type": {"application/json"}, "X-Multi": {"a", "b"}, "X-Odd": {"\"é\u2028"}},
			RequestBody:    []byte(`{"nested":{"list":[1,{"x":[]},{}],"s":"<é>"},"empty":[]}`),
			ResponseHeader: http.Header{}, ResponseBody: nil},
		Interaction{Method: "GET", URL: u, StatusCode: 200, RequestHeader: http.Header{},
			ResponseHeader: http.Header{"Content-Type": {"text/plain"}}, ResponseBody: []byte("line\nline \"2\"")},
		Interaction{Method: "POST", URL: u, StatusCode: 202, RequestHeader: http.Header{"Content-Type": {"application/octet-stream"}},
			RequestBody: []byte{0, 1, 2, 0xff}, ResponseHeader: http.Header{"Content-Type": {"application/json"}}, ResponseBody: []byte(`"just a string"`)})
	fixtures := []*Fixture{odd, {}}
	for _, path := range recordingFiles(t) {
		f, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		fixtures = append(fixtures, f)
	}
	for i, f := range fixtures {
		got, err := f.MarshalTestProxy()
		if err != nil {
			t.Fatal(err)
		}
		want, err := marshalReflect(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("fixture %d:\n%s\nencoding/json writes:\n%s", i, got, want)
		}
	}
}
