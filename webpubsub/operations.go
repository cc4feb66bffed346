package webpubsub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// This file holds the operations of the REST API, one method each, in the
// order of the API reference.

// SendOptions select the recipients of a send operation.
type SendOptions struct {
	// Excluded lists connection ids that do not receive the message
	// (SendToAll and SendToGroup only).
	Excluded []string
	// Filter is an OData expression selecting connections (not for
	// SendToConnection); build one safely with odata.Format.
	Filter string
	// TTLSeconds drops the message for clients that have not taken it
	// within that many seconds: MinTTLSeconds (0, never: the default) to
	// MaxTTLSeconds (300).
	TTLSeconds int
}

// CloseOptions go with the close operations.
type CloseOptions struct {
	// Excluded lists connection ids to keep open (not for CloseConnection).
	Excluded []string
	// Reason is given to the clients being closed.
	Reason string
}

// PermissionOptions go with the permission operations.
type PermissionOptions struct {
	// TargetName is the group the permission is on; empty means every group.
	TargetName string
}

// ListOptions bound ListConnections.
type ListOptions struct {
	// Top is the most members to return in all (0: all of them).
	Top int
	// MaxPageSize is the most members per page, MinListPageSize (1) to
	// MaxListPageSize (200); 0 means the service's default.
	MaxPageSize int
}

// GroupMember is a connection in a group.
type GroupMember struct {
	// ConnectionID identifies the connection.
	ConnectionID string `json:"connectionId"`
	// UserID is empty when the connection has no user.
	UserID string `json:"userId,omitempty"`
}

// ServiceStatus reports whether the service is healthy (HEAD /api/health).
func (c *Client) ServiceStatus(ctx context.Context) (bool, error) {
	const op = "service_status"
	resp, err := c.do(ctx, request{op: op, method: http.MethodHead, path: "/api/health", ok: []int{200}})
	if err != nil {
		return false, err
	}
	return resp.status == 200, nil
}

// SendToAll sends msg to every connection of the hub.
func (c *Client) SendToAll(ctx context.Context, msg Message, opts *SendOptions) error {
	return c.send(ctx, "send_to_all", c.hubPath(":send"), msg, opts, true, true)
}

// SendToUser sends msg to every connection of a user.
func (c *Client) SendToUser(ctx context.Context, userID string, msg Message, opts *SendOptions) error {
	const op = "send_to_user"
	if err := checkID(op, "user id", userID); err != nil {
		return err
	}
	return c.send(ctx, op, c.hubPath("users", userID, ":send"), msg, opts, false, true)
}

// SendToGroup sends msg to every connection in a group.
func (c *Client) SendToGroup(ctx context.Context, group string, msg Message, opts *SendOptions) error {
	const op = "send_to_group"
	if err := checkGroup(op, group); err != nil {
		return err
	}
	return c.send(ctx, op, c.hubPath("groups", group, ":send"), msg, opts, true, true)
}

// SendToConnection sends msg to one connection. Only opts.TTLSeconds applies.
func (c *Client) SendToConnection(ctx context.Context, connectionID string, msg Message, opts *SendOptions) error {
	const op = "send_to_connection"
	if err := checkID(op, "connection id", connectionID); err != nil {
		return err
	}
	return c.send(ctx, op, c.hubPath("connections", connectionID, ":send"), msg, opts, false, false)
}

