package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
		return nil, errors.New("no access token: send one in the Authorization header as \"Bearer <token>\", signed with the access key for the request URL")
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

// uriPath returns the path of a URL as it was written, still escaped: the
// part after the scheme and host and before the query or fragment. It
// works on strings that are not quite URLs, like the aud
// "http://localhost:8080client/hubs/hub" a Java SDK once sent, whose path
// is "/hubs/hub".
func uriPath(uri string) string {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	if _, rest, ok := strings.Cut(uri, "://"); ok {
		if slash := strings.IndexByte(rest, '/'); slash >= 0 {
			return rest[slash:]
		}
		return "/"
	}
	return uri
}

// checkRESTAudience accepts claims whose aud names the request's path,
// compared as the client escaped it: users/u%2Fgroups%2Fg is one user id,
// not the path users/u/groups/g. Only what the REST spec (§4.1) says the
// service is lenient about is ignored: the scheme and host (so tokens
// signed for the endpoint behind a reverse proxy still work), the query
// and a trailing slash. The fixed segments and the hub name, which is
// case-insensitive, compare without case; every name below the hub
// (groups, users, connections) compares exactly.
func checkRESTAudience(claims *tokenClaims, r *http.Request) error {
	requested := r.RequestURI // as the client sent it
	if requested == "" {
		requested = r.URL.EscapedPath()
	}
	want := strings.Split(strings.TrimSuffix(uriPath(requested), "/"), "/")
	for _, aud := range claims.Audience {
		if sameRESTPath(strings.Split(strings.TrimSuffix(uriPath(aud), "/"), "/"), want) {
			return nil
		}
	}
	return fmt.Errorf("the access token's audience does not match the request URL %s", r.URL.EscapedPath())
}

// sameRESTPath compares the segments of two escaped REST paths,
// /api/hubs/{hub}/...: the first four without case, the rest exactly.
func sameRESTPath(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if i < 4 && !strings.EqualFold(got[i], want[i]) || i >= 4 && got[i] != want[i] {
			return false
		}
	}
	return true
}

// checkClientAudience accepts claims whose aud is the client URL of the
// hub, {endpoint}/client/hubs/{hub}: any scheme and host, the hub without
// case, a trailing slash or a query ignored. The one leniency beyond that
// is for the Java SDK bug that dropped the slash before "client"
// (http://localhost:8080client/hubs/hub, REST spec §11), which the
// service's own SDKs produced.
func checkClientAudience(claims *tokenClaims, hub string) error {
	for _, aud := range claims.Audience {
		path := strings.TrimSuffix(uriPath(aud), "/")
		rest, ok := strings.CutPrefix(path, "/client/hubs/")
		if !ok {
			rest, ok = strings.CutPrefix(path, "/hubs/")
			ok = ok && javaClientAudience(aud)
		}
		if ok && strings.EqualFold(rest, hub) {
			return nil
		}
	}
	return fmt.Errorf("the access token's audience is not this hub's client URL (…/client/hubs/%s)", hub)
}

// javaClientAudience reports whether aud is shaped like the audience of the
// Java SDK bug: scheme://host:portclient/hubs/...
func javaClientAudience(aud string) bool {
	_, rest, ok := strings.Cut(aud, "://")
	host, _, _ := strings.Cut(rest, "/")
	return ok && strings.HasSuffix(strings.ToLower(host), "client")
}
