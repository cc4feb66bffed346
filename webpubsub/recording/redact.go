package recording

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// The built-in redactions, applied to the whole encoded fixture, case
// insensitively. None of them can match a quote or a backslash, so none can
// break the JSON around the values it rewrites. Each is compiled on first
// use: most fixtures need none of them, and compiling them costs more than
// recording a hundred calls.
var (
	// A connection string with a key: Endpoint=...;AccessKey=...;Version=1.0;
	connectionString = lazyRegexp(`(?i)endpoint=[^"\s\\]*?access_?key=[^"\s\\;]*(?:;[a-z_]+=[^"\s\\;]*)*;?`)
	// The value of AccessKey= (and the Azure names for the same thing),
	// raw or URL-escaped.
	accessKeyValue = lazyRegexp(`(?i)((?:shared)?access_?key|account_?key)(=|%3d)[^;&"\s\\]*`)
	// A bearer credential, in a header or escaped in a URL.
	bearerValue = lazyRegexp(`(?i)(bearer(?:\s+|%20|\+))[A-Za-z0-9._~+/=%-]+`)
	// Token-bearing query parameters.
	tokenParam = lazyRegexp(`(?i)((?:access_token|awps_reconnection_token)(?:=|%3d))[^&"\s\\#]*`)
	// JSON members holding a token or a key, as stored (in a JSON body)
	// and escaped inside a string (in a text body or a variable).
	secretMember        = lazyRegexp(`(?i)("` + secretNames + `"\s*:\s*")(?:[^"\\]|\\.)*"`)
	escapedSecretMember = lazyRegexp(`(?i)(\\"` + secretNames + `\\"\s*:\s*\\")(?:[^"\\]|\\[^"])*\\"`)
)

// lazyRegexp returns a function that compiles pattern on its first call
// and returns the same *regexp.Regexp from then on.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

const secretNames = `(?:token|access_?token|access_?key|primary_?key|secondary_?key|(?:primary_?|secondary_?)?connection_?string)`

// redactText redacts access tokens, keys, bearer values and JWTs in a
// message, for reports that quote a request.
func redactText(s string) string {
	s = tokenParam().ReplaceAllString(s, "${1}"+Placeholder)
	s = accessKeyValue().ReplaceAllString(s, "${1}${2}"+Placeholder)
	s = bearerValue().ReplaceAllString(s, "${1}"+Placeholder)
	return string(replaceRanges([]byte(s), findJWTs([]byte(s)), []byte(Placeholder)))
}

// CheckPattern compiles a custom redaction pattern as a Recorder uses it:
// case-insensitive. It refuses a pattern that is empty, that matches the
// empty string (such as ".*", "^" or "a*"), or that matches any text (such
// as ".+"): replacing such a match everywhere would wreck the fixture, as it
// did an official recording with the fake host inserted between every
// character.
func CheckPattern(pattern string) (*regexp.Regexp, error) {
	if strings.TrimSpace(pattern) == "" {
		return nil, errors.New("empty redaction pattern refused: it would match between every character")
	}
	re, err := regexp.Compile("(?i)" + pattern)
	if err != nil {
		return nil, fmt.Errorf("redaction pattern %q: %w", pattern, err)
	}
	if re.MatchString("") {
		return nil, fmt.Errorf("redaction pattern %q refused: it matches the empty string, so it would match between every character", pattern)
	}
	if slices.IndexFunc(anyText, func(s string) bool { return !re.MatchString(s) }) < 0 {
		return nil, fmt.Errorf("redaction pattern %q refused: it matches any text", pattern)
	}
	return re, nil
}

// anyText is a sample of unrelated one-character texts: a pattern that
// matches all of them matches anything.
var anyText = []string{"a", "Z", "7", "-", ".", "/", ":", `"`, "{", "é"}

// redactor rewrites an encoded fixture so that no secret is left in it.
type redactor struct {
	// secrets matches the literal secrets, in the forms they can take in
	// the file; compiled when a fixture holds one of them.
	secrets func() *regexp.Regexp
	// secretWords are those forms in lower case, to look for before
	// running secrets.
	secretWords []string
	patterns    []*regexp.Regexp
}