// send is the common part of the four send operations.
func (c *Client) send(ctx context.Context, op, path string, msg Message, opts *SendOptions, allowExcluded, allowFilter bool) error {
	if err := msg.validate(op); err != nil {
		return err
	}
	var q query
	if opts != nil {
		if len(opts.Excluded) > 0 && !allowExcluded {
			return invalidf(op, "excluded connections are not supported by this operation")
		}
		if opts.Filter != "" && !allowFilter {
			return invalidf(op, "a filter is not supported by this operation")
		}
		if opts.TTLSeconds < MinTTLSeconds || opts.TTLSeconds > MaxTTLSeconds {
			return invalidf(op, "message TTL must be from %d to %d seconds, got %d", MinTTLSeconds, MaxTTLSeconds, opts.TTLSeconds)
		}
		if err := checkIDs(op, "excluded connection id", opts.Excluded); err != nil {
			return err
		}
		q.addAll("excluded", opts.Excluded)
		if opts.Filter != "" {
			q.add("filter", opts.Filter)
		}
		if opts.TTLSeconds > 0 {
			q.add("messageTtlSeconds", strconv.Itoa(opts.TTLSeconds))
		}
	}
	data := msg.Data
	if data == nil {
		data = []byte{}
	}
	_, err := c.do(ctx, request{op: op, method: http.MethodPost, path: path, query: q,
		contentType: msg.ContentType, body: data, accept: "application/json", ok: []int{202}})
	return err
}

// CloseAllConnections closes every connection of the hub.
func (c *Client) CloseAllConnections(ctx context.Context, opts *CloseOptions) error {
	return c.close(ctx, "close_all_connections", http.MethodPost, c.hubPath(":closeConnections"), opts, true)
}

// CloseConnection closes one connection. Only opts.Reason applies.
func (c *Client) CloseConnection(ctx context.Context, connectionID string, opts *CloseOptions) error {
	const op = "close_connection"
	if err := checkID(op, "connection id", connectionID); err != nil {
		return err
	}
	return c.close(ctx, op, http.MethodDelete, c.hubPath("connections", connectionID), opts, false)
}

// CloseGroupConnections closes every connection in a group.
func (c *Client) CloseGroupConnections(ctx context.Context, group string, opts *CloseOptions) error {
	const op = "close_group_connections"
	if err := checkGroup(op, group); err != nil {
		return err
	}
	return c.close(ctx, op, http.MethodPost, c.hubPath("groups", group, ":closeConnections"), opts, true)
}

// CloseUserConnections closes every connection of a user.
func (c *Client) CloseUserConnections(ctx context.Context, userID string, opts *CloseOptions) error {
	const op = "close_user_connections"
	if err := checkID(op, "user id", userID); err != nil {
		return err
	}
	return c.close(ctx, op, http.MethodPost, c.hubPath("users", userID, ":closeConnections"), opts, true)
}

// close is the common part of the four close operations.
func (c *Client) close(ctx context.Context, op, method, path string, opts *CloseOptions, allowExcluded bool) error {
	var q query
	if opts != nil {
		if len(opts.Excluded) > 0 && !allowExcluded {
			return invalidf(op, "excluded connections are not supported by this operation")
		}
		if err := checkIDs(op, "excluded connection id", opts.Excluded); err != nil {
			return err
		}
		q.addAll("excluded", opts.Excluded)
		if opts.Reason != "" {
			q.add("reason", opts.Reason)
		}
	}
	_, err := c.do(ctx, request{op: op, method: method, path: path, query: q, accept: "application/json", ok: []int{204}})
	return err
}

// ConnectionExists reports whether a connection is open.
func (c *Client) ConnectionExists(ctx context.Context, connectionID string) (bool, error) {
	const op = "connection_exists"
	if err := checkID(op, "connection id", connectionID); err != nil {
		return false, err
	}
	return c.exists(ctx, op, c.hubPath("connections", connectionID), nil)
}

// GroupExists reports whether a group has any connection.
func (c *Client) GroupExists(ctx context.Context, group string) (bool, error) {
	const op = "group_exists"
	if err := checkGroup(op, group); err != nil {
		return false, err
	}
	return c.exists(ctx, op, c.hubPath("groups", group), nil)
}

// UserExists reports whether a user has any connection.
func (c *Client) UserExists(ctx context.Context, userID string) (bool, error) {
	const op = "user_exists"
	if err := checkID(op, "user id", userID); err != nil {
		return false, err
	}
	return c.exists(ctx, op, c.hubPath("users", userID), nil)
}

