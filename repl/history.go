package repl

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// DefaultHistoryFile returns where the REPL keeps its history:
// $XDG_CONFIG_HOME/wps/history, else wps/history in the platform's user
// configuration directory (os.UserConfigDir).
func DefaultHistoryFile() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "wps", "history"), nil
}

// maxHistory is how many lines the file keeps; liner keeps 1000 in memory.
const maxHistory = 1000

// history is the history file: each line kept is appended as soon as it is
// entered, so that a crash loses nothing, to a file only its owner can
// read.
type history struct {
	path string
	f    *os.File
	// last is the last line written: a line repeated at once is written
	// once, as liner keeps it once.
	last string
}

// openHistory opens (creating) the history file at path with mode 0600, in
// a directory made with mode 0700, tightens a file others could read, and
// returns the lines to load, the last maxHistory of those that may be kept
// (a file trimmed or written by an older wps may hold others). It rewrites
// the file when it has grown past twice maxHistory.
func openHistory(path string) (*history, []string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, err
	}
	lines, err := readHistory(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	kept := make([]string, 0, len(lines))
	for _, line := range lines {
		// The leading-space rule was applied when the line was written
		// (an indented line continues an input).
		if keepInHistory(strings.TrimLeft(line, " \t")) {
			kept = append(kept, line)
		}
	}
	kept = kept[max(0, len(kept)-maxHistory):]
	if len(lines) > 2*maxHistory || len(kept) < len(lines)-maxHistory {
		if err := rewriteHistory(path, kept); err != nil {
			return nil, nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, err
	}
	if info, err := f.Stat(); err == nil && info.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s can be read by others, and could not be made private: %w", path, err)
		}
	}
	h := &history{path: path, f: f}
	if len(kept) > 0 {
		h.last = kept[len(kept)-1]
	}
	return h, kept, nil
}

// readHistory returns the lines of the file at path.
func readHistory(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// rewriteHistory replaces the file at path with lines, atomically.
func rewriteHistory(path string, lines []string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".history-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	for _, line := range lines {
		w.WriteString(line + "\n")
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// add appends line to the file if it may be kept, and reports whether it
// was. A continuation line of a multi-line input may be indented: the
// leading-space rule applies to the input's first line, which the caller
// checks.
func (h *history) add(line string, continuation bool) (bool, error) {
	check := line
	if continuation {
		check = strings.TrimLeft(line, " \t")
	}
	if !keepInHistory(check) {
		return false, nil
	}
	if h == nil || h.f == nil || line == h.last {
		return true, nil
	}
	h.last = line
	if _, err := h.f.WriteString(line + "\n"); err != nil {
		// Say it once, not at every line.
		h.f.Close()
		h.f = nil
		return true, fmt.Errorf("writing the history to %s: %w; history is off for this session", h.path, err)
	}
	return true, nil
}

// close closes the file.
func (h *history) close() error {
	if h == nil || h.f == nil {
		return nil
	}
	return h.f.Close()
}

// secretPatterns are compiled on first use, so that other commands do not
// pay for them.
var secretPatterns = sync.OnceValue(func() (p struct {
	secrets    []*regexp.Regexp
	longBase64 *regexp.Regexp
}) {
	// secrets match what must never reach the history file.
	p.secrets = []*regexp.Regexp{
		// A connection string, or any AccessKey=... .
		regexp.MustCompile(`(?i)access_?key\s*[=:]`),
		regexp.MustCompile(`(?i)endpoint\s*=[^;]*;`),
		// A key given to wps.client{key = ...}, or a key variable.
		regexp.MustCompile(`(?i)\bkey\s*=\s*["'\[]`),
		// A bearer token.
		regexp.MustCompile(`(?i)bearer\s+\S`),
		// A JWT: base64url header and payload of JSON objects, then a
		// signature.
		regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.`),
		// A client URL's token, a reconnection token.
		regexp.MustCompile(`(?i)(access_token|awps_reconnection_token)=`),
	}
	// longBase64 matches a run of base64 long enough to be a key (a Web
	// PubSub access key is 44 characters); looksRandom decides.
	p.longBase64 = regexp.MustCompile(`[A-Za-z0-9+/_-]{40,}={0,2}`)
	return p
})

// keepInHistory reports whether line may be written to the history: not
// empty, not starting with a space (as HISTCONTROL=ignorespace), valid
// UTF-8, and holding no access key, connection string, bearer token or
// JWT.
func keepInHistory(line string) bool {
	if strings.TrimSpace(line) == "" || line[0] == ' ' || line[0] == '\t' || !utf8.ValidString(line) {
		return false
	}
	patterns := secretPatterns()
	for _, re := range patterns.secrets {
		if re.MatchString(line) {
			return false
		}
	}
	for _, run := range patterns.longBase64.FindAllString(line, -1) {
		if looksRandom(run) {
			return false
		}
	}
	return true
}

// looksRandom reports whether s mixes upper case, lower case and digits, as
// a key does and a name rarely does.
func looksRandom(s string) bool {
	var upper, lower, digit bool
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}
