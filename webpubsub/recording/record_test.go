package recording

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testKey is the access key the recording tests must never leak.
const testKey = "k3yZ9vQ2mX7pL4wR8tY1uI6oP0aS5dF3gH+jK/lZ=="

func signed(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeService answers like Web PubSub: a client token from :generateToken,
// a page of members with a nextLink naming its own host, 202 for sends.
func fakeService(t *testing.T, clientToken string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") && r.URL.Query().Get("access_token") == "" {
			w.WriteHeader(401)
			return
		}
		io.Copy(io.Discard, r.Body)
		switch {
		case strings.HasSuffix(r.URL.Path, "/:generateToken"):
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			io.WriteString(w, `{"token":"`+clientToken+`"}`)
		case strings.HasSuffix(r.URL.Path, "/connections"):
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Set-Cookie", "affinity="+testKey)
			io.WriteString(w, `{"value":[{"connectionId":"c1","userId":"alice"}],"nextLink":"http://`+r.Host+`/api/hubs/chat/groups/ops/connections?continuationToken=abc&api-version=2024-12-01"}`)
		case strings.HasPrefix(r.URL.Path, "/client/"):
			io.WriteString(w, "welcome")
		default:
			w.WriteHeader(202)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, rt http.RoundTripper, method, target, auth, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRecordLeavesNoSecret(t *testing.T) {
	exp := jwt.NewNumericDate(time.Now().Add(time.Hour))
	clientToken := signed(t, jwt.MapClaims{"sub": "alice", "role": []string{"webpubsub.sendToGroup"}, "exp": exp})
	srv := fakeService(t, clientToken)
	u, _ := url.Parse(srv.URL)
	restToken := signed(t, jwt.MapClaims{"aud": srv.URL + "/api/hubs/chat/:send", "exp": exp})
	connString := "Endpoint=" + srv.URL + ";AccessKey=" + testKey + ";Version=1.0;"

	rec, err := NewRecorder(RecordOptions{Secrets: []string{testKey}})
	if err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + restToken
	api := srv.URL + "/api/hubs/chat"
	if status, body := send(t, rec, "POST", api+"/:generateToken?userId=alice&role=webpubsub.sendToGroup&api-version=2024-12-01", bearer, "", ""); status != 200 || !strings.Contains(body, clientToken) {
		t.Fatalf("generateToken: %d %s", status, body)
	}
	send(t, rec, "GET", api+"/groups/ops/connections?api-version=2024-12-01", bearer, "", "")
	send(t, rec, "POST", api+"/groups/ops/:send?api-version=2024-12-01", bearer, "application/json",
		`{"note":"rotate","connectionString":"`+connString+`","see":"`+srv.URL+`/client/hubs/chat?access_token=`+clientToken+`"}`)
	send(t, rec, "POST", api+"/:send?api-version=2024-12-01", bearer, "text/plain",
		"the key is "+strings.ToLower(testKey)+" and the url-escaped key is "+url.QueryEscape(testKey))
	if status, _ := send(t, rec, "GET", srv.URL+"/client/hubs/chat?access_token="+clientToken, "", "", ""); status != 200 {
		t.Fatalf("client URL: %d", status)
	}
	rec.SetVariable("WEBPUBSUB_CONNECTION_STRING", connString)
	rec.SetVariable("WEBPUBSUB_KEY", strings.ToUpper(testKey))
	if rec.Len() != 5 {
		t.Fatalf("recorded %d interactions, want 5", rec.Len())
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "runbook_test.fixture.json")
	if err := rec.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(string(data))
	for name, secret := range map[string]string{
		"the key":                 testKey,
		"the key, base64-encoded": base64.StdEncoding.EncodeToString([]byte(testKey)),
		"the key, URL-escaped":    url.QueryEscape(testKey),
		"the client token":        clientToken,
		"the REST token":          restToken,
		"the JWT header":          clientToken[:strings.IndexByte(clientToken, '.')],
		"the JWT signature":       restToken[strings.LastIndexByte(restToken, '.')+1:],
		"the host":                u.Host,
		"the host name":           u.Hostname(),
		"the connection string":   "endpoint=",
	} {
		if strings.Contains(lower, strings.ToLower(secret)) {
			t.Errorf("the fixture holds %s:\n%s", name, data)
		}
	}
	for _, want := range []string{
		`"Authorization": "Sanitized"`,
		`"token": "Sanitized"`,
		`"connectionString": "Sanitized"`,
		"https://" + PlaceholderHost,
		"http://" + PlaceholderHost + "/api/hubs/chat/groups/ops/connections?continuationToken=abc",
		"access_token=Sanitized",
		`"WEBPUBSUB_CONNECTION_STRING": "Sanitized"`,
		`"Set-Cookie": "Sanitized"`,
	} {
		if want == "https://"+PlaceholderHost {
			want = "http://" + PlaceholderHost // the test server is plain HTTP
		}
		if !strings.Contains(string(data), want) {
			t.Errorf("the fixture lacks %s:\n%s", want, data)
		}
	}
	if err := Scan(data, testKey); err != nil {
		t.Error(err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// The fixture replays the same calls, signed with another token.
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReplayer(f, nil)
	other := "Bearer " + "replay-time-token"
	host := "https://" + PlaceholderHost + "/api/hubs/chat"
	if _, body := send(t, r, "POST", host+"/:generateToken?role=webpubsub.sendToGroup&api-version=2024-12-01&userId=alice", other, "", ""); body != `{"token":"Sanitized"}` {
		t.Errorf("replayed token response %s", body)
	}
	if _, body := send(t, r, "GET", host+"/groups/ops/connections?api-version=2024-12-01", other, "", ""); !strings.Contains(body, `"connectionId":"c1"`) {
		t.Errorf("replayed listing %s", body)
	}
	send(t, r, "POST", host+"/groups/ops/:send?api-version=2024-12-01", other, "application/json",
		`{"see":"http://`+PlaceholderHost+`/client/hubs/chat?access_token=Sanitized","connectionString":"Endpoint=https://contoso;AccessKey=other;","note":"rotate"}`)
	if unused := r.Unused(); len(unused) != 2 {
		t.Errorf("unused %v, want the text send and the client URL", unused)
	}
}

func TestSaveRefusesAKeyItCannotRedact(t *testing.T) {
	srv := fakeService(t, "none")
	rec, err := NewRecorder(RecordOptions{Secrets: []string{testKey}})
	if err != nil {
		t.Fatal(err)
	}
	// A binary body is stored base64-encoded: the key inside it cannot be
	// replaced, so the file must be refused.
	send(t, rec, "POST", srv.URL+"/api/hubs/chat/:send?api-version=2024-12-01", "Bearer x", "application/octet-stream", "\x01\x02"+testKey+"\x03")
	dir := t.TempDir()
	path := filepath.Join(dir, "leak.json")
	os.WriteFile(path, []byte("old fixture"), 0o644)
	err = rec.Save(path)
	var leak *LeakError
	if !errors.As(err, &leak) || !strings.Contains(err.Error(), "secret 1 (base64-encoded)") {
		t.Fatalf("got %v, want a LeakError for the base64-encoded key", err)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Error("the error quotes the key")
	}
	if old, _ := os.ReadFile(path); string(old) != "old fixture" {
		t.Errorf("the old fixture became %q", old)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

func TestCustomPatterns(t *testing.T) {
	srv := fakeService(t, "none")
	rec, err := NewRecorder(RecordOptions{Patterns: []string{`ticket-\d+`, `employee=(\w+)`}})
	if err != nil {
		t.Fatal(err)
	}
	send(t, rec, "POST", srv.URL+"/api/hubs/chat/:send?api-version=2024-12-01", "Bearer x", "text/plain", "TICKET-1234 by employee=mallory")
	data, err := rec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"Sanitized by employee=Sanitized"`)) {
		t.Errorf("custom patterns not applied:\n%s", data)
	}
}

func TestRefusedPatternsAndSecrets(t *testing.T) {
	for _, p := range []string{"", "  ", ".*", "^", "$", "a*", "x|", "(?:)", ".+", "(?s).+", `[\s\S]`, `[^q]+`, `\S`} {
		if _, err := CheckPattern(p); err == nil {
			t.Errorf("pattern %q accepted", p)
		} else if !strings.Contains(err.Error(), "refused") {
			t.Errorf("pattern %q: unclear error %v", p, err)
		}
		if _, err := NewRecorder(RecordOptions{Patterns: []string{p}}); err == nil {
			t.Errorf("NewRecorder accepted pattern %q", p)
		}
	}
	if _, err := CheckPattern("(unclosed"); err == nil {
		t.Error("a bad regexp was accepted")
	}
	for _, p := range []string{`user-[0-9]+`, `secret=(\w+)`, `\w+@contoso\.com`} {
		if _, err := CheckPattern(p); err != nil {
			t.Errorf("pattern %q refused: %v", p, err)
		}
	}
	if _, err := NewRecorder(RecordOptions{Secrets: []string{testKey, ""}}); err == nil || !strings.Contains(err.Error(), "empty secret refused") {
		t.Errorf("an empty secret gave %v", err)
	}
}

func TestScanCatchesPlantedSecrets(t *testing.T) {
	for _, path := range recordingFiles(t) {
		data, _ := os.ReadFile(path)
		if err := Scan(data, testKey); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	clean, err := os.ReadFile(recordingsDir + "/python-proxy/test_generated_api_coverage.pyTestGeneratedApiCoveragetest_generate_client_token.json")
	if err != nil {
		t.Fatal(err)
	}
	token := signed(t, jwt.MapClaims{"sub": "u"})
	plant := func(old, new string) []byte { return bytes.Replace(clean, []byte(old), []byte(new), 1) }
	cases := map[string]struct {
		data []byte
		want string
	}{
		"a token in the body":       {plant(`"token": "Sanitized"`, `"token": "`+token+`"`), "a JWT at line 23"},
		"a JWT glued to text":       {plant(`"Variables": {}`, `"Variables": {"x": "prefix.`+token+`"}`), "a JWT at line 27"},
		"the key in a variable":     {plant(`"Variables": {}`, `"Variables": {"k": "`+strings.ToUpper(testKey)+`"}`), "secret 1 (as text)"},
		"the key in base64, offset": {plant(`"Variables": {}`, `"Variables": {"k": "`+base64.StdEncoding.EncodeToString([]byte("ab"+testKey+"c"))+`"}`), "secret 1 (base64-encoded)"},
		"an access key":             {plant(`"Accept": "*/*"`, `"Accept": "Endpoint=x;accesskey=abc;"`), "an access key value at line 7"},
		"a bearer value":            {plant(`"Accept": "*/*"`, `"Authorization": "bearer abc"`), "a bearer value at line 7"},
	}
	for name, c := range cases {
		err := Scan(c.data, testKey)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	// Not JWTs: dotted names and base64 that is not a JSON header.
	if err := Scan([]byte(`{"h": "Sanitized.webpubsub.azure.com", "v": "aGVsbG8.d29ybGQ.eHl6", "w": "eyJub3QiOiJhIGp3dCJ9.e30.x"}`)); err != nil {
		t.Error(err)
	}
}

func TestConcurrentRecord(t *testing.T) {
	srv := fakeService(t, "none")
	rec, err := NewRecorder(RecordOptions{Secrets: []string{testKey}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			send(t, rec, "POST", fmt.Sprintf("%s/api/hubs/chat/users/u%d/:send", srv.URL, i), "Bearer x", "text/plain", "hi")
		})
	}
	wg.Wait()
	data, err := rec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseTestProxy(data)
	if err != nil || len(f.Interactions) != 20 || rec.Len() != 20 {
		t.Fatalf("recorded %d of 20: %v", rec.Len(), err)
	}
}

// BenchmarkSave100 writes a fixture of 100 recorded calls, redaction and
// scanning included: the fixed cost recording adds to a test file.
func BenchmarkSave100(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Api-Supported-Versions", "2021-10-01, 2022-11-01, 2023-07-01, 2024-01-01, 2024-12-01")
		w.WriteHeader(202)
	}))
	defer srv.Close()
	rec, err := NewRecorder(RecordOptions{Secrets: []string{testKey, "Endpoint=" + srv.URL + ";AccessKey=" + testKey + ";Version=1.0;"}})
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: rec}
	for i := range 100 {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/hubs/hub/groups/group%d/:send?api-version=2024-12-01", srv.URL, i%7),
			strings.NewReader(fmt.Sprintf(`{"seq":%d,"text":"deploy starting","type":"notice"}`, i)))
		req.Header.Set("Authorization", "Bearer "+signed(b, jwt.MapClaims{"aud": srv.URL}))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	path := filepath.Join(b.TempDir(), "f.json")
	for b.Loop() {
		if err := rec.Save(path); err != nil {
			b.Fatal(err)
		}
	}
}