// exists sends a HEAD request: 200 is true, 404 is false, anything else an
// error.
func (c *Client) exists(ctx context.Context, op, path string, q query) (bool, error) {
	resp, err := c.do(ctx, request{op: op, method: http.MethodHead, path: path, query: q, ok: []int{200, 404}})
	if err != nil {
		return false, err
	}
	return resp.status == 200, nil
}

// AddConnectionToGroup adds a connection to a group. The service answers
// 404 (Error.Code "Info.Connection.NotExisted" or similar) for an unknown
// connection.
func (c *Client) AddConnectionToGroup(ctx context.Context, group, connectionID string) error {
	const op = "add_connection_to_group"
	if err := checkGroupAndID(op, group, "connection id", connectionID); err != nil {
		return err
	}
	return c.put(ctx, op, c.hubPath("groups", group, "connections", connectionID), nil)
}

// RemoveConnectionFromGroup removes a connection from a group.
func (c *Client) RemoveConnectionFromGroup(ctx context.Context, group, connectionID string) error {
	const op = "remove_connection_from_group"
	if err := checkGroupAndID(op, group, "connection id", connectionID); err != nil {
		return err
	}
	return c.delete(ctx, op, c.hubPath("groups", group, "connections", connectionID), nil)
}

// RemoveConnectionFromAllGroups removes a connection from every group.
func (c *Client) RemoveConnectionFromAllGroups(ctx context.Context, connectionID string) error {
	const op = "remove_connection_from_all_groups"
	if err := checkID(op, "connection id", connectionID); err != nil {
		return err
	}
	return c.delete(ctx, op, c.hubPath("connections", connectionID, "groups"), nil)
}

// AddUserToGroup adds every connection of a user to a group.
func (c *Client) AddUserToGroup(ctx context.Context, group, userID string) error {
	const op = "add_user_to_group"
	if err := checkGroupAndID(op, group, "user id", userID); err != nil {
		return err
	}
	return c.put(ctx, op, c.hubPath("users", userID, "groups", group), nil)
}

// RemoveUserFromGroup removes every connection of a user from a group.
func (c *Client) RemoveUserFromGroup(ctx context.Context, group, userID string) error {
	const op = "remove_user_from_group"
	if err := checkGroupAndID(op, group, "user id", userID); err != nil {
		return err
	}
	return c.delete(ctx, op, c.hubPath("users", userID, "groups", group), nil)
}

// RemoveUserFromAllGroups removes every connection of a user from every group.
func (c *Client) RemoveUserFromAllGroups(ctx context.Context, userID string) error {
	const op = "remove_user_from_all_groups"
	if err := checkID(op, "user id", userID); err != nil {
		return err
	}
	return c.delete(ctx, op, c.hubPath("users", userID, "groups"), nil)
}

// AddConnectionsToGroups adds the connections a filter selects to groups
// (POST :addToGroups). An empty filter selects every connection.
func (c *Client) AddConnectionsToGroups(ctx context.Context, groups []string, filter string) error {
	return c.groupsRequest(ctx, "add_connections_to_groups", ":addToGroups", groups, filter)
}

// RemoveConnectionsFromGroups removes the connections a filter selects from
// groups (POST :removeFromGroups). An empty filter selects every connection.
func (c *Client) RemoveConnectionsFromGroups(ctx context.Context, groups []string, filter string) error {
	return c.groupsRequest(ctx, "remove_connections_from_groups", ":removeFromGroups", groups, filter)
}

func (c *Client) groupsRequest(ctx context.Context, op, action string, groups []string, filter string) error {
	if len(groups) == 0 {
		return invalidf(op, "no groups given")
	}
	for _, g := range groups {
		if err := checkGroup(op, g); err != nil {
			return err
		}
	}
	body, err := json.Marshal(struct {
		Groups []string `json:"groups"`
		Filter string   `json:"filter,omitempty"`
	}{groups, filter})
	if err != nil {
		return fmt.Errorf("%s: encoding the body: %w", op, err)
	}
	_, err = c.do(ctx, request{op: op, method: http.MethodPost, path: c.hubPath(action),
		contentType: ContentTypeJSON, body: body, accept: "application/json", ok: []int{200}})
	return err
}