func newRedactor(secrets, patterns []string) (*redactor, error) {
	r := &redactor{}
	var forms []string
	for _, s := range secrets {
		if s == "" {
			return nil, errors.New("empty secret refused: redacting it would match between every character")
		}
		for _, f := range textForms(s) {
			forms = append(forms, regexp.QuoteMeta(f))
			r.secretWords = append(r.secretWords, strings.ToLower(f))
		}
	}
	if len(forms) > 0 {
		// Longest first, so that a form is replaced whole.
		slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
		r.secrets = lazyRegexp("(?i)" + strings.Join(slices.Compact(forms), "|"))
	}
	for _, p := range patterns {
		re, err := CheckPattern(p)
		if err != nil {
			return nil, err
		}
		r.patterns = append(r.patterns, re)
	}
	return r, nil
}

// textForms are the forms a secret can take in the file as text: raw,
// URL-escaped, JSON-escaped.
func textForms(s string) []string {
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s)}
	quoted := string(jsonString(s))
	forms = append(forms, quoted[1:len(quoted)-1])
	if b, err := json.Marshal(s); err == nil {
		forms = append(forms, string(b[1:len(b)-1]))
	}
	return forms
}

// apply redacts an encoded fixture: the literal secrets, connection strings,
// access keys, bearer values, access tokens, JSON token and key members,
// JWTs, the custom patterns, and finally the given hosts, which become
// PlaceholderHost. It also reports whether a literal secret or a custom
// pattern was replaced: the built-in patterns match no quote or backslash,
// so only those can break the file's JSON.
func (r *redactor) apply(data []byte, hosts []string) (redacted []byte, risky bool) {
	ph := []byte(Placeholder)
	// Each built-in pattern runs only where its literal part occurs: most
	// fixtures hold no key, token or connection string at all, and the
	// regular expressions are far slower than a search for a word.
	has := func(words ...string) bool {
		return slices.ContainsFunc(words, func(w string) bool { return indexFold(data, w) >= 0 })
	}
	if r.secrets != nil && has(r.secretWords...) {
		data = r.secrets().ReplaceAll(data, ph)
		risky = true
	}
	if has("endpoint=") {
		data = connectionString().ReplaceAll(data, ph)
	}
	if has("key=", "key%3d") {
		data = accessKeyValue().ReplaceAll(data, []byte("${1}${2}"+Placeholder))
	}
	if has("bearer") {
		data = bearerValue().ReplaceAll(data, []byte("${1}"+Placeholder))
	}
	if has("_token=", "_token%3d") {
		data = tokenParam().ReplaceAll(data, []byte("${1}"+Placeholder))
	}
	if has("token", "key", "string") {
		data = secretMember().ReplaceAll(data, []byte(`${1}`+Placeholder+`"`))
		data = escapedSecretMember().ReplaceAll(data, []byte(`${1}`+Placeholder+`\"`))
	}
	if jwts := findJWTs(data); len(jwts) > 0 {
		data = replaceRanges(data, jwts, ph)
	}
	for _, re := range r.patterns {
		data = replaceMatches(data, re, ph)
		risky = true
	}
	// Longest first, so that host:port goes before host.
	hosts = slices.Clone(hosts)
	slices.SortFunc(hosts, func(a, b string) int { return len(b) - len(a) })
	for _, h := range hosts {
		if h != "" && !strings.EqualFold(h, PlaceholderHost) {
			data = replaceHost(data, h)
		}
	}
	return data, risky
}

// replaceHost replaces every occurrence of host in data by PlaceholderHost,
// comparing ASCII letters without case, as host names compare.
func replaceHost(data []byte, host string) []byte {
	var out []byte
	last := 0
	for {
		i := indexFold(data[last:], host)
		if i < 0 {
			break
		}
		out = append(out, data[last:last+i]...)
		out = append(out, PlaceholderHost...)
		last += i + len(host)
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

// replaceMatches replaces each match of re in data, or only its first
// group when re has groups.
func replaceMatches(data []byte, re *regexp.Regexp, with []byte) []byte {
	var ranges [][2]int
	for _, m := range re.FindAllSubmatchIndex(data, -1) {
		start, end := m[0], m[1]
		if len(m) > 2 {
			if m[2] < 0 {
				continue
			}
			start, end = m[2], m[3]
		}
		if start < end {
			ranges = append(ranges, [2]int{start, end})
		}
	}
	return replaceRanges(data, ranges, with)
}

// replaceRanges replaces the given sorted, disjoint ranges of data.
func replaceRanges(data []byte, ranges [][2]int, with []byte) []byte {
	if len(ranges) == 0 {
		return data
	}
	var out bytes.Buffer
	last := 0
	for _, rg := range ranges {
		out.Write(data[last:rg[0]])
		out.Write(with)
		last = rg[1]
	}
	out.Write(data[last:])
	return out.Bytes()
}

// inRun holds the bytes of a JWT: base64url and dots.
var inRun = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
	}
	return t
}()

