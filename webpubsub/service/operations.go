package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"wps/webpubsub/odata"
)

// maxBodySize is the largest message a REST send accepts.
const maxBodySize = 1 << 20

// defaultCloseReason is the reason clients see when a REST close gives none.
const defaultCloseReason = "Connection closed by the app server."

// maxReasonLength is the longest close reason a REST close accepts, in
// characters. JSON clients get all of it in their disconnected message;
// the close frame carries its first 123 bytes.
const maxReasonLength = 1024

// sendRequest is a parsed send operation: the message and who must not get it.
type sendRequest struct {
	msg      *outMessage
	excluded map[string]bool
	filter   *odata.Expr
}

// wants reports whether connection c is a recipient.
func (req *sendRequest) wants(c *connection) bool {
	return !req.excluded[c.id] && req.filter.Match(c)
}

// readSend parses the body, Content-Type, messageTtlSeconds, excluded and
// filter of a send. On a problem it answers and returns nil.
func (s *Service) readSend(w http.ResponseWriter, r *http.Request, from, group string) *sendRequest {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var dataType string
	switch strings.ToLower(mediaType) {
	case "text/plain":
		dataType = dataText
	case "application/json":
		dataType = dataJSON
	case "application/octet-stream":
		dataType = dataBinary
	default:
		writeError(w, r, http.StatusUnsupportedMediaType, "Error.UnsupportedMediaType", "Content-Type",
			fmt.Sprintf("unsupported Content-Type %q: use text/plain, application/json or application/octet-stream", r.Header.Get("Content-Type")))
		return nil
	}
	body, err := readBody(w, r)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, r, http.StatusRequestEntityTooLarge, "Error.PayloadTooLarge", "Body",
			fmt.Sprintf("the message is larger than %d bytes", maxBodySize))
		return nil
	case err != nil:
		writeError(w, r, http.StatusBadRequest, "Error.BadRequest", "Body", "reading the message: "+err.Error())
		return nil
	case dataType != dataBinary && !utf8.Valid(body):
		// Clients receive text and JSON in text frames, which must be
		// UTF-8: browsers drop a connection that receives anything else.
		writeError(w, r, http.StatusBadRequest, "Error.BadRequest", "Body",
			fmt.Sprintf("the message is not valid UTF-8, but Content-Type is %s; send other bytes as application/octet-stream", strings.ToLower(mediaType)))
		return nil
	case dataType == dataJSON && !json.Valid(body):
		writeError(w, r, http.StatusBadRequest, "Error.BadRequest", "Body", "the message is not valid JSON, but Content-Type is application/json")
		return nil
	}
	query := r.URL.Query()
	msg := &outMessage{from: from, group: group, dataType: dataType, data: body}
	if ttl := query.Get("messageTtlSeconds"); ttl != "" {
		seconds, err := strconv.Atoi(ttl)
		if err != nil || seconds < 0 || seconds > 300 {
			writeBadParameter(w, r, "messageTtlSeconds", fmt.Sprintf("messageTtlSeconds must be a whole number from 0 to 300, not %q.", ttl))
			return nil
		}
		if seconds > 0 {
			msg.expires = s.now().Add(time.Duration(seconds) * time.Second)
		}
	}
	filter, err := parseFilter(query.Get("filter"))
	if err != nil {
		writeBadParameter(w, r, "filter", err.Error())
		return nil
	}
	req := &sendRequest{msg: msg, filter: filter}
	for _, id := range query["excluded"] {
		if req.excluded == nil {
			req.excluded = map[string]bool{}
		}
		req.excluded[id] = true
	}
	return req
}

