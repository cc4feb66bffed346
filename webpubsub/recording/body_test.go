package recording

import (
	"io"
	"strings"
	"testing"
)

// TestReadBody checks that a captured body is what arrived, whatever length
// was announced: a HEAD answer announces one and has no body.
func TestReadBody(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		announced  int64
	}{
		{"Exact", `{"a":1}`, 7},
		{"Empty", "", 0},
		{"Unknown", "chunked", -1},
		{"HeadAnswer", "", 120},
		{"Shorter", "abc", 10},
		{"Longer", "abcdef", 3},
	} {
		got, err := readBody(io.NopCloser(strings.NewReader(tc.body)), tc.announced)
		if err != nil || string(got) != tc.body {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.body)
		}
		if tc.body == "" && got != nil {
			t.Errorf("%s: an empty body should be nil, got %q", tc.name, got)
		}
	}
}
