package recording

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The matcher compares a request with a recorded one part by part: method,
// path, query as a multiset, content type and body by content type. Host,
// scheme and headers other than Content-Type are never compared.

// parsedRequest is a request, or a recorded one, in the form the matcher
// compares.
type parsedRequest struct {
	method string
	path   string   // escaped, for reports
	segs   []string // unescaped path segments
	query  url.Values
	// alt is a second form of a recorded query that matches too (see
	// nextLinkQuery); nil when there is none.
	alt   url.Values
	media string
	body  []byte
	// json is the body decoded, when the content type is JSON and the
	// body is valid JSON.
	json   any
	isJSON bool
}

func parseRequest(method string, u *url.URL, contentType string, body []byte, ignoreAPIVersion bool) *parsedRequest {
	p := &parsedRequest{
		method: strings.ToUpper(method),
		path:   u.EscapedPath(),
		segs:   pathSegments(u.EscapedPath()),
		query:  parseQuery(u.RawQuery, ignoreAPIVersion),
		media:  mediaType(contentType),
		body:   body,
	}
	if kindOf(contentType) == jsonBody && len(body) > 0 {
		p.json, p.isJSON = decodeJSON(body)
	}
	return p
}

func pathSegments(escaped string) []string {
	segs := strings.Split(escaped, "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	return segs
}

func parseQuery(raw string, ignoreAPIVersion bool) url.Values {
	q, _ := url.ParseQuery(raw)
	if ignoreAPIVersion {
		for k := range q {
			if strings.EqualFold(k, "api-version") {
				delete(q, k)
			}
		}
	}
	return q
}

// nextLinkQuery handles a .NET SDK habit: it pages by passing the whole
// nextLink back as continuationToken, where other clients follow the
// nextLink itself. Both address the same page, so a recorded
// continuationToken that is a URL of the same path stands for that URL's
// query too.
func nextLinkQuery(rec *parsedRequest, ignoreAPIVersion bool) url.Values {
	token := rec.query.Get("continuationToken")
	if !strings.Contains(token, "://") {
		return nil
	}
	next, err := url.Parse(token)
	if err != nil || !slices.Equal(pathSegments(next.EscapedPath()), rec.segs) {
		return nil
	}
	return parseQuery(next.RawQuery, ignoreAPIVersion)
}

// Weights of the parts of a request when looking for the closest recorded
// one: the path says most about which call it was.
const (
	pathWeight   = 8
	methodWeight = 4
	bodyWeight   = 2
)

// compare returns how far a request is from a recorded one (0 when it
// matches) and, when verbose, what differs. Without verbose it stops at the
// first difference.
func compare(rec, got *parsedRequest, verbose bool) (distance int, diffs []string) {
	differ := func(weight int, msg func() string) bool {
		distance += weight
		if verbose {
			diffs = append(diffs, msg())
		}
		return !verbose
	}
	if rec.method != got.method {
		if differ(methodWeight, func() string { return "method differs: recorded " + rec.method + ", got " + got.method }) {
			return
		}
	}
	if n := segmentsApart(rec.segs, got.segs); n > 0 {
		if differ(pathWeight+n, func() string { return "path differs: recorded " + rec.path + ", got " + got.path }) {
			return
		}
	}
	if keys := queryDiffKeys(rec.query, got.query); len(keys) > 0 && (rec.alt == nil || len(queryDiffKeys(rec.alt, got.query)) > 0) {
		for _, k := range keys {
			if differ(1, func() string { return queryDiff(k, rec.query[k], got.query[k]) }) {
				return
			}
		}
	}
	if len(rec.body) == 0 && len(got.body) == 0 {
		return
	}
	if rec.media != "" && rec.media != got.media {
		if differ(1, func() string { return "content type differs: recorded " + rec.media + ", got " + orNothing(got.media) }) {
			return
		}
	}
	media := rec.media
	if media == "" {
		media = got.media
	}
	if msg := bodyDiff(kindOf(media), rec, got); msg != "" {
		differ(bodyWeight, func() string { return msg })
	}
	return
}

// segmentsApart counts the path segments that differ.
func segmentsApart(a, b []string) int {
	n := max(len(a), len(b)) - min(len(a), len(b))
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// queryDiffKeys lists, sorted, the query keys whose values differ as
// multisets.
func queryDiffKeys(rec, got url.Values) []string {
	var keys []string
	for k := range rec {
		if !sameValues(rec[k], got[k]) {
			keys = append(keys, k)
		}
	}
	for k := range got {
		if _, ok := rec[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// sameValues compares two lists of values as multisets; a recorded
// Placeholder matches any one value.
func sameValues(rec, got []string) bool {
	if len(rec) != len(got) {
		return false
	}
	left := slices.Clone(got)
	for _, v := range rec {
		if v == Placeholder {
			continue
		}
		i := slices.Index(left, v)
		if i < 0 {
			return false
		}
		left = slices.Delete(left, i, i+1)
	}
	return true
}

func queryDiff(key string, rec, got []string) string {
	return fmt.Sprintf("query differs at %q: recorded %s, got %s", key, showValues(rec), showValues(got))
}

func showValues(vs []string) string {
	switch len(vs) {
	case 0:
		return "nothing"
	case 1:
		return strconv.Quote(vs[0])
	}
	sorted := slices.Sorted(slices.Values(vs))
	quoted := make([]string, len(sorted))
	for i, v := range sorted {
		quoted[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// bodyDiff compares two bodies by kind and says where they first differ,
// or returns "" when they match.
func bodyDiff(kind bodyKind, recReq, gotReq *parsedRequest) string {
	rec, got := recReq.body, gotReq.body
	if bytes.Equal(rec, got) {
		return ""
	}
	if kind == jsonBody {
		want, okW := recReq.json, recReq.isJSON
		if !okW {
			want, okW = decodeJSON(rec)
		}
		have, okG := gotReq.json, gotReq.isJSON
		if !okG {
			have, okG = decodeJSON(got)
		}
		if okW && okG {
			if path, w, g, differs := jsonDiff("$", want, have); differs {
				return "body differs at " + path + ": recorded " + w + ", got " + g
			}
			return ""
		}
	}
	if kind == binaryBody {
		i := 0
		for i < len(rec) && i < len(got) && rec[i] == got[i] {
			i++
		}
		return fmt.Sprintf("binary body differs at byte %d: recorded %d bytes, got %d", i, len(rec), len(got))
	}
	if len(rec) == 0 || len(got) == 0 {
		return "body differs: recorded " + showText(rec, 0) + ", got " + showText(got, 0)
	}
	i := 0
	for i < len(rec) && i < len(got) && rec[i] == got[i] {
		i++
	}
	return fmt.Sprintf("text body differs at byte %d: recorded %s, got %s", i, showText(rec, i), showText(got, i))
}

// showText quotes a body, or about 60 bytes of it around offset at.
func showText(b []byte, at int) string {
	if len(b) == 0 {
		return "no body"
	}
	const span = 60
	if len(b) <= span {
		return strconv.Quote(string(b))
	}
	start := max(0, at-span/3)
	end := min(len(b), start+span)
	s := strconv.Quote(string(b[start:end]))
	if start > 0 {
		s = "…" + s
	}
	if end < len(b) {
		s += "…"
	}
	return s
}

// decodeJSON decodes one JSON value, keeping numbers as written; ok is
// false when b is not exactly one JSON value.
func decodeJSON(b []byte) (v any, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

// jsonDiff finds the first place, in key order, where two JSON values
// differ, and shows both values there. A recorded Placeholder string
// matches any string.
func jsonDiff(path string, rec, got any) (at, recShown, gotShown string, differs bool) {
	switch r := rec.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		keys := slices.Sorted(maps.Keys(r))
		for k := range g {
			if _, ok := r[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			rv, inRec := r[k]
			gv, inGot := g[k]
			sub := path + jsonKey(k)
			switch {
			case !inRec:
				return sub, "nothing", showJSON(gv), true
			case !inGot:
				return sub, showJSON(rv), "nothing", true
			}
			if at, rs, gs, d := jsonDiff(sub, rv, gv); d {
				return at, rs, gs, true
			}
		}
		return "", "", "", false
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		for i := range max(len(r), len(g)) {
			sub := path + "[" + strconv.Itoa(i) + "]"
			switch {
			case i >= len(r):
				return sub, "nothing", showJSON(g[i]), true
			case i >= len(g):
				return sub, showJSON(r[i]), "nothing", true
			}
			if at, rs, gs, d := jsonDiff(sub, r[i], g[i]); d {
				return at, rs, gs, true
			}
		}
		return "", "", "", false
	case json.Number:
		if g, ok := got.(json.Number); ok && sameNumber(r, g) {
			return "", "", "", false
		}
	case string:
		if g, ok := got.(string); ok && (g == r || r == Placeholder) {
			return "", "", "", false
		}
	default: // bool, nil
		if rec == got {
			return "", "", "", false
		}
	}
	return path, showJSON(rec), showJSON(got), true
}

func sameNumber(a, b json.Number) bool {
	if a == b {
		return true
	}
	x, errA := a.Float64()
	y, errB := b.Float64()
	return errA == nil && errB == nil && x == y
}

// jsonKey renders an object key as a JSONPath step.
func jsonKey(k string) string {
	ident := k != ""
	for i, c := range k {
		if !(c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			ident = false
			break
		}
	}
	if ident {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

// showJSON renders a JSON value compactly, cut to about 80 bytes.
func showJSON(v any) string {
	b, err := encodeJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "…"
	}
	return string(b)
}
