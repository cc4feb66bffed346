package service

import (
	"encoding/base64"
	"strings"
)

// The permissions a client can hold, by their REST names. A permission
// alone covers every group; "<permission>.<group>" covers one group.
const (
	permJoinLeave = "joinLeaveGroup"
	permSend      = "sendToGroup"
)

// maxPatternStars is the most '*' characters a wildcard role may have.
const maxPatternStars = 5

// may reports whether c holds perm for group, from its token roles or from
// grants. The caller holds Service.mu.
func (c *connection) may(perm, group string) bool {
	if c.permissions[perm] || c.permissions[perm+"."+group] {
		return true
	}
	// Wildcard roles: webpubsub.joinLeaveGroups.<pattern> and
	// webpubsub.sendToGroups.<pattern>.
	prefix := perm + "s."
	for p := range c.permissions {
		if pattern, ok := strings.CutPrefix(p, prefix); ok && matchGroupPattern(pattern, group) {
			return true
		}
	}
	return false
}

// grant gives c perm for group, or for every group when group is "". The
// caller holds Service.mu for writing.
func (c *connection) grant(perm, group string) {
	if c.permissions == nil {
		c.permissions = map[string]bool{}
	}
	if group == "" {
		c.permissions[perm] = true
	} else {
		c.permissions[perm+"."+group] = true
	}
}

// revoke takes perm for group from c; with group "" it takes every form of
// perm: for all groups, single groups and wildcard patterns. The caller holds Service.mu
// for writing.
func (c *connection) revoke(perm, group string) {
	if group != "" {
		delete(c.permissions, perm+"."+group)
		return
	}
	for p := range c.permissions {
		if p == perm || strings.HasPrefix(p, perm+".") || strings.HasPrefix(p, perm+"s.") {
			delete(c.permissions, p)
		}
	}
}

// matchGroupPattern matches a group name against a wildcard role pattern:
// ? is one character other than '.', * is any run of characters other than
// '.', ** is any run of characters, and \ escapes the next character.
func matchGroupPattern(pattern, name string) bool {
	if pattern == "" {
		return name == ""
	}
	switch {
	case strings.HasPrefix(pattern, "**"):
		for i := 0; i <= len(name); i++ {
			if matchGroupPattern(pattern[2:], name[i:]) {
				return true
			}
		}
		return false
	case pattern[0] == '*':
		for i := 0; i <= len(name); i++ {
			if matchGroupPattern(pattern[1:], name[i:]) {
				return true
			}
			if i < len(name) && name[i] == '.' {
				return false
			}
		}
		return false
	case pattern[0] == '?':
		return name != "" && name[0] != '.' && matchGroupPattern(pattern[1:], name[1:])
	case pattern[0] == '\\' && len(pattern) > 1:
		return name != "" && name[0] == pattern[1] && matchGroupPattern(pattern[2:], name[1:])
	default:
		return name != "" && name[0] == pattern[0] && matchGroupPattern(pattern[1:], name[1:])
	}
}

// encodeToken turns random bytes into an opaque token.
func encodeToken(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
