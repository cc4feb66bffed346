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
		msg    string // a part of SyntaxError.Msg
	}{
		{"", 1, "empty filter"},
		{"   ", 1, "empty filter"},
		{"userId eq", 10, "expected a value, identifier, function or '(', found end of filter"},
		{"userId eq 'a", 11, "unterminated string"},
		{"userId eq 'a''", 11, "unterminated string"},
		{"userId in ('a' 'b')", 16, "expected ')' after in-list, found string 'b'"},
		{"userId in ('a',", 16, "expected a value"},
		{"userId in ()", 12, "empty in-list"},
		{"'a' in userId", 8, "expected '(' or groups after 'in', found 'userId'"},
		{"5 in groups", 1, "type 'int', expected a 'string' group name"},
		{"groups in ('a')", 1, "groups cannot be the left side of 'in'"},
		{"userId in ('a', groups)", 17, "groups is a collection"},
		{"userId in (1)", 1, "cannot compare type 'string' with type 'int'"},
		{"not length(userId) gt 5", 1, "invalid syntax for 'not length(userId)': type 'int', expected 'bool'"},
		{"not 'g' in groups", 1, "invalid syntax for 'not 'g'': type 'string', expected 'bool'"},
		{"userId", 1, "invalid syntax for 'userId': type 'string', expected 'bool'"},
		{"null", 1, "type 'null', expected 'bool'"},
		{"length(groups)", 1, "type 'int', expected 'bool'"},
		{"groups", 1, "type 'collection', expected 'bool'"},
		{"userId eq 'a' or 5", 18, "invalid syntax for '5': type 'int', expected 'bool'"},
		{"5 and true", 1, "invalid syntax for '5'"},
		{"userId eq 5", 1, "invalid syntax for 'userId eq 5': cannot compare type 'string' with type 'int'"},
		{"true gt false", 1, "type 'bool' has no order"},
		{"groups eq 'a'", 1, "groups is a collection"},
		{"foo eq 'a'", 1, "unknown identifier 'foo'"},
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
			if se.Pos != tt.pos || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("Parse(%q) error at %d: %q\nwant at %d: ...%q...", tt.filter, se.Pos, se.Msg, tt.pos, tt.msg)
			}
		})
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
