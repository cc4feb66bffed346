package webpubsub

import (
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// restTokenLifetime is how long a signed REST request stays valid; like the
// Python SDK, a minute, and a new token is signed for every attempt.
const restTokenLifetime = 60 * time.Second

// signRESTToken signs the bearer token of one request: HS256 over the UTF-8
// bytes of the access key, with the full request URL as audience.
func (c *Client) signRESTToken(audience string) (string, error) {
	claims := jwt.MapClaims{
		"aud": audience,
		"exp": c.now().Add(restTokenLifetime).Unix(),
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(c.accessKey))
	if err != nil {
		return "", fmt.Errorf("signing the request: %w", err)
	}
	return token, nil
}

// ClientProtocol selects the kind of client a client access token is for.
type ClientProtocol string

// The client protocols of the service, each with its own client path.
const (
	ClientProtocolDefault  ClientProtocol = "default"  // WebSocket clients: /client/hubs/{hub}
	ClientProtocolMQTT     ClientProtocol = "mqtt"     // MQTT clients: /clients/mqtt/hubs/{hub}
	ClientProtocolSocketIO ClientProtocol = "socketio" // Socket.IO clients: /clients/socketio/hubs/{hub}
)

// TokenOptions are the claims of a client access token.
type TokenOptions struct {
	// UserID becomes the sub claim: the user the connection belongs to.
	UserID string
	// Roles are the connection's initial permissions, such as
	// "webpubsub.joinLeaveGroup" or "webpubsub.sendToGroup.ops".
	Roles []string
	// Groups are joined when the connection opens.
	Groups []string
	// MinutesToExpire is the token's lifetime, from MinMinutesToExpire to
	// MaxMinutesToExpire; 0 means DefaultMinutesToExpire (60).
	MinutesToExpire int
	// ClientProtocol selects the client path; "" means default.
	ClientProtocol ClientProtocol
}

// ClientAccessToken is what a client needs to connect.
type ClientAccessToken struct {
	// Token is the signed JWT.
	Token string
	// BaseURL is the WebSocket URL without the token, such as
	// wss://contoso.webpubsub.azure.com/client/hubs/chat.
	BaseURL string
	// URL is BaseURL with the token as its access_token query parameter.
	URL string
}

// clientPath returns the path of a client protocol, ending with "/hubs/".
func clientPath(p ClientProtocol) (string, error) {
	switch ClientProtocol(strings.ToLower(string(p))) {
	case "", ClientProtocolDefault:
		return "/client/hubs/", nil
	case ClientProtocolMQTT:
		return "/clients/mqtt/hubs/", nil
	case ClientProtocolSocketIO:
		return "/clients/socketio/hubs/", nil
	}
	return "", fmt.Errorf("unknown client protocol %q (want default, mqtt or socketio)", string(p))
}

// GetClientAccessToken signs a client access token locally with the access
// key, exactly as the official SDKs do: claims aud (the http(s) client URL),
// iat and exp, and sub, role and webpubsub.group only when set.
func (c *Client) GetClientAccessToken(opts *TokenOptions) (ClientAccessToken, error) {
	const op = "get_client_access_token"
	if opts == nil {
		opts = &TokenOptions{}
	}
	path, err := clientPath(opts.ClientProtocol)
	if err != nil {
		return ClientAccessToken{}, invalidf(op, "%v", err)
	}
	minutes := opts.MinutesToExpire
	if minutes == 0 {
		minutes = DefaultMinutesToExpire
	}
	if minutes < MinMinutesToExpire || minutes > MaxMinutesToExpire {
		// Beyond the maximum, the expiry would overflow a time.Duration
		// long before it overflows the exp claim.
		return ClientAccessToken{}, invalidf(op, "minutes to expire must be from %d to %d, got %d", MinMinutesToExpire, MaxMinutesToExpire, minutes)
	}
	if err := checkNonEmpty(op, "role", opts.Roles); err != nil {
		return ClientAccessToken{}, err
	}
	if err := checkNonEmpty(op, "group", opts.Groups); err != nil {
		return ClientAccessToken{}, err
	}
	endpoint := strings.ToLower(c.endpoint)
	now := c.now()
	claims := jwt.MapClaims{
		"aud": endpoint + path + c.hub,
		"iat": now.Unix(),
		"exp": now.Add(time.Duration(minutes) * time.Minute).Unix(),
	}
	if opts.UserID != "" {
		claims["sub"] = opts.UserID
	}
	if len(opts.Roles) > 0 {
		claims["role"] = opts.Roles
	}
	if len(opts.Groups) > 0 {
		claims["webpubsub.group"] = opts.Groups
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(c.accessKey))
	if err != nil {
		return ClientAccessToken{}, fmt.Errorf("%s: signing: %w", op, err)
	}
	base := "ws" + strings.TrimPrefix(endpoint, "http") + path + c.hub
	return ClientAccessToken{Token: token, BaseURL: base, URL: base + "?access_token=" + token}, nil
}

func checkNonEmpty(op, what string, values []string) error {
	for i, v := range values {
		if v == "" {
			return invalidf(op, "%s %d is empty", what, i+1)
		}
	}
	return nil
}