// GrantPermission grants a connection a permission.
func (c *Client) GrantPermission(ctx context.Context, permission Permission, connectionID string, opts *PermissionOptions) error {
	const op = "grant_permission"
	path, q, err := c.permissionRequest(op, permission, connectionID, opts)
	if err != nil {
		return err
	}
	return c.put(ctx, op, path, q)
}

// RevokePermission revokes a permission from a connection.
func (c *Client) RevokePermission(ctx context.Context, permission Permission, connectionID string, opts *PermissionOptions) error {
	const op = "revoke_permission"
	path, q, err := c.permissionRequest(op, permission, connectionID, opts)
	if err != nil {
		return err
	}
	return c.delete(ctx, op, path, q)
}

// CheckPermission reports whether a connection has a permission.
func (c *Client) CheckPermission(ctx context.Context, permission Permission, connectionID string, opts *PermissionOptions) (bool, error) {
	const op = "check_permission"
	path, q, err := c.permissionRequest(op, permission, connectionID, opts)
	if err != nil {
		return false, err
	}
	return c.exists(ctx, op, path, q)
}

func (c *Client) permissionRequest(op string, permission Permission, connectionID string, opts *PermissionOptions) (string, query, error) {
	if !slices.Contains(Permissions(), permission) {
		return "", nil, invalidf(op, "unknown permission %q (want %s or %s)", string(permission), PermissionSendToGroup, PermissionJoinLeaveGroup)
	}
	if err := checkID(op, "connection id", connectionID); err != nil {
		return "", nil, err
	}
	var q query
	if opts != nil && opts.TargetName != "" {
		if err := checkGroup(op, opts.TargetName); err != nil {
			return "", nil, err
		}
		q.add("targetName", opts.TargetName)
	}
	return c.hubPath("permissions", string(permission), "connections", connectionID), q, nil
}

// ListConnections returns the connections in a group, following every
// nextLink until the service has no more or opts.Top are collected.
func (c *Client) ListConnections(ctx context.Context, group string, opts *ListOptions) ([]GroupMember, error) {
	const op = "list_connections"
	if err := checkGroup(op, group); err != nil {
		return nil, err
	}
	var q query
	top := 0
	if opts != nil {
		if opts.Top < 0 {
			return nil, invalidf(op, "top must be at least 1, got %d", opts.Top)
		}
		if opts.MaxPageSize != 0 && (opts.MaxPageSize < MinListPageSize || opts.MaxPageSize > MaxListPageSize) {
			return nil, invalidf(op, "max page size must be from %d to %d, got %d", MinListPageSize, MaxListPageSize, opts.MaxPageSize)
		}
		top = opts.Top
		if opts.MaxPageSize > 0 {
			q.add("maxpagesize", strconv.Itoa(opts.MaxPageSize))
		}
		if opts.Top > 0 {
			q.add("top", strconv.Itoa(opts.Top))
		}
	}
	r := request{op: op, method: http.MethodGet, path: c.hubPath("groups", group, "connections"), query: q,
		accept: "application/json", ok: []int{200}}
	var members []GroupMember
	seen := map[string]bool{}
	for {
		resp, err := c.do(ctx, r)
		if err != nil {
			return nil, err
		}
		var page struct {
			Value    []GroupMember `json:"value"`
			NextLink string        `json:"nextLink"`
		}
		if err := json.Unmarshal(resp.body, &page); err != nil {
			return nil, &Error{Operation: op, Method: r.method, Path: r.path, StatusCode: resp.status,
				Message: "the service returned a page that is not JSON: " + err.Error()}
		}
		members = append(members, page.Value...)
		if top > 0 && len(members) >= top {
			return members[:top], nil
		}
		if page.NextLink == "" {
			return members, nil
		}
		if seen[page.NextLink] {
			return nil, &Error{Operation: op, Method: r.method, Path: r.path, StatusCode: resp.status,
				Message: "the service returned the same nextLink twice"}
		}
		seen[page.NextLink] = true
		r.rawURL = page.NextLink
	}
}