// readBody reads a request body of at most maxBodySize bytes. A body of
// known length is read into a buffer of exactly that size, so a large
// message costs its size once and leaves no garbage behind.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, maxBodySize)
	if n := r.ContentLength; n > 0 && n <= maxBodySize {
		b := make([]byte, n)
		if _, err := io.ReadFull(body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(body)
}

// sendToAll is POST /api/hubs/{hub}/:send.
func (s *Service) sendToAll(w http.ResponseWriter, r *http.Request, p *restParams) {
	req := s.readSend(w, r, "server", "")
	if req == nil {
		return
	}
	s.mu.RLock()
	if h := s.hubLocked(p.hub); h != nil {
		for _, c := range h.connections {
			if req.wants(c) {
				c.send(req.msg)
			}
		}
	}
	s.mu.RUnlock()
	w.WriteHeader(http.StatusAccepted)
}

// sendToUser is POST /api/hubs/{hub}/users/{user}/:send.
func (s *Service) sendToUser(w http.ResponseWriter, r *http.Request, p *restParams) {
	req := s.readSend(w, r, "server", "")
	if req == nil {
		return
	}
	s.mu.RLock()
	if h := s.hubLocked(p.hub); h != nil {
		for c := range h.users[p.user] {
			if req.wants(c) {
				c.send(req.msg)
			}
		}
	}
	s.mu.RUnlock()
	w.WriteHeader(http.StatusAccepted)
}

// sendToGroup is POST /api/hubs/{hub}/groups/{group}/:send. Clients get it
// as a group message.
func (s *Service) sendToGroup(w http.ResponseWriter, r *http.Request, p *restParams) {
	req := s.readSend(w, r, "group", p.group)
	if req == nil {
		return
	}
	s.mu.RLock()
	if h := s.hubLocked(p.hub); h != nil {
		for c := range h.groups[p.group] {
			if req.wants(c) {
				c.send(req.msg)
			}
		}
	}
	s.mu.RUnlock()
	w.WriteHeader(http.StatusAccepted)
}

// sendToConnection is POST /api/hubs/{hub}/connections/{connection}/:send.
// An unknown connection is not an error: sends are fire-and-forget.
func (s *Service) sendToConnection(w http.ResponseWriter, r *http.Request, p *restParams) {
	req := s.readSend(w, r, "server", "")
	if req == nil {
		return
	}
	s.mu.RLock()
	if c := s.connectionLocked(p.hub, p.connection); c != nil {
		c.send(req.msg)
	}
	s.mu.RUnlock()
	w.WriteHeader(http.StatusAccepted)
}

// connectionLocked returns a connection of a hub, or nil. The caller holds s.mu.
func (s *Service) connectionLocked(hub, id string) *connection {
	if h := s.hubLocked(hub); h != nil {
		return h.connections[id]
	}
	return nil
}

// closeTargets closes the chosen connections with the request's reason,
// skipping the excluded ones, and answers 204.
func (s *Service) closeTargets(w http.ResponseWriter, r *http.Request, choose func() []*connection) {
	query := r.URL.Query()
	excluded := map[string]bool{}
	for _, id := range query["excluded"] {
		excluded[id] = true
	}
	reason := query.Get("reason")
	switch {
	case reason == "":
		reason = defaultCloseReason
	case !utf8.ValidString(reason):
		writeBadParameter(w, r, "reason", "The reason must be valid UTF-8 text: clients receive it in a close frame.")
		return
	case utf8.RuneCountInString(reason) > maxReasonLength:
		writeBadParameter(w, r, "reason", fmt.Sprintf("The reason has %d characters; the limit is %d.", utf8.RuneCountInString(reason), maxReasonLength))
		return
	}
	var targets []*connection
	s.mu.RLock()
	for _, c := range choose() {
		if !excluded[c.id] {
			targets = append(targets, c)
		}
	}
	s.mu.RUnlock()
	for _, c := range targets {
		c.close(websocket.CloseNormalClosure, reason)
		s.removeConnection(c, reason) // gone for the next REST call, not only once the client has answered
	}
	w.WriteHeader(http.StatusNoContent)
}

// closeAllConnections is POST /api/hubs/{hub}/:closeConnections.
func (s *Service) closeAllConnections(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.closeTargets(w, r, func() []*connection {
		if h := s.hubLocked(p.hub); h != nil {
			return slices.Collect(maps.Values(h.connections))
		}
		return nil
	})
}

// closeUserConnections is POST /api/hubs/{hub}/users/{user}/:closeConnections.
func (s *Service) closeUserConnections(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.closeTargets(w, r, func() []*connection {
		if h := s.hubLocked(p.hub); h != nil {
			return slices.Collect(maps.Keys(h.users[p.user]))
		}
		return nil
	})
}

// closeGroupConnections is POST /api/hubs/{hub}/groups/{group}/:closeConnections.
func (s *Service) closeGroupConnections(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.closeTargets(w, r, func() []*connection {
		if h := s.hubLocked(p.hub); h != nil {
			return slices.Collect(maps.Keys(h.groups[p.group]))
		}
		return nil
	})
}

// closeConnection is DELETE /api/hubs/{hub}/connections/{connection}.
func (s *Service) closeConnection(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.closeTargets(w, r, func() []*connection {
		if c := s.connectionLocked(p.hub, p.connection); c != nil {
			return []*connection{c}
		}
		return nil
	})
}

// connectionExists is HEAD /api/hubs/{hub}/connections/{connection}.
func (s *Service) connectionExists(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.mu.RLock()
	exists := s.connectionLocked(p.hub, p.connection) != nil
	s.mu.RUnlock()
	if !exists {
		notFound(w, r, "Warning", "Connection", p.connection)
	}
}

// userExists is HEAD /api/hubs/{hub}/users/{user}: 200 when the user has a
// connection.
func (s *Service) userExists(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.mu.RLock()
	h := s.hubLocked(p.hub)
	exists := h != nil && len(h.users[p.user]) > 0
	s.mu.RUnlock()
	if !exists {
		notFound(w, r, "Warning", "User", p.user)
	}
}

// groupExists is HEAD /api/hubs/{hub}/groups/{group}: 200 when a connection
// is in the group.
func (s *Service) groupExists(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.mu.RLock()
	h := s.hubLocked(p.hub)
	exists := h != nil && len(h.groups[p.group]) > 0
	s.mu.RUnlock()
	if !exists {
		notFound(w, r, "Warning", "Group", p.group)
	}
}

// addConnectionToGroup is PUT /api/hubs/{hub}/groups/{group}/connections/{connection}.
func (s *Service) addConnectionToGroup(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.mu.Lock()
	c := s.connectionLocked(p.hub, p.connection)
	if c != nil {
		c.hub.join(c, p.group)
	}
	s.mu.Unlock()
	if c == nil {
		notFound(w, r, "Warning", "Connection", p.connection)
	}
}

// removeConnectionFromGroup is DELETE /api/hubs/{hub}/groups/{group}/connections/{connection}.
func (s *Service) removeConnectionFromGroup(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.mu.Lock()
	if c := s.connectionLocked(p.hub, p.connection); c != nil {
		c.hub.leave(c, p.group)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// removeConnectionFromAllGroups is DELETE /api/hubs/{hub}/connections/{connection}/groups.
func (s *Service) removeConnectionFromAllGroups(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.mu.Lock()
	if c := s.connectionLocked(p.hub, p.connection); c != nil {
		c.hub.leaveAll(c)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// addUserToGroup is PUT /api/hubs/{hub}/users/{user}/groups/{group}. The
// user must have a connection.
func (s *Service) addUserToGroup(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.mu.Lock()
	h := s.hubLocked(p.hub)
	exists := h != nil && len(h.users[p.user]) > 0
	if exists {
		h.addUserToGroup(p.user, p.group)
	}
	s.mu.Unlock()
	if !exists {
		notFound(w, r, "Warning", "User", p.user)
	}
}

// removeUserFromGroup is DELETE /api/hubs/{hub}/users/{user}/groups/{group}.
func (s *Service) removeUserFromGroup(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.mu.Lock()
	if h := s.hubLocked(p.hub); h != nil {
		h.removeUserFromGroup(p.user, p.group)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// removeUserFromAllGroups is DELETE /api/hubs/{hub}/users/{user}/groups.
func (s *Service) removeUserFromAllGroups(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.mu.Lock()
	if h := s.hubLocked(p.hub); h != nil {
		h.removeUserFromAllGroups(p.user)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// groupsRequest is the body of :addToGroups and :removeFromGroups.
type groupsRequest struct {
	Groups []string `json:"groups"`
	Filter string   `json:"filter"`
}

// readGroupsRequest parses and checks a groupsRequest. On a problem it
// answers and returns false.
func readGroupsRequest(w http.ResponseWriter, r *http.Request) (*groupsRequest, *odata.Expr, bool) {
	var req groupsRequest
	body, err := readBody(w, r)
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		problem := "The body could not be read: " + err.Error() + "."
		if !errors.As(err, new(*http.MaxBytesError)) {
			problem = describeJSONError("The body", err)
		}
		writeBadParameter(w, r, "groupsToAdd", problem+` It must be a JSON object like {"groups":["g1"],"filter":"userId eq 'u1'"}.`)
		return nil, nil, false
	}
	if len(req.Groups) == 0 {
		writeBadParameter(w, r, "groups", "The groups list is required and must not be empty.")
		return nil, nil, false
	}
	for _, g := range req.Groups {
		if err := checkGroup(g); err != nil {
			writeBadParameter(w, r, "groups", err.Error()+".")
			return nil, nil, false
		}
	}
	filter, err := parseFilter(req.Filter)
	if err != nil {
		writeBadParameter(w, r, "filter", err.Error())
		return nil, nil, false
	}
	return &req, filter, true
}

// addConnectionsToGroups is POST /api/hubs/{hub}/:addToGroups: every
// connection the filter selects joins every group.
func (s *Service) addConnectionsToGroups(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.regroupByFilter(w, r, p, (*hub).join)
}

// removeConnectionsFromGroups is POST /api/hubs/{hub}/:removeFromGroups:
// every connection the filter selects leaves every group.
func (s *Service) removeConnectionsFromGroups(w http.ResponseWriter, r *http.Request, p *restParams) {
	s.regroupByFilter(w, r, p, (*hub).leave)
}

// regroupByFilter reads a {groups, filter} body and applies change (join or
// leave) to each group for every connection the filter selects.
func (s *Service) regroupByFilter(w http.ResponseWriter, r *http.Request, p *restParams, change func(h *hub, c *connection, group string)) {
	req, filter, ok := readGroupsRequest(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubLocked(p.hub)
	if h == nil {
		return
	}
	var chosen []*connection
	for _, c := range h.connections {
		if filter.Match(c) {
			chosen = append(chosen, c)
		}
	}
	for _, c := range chosen {
		for _, g := range req.Groups {
			change(h, c, g)
		}
	}
}

// grantPermission is PUT /api/hubs/{hub}/permissions/{permission}/connections/{connection}.
func (s *Service) grantPermission(w http.ResponseWriter, r *http.Request, p *restParams) {
	target, ok := targetName(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	c := s.connectionLocked(p.hub, p.connection)
	if c != nil {
		c.grant(p.permission, target)
	}
	s.mu.Unlock()
	if c == nil {
		notFound(w, r, "Info", "Connection", p.connection)
	}
}

// revokePermission is DELETE /api/hubs/{hub}/permissions/{permission}/connections/{connection}.
func (s *Service) revokePermission(w http.ResponseWriter, r *http.Request, p *restParams) {
	target, ok := targetName(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if c := s.connectionLocked(p.hub, p.connection); c != nil {
		c.revoke(p.permission, target)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// checkPermission is HEAD /api/hubs/{hub}/permissions/{permission}/connections/{connection}.
func (s *Service) checkPermission(w http.ResponseWriter, r *http.Request, p *restParams) {
	target, ok := targetName(w, r)
	if !ok {
		return
	}
	s.mu.RLock()
	c := s.connectionLocked(p.hub, p.connection)
	has := c != nil && (c.permissions[p.permission] || target != "" && c.may(p.permission, target))
	s.mu.RUnlock()
	switch {
	case c == nil:
		notFound(w, r, "Info", "Connection", p.connection)
	case !has:
		writeError(w, r, http.StatusNotFound, "Info.Permission.NotGranted", "Permission",
			fmt.Sprintf("Connection `%s` has no permission %s%s.", p.connection, p.permission, forGroup(target)))
	}
}

// targetName returns the targetName query parameter, checked as a group name.
func targetName(w http.ResponseWriter, r *http.Request) (string, bool) {
	target := r.URL.Query().Get("targetName")
	if target == "" {
		return "", true
	}
	if err := checkGroup(target); err != nil {
		writeBadParameter(w, r, "targetName", err.Error()+".")
		return "", false
	}
	return target, true
}

func forGroup(group string) string {
	if group == "" {
		return ""
	}
	return " for group `" + group + "`"
}
