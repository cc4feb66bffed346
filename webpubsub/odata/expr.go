package odata

import (
	"strconv"
	"strings"
)

// Connection is what a filter can see of one client connection.
type Connection interface {
	// ConnectionID returns the connection's id.
	ConnectionID() string
	// UserID returns the connection's user id; "" means the connection has
	// no user, which filters see as null.
	UserID() string
	// InGroup reports whether the connection is in the named group (exact,
	// case-sensitive name).
	InGroup(group string) bool
	// Groups returns the groups the connection is in. Filters call it only
	// for length(groups) and `x in groups`-style lists of one collection.
	Groups() []string
}

// Expr is a parsed filter. It is immutable, so one Expr may be matched from
// many goroutines at once.
type Expr struct {
	root *node
}

// Match reports whether the filter selects connection c. A nil *Expr (no
// filter) matches every connection.
func (e *Expr) Match(c Connection) bool {
	if e == nil {
		return true
	}
	v := e.root.eval(c)
	return v.kind == kindBool && v.b
}

// String returns the filter in a normal form: keywords in lower case,
// identifiers as userId, connectionId and groups, and every subexpression
// parenthesised. Parsing the result gives an equivalent Expr.
func (e *Expr) String() string {
	if e == nil {
		return ""
	}
	var b strings.Builder
	e.root.write(&b)
	return b.String()
}

// kind is the type of a value. Expressions of kind string or int may still be
// null when evaluated (userId of a connection without user, length(null)).
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindInt
	kindString
	kindGroups // the collection of the connection's groups
)

// String returns the type's name as the service's messages spell it.
func (k kind) String() string {
	return [...]string{"null", "bool", "int", "string", "collection"}[k]
}

// value is the result of evaluating an expression for one connection.
type value struct {
	kind kind
	b    bool
	i    int64
	s    string
}

var (
	nullValue  = value{kind: kindNull}
	falseValue = value{kind: kindBool}
	trueValue  = value{kind: kindBool, b: true}
)

// op is what a node computes.
type op uint8

const (
	opLiteral op = iota
	opUserID
	opConnectionID
	opGroups
	opNot
	opAnd // args: two or more bool operands
	opOr  // args: two or more bool operands
	opEq
	opNe
	opGt
	opGe
	opLt
	opLe
	opInList   // args[0] in (args[1:]...)
	opInGroups // args[0] in groups
	opToLower
	opToUpper
	opTrim
	opSubstring // args: string, start[, length]
	opConcat
	opStartsWith
	opEndsWith
	opContains
	opIndexOf
	opLength       // of a string
	opLengthGroups // of the connection's groups
)

// node is one expression of the parsed tree.
type node struct {
	op   op
	typ  kind    // static type, checked by the parser
	lit  value   // the value of an opLiteral
	args []*node // operands
}

// eval computes the node's value for connection c.
func (n *node) eval(c Connection) value {
	switch n.op {
	case opLiteral:
		return n.lit
	case opUserID:
		if id := c.UserID(); id != "" {
			return value{kind: kindString, s: id}
		}
		return nullValue
	case opConnectionID:
		return value{kind: kindString, s: c.ConnectionID()}
	case opGroups:
		return nullValue // only opInGroups and opLengthGroups use groups, without evaluating it
	case opNot:
		v := n.args[0].eval(c)
		return boolValue(v.kind == kindBool && !v.b)
	case opAnd:
		for _, a := range n.args {
			if v := a.eval(c); v.kind != kindBool || !v.b {
				return falseValue
			}
		}
		return trueValue
	case opOr:
		for _, a := range n.args {
			if v := a.eval(c); v.kind == kindBool && v.b {
				return trueValue
			}
		}
		return falseValue
	case opEq:
		return boolValue(equal(n.args[0].eval(c), n.args[1].eval(c)))
	case opNe:
		return boolValue(!equal(n.args[0].eval(c), n.args[1].eval(c)))
	case opGt, opGe, opLt, opLe:
		cmp, ok := compare(n.args[0].eval(c), n.args[1].eval(c))
		if !ok {
			return falseValue
		}
		switch n.op {
		case opGt:
			return boolValue(cmp > 0)
		case opGe:
			return boolValue(cmp >= 0)
		case opLt:
			return boolValue(cmp < 0)
		default:
			return boolValue(cmp <= 0)
		}
	case opInList:
		v := n.args[0].eval(c)
		for _, item := range n.args[1:] {
			if equal(v, item.eval(c)) {
				return trueValue
			}
		}
		return falseValue
	case opInGroups:
		v := n.args[0].eval(c)
		return boolValue(v.kind == kindString && c.InGroup(v.s))
	case opLengthGroups:
		return value{kind: kindInt, i: int64(len(c.Groups()))}
	}
	return n.evalFunction(c)
}

