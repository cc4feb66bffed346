package service

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// defaultPageSize is the page size of listConnectionsInGroup when the
// request gives no maxpagesize.
const defaultPageSize = 200

// groupMember is one item of a listConnectionsInGroup page.
type groupMember struct {
	ConnectionID string  `json:"connectionId"`
	UserID       *string `json:"userId"`
}

// listConnectionsInGroup is GET /api/hubs/{hub}/groups/{group}/connections.
// Pages are ordered by connection id; the continuation token is the last id
// of the previous page, so connections that come and go between pages do
// not shift the others. top caps the items over all pages.
func (s *Service) listConnectionsInGroup(w http.ResponseWriter, r *http.Request, p *restParams) {
	query := r.URL.Query()
	pageSize, ok := intParam(w, r, "maxpagesize", 1, 200, defaultPageSize)
	if !ok {
		return
	}
	top, ok := intParam(w, r, "top", 1, 1<<31-1, 0)
	if !ok {
		return
	}
	after := continuationAfter(query.Get("continuationToken"))
	limit := pageSize
	if top > 0 && top < limit {
		limit = top
	}

	page := []groupMember{}
	more := false
	s.mu.RLock()
	if h := s.hubLocked(p.hub); h != nil {
		for _, c := range h.sortedMembers(p.group) {
			if c.id <= after {
				continue
			}
			if len(page) == limit {
				more = true
				break
			}
			member := groupMember{ConnectionID: c.id}
			if c.userID != "" {
				userID := c.userID
				member.UserID = &userID
			}
			page = append(page, member)
		}
	}
	s.mu.RUnlock()

	response := struct {
		Value    []groupMember `json:"value"`
		NextLink string        `json:"nextLink,omitempty"`
	}{Value: page}
	if more && (top == 0 || top > len(page)) {
		next := url.Values{}
		if query.Has("maxpagesize") {
			next.Set("maxpagesize", strconv.Itoa(pageSize))
		}
		if top > 0 {
			next.Set("top", strconv.Itoa(top-len(page)))
		}
		next.Set("continuationToken", page[len(page)-1].ConnectionID)
		next.Set("api-version", query.Get("api-version"))
		response.NextLink = requestOrigin(r) + r.URL.EscapedPath() + "?" + encodeInOrder(next, "maxpagesize", "top", "continuationToken", "api-version")
	}
	body, _ := json.Marshal(response)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(body)
}

// continuationAfter returns the connection id a continuation token points
// after. The .NET SDK sends the whole nextLink as the token; its own
// continuationToken is used then.
func continuationAfter(token string) string {
	if strings.Contains(token, "?") {
		if u, err := url.Parse(token); err == nil {
			return u.Query().Get("continuationToken")
		}
	}
	return token
}

// intParam reads an optional integer query parameter from lo to hi;
// fallback is its value when absent. On a problem it answers and returns
// false.
func intParam(w http.ResponseWriter, r *http.Request, name string, lo, hi, fallback int) (int, bool) {
	text := r.URL.Query().Get(name)
	if text == "" {
		return fallback, true
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < lo || n > hi {
		writeBadParameter(w, r, name, fmt.Sprintf("%s must be a whole number from %d to %d, not %q.", name, lo, hi, text))
		return 0, false
	}
	return n, true
}

// encodeInOrder encodes values with its keys in the given order.
func encodeInOrder(values url.Values, keys ...string) string {
	var parts []string
	for _, k := range keys {
		if values.Has(k) {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(values.Get(k)))
		}
	}
	return strings.Join(parts, "&")
}
