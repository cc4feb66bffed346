package odata_test

import (
	"slices"
	"strings"
	"testing"

	"wps/webpubsub/odata"
)

// fakeConn is a connection with fixed properties.
type fakeConn struct {
	name, id, user string
	groups         []string
}

func (c *fakeConn) ConnectionID() string      { return c.id }
func (c *fakeConn) UserID() string            { return c.user }
func (c *fakeConn) InGroup(group string) bool { return slices.Contains(c.groups, group) }
func (c *fakeConn) Groups() []string          { return c.groups }

var (
	alice  = &fakeConn{name: "alice", id: "c1", user: "alice", groups: []string{"chat", "ops"}}
	bob    = &fakeConn{name: "bob", id: "C2", user: "Bob", groups: []string{"chat"}}
	anon   = &fakeConn{name: "anon", id: "c3"}
	spaced = &fakeConn{name: "spaced", id: "c4", user: " user-ab-de ", groups: []string{"Chat"}}
	quoted = &fakeConn{name: "quoted", id: "c5", user: "a' or '1' eq '1", groups: []string{"x"}}
	greek  = &fakeConn{name: "greek", id: "c6", user: "αβγδ"}
	all    = []*fakeConn{alice, bob, anon, spaced, quoted, greek}
)

// matching returns the names of the connections f matches, comma-separated.
func matching(f *odata.Expr) string {
	var names []string
	for _, c := range all {
		if f.Match(c) {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, ",")
}

const (
	everyone = "alice,bob,anon,spaced,quoted,greek"
	withUser = "alice,bob,spaced,quoted,greek"
)

func TestExpr_Match(t *testing.T) {
	tests := []struct {
		filter, want string
	}{
		// literals, identifiers, eq and ne
		{"true", everyone},
		{"false", ""},
		{"userId eq 'alice'", "alice"},
		{"USERID EQ 'alice'", "alice"},
		{"userid eq 'ALICE'", ""}, // values are case-sensitive
		{"'alice' eq userId", "alice"},
		{"((userId)) eq ('alice')", "alice"},
		{"\tuserId\neq\r\n'alice' ", "alice"},
		{"userId eq null", "anon"},
		{"userId ne null", withUser},
		{"null eq userId", "anon"},
		{"null eq null", everyone},
		{"userId ne 'alice'", "bob,anon,spaced,quoted,greek"},
		{"connectionId eq 'c3'", "anon"},
		{"connectionId eq 'c2'", ""}, // C2 differs in case
		{"userId eq 'a'' or ''1'' eq ''1'", "quoted"},
		{"true eq ('chat' in groups)", "alice,bob"},
		// ordering: ordinal for strings, null never ordered
		{"userId gt 'alice'", "greek"},
		{"userId ge 'alice'", "alice,greek"},
		{"userId lt 'alice'", "bob,spaced,quoted"},
		{"userId le 'alice'", "alice,bob,spaced,quoted"},
		{"length(userId) gt 4", "alice,spaced,quoted"},
		{"length(userId) gt +4", "alice,spaced,quoted"},
		{"length(userId) gt -1", withUser},
		{"length(userId) eq 4", "greek"},
		{"length(userId) le 3", "bob"},
		{"length(userId) lt null", ""},
		// logic and precedence
		{"not (length(userId) gt 4)", "bob,anon,greek"},
		{"NOT ('chat' in groups)", "anon,spaced,quoted,greek"},
		{"not not true", everyone},
		{"not true eq false", everyone}, // (not true) eq false
		{"true and false or true", everyone},
		{"true and (false or false)", ""},
		{"userId eq 'alice' or userId eq 'Bob' and 'ops' in groups", "alice"},
		{"(userId eq 'alice' or userId eq 'Bob') and 'chat' in groups", "alice,bob"},
		{"userId eq 'alice' and connectionId ne 'c1'", ""},
		{"'x' in groups or 'ops' in groups or userId eq null", "alice,anon,quoted"},
		// in
		{"'chat' in groups", "alice,bob"},
		{"'Chat' in groups", "spaced"}, // group names are case-sensitive
		{"'chat' in (groups)", "alice,bob"},
		{"null in groups", ""},
		{"userId in ('alice', 'Bob')", "alice,bob"},
		{"userId in ('alice')", "alice"},
		{"userId in (null, 'greek', 'αβγδ')", "anon,greek"},
		{"connectionId in ('c1','c3')", "alice,anon"},
		{"length(userId) in (3, 4)", "bob,greek"},
		{"userId in groups", ""},
		// string functions
		{"tolower(userId) eq 'bob'", "bob"},
		{"toupper(userId) eq 'ALICE'", "alice"},
		{"trim(userId) eq 'user-ab-de'", "spaced"},
		{"length(trim(userId)) eq 10", "spaced"},
		{"substring(userId, 1) eq 'lice'", "alice"},
		{"substring(userId, 1, 2) eq 'li'", "alice"},
		{"substring(userId, 1, 2) eq 'βγ'", "greek"},
		{"substring(userId, 6, 2) eq 'ab'", "spaced"},
		{"substring(userId, 100) eq ''", withUser},
		{"substring(userId, 0, 0) eq ''", withUser},
		{"substring(userId, -3, 2) eq 'al'", "alice"}, // negative start counts from 0
		{"substring(userId, 3, -1) eq ''", withUser},  // negative length is empty
		{"substring(userId, 2, 9223372036854775807) eq 'ice'", "alice"},
		{"substring(userId, length(userId) add) eq ''", "error"},
		{"concat(userId, connectionId) eq 'alicec1'", "alice"},
		{"concat(userId, 'x') eq null", "anon"},
		{"startswith(userId, 'a')", "alice,quoted"},
		{"startswith(tolower(userId), 'b')", "bob"},
		{"endswith(userId, 'de ')", "spaced"},
		{"contains(userId, 'ob')", "bob"},
		{"not contains(userId, 'ob')", "alice,anon,spaced,quoted,greek"},
		{"indexof(userId, 'ice') eq 2", "alice"},
		{"indexof(userId, 'γ') eq 2", "greek"},
		{"indexof(userId, 'zzz') eq -1", withUser},
		{"indexof(userId, 'zzz') eq null", "anon"},
		{"indexof(userId,'a') ge 0 and length(userId) lt 6", "alice"},
		{"length(groups) eq 0", "anon,greek"},
		{"length(groups) gt 1", "alice"},
		{"length((groups)) eq 2", "alice"},
		{"LENGTH(Groups) eq 1", "bob,spaced,quoted"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := odata.Parse(tt.filter)
			if tt.want == "error" {
				if err == nil {
					t.Fatalf("Parse(%q) succeeded, want an error", tt.filter)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.filter, err)
			}
			if got := matching(f); got != tt.want {
				t.Errorf("Parse(%q) matches %q, want %q", tt.filter, got, tt.want)
			}
			// The normal form must select the same connections.
			again, err := odata.Parse(f.String())
			if err != nil {
				t.Fatalf("Parse(String() = %q): %v", f.String(), err)
			}
			if got := matching(again); got != tt.want {
				t.Errorf("String() = %q matches %q, want %q", f.String(), got, tt.want)
			}
		})
	}
}

