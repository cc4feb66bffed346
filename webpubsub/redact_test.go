package webpubsub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"wps/webpubsub/recording"
)

// redactor is what every type holding a key or a token implements.
type redactor interface {
	fmt.Stringer
	fmt.GoStringer
	fmt.Formatter
	slog.LogValuer
	json.Marshaler
}

var _ = []redactor{Client{}, &Client{}, ConnectionString{}, &ConnectionString{}, ClientAccessToken{}, &ClientAccessToken{}}

// renderings prints v every way a program might: each fmt verb, and slog's
// text and JSON handlers, alone and nested in a struct. The key of each
// entry names the rendering; useful says whether it should name what v is
// (the hex and %d renderings only have to hide the secret).
func renderings(v any) (out map[string]string, useful map[string]bool) {
	out = map[string]string{}
	useful = map[string]bool{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%-60s"} {
		out[verb] = fmt.Sprintf(verb, v)
		useful[verb] = true
	}
	for _, verb := range []string{"%x", "%X", "%d", "%t", "%10.3v"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	out["Sprint"] = fmt.Sprint(v)
	useful["Sprint"] = true
	nested := struct {
		Name   string
		Secret any
	}{"nested", v}
	out["nested %+v"] = fmt.Sprintf("%+v", nested)
	out["nested %#v"] = fmt.Sprintf("%#v", nested)
	useful["nested %+v"], useful["nested %#v"] = true, true
	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		var buf bytes.Buffer
		slog.New(h.new(&buf)).Info("msg", "v", v)
		out["slog "+h.name] = buf.String()
		buf.Reset()
		slog.New(h.new(&buf)).Info("msg", slog.Any("cfg", nested))
		out["slog "+h.name+" nested"] = buf.String()
		useful["slog "+h.name], useful["slog "+h.name+" nested"] = true, true
	}
	return out, useful
}

func TestSecretsRedactThemselves(t *testing.T) {
	c, err := NewClient("https://x.example", testKey, "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	proxied, err := NewClient("https://x.example", testKey, "chat", &ClientOptions{ReverseProxyEndpoint: "https://apim.example"})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseConnectionString("Endpoint=https://x.example;AccessKey=" + testKey + ";Version=1.0;")
	if err != nil {
		t.Fatal(err)
	}
	token, err := c.GetClientAccessToken(&TokenOptions{UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		v       any
		secrets []string
		want    []string // all of them in every useful rendering
	}{
		{"*Client", c, []string{testKey}, []string{"chat", "x.example"}},
		{"Client", *c, []string{testKey}, []string{"chat", "x.example"}},
		{"*Client behind a proxy", proxied, []string{testKey}, []string{"chat", "x.example"}},
		{"ConnectionString", cs, []string{testKey}, []string{"x.example"}},
		{"*ConnectionString", &cs, []string{testKey}, []string{"x.example"}},
		{"ClientAccessToken", token, []string{token.Token}, []string{"x.example/client/hubs/chat"}},
		{"*ClientAccessToken", &token, []string{token.Token}, []string{"x.example/client/hubs/chat"}},
	}
	for _, tc := range cases {
		out, useful := renderings(tc.v)
		for how, s := range out {
			for _, secret := range tc.secrets {
				for _, form := range []string{secret, fmt.Sprintf("%x", secret), fmt.Sprintf("%X", secret)} {
					if strings.Contains(s, form) {
						t.Errorf("%s %s shows the secret: %s", tc.name, how, s)
					}
				}
			}
			if !useful[how] {
				continue
			}
			for _, want := range tc.want {
				if !strings.Contains(s, want) {
					t.Errorf("%s %s = %s, want it to name %q", tc.name, how, s, want)
				}
			}
		}
	}
}

func TestRedactedRenderings(t *testing.T) {
	cs := ConnectionString{Endpoint: "https://x.example", AccessKey: testKey}
	token := ClientAccessToken{Token: "abc", BaseURL: "wss://h/client/hubs/x", URL: "wss://h/client/hubs/x?access_token=abc"}
	cases := []struct{ got, want string }{
		{cs.String(), "Endpoint=https://x.example;AccessKey=REDACTED;Version=1.0;"},
		{fmt.Sprintf("%#v", cs), `webpubsub.ConnectionString{Endpoint:"https://x.example", AccessKey:"REDACTED"}`},
		{ConnectionString{}.String(), "Endpoint=;AccessKey=;Version=1.0;"}, // a missing key shows as missing
		{fmt.Sprintf("[%-12.8s]", cs), "[Endpoint    ]"},                   // flags and width still apply
		{RedactSecrets(cs.String()), cs.String()},
		{token.String(), "webpubsub.ClientAccessToken(wss://h/client/hubs/x?access_token=REDACTED)"},
		{fmt.Sprintf("%#v", token), `webpubsub.ClientAccessToken{Token:"REDACTED", BaseURL:"wss://h/client/hubs/x", URL:"wss://h/client/hubs/x?access_token=REDACTED"}`},
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})).Info("m", "cs", &cs, "token", token)
	cases = append(cases, struct{ got, want string }{strings.TrimSpace(buf.String()),
		`{"level":"INFO","msg":"m","cs":{"endpoint":"https://x.example","access_key":"REDACTED"},"token":{"base_url":"wss://h/client/hubs/x","token":"REDACTED"}}`})
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// TestFixturesMaskEveryCredentialHeader holds the recording package, which
// keeps its own copy of the credential headers, to IsCredentialHeader's
// list: a fixture written with each of them holds none of their values.
func TestFixturesMaskEveryCredentialHeader(t *testing.T) {
	in := recording.Interaction{Method: "GET", StatusCode: 200, RequestHeader: http.Header{}, ResponseHeader: http.Header{}}
	in.URL, _ = url.Parse("http://h/api/health")
	for i, name := range credentialHeaders {
		if !IsCredentialHeader(strings.ToLower(name)) {
			t.Errorf("IsCredentialHeader(%q) = false", strings.ToLower(name))
		}
		in.RequestHeader.Set(name, "credential-value-"+strconv.Itoa(i))
		in.ResponseHeader.Set(name, "credential-value-"+strconv.Itoa(i))
	}
	data, err := (&recording.Fixture{Interactions: []recording.Interaction{in}}).MarshalTestProxy()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "credential-value") {
		t.Errorf("a credential header's value reached the fixture:\n%s", data)
	}
	if IsCredentialHeader("Content-Type") {
		t.Error("Content-Type taken for a credential header")
	}
}
