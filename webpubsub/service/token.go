package service

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// clientPaths maps a clientType (lower-cased) to the path clients of that
// type connect to.
var clientPaths = map[string]string{
	"default":  "client/hubs/",
	"mqtt":     "clients/mqtt/hubs/",
	"socketio": "clients/socketio/hubs/",
}

// generateToken is POST /api/hubs/{hub}/:generateToken: it signs a client
// token with the query's userId, role, group, minutesToExpire and
// clientType, as the server SDKs do locally.
func (s *Service) generateToken(w http.ResponseWriter, r *http.Request, p *restParams) {
	query := r.URL.Query()
	minutes := 60
	if text := query.Get("minutesToExpire"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 {
			writeBadParameter(w, r, "minutesToExpire", fmt.Sprintf("minutesToExpire must be a whole number of at least 1, not %q.", text))
			return
		}
		minutes = n
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
	for _, g := range query["group"] {
		if err := checkGroup(g); err != nil {
			writeBadParameter(w, r, "group", err.Error()+".")
			return
		}
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