// dottedRuns calls f with the byte range of each run of base64url
// characters and dots at least 10 long in data, and at least two dots: where
// a JWT may be. It is the regular expression [A-Za-z0-9_.-]{10,} with a
// count of dots, written out because it runs over every fixture twice (to
// redact, then to scan), and it collects nothing, as a fixture holds
// thousands of such runs and almost no JWT. It jumps from dot to dot with
// the vectorised bytes.IndexByte, as a run without a dot cannot qualify,
// and looks at the bytes around each.
func dottedRuns(data []byte, f func(start, end int)) {
	for from := 0; ; {
		i := bytes.IndexByte(data[from:], '.')
		if i < 0 {
			return
		}
		dot := from + i
		start, end := dot, dot+1
		for start > 0 && inRun[data[start-1]] {
			start--
		}
		dots := 1
		for end < len(data) && inRun[data[end]] {
			if data[end] == '.' {
				dots++
			}
			end++
		}
		if end-start >= 10 && dots >= 2 {
			f(start, end)
		}
		from = end
	}
}

// findJWTs returns the byte ranges of everything in data shaped like a
// JWT: three dot-separated base64url segments whose first decodes to a JSON
// object with an "alg" member.
func findJWTs(data []byte) [][2]int {
	var out [][2]int
	dottedRuns(data, func(start, end int) {
		if !bytes.Contains(data[start:end], []byte("ey")) && !bytes.Contains(data[start:end], []byte("ew")) {
			return // no segment can start a JSON object's base64 (see below)
		}
		run := [2]int{start, end}
		segs := bytes.Split(data[run[0]:run[1]], []byte("."))
		offsets := make([]int, len(segs))
		at := run[0]
		for i, s := range segs {
			offsets[i] = at
			at += len(s) + 1
		}
		for i := 0; i+2 < len(segs); i++ {
			if len(segs[i+1]) == 0 {
				continue
			}
			// A JSON object's base64 starts with "ey" or "ew"; the run
			// may have glued other characters in front of it.
			for j := 0; j+1 < len(segs[i]); j++ {
				if segs[i][j] == 'e' && (segs[i][j+1] == 'y' || segs[i][j+1] == 'w') && isJWTHeader(segs[i][j:]) {
					out = append(out, [2]int{offsets[i] + j, offsets[i+2] + len(segs[i+2])})
					i += 2
					break
				}
			}
		}
	})
	return out
}

// isJWTHeader reports whether seg is the base64url of a JSON object with an
// "alg" member, a JWT's header.
func isJWTHeader(seg []byte) bool {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(string(seg), "="))
	if err != nil {
		return false
	}
	var header map[string]any
	if json.Unmarshal(raw, &header) != nil {
		return false
	}
	_, ok := header["alg"]
	return ok
}

// Scan looks through an encoded fixture for secrets that must never be
// kept: each of the given secrets (case-insensitively, raw, URL-escaped,
// JSON-escaped and base64-encoded at any alignment), anything shaped like a
// JWT, and any AccessKey or bearer value other than Placeholder. It
// returns an error naming what it found and the line, never the secret
// itself, or nil when the data is clean.
func Scan(data []byte, secrets ...string) error {
	var found []string
	report := func(what string, at int) {
		found = append(found, fmt.Sprintf("%s at line %d", what, bytes.Count(data[:at], []byte("\n"))+1))
	}
	for n, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range secretForms(s) {
			if at := indexFold(data, form.text); at >= 0 {
				report(fmt.Sprintf("secret %d (%s)", n+1, form.how), at)
				break
			}
		}
	}
	for _, rg := range findJWTs(data) {
		report("a JWT", rg[0])
	}
	// The patterns run only where their literal part occurs.
	if indexFold(data, "key=") >= 0 || indexFold(data, "key%3d") >= 0 {
		for _, m := range accessKeyValue().FindAllSubmatchIndex(data, -1) {
			if value := data[m[5]:m[1]]; len(value) > 0 && !bytes.EqualFold(value, []byte(Placeholder)) {
				report("an access key value", m[0])
			}
		}
	}
	if indexFold(data, "bearer") >= 0 {
		for _, m := range bearerValue().FindAllSubmatchIndex(data, -1) {
			if value := data[m[3]:m[1]]; !bytes.EqualFold(value, []byte(Placeholder)) {
				report("a bearer value", m[0])
			}
		}
	}
	if len(found) > 0 {
		return &LeakError{Found: found}
	}
	return nil
}