// evalFunction computes the string functions. Any null argument gives null,
// or false for the boolean functions.
func (n *node) evalFunction(c Connection) value {
	a := n.args[0].eval(c)
	if a.kind == kindNull {
		return n.nullResult()
	}
	switch n.op {
	case opToLower:
		return value{kind: kindString, s: strings.ToLower(a.s)}
	case opToUpper:
		return value{kind: kindString, s: strings.ToUpper(a.s)}
	case opTrim:
		return value{kind: kindString, s: strings.TrimSpace(a.s)}
	case opLength:
		return value{kind: kindInt, i: int64(runeCount(a.s))}
	case opSubstring:
		start := n.args[1].eval(c)
		if start.kind == kindNull {
			return nullValue
		}
		length := int64(-1) // to the end
		if len(n.args) == 3 {
			l := n.args[2].eval(c)
			if l.kind == kindNull {
				return nullValue
			}
			length = max(l.i, 0)
		}
		return value{kind: kindString, s: substring(a.s, start.i, length)}
	}
	b := n.args[1].eval(c)
	if b.kind == kindNull {
		return n.nullResult()
	}
	switch n.op {
	case opConcat:
		return value{kind: kindString, s: a.s + b.s}
	case opStartsWith:
		return boolValue(strings.HasPrefix(a.s, b.s))
	case opEndsWith:
		return boolValue(strings.HasSuffix(a.s, b.s))
	case opContains:
		return boolValue(strings.Contains(a.s, b.s))
	case opIndexOf:
		i := strings.Index(a.s, b.s)
		if i > 0 {
			i = runeCount(a.s[:i])
		}
		return value{kind: kindInt, i: int64(i)}
	}
	panic("odata: unknown op " + strconv.Itoa(int(n.op))) // unreachable: the parser makes only known ops
}

// nullResult is a function's result when an argument is null.
func (n *node) nullResult() value {
	if n.typ == kindBool {
		return falseValue
	}
	return nullValue
}

func boolValue(b bool) value {
	if b {
		return trueValue
	}
	return falseValue
}

// equal implements eq: null equals only null; other values are equal when
// they have the same kind and content (strings compared case-sensitively).
func equal(a, b value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case kindBool:
		return a.b == b.b
	case kindInt:
		return a.i == b.i
	case kindString:
		return a.s == b.s
	}
	return true // both null
}

// compare orders two ints or two strings (ordinal). ok is false when either
// is null or the kinds differ.
func compare(a, b value) (cmp int, ok bool) {
	if a.kind != b.kind {
		return 0, false
	}
	switch a.kind {
	case kindInt:
		switch {
		case a.i < b.i:
			return -1, true
		case a.i > b.i:
			return 1, true
		}
		return 0, true
	case kindString:
		return strings.Compare(a.s, b.s), true
	}
	return 0, false
}

// runeCount counts the code points of s (its bytes when s is ASCII).
func runeCount(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}

// substring returns up to length code points of s from code point start on;
// length < 0 means to the end. start and length are clamped to s.
func substring(s string, start, length int64) string {
	start = max(start, 0)
	if start >= int64(len(s)) {
		return ""
	}
	length = min(length, int64(len(s))) // a code point is at least one byte
	from, to := len(s), len(s)
	var i int64
	for offset := range s {
		if i == start {
			from = offset
		}
		if length >= 0 && i == start+length {
			to = offset
			break
		}
		i++
	}
	if from > to {
		return ""
	}
	return s[from:to]
}
