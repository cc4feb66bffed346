package odata_test

import (
	"errors"
	"strings"
	"testing"

	"wps/webpubsub/odata"
)

func TestParse_errors(t *testing.T) {
	tests := []struct {
		filter string
		pos    int    // 1-based
		msg    string // a part of SyntaxError.Error()
	}{
		{"", 1, "empty filter"},
		{"   ", 4, "empty filter"},
		{"userId eq", 10, "expected a value, identifier, function or '(', found end of filter"},
		{"userId eq 'a", 11, "unterminated string"},
		{"userId eq 'a''", 11, "unterminated string"},
		{"userId in ('a' 'b')", 16, "expected ')' after in-list, found string 'b'"},
		{"userId in ('a',", 16, "expected a value"},
		{"userId in ()", 12, "empty in-list"},
		{"'a' in userId", 8, "expected '(' or groups after 'in', found 'userId'"},
		{"5 in groups", 1, "invalid syntax for '5 in groups': type 'int', expected a 'string' group name"},
		{"groups in ('a')", 1, "groups cannot be the left side of 'in'"},
		{"userId in ('a', groups)", 17, "groups is a collection"},
		{"userId in (1)", 1, "cannot compare type 'string' with type 'int'"},
		{"not length(userId) gt 5", 1, "invalid syntax for 'not length(userId)': type 'int', expect 'bool'"},
		{"not 'g' in groups", 1, "invalid syntax for 'not 'g'': type 'string', expect 'bool'"},
		{"userId", 1, "invalid syntax for 'userId': type 'string', expect 'bool'"},
		{"null", 1, "type 'null', expect 'bool'"},
		{"length(groups)", 1, "type 'int', expect 'bool'"},
		{"groups", 1, "type 'collection', expect 'bool'"},
		{"userId eq 'a' or 5", 18, "invalid syntax for '5': type 'int', expect 'bool'"},
		{"5 and true", 1, "invalid syntax for '5'"},
		{"userId eq 5", 1, "invalid syntax for 'userId eq 5': cannot compare type 'string' with type 'int'"},
		{"true gt false", 1, "type 'bool' has no order"},
		{"groups eq 'a'", 1, "groups is a collection"},
		{"foo eq 'a'", 1, "invalid syntax for 'foo': unknown identifier 'foo'"},
		{"userId eq 'a' userId", 15, "unexpected 'userId' after a complete expression"},
		{"userId eq 'a' eq 'b'", 15, "unexpected 'eq'"},
		{"(userId eq 'a'", 15, "expected ')' to close the '(' at position 1, found end of filter"},
		{"userId eq 'a')", 14, "unexpected ')'"},
		{"tolower userId", 9, "expected '(' after function tolower, found 'userId'"},
		{"tolower(userId", 15, "expected ',' or ')' in the arguments of tolower"},
		{"substring(userId)", 1, "wrong number of arguments to substring: got 1, want 2 or 3"},
		{"substring(userId, 1, 2, 3) eq ''", 1, "got 4, want 2 or 3"},
		{"concat() eq ''", 1, "got 0, want 2"},
		{"substring(userId, 'a') eq ''", 19, "argument 2 of substring has type 'string', expected 'int'"},
		{"startswith(groups, 'a')", 12, "argument 1 of startswith has type 'collection', expected 'string'"},
		{"length(5) eq 1", 8, "argument 1 of length has type 'int', expected 'string'"},
		{"and userId eq 'a'", 1, "expected a value before 'and'"},
		{"userId eq 'a' and", 18, "found end of filter"},
		{"userId eq 99999999999999999999", 11, "integer 99999999999999999999 is out of range"},
		{"userId eq #", 11, "unexpected character '#'"},
		{"userId eq \"a\"", 11, "unexpected character '\"'"},
		{"userId eq 'é' or é", 19, // positions count bytes
			"unexpected character 'é'"},
		{"length(userId) gt 5x", 19, "invalid number \"5x\""},
		{"length(userId) gt -", 19, "expected a digit after '-'"},
		{"length(userId) gt 1.5", 20, "unexpected character '.'"},
		{strings.Repeat("(", 101) + "true" + strings.Repeat(")", 101), 101, "nests deeper than 100 levels"},
		{strings.Repeat("not ", 101) + "true", 401, "nests deeper than 100 levels"},
		{strings.Repeat("tolower(", 101) + "userId" + strings.Repeat(")", 101) + " eq ''", 808, "nests deeper than 100 levels"},
		{"userId eq '" + strings.Repeat("x", odata.MaxLength) + "'", odata.MaxLength + 1, "filter is longer than 32768 bytes"},
		// A grammar error wins over a type or name error before it, as the
		// service parses the whole filter before it checks names and types.
		{"invalid filter", 9, "unexpected 'filter' after a complete expression"},
		{"userId eq 5 and (", 18, "found end of filter"},
	}
	for _, tt := range tests {
		name := tt.filter
		if len(name) > 60 {
			name = name[:60] + "..."
		}
		t.Run(name, func(t *testing.T) {
			f, err := odata.Parse(tt.filter)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tt.filter, f)
			}
			var se *odata.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is a %T, want *odata.SyntaxError", err, err)
			}
			if se.Pos != tt.pos || !strings.Contains(se.Error(), tt.msg) {
				t.Errorf("Parse(%q) error at %d: %q\nwant at %d: ...%q...", tt.filter, se.Pos, se.Error(), tt.pos, tt.msg)
			}
		})
	}
}

// Offset is the position the service names in "Syntax error at position N":
// just past the token where the parse stopped. The recorded Azure answer for
// 'invalid filter' names position 14, the end of the word filter.
func TestParse_grammarErrorOffset(t *testing.T) {
	tests := []struct {
		filter   string
		offset   int
		semantic bool
	}{
		{"invalid filter", 14, false},
		{"userId eq 'a' userId", 20, false},
		{"userId eq", 9, false},
		{"userId eq 'a", 12, false},
		{"userId eq #", 11, false},
		{"userId eq 'é' or é", 20, false},
		{"userId in ('a' 'b')", 18, false},
		{"length(userId) gt 5x", 20, false},
		{"   ", 3, false},
		{"userId eq 5", 0, true},
		{"foo eq 'a'", 0, true},
	}
	for _, tt := range tests {
		_, err := odata.Parse(tt.filter)
		var se *odata.SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("Parse(%q) error %v, want a *SyntaxError", tt.filter, err)
		}
		if se.Semantic != tt.semantic || (!tt.semantic && se.Offset != tt.offset) {
			t.Errorf("Parse(%q): offset %d semantic %v (%v), want offset %d semantic %v", tt.filter, se.Offset, se.Semantic, se, tt.offset, tt.semantic)
		}
	}
}

func TestParse_limitsAllowed(t *testing.T) {
	// Exactly MaxDepth levels and a long flat or-chain are accepted.
	deep := strings.Repeat("(", odata.MaxDepth) + "true" + strings.Repeat(")", odata.MaxDepth)
	if _, err := odata.Parse(deep); err != nil {
		t.Errorf("%d parentheses: %v", odata.MaxDepth, err)
	}
	wide := "userId eq 'x'" + strings.Repeat(" or 'g' in groups", 1500)
	f, err := odata.Parse(wide)
	if err != nil {
		t.Fatalf("1500 clauses: %v", err)
	}
	if got := matching(f); got != "" {
		t.Errorf("wide filter matches %q", got)
	}
}

func TestSyntaxError_Error(t *testing.T) {
	_, err := odata.Parse("userId in ('a' 'b')")
	want := "filter: syntax error at position 16: expected ')' after in-list, found string 'b'"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
