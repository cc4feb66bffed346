package service

import (
	"errors"
	"fmt"

	"wps/webpubsub/odata"
)

// parseFilter parses an OData filter; "" gives nil, which selects every
// connection. The error is the message of the real service's 400 answer.
func parseFilter(filter string) (*odata.Expr, error) {
	if filter == "" {
		return nil, nil
	}
	expr, err := odata.Parse(filter)
	var syntax *odata.SyntaxError
	switch {
	case err == nil:
		return expr, nil
	case errors.As(err, &syntax):
		return nil, fmt.Errorf("Invalid syntax for '%s': Syntax error at position %d in '%s': %s.", filter, syntax.Pos, filter, syntax.Msg)
	default:
		return nil, fmt.Errorf("Invalid syntax for '%s': %v.", filter, err)
	}
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
