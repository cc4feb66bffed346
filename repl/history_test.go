package repl

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeepInHistory(t *testing.T) {
	for _, tc := range []struct {
		line string
		keep bool
	}{
		{`wps.send_to_group("ops", {text = "hi"})`, true},
		{`wps.close_connection("tPNDZOwKxJ9JGAESRnviOAf99cb807c")`, true},
		{`for _, m in ipairs(wps.list_connections("ops")) do print(m.user_id) end`, true},
		{` secret = 1`, false},
		{"\tsecret = 1", false},
		{"", false},
		{`c = wps.client{connection_string = "Endpoint=https://x.webpubsub.azure.com;AccessKey=abc;Version=1.0;"}`, false},
		{`c = wps.client{endpoint = "https://x", key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3OA=="}`, false},
		{`k = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh"`, false},
		{`accesskey: whatever`, false},
		{`h = {Authorization = "Bearer abc.def"}`, false},
		{`t = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.sig"`, false},
		{`u = "ws://h/client/hubs/chat?access_token=x"`, false},
		{"bad \xff utf8", false},
	} {
		if got := keepInHistory(tc.line); got != tc.keep {
			t.Errorf("keepInHistory(%q) = %v, want %v", tc.line, got, tc.keep)
		}
	}
}

// TestHistoryFile checks the file's mode, that lines are written at once,
// that a file others can read is made private, that secrets in an old
// file are not loaded back, and that the file is kept to its last lines.
func TestHistoryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wps", "history")
	h, lines, err := openHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 0 {
		t.Errorf("new file gave lines %q", lines)
	}
	for _, l := range []string{"a = 1", "a = 1", " hidden", "k = 'AccessKey=x'", "function f()"} {
		h.add(l, false)
	}
	h.add("  return 1", true)
	data, _ := os.ReadFile(path)
	if got, want := string(data), "a = 1\nfunction f()\n  return 1\n"; got != want {
		t.Errorf("file holds %q before close, want %q", got, want)
	}
	h.close()
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 600", info.Mode().Perm())
	}
	if info, _ := os.Stat(filepath.Dir(path)); info.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %o, want 700", info.Mode().Perm())
	}

	// An old file, readable by all, with a secret and too many lines.
	var b strings.Builder
	b.WriteString("k = 'AccessKey=x'\n")
	for i := range 2*maxHistory + 5 {
		fmt.Fprintf(&b, "x = %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	h, lines, err = openHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	if len(lines) != maxHistory || lines[len(lines)-1] != fmt.Sprintf("x = %d", 2*maxHistory+4) {
		t.Errorf("loaded %d lines ending %q", len(lines), lines[len(lines)-1])
	}
	data, _ = os.ReadFile(path)
	if strings.Contains(string(data), "AccessKey") || strings.Count(string(data), "\n") != maxHistory {
		t.Errorf("the file was not trimmed to its last %d kept lines", maxHistory)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %o after opening an old file, want 600", info.Mode().Perm())
	}
}
