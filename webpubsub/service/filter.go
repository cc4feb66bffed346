package service

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"wps/webpubsub/odata"
)

// parseFilter parses an OData filter; "" gives nil, which selects every
// connection. The error is the message of the real service's 400 answer:
// for a grammar error the wording of its OData parser, e.g. "Invalid syntax
// for 'invalid filter': Syntax error at position 14 in 'invalid filter'.",
// where the position is the offset just past the token the parse stopped
// at; for a type error "Invalid syntax for 'not length(userId)': Type
// 'int', expect 'bool'.".
func parseFilter(filter string) (*odata.Expr, error) {
	if filter == "" {
		return nil, nil
	}
	expr, err := odata.Parse(filter)
	var syntax *odata.SyntaxError
	switch {
	case err == nil:
		return expr, nil
	case errors.As(err, &syntax) && syntax.Semantic:
		return nil, fmt.Errorf("Invalid syntax for '%s': %s.", syntax.Expr, capitalize(syntax.Msg))
	case errors.As(err, &syntax):
		return nil, fmt.Errorf("Invalid syntax for '%s': Syntax error at position %d in '%s'.", filter, syntax.Offset, filter)
	default:
		return nil, fmt.Errorf("Invalid syntax for '%s': %v.", filter, err)
	}
}

// capitalize returns s with its first letter in upper case.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// The methods below let filters read a connection (odata.Connection). The
// caller holds Service.mu.

// ConnectionID returns the connection's id.
func (c *connection) ConnectionID() string { return c.id }

// UserID returns the connection's user id, "" when anonymous.
func (c *connection) UserID() string { return c.userID }

// InGroup reports whether the connection is in group.
func (c *connection) InGroup(group string) bool { return c.groups[group] }

// Groups returns the connection's groups.
func (c *connection) Groups() []string {
	groups := make([]string, 0, len(c.groups))
	for g := range c.groups {
		groups = append(groups, g)
	}
	return groups
}