func TestExpr_Match_nilMatchesEverything(t *testing.T) {
	var f *odata.Expr
	if got := matching(f); got != everyone {
		t.Errorf("nil filter matches %q, want %q", got, everyone)
	}
}

func TestExpr_String(t *testing.T) {
	tests := []struct{ filter, want string }{
		{"USERID EQ 'a''b'", "userId eq 'a''b'"},
		{"a eq 1", ""},
		{"not ('g' in groups) AND length(userId) gt -5 or true", "((not ('g' in groups)) and (length(userId) gt -5)) or true"},
		{"userId in ('x',null) and startswith(ConnectionId, concat('a', substring(userId, 1, 2)))",
			"(userId in ('x', null)) and startswith(connectionId, concat('a', substring(userId, 1, 2)))"},
		{"length( groups ) eq 0", "length(groups) eq 0"},
		{"'g' in ( groups )", "'g' in groups"},
	}
	for _, tt := range tests {
		f, err := odata.Parse(tt.filter)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Parse(%q) succeeded, want an error", tt.filter)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.filter, err)
			continue
		}
		if got := f.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.filter, got, tt.want)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	filters := []string{
		"userId eq 'alice'",
		"'ops' in groups",
		"userId in ('u1', 'u2', 'u3', 'alice') and not ('muted' in groups)",
		"startswith(userId, 'al') or length(groups) gt 3",
		"tolower(userId) eq 'alice'",
	}
	for _, filter := range filters {
		f, err := odata.Parse(filter)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filter, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !f.Match(alice) {
					b.Fatal("no match")
				}
			}
		})
	}
}
