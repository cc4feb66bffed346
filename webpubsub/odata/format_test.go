package odata_test

import (
	"math"
	"strings"
	"testing"

	"wps/webpubsub/odata"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		template string
		args     []any
		want     string
	}{
		{"userId eq {}", []any{"alice"}, "userId eq 'alice'"},
		{"userId eq {}", []any{"it's"}, "userId eq 'it''s'"},
		{"userId eq {}", []any{""}, "userId eq ''"},
		{"userId eq {}", []any{nil}, "userId eq null"},
		{"userId eq {} and {} in groups", []any{"a", "g"}, "userId eq 'a' and 'g' in groups"},
		{"length(userId) gt {}", []any{5}, "length(userId) gt 5"},
		{"length(userId) gt {}", []any{int8(-5)}, "length(userId) gt -5"},
		{"length(userId) gt {}", []any{uint64(math.MaxInt64)}, "length(userId) gt 9223372036854775807"},
		{"length(userId) gt {}", []any{uint(7)}, "length(userId) gt 7"},
		{"length(userId) gt {}", []any{int64(math.MinInt64)}, "length(userId) gt -9223372036854775808"},
		{"length(userId) gt {}", []any{3.0}, "length(userId) gt 3"},
		{"length(userId) gt {}", []any{math.Copysign(0, -1)}, "length(userId) gt 0"},
		{"length(userId) gt {}", []any{float32(-12)}, "length(userId) gt -12"},
		{"length(userId) gt {}", []any{float64(1 << 53)}, "length(userId) gt 9007199254740992"},
		{"length(userId) gt {}", []any{-float64(1 << 53)}, "length(userId) gt -9007199254740992"},
		{"{} eq {}", []any{true, false}, "true eq false"},
		{"userId eq '{{}}' or {}", []any{"x"}, "userId eq '{}' or 'x'"},
		{"true", nil, "true"},
		{"userId eq 'it''s {{'", nil, "userId eq 'it''s {'"},
	}
	for _, tt := range tests {
		got, err := odata.Format(tt.template, tt.args...)
		if err != nil || got != tt.want {
			t.Errorf("Format(%q, %v) = %q, %v; want %q", tt.template, tt.args, got, err, tt.want)
		}
	}
}

func TestFormat_errors(t *testing.T) {
	tests := []struct {
		template string
		args     []any
		want     string
	}{
		{"userId eq {}", nil, "filter template has more {} placeholders than the 0 values given"},
		{"userId eq {}", []any{"a", "b"}, "filter template has 1 {} placeholders but 2 values were given"},
		{"userId eq {}", []any{[]string{"a"}}, "filter template: value 1: cannot put a []string in a filter; use a string, number, boolean or nil"},
		{"userId eq {}", []any{new(string)}, "cannot put a *string in a filter"},
		{"{} eq {}", []any{"a", struct{}{}}, "value 2: cannot put a struct {} in a filter"},
		{"length(userId) eq {}", []any{math.NaN()}, "number NaN cannot be put in a filter; it must be finite"},
		{"length(userId) eq {}", []any{math.Inf(-1)}, "number -Inf cannot be put in a filter"},
		{"length(userId) eq {}", []any{1.5}, "number 1.5 cannot be put in a filter: filter numbers are whole numbers, with no fraction"},
		{"length(userId) eq {}", []any{float32(2.25)}, "number 2.25 cannot be put in a filter"},
		{"length(userId) eq {}", []any{math.Ldexp(1, 63)}, "number 9.223372036854776e+18 cannot be put in a filter exactly: beyond ±2^53"},
		{"length(userId) eq {}", []any{float64(1<<53 + 2)}, "beyond ±2^53 (9007199254740992)"},
		{"length(userId) eq {}", []any{1e21}, "cannot be put in a filter exactly"},
		{"length(userId) eq {}", []any{uint64(math.MaxUint64)}, "number 18446744073709551615 cannot be put in a filter: filter numbers are whole numbers from -9223372036854775808 to 9223372036854775807"},
		{"length(userId) eq {}", []any{uint(math.MaxInt64) + 1}, "number 9223372036854775808 cannot be put in a filter"},
		{"userId eq '{}'", []any{"a"}, "the {} at position 12 is inside a quoted string"},
		{"userId eq 'x''{}'", []any{"a"}, "inside a quoted string"},
		{"userId eq { }", []any{"a"}, "lone '{' at position 11; write {} for a value, or {{ for a literal {"},
		{"userId eq }", nil, "lone '}' at position 11"},
		{"userId eq {", []any{"a"}, "lone '{' at position 11"},
	}
	for _, tt := range tests {
		got, err := odata.Format(tt.template, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Format(%q, %v) = %q, %v; want error containing %q", tt.template, tt.args, got, err, tt.want)
		}
	}
}

// Values built into a filter with Format select exactly the connections
// with those values, however hostile the values are.
func TestFormat_roundTrip(t *testing.T) {
	hostile := []string{
		"a' or '1' eq '1",
		"' or true or '",
		"x') or ('1' eq '1",
		"''",
		"'",
		"{}",
		"userId",
		"null",
		" ",
		"αβγ'δ",
		"a\x00b",
	}
	for _, id := range hostile {
		filter, err := odata.Format("userId eq {}", id)
		if err != nil {
			t.Fatalf("Format(%q): %v", id, err)
		}
		f, err := odata.Parse(filter)
		if err != nil {
			t.Fatalf("Parse(Format(%q) = %q): %v", id, filter, err)
		}
		target := &fakeConn{id: "c", user: id}
		if !f.Match(target) {
			t.Errorf("filter %q does not match user %q", filter, id)
		}
		for _, c := range all {
			if c.user != id && f.Match(c) {
				t.Errorf("filter %q for user %q also matches user %q", filter, id, c.user)
			}
		}
		inGroup, err := odata.Format("{} in groups", id)
		if err != nil {
			t.Fatal(err)
		}
		g, err := odata.Parse(inGroup)
		if err != nil {
			t.Fatalf("Parse(%q): %v", inGroup, err)
		}
		if !g.Match(&fakeConn{groups: []string{id}}) || g.Match(&fakeConn{groups: []string{id + "x"}}) {
			t.Errorf("filter %q does not select exactly group %q", inGroup, id)
		}
	}
}

func TestQuote(t *testing.T) {
	for s, want := range map[string]string{"": "''", "a": "'a'", "it's": "'it''s'", "''": "''''''"} {
		if got := odata.Quote(s); got != want {
			t.Errorf("Quote(%q) = %s, want %s", s, got, want)
		}
	}
}
