package service

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxGroupLength is the longest group name the service accepts.
const maxGroupLength = 1024

// checkHub returns an error naming the problem when hub is not a valid hub
// name: a letter, then up to 127 letters, digits or the characters _ ` , . [ ].
// It checks by hand: a regexp with {0,127} costs thousands of allocations
// to compile at the start of every wps command.
func checkHub(hub string) error {
	if !validHubName(hub) {
		return fmt.Errorf("invalid hub name %q: a hub name starts with a letter and has at most 128 letters, digits or _ ` , . [ ] characters", hub)
	}
	return nil
}

// checkGroup returns an error naming the problem when group is not a valid
// group name: 1 to 1024 characters of UTF-8 text, not all whitespace.
func checkGroup(group string) error {
	switch {
	case group == "":
		return fmt.Errorf("invalid group name: it must not be empty")
	case !utf8.ValidString(group):
		return fmt.Errorf("invalid group name %q: it must be valid UTF-8 text", group)
	case utf8.RuneCountInString(group) > maxGroupLength:
		return fmt.Errorf("invalid group name: it has %d characters, the limit is %d", utf8.RuneCountInString(group), maxGroupLength)
	case strings.TrimSpace(group) == "":
		return fmt.Errorf("invalid group name %q: it must not be only whitespace", group)
	}
	return nil
}

// hubKey is the key hubs are stored under: hub names are case-insensitive.
func hubKey(hub string) string { return strings.ToLower(hub) }

// validHubName reports whether hub follows the hub name rule of checkHub.
func validHubName(hub string) bool {
	if hub == "" || len(hub) > 128 || !isLetter(hub[0]) {
		return false
	}
	for i := 1; i < len(hub); i++ {
		c := hub[i]
		if !isLetter(c) && !('0' <= c && c <= '9') && !strings.ContainsRune("_`,.[]", rune(c)) {
			return false
		}
	}
	return true
}

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool { return 'A' <= c&^0x20 && c&^0x20 <= 'Z' }
