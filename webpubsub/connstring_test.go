package webpubsub

import (
	"errors"
	"strings"
	"testing"
)

func TestParseConnectionString(t *testing.T) {
	cases := []struct {
		in, endpoint string
	}{
		{"Endpoint=https://contoso.webpubsub.azure.com;AccessKey=" + testKey + ";Version=1.0;", "https://contoso.webpubsub.azure.com"},
		{"endpoint=https://contoso.webpubsub.azure.com/;accesskey=" + testKey, "https://contoso.webpubsub.azure.com"},
		{"AccessKey=" + testKey + ";Version=1.0;Endpoint=http://localhost;Port=8080;", "http://localhost:8080"},
		{"Endpoint=http://localhost:1234;AccessKey=" + testKey + ";Port=8080", "http://localhost:8080"},
		{"Endpoint=contoso.webpubsub.azure.com;AccessKey=" + testKey, "https://contoso.webpubsub.azure.com"},
		{" Endpoint = http://[::1] ; AccessKey = " + testKey + " ; Port=9;;", "http://[::1]:9"},
		{"Endpoint=https://x.example;AccessKey=" + testKey + ";ClientEndpoint=https://y.example;", "https://x.example"},
		{"Endpoint=https://x.example;AccessKey=a=b==;", "https://x.example"}, // '=' inside a value
	}
	for _, tc := range cases {
		cs, err := ParseConnectionString(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if cs.Endpoint != tc.endpoint {
			t.Errorf("%q: endpoint = %q, want %q", tc.in, cs.Endpoint, tc.endpoint)
		}
		if cs.AccessKey == "" {
			t.Errorf("%q: no access key", tc.in)
		}
	}
	cs, _ := ParseConnectionString("Endpoint=https://x.example;AccessKey=a=b==;")
	if cs.AccessKey != "a=b==" {
		t.Errorf("access key = %q, want a=b==", cs.AccessKey)
	}
}

func TestParseConnectionStringErrors(t *testing.T) {
	const secret = "SECRETKEYVALUE0123456789"
	cases := []struct {
		in, want string
	}{
		{"", "missing Endpoint"},
		{"AccessKey=" + secret, "missing Endpoint"},
		{"Endpoint=https://x.example", "missing AccessKey"},
		{"Endpoint=https://x.example;AccessKey=", "missing AccessKey"},
		{"Endpoint=https://x.example;" + secret, "segment 2 has no '='"},
		{"Endpoint=https://x.example;AccessKey=" + secret + ";accesskey=" + secret, "appears twice"},
		{"Endpoint=https://x.example;AccessKey=" + secret + ";Version=2.0", "unsupported Version"},
		{"Endpoint=https://x.example;AccessKey=" + secret + ";Port=0", "Port \"0\""},
		{"Endpoint=https://x.example;AccessKey=" + secret + ";Port=http", "Port \"http\""},
		{"Endpoint=https://x.example;AccessKey=" + secret + ";Port=70000", "from 1 to 65535"},
		{"Endpoint=ftp://x.example;AccessKey=" + secret, "scheme must be http or https"},
		{"Endpoint=https://;AccessKey=" + secret, "has no host"},
		{"Endpoint=https://x.example?a=b;AccessKey=" + secret, "query or fragment"},
		{"Endpoint=https://user:" + secret + "@x.example;AccessKey=" + secret, "user information"},
		{"Endpoint=https://x.example/%zz;AccessKey=" + secret, "is not a URL"},
	}
	for _, tc := range cases {
		_, err := ParseConnectionString(tc.in)
		if err == nil {
			t.Errorf("%q: no error", tc.in)
			continue
		}
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: error %v does not wrap ErrInvalidArgument", tc.in, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %q does not say %q", tc.in, err, tc.want)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q: error %q shows the key", tc.in, err)
		}
	}
}

func TestNewClientRejectsBadArguments(t *testing.T) {
	cases := []struct {
		endpoint, key, hub, want string
	}{
		{"https://x.example", testKey, "", "hub name is empty"},
		{"https://x.example", testKey, "1hub", "must start with a letter"},
		{"https://x.example", testKey, "hub-with-dash", "hub name"},
		{"https://x.example", testKey, "h" + strings.Repeat("a", 128), "at most 128"},
		{"https://x.example", "", "hub", "access key is empty"},
		{"", testKey, "hub", "endpoint is empty"},
	}
	for _, tc := range cases {
		_, err := NewClient(tc.endpoint, tc.key, tc.hub, nil)
		if err == nil || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewClient(%q, key, %q) = %v, want an error saying %q", tc.endpoint, tc.hub, err, tc.want)
		}
	}
	for _, hub := range []string{"h", "Hub_1", "a`b,c.d[e]", "h" + strings.Repeat("a", 127)} {
		if _, err := NewClient("https://x.example", testKey, hub, nil); err != nil {
			t.Errorf("hub %q: %v", hub, err)
		}
	}
	_, err := NewClient("https://x.example", testKey, "hub", &ClientOptions{ReverseProxyEndpoint: "not a url://"})
	if err == nil || !strings.Contains(err.Error(), "reverse proxy") {
		t.Errorf("bad reverse proxy: %v", err)
	}
}
