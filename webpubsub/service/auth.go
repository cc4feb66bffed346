package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// clockSkew is how far a token's exp and nbf may be off.
const clockSkew = 30 * time.Second

// tokenClaims are the claims the service reads from a JWT. REST tokens carry
// aud and exp; client tokens add sub (the user id), role and webpubsub.group.
type tokenClaims struct {
	jwt.RegisteredClaims
	Roles       stringList `json:"role,omitempty"`
	Groups      stringList `json:"webpubsub.group,omitempty"`
	GroupsAlias stringList `json:"group,omitempty"`
}

// stringList is a claim that may be one string or an array of strings.
type stringList []string

// UnmarshalJSON accepts a string, an array of strings or null.
func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or an array of strings")
	}
	*l = many
	return nil
}

// parseToken checks the signature (HS256 with the UTF-8 bytes of key), exp
// (required) and nbf, and returns the claims. The error says what is wrong
// without repeating the token.
func parseToken(token, key string) (*tokenClaims, error) {
	if token == "" {
		return nil, errors.New("no access token: send one in the Authorization header as \"Bearer <token>\"")
	}
	claims := &tokenClaims{}
	_, err := jwt.ParseWithClaims(token, claims,
		func(*jwt.Token) (any, error) { return []byte(key), nil },
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(clockSkew),
	)
	switch {
	case err == nil:
		return claims, nil
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, errors.New("the access token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, errors.New("the access token is not valid yet (nbf is in the future)")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, errors.New("the access token's signature is invalid: it was not signed with this service's access key")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, errors.New("the access token has no exp claim")
	default:
		return nil, fmt.Errorf("the access token is invalid: %w", err)
	}
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header,
// or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// audiencePath returns the path of an aud claim, unescaped, lower-cased and
// without query or trailing slash. It works on strings that are not quite
// URLs (a Java SDK once sent "http://localhost:8080client/hubs/hub").
func audiencePath(aud string) string {
	aud, _, _ = strings.Cut(aud, "?")
	if u, err := url.Parse(aud); err == nil && u.Host != "" {
		aud = u.Path
	} else if unescaped, err := url.PathUnescape(aud); err == nil {
		aud = unescaped
	}
	return strings.TrimSuffix(strings.ToLower(aud), "/")
}

// checkRESTAudience accepts claims whose aud names the request's path. The
// scheme, host, query and a trailing slash are ignored, so tokens signed for
// the endpoint behind a reverse proxy still work.
func checkRESTAudience(claims *tokenClaims, r *http.Request) error {
	want := strings.TrimSuffix(strings.ToLower(r.URL.Path), "/")
	for _, aud := range claims.Audience {
		if audiencePath(aud) == want {
			return nil
		}
	}
	return fmt.Errorf("the access token's audience does not match the request URL %s", r.URL.Path)
}

// checkClientAudience accepts claims whose aud ends in client/hubs/{hub}.
func checkClientAudience(claims *tokenClaims, hub string) error {
	want := "client/hubs/" + hubKey(hub)
	for _, aud := range claims.Audience {
		if strings.HasSuffix(audiencePath(aud), want) {
			return nil
		}
	}
	return fmt.Errorf("the access token's audience is not this hub's client URL (…/client/hubs/%s)", hub)
}