// GenerateClientToken asks the service to sign a client access token
// (POST :generateToken). GetClientAccessToken signs the same token locally
// without a request.
func (c *Client) GenerateClientToken(ctx context.Context, opts *TokenOptions) (string, error) {
	const op = "generate_client_token"
	if opts == nil {
		opts = &TokenOptions{}
	}
	if _, err := clientPath(opts.ClientProtocol); err != nil {
		return "", invalidf(op, "%v", err)
	}
	if opts.MinutesToExpire != 0 && (opts.MinutesToExpire < MinMinutesToExpire || opts.MinutesToExpire > MaxMinutesToExpire) {
		return "", invalidf(op, "minutes to expire must be from %d to %d, got %d", MinMinutesToExpire, MaxMinutesToExpire, opts.MinutesToExpire)
	}
	if err := checkNonEmpty(op, "role", opts.Roles); err != nil {
		return "", err
	}
	if err := checkNonEmpty(op, "group", opts.Groups); err != nil {
		return "", err
	}
	var q query
	if opts.UserID != "" {
		q.add("userId", opts.UserID)
	}
	q.addAll("role", opts.Roles)
	if opts.MinutesToExpire > 0 {
		q.add("minutesToExpire", strconv.Itoa(opts.MinutesToExpire))
	}
	q.addAll("group", opts.Groups)
	if opts.ClientProtocol != "" {
		q.add("clientType", clientTypeName(opts.ClientProtocol))
	}
	resp, err := c.do(ctx, request{op: op, method: http.MethodPost, path: c.hubPath(":generateToken"), query: q,
		accept: "application/json, text/json", ok: []int{200}})
	if err != nil {
		return "", err
	}
	var body struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil || body.Token == "" {
		return "", &Error{Operation: op, Method: http.MethodPost, Path: c.hubPath(":generateToken"), StatusCode: resp.status,
			Message: "the service's answer has no token"}
	}
	return body.Token, nil
}

// clientTypeName is the clientType query value of a protocol, spelled as
// the Python SDK's enum spells it.
func clientTypeName(p ClientProtocol) string {
	switch ClientProtocol(strings.ToLower(string(p))) {
	case ClientProtocolMQTT:
		return "MQTT"
	case ClientProtocolSocketIO:
		return "SocketIO"
	}
	return "Default"
}

func (c *Client) put(ctx context.Context, op, path string, q query) error {
	_, err := c.do(ctx, request{op: op, method: http.MethodPut, path: path, query: q, accept: "application/json", ok: []int{200}})
	return err
}

func (c *Client) delete(ctx context.Context, op, path string, q query) error {
	_, err := c.do(ctx, request{op: op, method: http.MethodDelete, path: path, query: q, accept: "application/json", ok: []int{204}})
	return err
}

// checkID rejects an empty id.
func checkID(op, what, id string) error {
	if id == "" {
		return invalidf(op, "%s is empty", what)
	}
	return nil
}

func checkIDs(op, what string, ids []string) error {
	for _, id := range ids {
		if err := checkID(op, what, id); err != nil {
			return err
		}
	}
	return nil
}

// checkGroup applies the API's rule for group names: 1 to MaxGroupNameLength
// characters, not only white space.
func checkGroup(op, group string) error {
	switch {
	case group == "":
		return invalidf(op, "group name is empty")
	case len([]rune(group)) > MaxGroupNameLength:
		return invalidf(op, "group name is longer than %d characters", MaxGroupNameLength)
	case strings.TrimSpace(group) == "":
		return invalidf(op, "group name is only white space")
	}
	return nil
}

func checkGroupAndID(op, group, what, id string) error {
	if err := checkGroup(op, group); err != nil {
		return err
	}
	return checkID(op, what, id)
}
