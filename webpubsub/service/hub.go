package service

import "sort"

// hub holds the connections of one hub and who is in which group. All its
// fields are guarded by Service.mu.
type hub struct {
	name        string
	connections map[string]*connection          // by connection id
	groups      map[string]map[*connection]bool // group name → members
	users       map[string]map[*connection]bool // user id → connections
	// userGroups are the groups a user was added to through REST; the
	// user's later connections join them too, while the user has any
	// connection.
	userGroups map[string]map[string]bool
}

func newHub(name string) *hub {
	return &hub{
		name:        name,
		connections: map[string]*connection{},
		groups:      map[string]map[*connection]bool{},
		users:       map[string]map[*connection]bool{},
		userGroups:  map[string]map[string]bool{},
	}
}

// hubLocked returns the hub named name, or nil when nobody ever connected
// to it. The caller holds s.mu.
func (s *Service) hubLocked(name string) *hub {
	return s.hubs[hubKey(name)]
}

// add registers c and puts it in its initial groups and the groups of its
// user. The caller holds s.mu for writing.
func (h *hub) add(c *connection, groups []string) {
	h.connections[c.id] = c
	if c.userID != "" {
		if h.users[c.userID] == nil {
			h.users[c.userID] = map[*connection]bool{}
		}
		h.users[c.userID][c] = true
		for g := range h.userGroups[c.userID] {
			h.join(c, g)
		}
	}
	for _, g := range groups {
		h.join(c, g)
	}
}

// remove forgets c and reports whether it was there. The caller holds
// s.mu for writing.
func (h *hub) remove(c *connection) bool {
	if h.connections[c.id] != c {
		return false
	}
	delete(h.connections, c.id)
	h.leaveAll(c)
	if c.userID != "" {
		delete(h.users[c.userID], c)
		if len(h.users[c.userID]) == 0 {
			delete(h.users, c.userID)
			delete(h.userGroups, c.userID)
		}
	}
	return true
}

// join adds c to group. The caller holds s.mu for writing.
func (h *hub) join(c *connection, group string) {
	if h.groups[group] == nil {
		h.groups[group] = map[*connection]bool{}
	}
	h.groups[group][c] = true
	if c.groups == nil {
		c.groups = map[string]bool{}
	}
	c.groups[group] = true
}

// leave removes c from group. The caller holds s.mu for writing.
func (h *hub) leave(c *connection, group string) {
	delete(c.groups, group)
	delete(h.groups[group], c)
	if len(h.groups[group]) == 0 {
		delete(h.groups, group)
	}
}

// leaveAll removes c from every group. The caller holds s.mu for writing.
func (h *hub) leaveAll(c *connection) {
	for g := range c.groups {
		h.leave(c, g)
	}
}

// addUserToGroup puts the user's connections, present and later, in group.
// The caller holds s.mu for writing.
func (h *hub) addUserToGroup(user, group string) {
	if h.userGroups[user] == nil {
		h.userGroups[user] = map[string]bool{}
	}
	h.userGroups[user][group] = true
	for c := range h.users[user] {
		h.join(c, group)
	}
}

// removeUserFromGroup takes the user's connections out of group. The
// caller holds s.mu for writing.
func (h *hub) removeUserFromGroup(user, group string) {
	delete(h.userGroups[user], group)
	for c := range h.users[user] {
		h.leave(c, group)
	}
}

// removeUserFromAllGroups takes the user's connections out of every group.
// The caller holds s.mu for writing.
func (h *hub) removeUserFromAllGroups(user string) {
	delete(h.userGroups, user)
	for c := range h.users[user] {
		h.leaveAll(c)
	}
}

// sortedMembers returns the connections of group ordered by id. The caller
// holds s.mu.
func (h *hub) sortedMembers(group string) []*connection {
	members := make([]*connection, 0, len(h.groups[group]))
	for c := range h.groups[group] {
		members = append(members, c)
	}
	sort.Slice(members, func(i, j int) bool { return members[i].id < members[j].id })
	return members
}
