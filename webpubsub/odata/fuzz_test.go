package odata_test

import (
	"errors"
	"testing"

	"wps/webpubsub/odata"
)

// FuzzParse checks that Parse never panics, that errors are *SyntaxError
// with a position inside the filter, and that every filter that parses can be
// evaluated and printed, and its normal form selects the same connections.
// Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("userId eq 'alice' and 'chat' in groups")
	f.Add("not (length(userId) gt 5) or substring(userId, 1, 2) eq 'li'")
	f.Fuzz(func(t *testing.T, filter string) {
		e, err := odata.Parse(filter)
		if err != nil {
			var se *odata.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is a %T", filter, err, err)
			}
			if se.Pos < 1 || se.Pos > len(filter)+1 {
				t.Fatalf("Parse(%q) error position %d outside the filter", filter, se.Pos)
			}
			if !se.Semantic && (se.Offset < se.Pos-1 || se.Offset > len(filter)) {
				t.Fatalf("Parse(%q) error offset %d outside the filter or before position %d", filter, se.Offset, se.Pos)
			}
			return
		}
		want := matching(e)
		normal := e.String()
		again, err := odata.Parse(normal)
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String() %q fails: %v", filter, normal, err)
		}
		if got := again.String(); got != normal {
			t.Fatalf("String() not stable: %q then %q", normal, got)
		}
		if got := matching(again); got != want {
			t.Fatalf("Parse(%q) matches %q but its String() %q matches %q", filter, want, normal, got)
		}
	})
}
