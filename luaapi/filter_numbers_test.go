package luaapi

import (
	"strings"
	"testing"
)

// Filters have only whole numbers, and a Lua number is a float: wps.filter
// writes whole numbers within ±2^53 and refuses the others, which the
// service would reject or which may not be the number meant.
func TestFilter_Numbers(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	got := mustRun(t, L, `return {wps.filter("{} {} {} {}", 42, -7, 2^53, -0.0)}`)
	if want := `["42 -7 9007199254740992 0"]`; got != want {
		t.Errorf("filter = %s, want %s", got, want)
	}
	for script, want := range map[string]string{
		`wps.filter("length(userId) gt {}", 1.5)`:  `number 1.5 cannot be put in a filter: filter numbers are whole numbers, with no fraction`,
		`wps.filter("length(userId) gt {}", 2^63)`: `number 9.223372036854776e+18 cannot be put in a filter exactly: beyond ±2^53`,
		`wps.filter("length(userId) gt {}", 0/0)`:  `cannot be put in a filter; it must be finite`,
		`wps.filter("length(userId) gt {}", 1/0)`:  `number +Inf cannot be put in a filter; it must be finite`,
	} {
		if got := mustFail(t, L, script); !strings.Contains(got, want) {
			t.Errorf("%s raised %q, want %q", script, got, want)
		}
	}
}
