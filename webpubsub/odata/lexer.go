package odata

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokenKind says what a token is.
type tokenKind uint8

const (
	tokEOF    tokenKind = iota
	tokWord             // identifier, keyword or function name
	tokString           // 'quoted string'; token.text holds the unquoted value
	tokInt              // integer with optional sign; token.num holds the value
	tokLParen
	tokRParen
	tokComma
)

// token is one lexical element of a filter.
type token struct {
	kind tokenKind
	pos  int    // 0-based byte offset of the token's first byte
	end  int    // 0-based byte offset just after the token
	text string // the word, or the unquoted string value
	num  int64  // the value of a tokInt
}

// describe names a token for error messages.
func (t token) describe(src string) string {
	switch t.kind {
	case tokEOF:
		return "end of filter"
	case tokString:
		return "string " + src[t.pos:t.end]
	default:
		return "'" + src[t.pos:t.end] + "'"
	}
}

// lex splits a filter into tokens, ending with a tokEOF token.
func lex(src string) ([]token, error) {
	var tokens []token
	i := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i == len(src) {
			return append(tokens, token{kind: tokEOF, pos: i, end: i}), nil
		}
		start := i
		c := src[i]
		switch {
		case c == '(':
			tokens = append(tokens, token{kind: tokLParen, pos: i, end: i + 1})
			i++
		case c == ')':
			tokens = append(tokens, token{kind: tokRParen, pos: i, end: i + 1})
			i++
		case c == ',':
			tokens = append(tokens, token{kind: tokComma, pos: i, end: i + 1})
			i++
		case c == '\'':
			value, end, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			tokens = append(tokens, token{kind: tokString, pos: start, end: end, text: value})
			i = end
		case c == '+' || c == '-' || isDigit(c):
			i++
			for i < len(src) && isDigit(src[i]) {
				i++
			}
			if !isDigit(src[i-1]) {
				return nil, syntaxErrorf(start, i, "expected a digit after '%c'", c)
			}
			if i < len(src) && isWordByte(src[i]) {
				word := wordAt(src, start)
				return nil, syntaxErrorf(start, start+len(word), "invalid number %q", word)
			}
			n, err := strconv.ParseInt(src[start:i], 10, 64)
			if err != nil {
				return nil, syntaxErrorf(start, i, "integer %s is out of range", src[start:i])
			}
			tokens = append(tokens, token{kind: tokInt, pos: start, end: i, num: n})
		case isWordByte(c):
			for i < len(src) && isWordByte(src[i]) {
				i++
			}
			tokens = append(tokens, token{kind: tokWord, pos: start, end: i, text: src[start:i]})
		default:
			_, size := utf8.DecodeRuneInString(src[start:])
			return nil, syntaxErrorf(start, start+size, "unexpected character %s", quoteChar(src[start:]))
		}
	}
}

// lexString reads the string literal starting with the quote at src[start]
// and returns its value and the offset just after its closing quote.
func lexString(src string, start int) (string, int, error) {
	var b strings.Builder
	i := start + 1
	from := i
	for i < len(src) {
		if src[i] != '\'' {
			i++
			continue
		}
		if i+1 < len(src) && src[i+1] == '\'' {
			b.WriteString(src[from : i+1]) // keep one quote of the pair
			i += 2
			from = i
			continue
		}
		if b.Len() == 0 {
			return src[from:i], i + 1, nil
		}
		b.WriteString(src[from:i])
		return b.String(), i + 1, nil
	}
	return "", 0, syntaxErrorf(start, len(src), "unterminated string (a string ends with ' and a quote inside it is written '')")
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || isDigit(c)
}

// wordAt returns the run of word bytes starting at src[start], for messages.
func wordAt(src string, start int) string {
	end := start + 1
	for end < len(src) && isWordByte(src[end]) {
		end++
	}
	return src[start:end]
}

// quoteChar quotes the first character of s for an error message.
func quoteChar(s string) string {
	for _, r := range s {
		return strconv.QuoteRune(r)
	}
	return "''"
}

// SyntaxError reports a filter that cannot be parsed or is ill-typed.
//
// A grammar error (Semantic false) stops the parse where it happens. A type
// or name error (Semantic true) is reported only once the whole filter has
// parsed, as the service binds a filter after parsing it: a filter with both
// gets its grammar error.
type SyntaxError struct {
	Pos int    // 1-based byte position in the filter where the problem is
	Msg string // what is wrong, e.g. "expected ')' after in-list"

	// Offset is, for a grammar error, the 0-based byte offset just past the
	// token at which the parse stopped (the length of the filter when it
	// ended too soon). It is the position the service names in its
	// message: "Syntax error at position 14 in 'invalid filter'." for the
	// unexpected word filter, which ends at offset 14.
	Offset int
	// Semantic marks a type or name error in a filter whose grammar is
	// right; Expr is then the part of the filter it is about.
	Semantic bool
	Expr     string
}

// Error returns e.g. "filter: syntax error at position 12: expected ')'
// after in-list", or for a type error "filter: invalid syntax for 'userId':
// type 'string', expect 'bool'".
func (e *SyntaxError) Error() string {
	if e.Semantic {
		return fmt.Sprintf("filter: invalid syntax for '%s': %s", e.Expr, e.Msg)
	}
	return fmt.Sprintf("filter: syntax error at position %d: %s", e.Pos, e.Msg)
}

// syntaxErrorf makes a grammar *SyntaxError about the source bytes from the
// 0-based offset pos to end.
func syntaxErrorf(pos, end int, format string, args ...any) error {
	return &SyntaxError{Pos: pos + 1, Offset: end, Msg: fmt.Sprintf(format, args...)}
}

// tokenErrorf makes a grammar *SyntaxError at token t.
func tokenErrorf(t token, format string, args ...any) error {
	return syntaxErrorf(t.pos, t.end, format, args...)
}
