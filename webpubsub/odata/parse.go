package odata

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits on what Parse accepts. The service advises staying under about 100
// clauses; these limits only keep absurd input from costing time and stack.
const (
	MaxLength = 32 << 10 // bytes in a filter
	MaxDepth  = 100      // nesting of parentheses, function calls and not
)

// Parse parses and type-checks an OData filter. Errors are *SyntaxError and
// say where the problem is. An empty filter is an error: callers treat an
// absent filter as "match everything" (a nil *Expr does that).
//
// As the service does, Parse checks the grammar of the whole filter before
// its types and names: "invalid filter" is a grammar error at the word
// filter, not an unknown identifier invalid.
func Parse(filter string) (*Expr, error) {
	if len(filter) > MaxLength {
		return nil, &SyntaxError{Pos: MaxLength + 1, Offset: len(filter), Msg: "filter is longer than " + strconv.Itoa(MaxLength) + " bytes"}
	}
	tokens, err := lex(filter)
	if err != nil {
		return nil, err
	}
	p := &parser{src: filter, tokens: tokens}
	if first := p.peek(); first.kind == tokEOF {
		return nil, tokenErrorf(first, "empty filter")
	}
	t, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if next := p.peek(); next.kind != tokEOF {
		return nil, tokenErrorf(next, "unexpected %s after a complete expression (missing and/or?)", next.describe(filter))
	}
	p.expectBool(t, t)
	if p.invalid != nil {
		return nil, p.invalid
	}
	return &Expr{root: t.n}, nil
}

// parser is a recursive-descent parser over the tokens of one filter.
type parser struct {
	src    string
	tokens []token
	next   int // index of the next unread token
	depth  int // current nesting, limited by MaxDepth

	// invalid is the first type or name error. The parse goes on after
	// one, so that a grammar error later in the filter is reported instead.
	invalid *SyntaxError
}

// term is a parsed expression with its source span, for error messages.
type term struct {
	n        *node
	pos, end int
}

func (p *parser) peek() token { return p.tokens[p.next] }

func (p *parser) take() token {
	t := p.tokens[p.next]
	if t.kind != tokEOF {
		p.next++
	}
	return t
}

// peekWord reports whether the next token is the keyword w (any case).
func (p *parser) peekWord(w string) bool {
	t := p.peek()
	return t.kind == tokWord && strings.EqualFold(t.text, w)
}

