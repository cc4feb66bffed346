package engine

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal, where the text of scripts
// and their errors is written with control characters escaped (see
// EscapeControl). A file or a pipe gets the bytes as they are.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// EscapeControl returns s with the characters that would control a
// terminal rather than show (escape sequences, carriage returns,
// backspaces, bidirectional overrides) written as Go escapes: "\x1b",
// "\r", "\u202e". Newlines and tabs stay, and so do bytes that are not
// UTF-8, which terminals show as they are. A script's text, or a message
// a service sent, cannot then rewrite the screen or hide what precedes it.
func EscapeControl(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	var out strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, !isControl(r):
			out.WriteString(s[i : i+size])
		case r == '\r':
			out.WriteString(`\r`)
		case r < 0x80:
			fmt.Fprintf(&out, `\x%02x`, r)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		i += size
	}
	return out.String()
}

// isControl reports whether r changes a terminal's display rather than
// showing as a character: C0 controls but newline and tab, DEL, C1
// controls, and the bidirectional embeddings, overrides and isolates.
func isControl(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
