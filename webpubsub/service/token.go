package service

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// clientPaths maps a clientType (lower-cased) to the path clients of that
// type connect to.
var clientPaths = map[string]string{
	"default":  "client/hubs/",
	"mqtt":     "clients/mqtt/hubs/",
	"socketio": "clients/socketio/hubs/",
}

// Limits of :generateToken. The service's documentation gives none but
// minutesToExpire >= 1; these keep a token's expiry far from overflowing and
// its size within what a client can put in a URL, and match the Go client's.
const (
	maxMinutesToExpire = 60 * 24 * 365 // a year
	maxTokenUserID     = 1024          // characters
	maxTokenRoles      = 100
	maxTokenRole       = 1024 // characters
	maxTokenGroups     = 100
)

// generateToken is POST /api/hubs/{hub}/:generateToken: it signs a client
// token with the query's userId, role, group, minutesToExpire and
// clientType, as the server SDKs do locally.
func (s *Service) generateToken(w http.ResponseWriter, r *http.Request, p *restParams) {
	query := r.URL.Query()
	minutes, ok := intParam(w, r, "minutesToExpire", 1, maxMinutesToExpire, 60)
	if !ok {
		return
	}
	if param, problem := checkTokenClaims(query.Get("userId"), query["role"], query["group"]); problem != "" {
		writeBadParameter(w, r, param, problem)
		return
	}
	clientType := strings.ToLower(query.Get("clientType"))
	if clientType == "" {
		clientType = "default"
	}
	path, ok := clientPaths[clientType]
	if !ok {
		writeBadParameter(w, r, "clientType", fmt.Sprintf("unknown clientType %q: use Default, MQTT or SocketIO.", query.Get("clientType")))
		return
	}
	token, err := signClientToken(s.key, requestOrigin(r)+"/"+path+p.hub, query.Get("userId"), query["role"], query["group"], time.Duration(minutes)*time.Minute)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, "Error.Internal", "Token", "signing the token failed: "+err.Error())
		return
	}
	body, _ := json.Marshal(map[string]string{"token": token})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(body)
}

// checkTokenClaims returns the query parameter of :generateToken that is out
// of range and what is wrong with it, or "", "".
func checkTokenClaims(userID string, roles, groups []string) (param, problem string) {
	switch {
	case !utf8.ValidString(userID):
		return "userId", "The userId must be valid UTF-8 text."
	case utf8.RuneCountInString(userID) > maxTokenUserID:
		return "userId", fmt.Sprintf("The userId has %d characters; the limit is %d.", utf8.RuneCountInString(userID), maxTokenUserID)
	case len(roles) > maxTokenRoles:
		return "role", fmt.Sprintf("There are %d roles; the limit is %d.", len(roles), maxTokenRoles)
	case len(groups) > maxTokenGroups:
		return "group", fmt.Sprintf("There are %d groups; the limit is %d.", len(groups), maxTokenGroups)
	}
	for _, role := range roles {
		switch {
		case role == "" || !utf8.ValidString(role):
			return "role", "A role must be non-empty, valid UTF-8 text."
		case utf8.RuneCountInString(role) > maxTokenRole:
			return "role", fmt.Sprintf("A role has %d characters; the limit is %d.", utf8.RuneCountInString(role), maxTokenRole)
		}
	}
	for _, g := range groups {
		if err := checkGroup(g); err != nil {
			return "group", capitalize(err.Error()) + "."
		}
	}
	return "", ""
}

// signClientToken returns a client access token for aud, signed with key.
func signClientToken(key, aud, userID string, roles, groups []string, lifetime time.Duration) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{
		"aud": aud,
		"iat": now.Unix(),
		"exp": now.Add(lifetime).Unix(),
	}
	if userID != "" {
		claims["sub"] = userID
	}
	if len(roles) > 0 {
		claims["role"] = roles
	}
	if len(groups) > 0 {
		claims["webpubsub.group"] = groups
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
}

// requestOrigin returns the scheme and host the client used, e.g.
// http://localhost:8080.
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