// indexFold returns the index of the first occurrence of needle in s, with
// ASCII letters compared without case, or -1. It finds candidates with the
// vectorised bytes.IndexByte on the needle's least common byte (see
// commonness), in both cases for a letter, and compares the needle around
// each. Fixtures are searched for a dozen words and every form of every
// secret, so this runs over every byte of a fixture many times, without
// the lower-cased copy of the file a bytes.Index would need.
func indexFold(s []byte, needle string) int {
	n := len(needle)
	if n == 0 {
		return 0
	}
	if n > len(s) {
		return -1
	}
	anchor := 0
	for i := 1; i < n; i++ {
		if commonness[needle[i]|0x20] > commonness[needle[anchor]|0x20] {
			anchor = i
		}
	}
	c := needle[anchor]
	other := c // the anchor's other case, or itself
	if isASCIILetter(rune(c)) {
		other = c ^ 0x20
	}
	// p runs over the places the anchor may be at: from anchor to
	// len(s)-n+anchor. next[0] and next[1] are the next place of each
	// case at or after p (-1: none left; -2: not searched yet).
	limit := len(s) - n + anchor + 1
	next := [2]int{-2, -2}
	find := func(b byte, from int) int {
		if i := bytes.IndexByte(s[from:limit], b); i >= 0 {
			return from + i
		}
		return -1
	}
	for p := anchor; p < limit; p++ {
		for k, b := range [2]byte{c, other} {
			if next[k] != -1 && next[k] < p {
				next[k] = find(b, p)
			}
		}
		switch {
		case next[0] < 0 && next[1] < 0:
			return -1
		case next[0] < 0 || (next[1] >= 0 && next[1] < next[0]):
			p = next[1]
		default:
			p = next[0]
		}
		if start := p - anchor; equalFoldASCII(s[start:start+n], needle) {
			return start
		}
	}
	return -1
}

// commonness ranks bytes, lower-cased, by how often they occur in a
// fixture's JSON, most common first; indexFold anchors its search on the
// needle's least common byte. Bytes not listed are rarer than all of them.
var commonness = func() (rank [256]uint8) {
	for i := range rank {
		rank[i] = 255
	}
	for i, c := range []byte(` "etaoinsrlcdhupm:,0123456789-/.{}gbfywkvxzjq`) {
		rank[c] = uint8(i)
	}
	return rank
}()

// isASCIILetter reports whether r is an ASCII letter.
func isASCIILetter(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
}

// equalFoldASCII reports whether a and b are equal with ASCII letters
// compared without case.
func equalFoldASCII(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || !isASCIILetter(rune(x|0x20)) {
			return false
		}
	}
	return true
}

// LeakError is Scan's error: the fixture holds secrets.
type LeakError struct {
	// Found lists what was found and where, without the secrets.
	Found []string
}

// Error lists what was found.
func (e *LeakError) Error() string {
	return "the fixture holds secrets: " + strings.Join(e.Found, ", ")
}

type secretForm struct{ text, how string }

// secretForms are the forms a secret can take in a fixture: textForms, and
// base64 at each of the three alignments it can have inside a longer
// encoded body (the characters that depend only on the secret).
func secretForms(s string) []secretForm {
	var forms []secretForm
	for _, f := range textForms(s) {
		forms = append(forms, secretForm{f, "as text"})
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		forms = append(forms, secretForm{strings.TrimRight(enc.EncodeToString([]byte(s)), "="), "base64-encoded"})
		for pad := range 3 {
			e := enc.EncodeToString(append(make([]byte, pad), s...))
			start := min(pad, 1) * 4
			stable := e[start:max(start, 4*((pad+len(s))/3))]
			if len(stable) >= 8 {
				forms = append(forms, secretForm{stable, "base64-encoded"})
			}
		}
	}
	return forms
}