// enter counts one level of nesting at token t.
func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > MaxDepth {
		return tokenErrorf(t, "filter nests deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// text returns the source of a term.
func (p *parser) text(t term) string { return p.src[t.pos:t.end] }

// invalidf records a type or name error about the expression about, at the
// 0-based offset pos, unless one was recorded before.
func (p *parser) invalidf(pos int, about term, format string, args ...any) {
	if p.invalid == nil {
		p.invalid = &SyntaxError{Pos: pos + 1, Semantic: true, Expr: p.text(about), Msg: fmt.Sprintf(format, args...)}
	}
}

// expectBool checks that t is boolean; context is the expression named in
// the error, which for not is the whole not-expression. The wording is the
// service's.
func (p *parser) expectBool(t, context term) {
	if t.n.typ != kindBool {
		p.invalidf(context.pos, context, "type '%s', expect 'bool'", t.n.typ)
	}
}

// parseOr parses: and-expression ('or' and-expression)*.
func (p *parser) parseOr() (term, error) {
	return p.parseLogical("or", opOr, p.parseAnd)
}

// parseAnd parses: comparison ('and' comparison)*.
func (p *parser) parseAnd() (term, error) {
	return p.parseLogical("and", opAnd, p.parseComparison)
}

func (p *parser) parseLogical(keyword string, o op, operand func() (term, error)) (term, error) {
	first, err := operand()
	if err != nil || !p.peekWord(keyword) {
		return first, err
	}
	p.expectBool(first, first)
	n := &node{op: o, typ: kindBool, args: []*node{first.n}}
	end := first.end
	for p.peekWord(keyword) {
		p.take()
		t, err := operand()
		if err != nil {
			return term{}, err
		}
		p.expectBool(t, t)
		n.args = append(n.args, t.n)
		end = t.end
	}
	return term{n: n, pos: first.pos, end: end}, nil
}

// comparisons maps the comparison keywords to their ops.
var comparisons = map[string]op{"eq": opEq, "ne": opNe, "gt": opGt, "ge": opGe, "lt": opLt, "le": opLe}

// parseComparison parses: unary [(eq|ne|gt|ge|lt|le) unary | 'in' in-target].
func (p *parser) parseComparison() (term, error) {
	left, err := p.parseUnary()
	if err != nil {
		return term{}, err
	}
	next := p.peek()
	if next.kind != tokWord {
		return left, nil
	}
	word := strings.ToLower(next.text)
	if word == "in" {
		p.take()
		return p.parseIn(left, next)
	}
	o, ok := comparisons[word]
	if !ok {
		return left, nil
	}
	p.take()
	right, err := p.parseUnary()
	if err != nil {
		return term{}, err
	}
	whole := term{pos: left.pos, end: right.end}
	p.checkComparable(left, right, whole, o != opEq && o != opNe)
	whole.n = &node{op: o, typ: kindBool, args: []*node{left.n, right.n}}
	return whole, nil
}

// checkComparable checks the operand types of a comparison or in-list;
// ordered is true for gt, ge, lt and le.
func (p *parser) checkComparable(left, right, whole term, ordered bool) {
	lt, rt := left.n.typ, right.n.typ
	for _, t := range []term{left, right} {
		if t.n.typ == kindGroups {
			p.invalidf(t.pos, whole, "groups is a collection; use 'name' in groups or length(groups)")
			return
		}
		if ordered && t.n.typ == kindBool {
			p.invalidf(t.pos, whole, "type 'bool' has no order, expected 'int' or 'string'")
			return
		}
	}
	if lt != rt && lt != kindNull && rt != kindNull {
		p.invalidf(whole.pos, whole, "cannot compare type '%s' with type '%s'", lt, rt)
	}
}

// parseIn parses what follows 'in': groups, or a parenthesised list of
// values, or a parenthesised collection.
func (p *parser) parseIn(left term, in token) (term, error) {
	if left.n.typ == kindGroups {
		p.invalidf(left.pos, left, "groups cannot be the left side of 'in'; write 'name' in groups")
	}
	if p.peekWord("groups") {
		t := p.take()
		return p.inGroups(left, term{n: &node{op: opGroups, typ: kindGroups}, pos: t.pos, end: t.end})
	}
	open := p.take()
	if open.kind != tokLParen {
		return term{}, tokenErrorf(open, "expected '(' or groups after 'in', found %s", open.describe(p.src))
	}
	if err := p.enter(open); err != nil {
		return term{}, err
	}
	defer p.leave()
	if p.peek().kind == tokRParen {
		return term{}, tokenErrorf(p.peek(), "empty in-list; give at least one value")
	}
	var items []term
	for {
		item, err := p.parseOr()
		if err != nil {
			return term{}, err
		}
		items = append(items, item)
		if p.peek().kind != tokComma {
			break
		}
		p.take()
	}
	closing := p.take()
	if closing.kind != tokRParen {
		return term{}, tokenErrorf(closing, "expected ')' after in-list, found %s", closing.describe(p.src))
	}
	if len(items) == 1 && items[0].n.typ == kindGroups {
		return p.inGroups(left, term{n: items[0].n, pos: open.pos, end: closing.end})
	}
	whole := term{pos: left.pos, end: closing.end}
	n := &node{op: opInList, typ: kindBool, args: []*node{left.n}}
	for _, item := range items {
		p.checkComparable(left, item, whole, false)
		n.args = append(n.args, item.n)
	}
	whole.n = n
	return whole, nil
}

// inGroups makes the node for `left in groups`.
func (p *parser) inGroups(left, groups term) (term, error) {
	whole := term{pos: left.pos, end: groups.end}
	if t := left.n.typ; t != kindString && t != kindNull && t != kindGroups {
		p.invalidf(left.pos, whole, "type '%s', expected a 'string' group name", t)
	}
	whole.n = &node{op: opInGroups, typ: kindBool, args: []*node{left.n}}
	return whole, nil
}

// parseUnary parses: 'not' unary | primary.
func (p *parser) parseUnary() (term, error) {
	if !p.peekWord("not") {
		return p.parsePrimary()
	}
	not := p.take()
	if err := p.enter(not); err != nil {
		return term{}, err
	}
	defer p.leave()
	operand, err := p.parseUnary()
	if err != nil {
		return term{}, err
	}
	whole := term{pos: not.pos, end: operand.end}
	p.expectBool(operand, whole)
	whole.n = &node{op: opNot, typ: kindBool, args: []*node{operand.n}}
	return whole, nil
}

// parsePrimary parses a literal, an identifier, a function call or a
// parenthesised expression.
func (p *parser) parsePrimary() (term, error) {
	t := p.take()
	span := func(n *node) (term, error) { return term{n: n, pos: t.pos, end: t.end}, nil }
	switch t.kind {
	case tokString:
		return span(&node{op: opLiteral, typ: kindString, lit: value{kind: kindString, s: t.text}})
	case tokInt:
		return span(&node{op: opLiteral, typ: kindInt, lit: value{kind: kindInt, i: t.num}})
	case tokLParen:
		if err := p.enter(t); err != nil {
			return term{}, err
		}
		defer p.leave()
		inner, err := p.parseOr()
		if err != nil {
			return term{}, err
		}
		closing := p.take()
		if closing.kind != tokRParen {
			return term{}, tokenErrorf(closing, "expected ')' to close the '(' at position %d, found %s", t.pos+1, closing.describe(p.src))
		}
		return term{n: inner.n, pos: t.pos, end: closing.end}, nil
	case tokWord:
		// handled below
	default:
		return term{}, tokenErrorf(t, "expected a value, identifier, function or '(', found %s", t.describe(p.src))
	}
	switch name := strings.ToLower(t.text); name {
	case "true", "false":
		return span(&node{op: opLiteral, typ: kindBool, lit: boolValue(name == "true")})
	case "null":
		return span(&node{op: opLiteral, typ: kindNull, lit: nullValue})
	case "userid":
		return span(&node{op: opUserID, typ: kindString})
	case "connectionid":
		return span(&node{op: opConnectionID, typ: kindString})
	case "groups":
		return span(&node{op: opGroups, typ: kindGroups})
	case "and", "or", "not", "in", "eq", "ne", "gt", "ge", "lt", "le":
		return term{}, tokenErrorf(t, "expected a value before '%s'", t.text)
	}
	if f, ok := functions[strings.ToLower(t.text)]; ok {
		return p.parseCall(t, f)
	}
	// The service parses any word as a property and rejects unknown ones
	// after the parse; a null stands in for it meanwhile.
	unknown, _ := span(&node{op: opLiteral, typ: kindNull, lit: nullValue})
	p.invalidf(t.pos, unknown, "unknown identifier '%s' (the identifiers are userId, connectionId and groups)", t.text)
	return unknown, nil
}

// function describes one built-in function.
type function struct {
	name     string // as String writes it
	op       op
	params   []kind // kindString parameters also accept null
	optional int    // how many trailing params may be left out
	result   kind
}

// functions lists the built-in functions by lower-case name. length takes a
// string or groups; parseCall handles the groups case.
var functions = map[string]function{
	"tolower":    {"tolower", opToLower, []kind{kindString}, 0, kindString},
	"toupper":    {"toupper", opToUpper, []kind{kindString}, 0, kindString},
	"trim":       {"trim", opTrim, []kind{kindString}, 0, kindString},
	"substring":  {"substring", opSubstring, []kind{kindString, kindInt, kindInt}, 1, kindString},
	"concat":     {"concat", opConcat, []kind{kindString, kindString}, 0, kindString},
	"startswith": {"startswith", opStartsWith, []kind{kindString, kindString}, 0, kindBool},
	"endswith":   {"endswith", opEndsWith, []kind{kindString, kindString}, 0, kindBool},
	"contains":   {"contains", opContains, []kind{kindString, kindString}, 0, kindBool},
	"indexof":    {"indexof", opIndexOf, []kind{kindString, kindString}, 0, kindInt},
	"length":     {"length", opLength, []kind{kindString}, 0, kindInt},
}

// functionNames maps each function's op to its name, for String.
var functionNames = func() map[op]string {
	m := map[op]string{opLengthGroups: "length"}
	for _, f := range functions {
		m[f.op] = f.name
	}
	return m
}()

// parseCall parses the argument list of function f, whose name is token name.
func (p *parser) parseCall(name token, f function) (term, error) {
	open := p.take()
	if open.kind != tokLParen {
		return term{}, tokenErrorf(open, "expected '(' after function %s, found %s", name.text, open.describe(p.src))
	}
	if err := p.enter(open); err != nil {
		return term{}, err
	}
	defer p.leave()
	var args []term
	if p.peek().kind != tokRParen {
		for {
			arg, err := p.parseOr()
			if err != nil {
				return term{}, err
			}
			args = append(args, arg)
			if p.peek().kind != tokComma {
				break
			}
			p.take()
		}
	}
	closing := p.take()
	if closing.kind != tokRParen {
		return term{}, tokenErrorf(closing, "expected ',' or ')' in the arguments of %s, found %s", f.name, closing.describe(p.src))
	}
	whole := term{pos: name.pos, end: closing.end}
	if n := len(args); n < len(f.params)-f.optional || n > len(f.params) {
		want := strconv.Itoa(len(f.params))
		if f.optional > 0 {
			want = strconv.Itoa(len(f.params)-f.optional) + " or " + want
		}
		p.invalidf(name.pos, whole, "wrong number of arguments to %s: got %d, want %s", f.name, n, want)
		whole.n = &node{op: f.op, typ: f.result}
		return whole, nil
	}
	if f.op == opLength && args[0].n.typ == kindGroups {
		whole.n = &node{op: opLengthGroups, typ: kindInt}
		return whole, nil
	}
	n := &node{op: f.op, typ: f.result}
	for i, arg := range args {
		want, got := f.params[i], arg.n.typ
		if got != want && !(want == kindString && got == kindNull) {
			p.invalidf(arg.pos, whole, "argument %d of %s has type '%s', expected '%s'", i+1, f.name, got, want)
		}
		n.args = append(n.args, arg.n)
	}
	whole.n = n
	return whole, nil
}
