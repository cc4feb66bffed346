package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestSession_Eval checks how a chunk typed at a prompt is read: bare
// expressions give their values, "=expr" too, statements give nothing,
// and a chunk that more lines could complete is reported as incomplete.
func TestSession_Eval(t *testing.T) {
	e := newEngine(t, newOutput(), Options{})
	s, err := e.NewSession(RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, tc := range []struct{ input, want string }{
		{"1+1", "2"},
		{"=2*3", "6"},
		{"  = 'x'", "x"},
		{"x = 40", ""},
		{"x + 2, 'two'", "42 two"},
		{"local y = 1", ""},
		{"return x", "40"},
		{"function f(n) return n * 2 end", ""},
		{"f(21)", "42"},
	} {
		values, err := s.Eval(ctx, "stdin", tc.input)
		if err != nil {
			t.Errorf("%q: %v", tc.input, err)
			continue
		}
		got := make([]string, len(values))
		for i, v := range values {
			got[i] = v.String()
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q gave %q, want %q", tc.input, got, tc.want)
		}
	}
	for _, input := range []string{"function g()", "if x then", "t = {", "s = [[abc", "--[[ a long comment", "for i = 1, 3 do print(i)", "f(1,"} {
		if _, err := s.Eval(ctx, "stdin", input); !errors.Is(err, ErrIncomplete) {
			t.Errorf("%q: error %v, want ErrIncomplete", input, err)
		}
	}
	for _, input := range []string{`x = "abc`, "x = = 1", "end"} {
		_, err := s.Eval(ctx, "stdin", input)
		if err == nil || errors.Is(err, ErrIncomplete) {
			t.Errorf("%q: error %v, want a syntax error more lines cannot fix", input, err)
		}
	}
	// A runtime error leaves the session usable.
	if _, err := s.Eval(ctx, "stdin", "error('boom')"); err == nil || !strings.HasPrefix(err.Error(), "stdin:1: boom") {
		t.Errorf("error %v, want stdin:1: boom", err)
	}
	if values, err := s.Eval(ctx, "stdin", "x"); err != nil || len(values) != 1 || values[0].String() != "40" {
		t.Errorf("after an error: %v, %v", values, err)
	}
}

// TestSession_Complete checks completion of globals, table fields and the
// methods of client and connection values.
func TestSession_Complete(t *testing.T) {
	e := newEngine(t, newOutput(), Options{Target: Target{ConnectionString: "Endpoint=http://unused.invalid;AccessKey=" + testKey + ";Version=1.0;"}})
	s, err := e.NewSession(RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Eval(context.Background(), "stdin", `t = {alpha = {beta = 1, bravo = 2}, ["not a name"] = 3}; hub = wps.hub("other")`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix string
		want   []string // each must be offered
		not    []string // none of these may be
	}{
		{"pri", []string{"print"}, nil},
		{"wps.send_to_", []string{"wps.send_to_all", "wps.send_to_group", "wps.send_to_user", "wps.send_to_connection"}, []string{"wps.hub"}},
		{"t.alpha.b", []string{"t.alpha.beta", "t.alpha.bravo"}, nil},
		{"t.", []string{"t.alpha"}, []string{"t.not a name"}},
		{"hub:send_to_g", []string{"hub:send_to_group"}, []string{"hub:send_to_all"}},
		{"nothing.here", nil, nil},
	} {
		got := s.Complete(tc.prefix)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("Complete(%q) = %q, want %q among them", tc.prefix, got, w)
			}
		}
		for _, n := range tc.not {
			if slices.Contains(got, n) {
				t.Errorf("Complete(%q) = %q, want no %q", tc.prefix, got, n)
			}
		}
		if tc.want == nil && len(got) != 0 {
			t.Errorf("Complete(%q) = %q, want nothing", tc.prefix, got)
		}
	}
}
