package webpubsub

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func parseClaims(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return []byte(testKey), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	if parsed.Header["typ"] != "JWT" || parsed.Header["alg"] != "HS256" {
		t.Errorf("header = %v", parsed.Header)
	}
	return claims
}

func TestGetClientAccessTokenMinimal(t *testing.T) {
	c, err := NewClientFromConnectionString("Endpoint=http://LocalHost;AccessKey="+testKey+";Version=1.0;Port=8080;", "Chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	c.now = func() time.Time { return now }
	tok, err := c.GetClientAccessToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.BaseURL != "ws://localhost:8080/client/hubs/Chat" {
		t.Errorf("BaseURL = %q", tok.BaseURL)
	}
	if tok.URL != tok.BaseURL+"?access_token="+tok.Token {
		t.Errorf("URL = %q", tok.URL)
	}
	claims := parseClaims(t, tok.Token)
	if len(claims) != 3 {
		t.Errorf("claims = %v, want exactly aud, iat, exp", claims)
	}
	if claims["aud"] != "http://localhost:8080/client/hubs/Chat" {
		t.Errorf("aud = %v", claims["aud"])
	}
	if claims["iat"] != float64(now.Unix()) || claims["exp"] != float64(now.Add(time.Hour).Unix()) {
		t.Errorf("iat/exp = %v/%v", claims["iat"], claims["exp"])
	}
}

func TestGetClientAccessTokenClaims(t *testing.T) {
	c := newTestClient(t, "https://Contoso.webpubsub.azure.com", "hub")
	for _, tc := range []struct {
		protocol ClientProtocol
		base     string
	}{
		{"", "wss://contoso.webpubsub.azure.com/client/hubs/hub"},
		{ClientProtocolDefault, "wss://contoso.webpubsub.azure.com/client/hubs/hub"},
		{ClientProtocolMQTT, "wss://contoso.webpubsub.azure.com/clients/mqtt/hubs/hub"},
		{"SocketIO", "wss://contoso.webpubsub.azure.com/clients/socketio/hubs/hub"},
	} {
		tok, err := c.GetClientAccessToken(&TokenOptions{UserID: "u1", Roles: []string{"webpubsub.joinLeaveGroup"},
			Groups: []string{"g1", "g2"}, MinutesToExpire: 5, ClientProtocol: tc.protocol})
		if err != nil {
			t.Fatal(err)
		}
		if tok.BaseURL != tc.base {
			t.Errorf("%q: BaseURL = %q, want %q", tc.protocol, tok.BaseURL, tc.base)
		}
		claims := parseClaims(t, tok.Token)
		if claims["aud"] != "https"+strings.TrimPrefix(tc.base, "wss") {
			t.Errorf("aud = %v", claims["aud"])
		}
		if claims["sub"] != "u1" {
			t.Errorf("sub = %v", claims["sub"])
		}
		if roles, _ := claims["role"].([]any); len(roles) != 1 || roles[0] != "webpubsub.joinLeaveGroup" {
			t.Errorf("role = %v", claims["role"])
		}
		if groups, _ := claims["webpubsub.group"].([]any); len(groups) != 2 {
			t.Errorf("webpubsub.group = %v", claims["webpubsub.group"])
		}
		exp, _ := claims["exp"].(float64)
		iat, _ := claims["iat"].(float64)
		if exp-iat != 300 {
			t.Errorf("lifetime = %v s, want 300", exp-iat)
		}
	}
}

func TestGetClientAccessTokenErrors(t *testing.T) {
	c := newTestClient(t, "https://x.example", "hub")
	for _, opts := range []*TokenOptions{
		{MinutesToExpire: -1},
		{MinutesToExpire: MaxMinutesToExpire + 1},
		{MinutesToExpire: 1_000_000_000_000}, // overflowed into a negative exp before
		{ClientProtocol: "carrier-pigeon"},
		{Roles: []string{""}},
		{Groups: []string{"g", ""}},
	} {
		if _, err := c.GetClientAccessToken(opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
}
