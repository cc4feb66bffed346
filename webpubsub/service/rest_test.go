package service

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

func TestREST_Health(t *testing.T) {
	ts := newTestService(t)
	resp := ts.callWithToken(t, "HEAD", ts.server.URL+"/api/health?api-version=2024-12-01", "", "", "")
	wantStatus(t, resp, http.StatusOK)
	resp = ts.callWithToken(t, "POST", ts.server.URL+"/api/health", "", "", "")
	wantStatus(t, resp, http.StatusMethodNotAllowed)
}

func TestREST_Auth(t *testing.T) {
	ts := newTestService(t)
	path := "/api/hubs/chat/users/u1?api-version=2024-12-01"
	u := ts.server.URL + path
	hour := time.Now().Add(time.Hour)
	sign := func(claims jwt.MapClaims, key string) string {
		token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return token
	}

	refused := map[string]string{
		"missing":       "",
		"wrong key":     restToken(t, "another key of forty-four characters long!!", u, hour),
		"expired":       restToken(t, DevelopmentKey, u, time.Now().Add(-time.Hour)),
		"no exp":        sign(jwt.MapClaims{"aud": u}, DevelopmentKey),
		"other path":    restToken(t, DevelopmentKey, ts.server.URL+"/api/hubs/chat/users/u2", hour),
		"client token":  restToken(t, DevelopmentKey, ts.server.URL+"/client/hubs/chat", hour),
		"not a JWT":     "hello",
		"alg none":      mustNone(t, jwt.MapClaims{"aud": u, "exp": hour.Unix()}),
		"nbf in future": sign(jwt.MapClaims{"aud": u, "exp": hour.Unix(), "nbf": hour.Add(-time.Minute).Unix()}, DevelopmentKey),
	}
	for name, token := range refused {
		t.Run(name, func(t *testing.T) {
			resp := ts.callWithToken(t, "HEAD", u, "", "", token)
			wantStatus(t, resp, http.StatusUnauthorized)
			if got := resp.Header.Get("x-ms-error-code"); got != "Error.Unauthorized" {
				t.Errorf("x-ms-error-code = %q", got)
			}
			// The GET of a token error shows the message, never the token.
			resp = ts.callWithToken(t, "DELETE", ts.server.URL+"/api/hubs/chat/users/u1/groups?api-version=2024-12-01", "", "", token)
			wantStatus(t, resp, http.StatusUnauthorized)
			if token != "" && strings.Contains(resp.body, token) {
				t.Errorf("the error body repeats the token: %s", resp.body)
			}
		})
	}

	// The audience is compared leniently: scheme, host, query and a
	// trailing slash do not matter (reverse proxies, SDK differences).
	lenient := []string{
		u,
		"https://example.webpubsub.azure.com" + path,
		strings.ToUpper(ts.server.URL) + "/api/hubs/chat/users/u1/",
		ts.server.URL + "/api/hubs/chat/users/u1",
		ts.server.URL + "/api/hubs/chat/users/u1?api-version=2023-07-01&other=1",
	}
	for _, aud := range lenient {
		resp := ts.callWithToken(t, "HEAD", u, "", "", restToken(t, DevelopmentKey, aud, hour))
		wantStatus(t, resp, http.StatusNotFound) // authorized; the user does not exist
	}
	// aud may be an array, and the token may come with a kid header.
	token := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": []string{"x", u}, "exp": hour.Unix()})
	token.Header["kid"] = "k1"
	signed, _ := token.SignedString([]byte(DevelopmentKey))
	wantStatus(t, ts.callWithToken(t, "HEAD", u, "", "", signed), http.StatusNotFound)
}

func mustNone(t *testing.T, claims jwt.MapClaims) string {
	token, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestREST_CustomKey(t *testing.T) {
	key := "my own key that is long enough for HS256 ok"
	ts := newTestServiceWith(t, Options{AccessKey: key})
	u := ts.server.URL + "/api/hubs/chat/users/u1?api-version=2024-12-01"
	wantStatus(t, ts.callWithToken(t, "HEAD", u, "", "", restToken(t, key, u, time.Now().Add(time.Hour))), http.StatusNotFound)
	wantStatus(t, ts.callWithToken(t, "HEAD", u, "", "", restToken(t, DevelopmentKey, u, time.Now().Add(time.Hour))), http.StatusUnauthorized)
}

func TestREST_APIVersion(t *testing.T) {
	ts := newTestService(t)
	resp := ts.call(t, "HEAD", "/api/hubs/chat/users/u1?api-version=2021-10-01", "", "")
	wantStatus(t, resp, http.StatusNotFound)

	u := ts.server.URL + "/api/hubs/chat/users/u1/groups"
	resp = ts.callWithToken(t, "DELETE", u, "", "", restToken(t, DevelopmentKey, u, time.Now().Add(time.Hour)))
	wantStatus(t, resp, http.StatusBadRequest)
	if !strings.Contains(resp.body, "api-version") {
		t.Errorf("the error does not name api-version: %s", resp.body)
	}
	resp = ts.call(t, "DELETE", "/api/hubs/chat/users/u1/groups?api-version=latest", "", "")
	wantStatus(t, resp, http.StatusBadRequest)
}

func TestREST_Names(t *testing.T) {
	ts := newTestService(t)
	long := strings.Repeat("g", 1025)
	cases := []struct {
		name, method, path string
		status             int
		mention            string
	}{
		{"hub starts with digit", "POST", "/api/hubs/1chat/:send", 400, "hub"},
		{"hub with dash", "HEAD", "/api/hubs/my-hub/users/u", 400, "hub"},
		{"hub too long", "HEAD", "/api/hubs/" + strings.Repeat("h", 129) + "/users/u", 400, "hub"},
		{"group too long", "HEAD", "/api/hubs/chat/groups/" + long, 400, "1024"},
		{"group of spaces", "HEAD", "/api/hubs/chat/groups/%20%20", 400, "whitespace"},
		{"empty user", "DELETE", "/api/hubs/chat/users//groups", 400, "user"},
		{"unknown permission", "HEAD", "/api/hubs/chat/permissions/admin/connections/c1", 400, "permission"},
		{"bad targetName", "HEAD", "/api/hubs/chat/permissions/sendToGroup/connections/c1?targetName=%20", 400, "whitespace"},
		{"unknown operation", "POST", "/api/hubs/chat/:broadcast", 404, "no operation"},
		{"not the API", "GET", "/nothing", 404, "no operation"},
		{"wrong method", "GET", "/api/hubs/chat/:send", 405, "POST"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := ts.call(t, c.method, c.path, "", "")
			wantStatus(t, resp, c.status)
			if c.method != "HEAD" && !strings.Contains(resp.body, c.mention) {
				t.Errorf("body %s does not mention %q", resp.body, c.mention)
			}
			if resp.Header.Get("x-ms-error-code") == "" {
				t.Errorf("no x-ms-error-code header")
			}
		})
	}
	// Names may hold any escaped character, "/" included.
	wantStatus(t, ts.call(t, "HEAD", "/api/hubs/chat/users/a%2Fb%20c", "", ""), http.StatusNotFound)
}

// TestREST_NotFoundBodies checks the 404 answers byte for byte against the
// recordings of the real service.
func TestREST_NotFoundBodies(t *testing.T) {
	ts := newTestService(t)
	cases := []struct {
		method, path, code, body string
		length                   string
	}{
		// HEAD answers carry the length of a body they do not send. (The
		// real service's HEAD bodies are a few bytes shorter than its PUT
		// bodies; their text was never recorded.)
		{"HEAD", "/api/hubs/chat/users/user1", "Warning.User.NotExisted", "", "122"},
		{"HEAD", "/api/hubs/chat/groups/group1", "Warning.Group.NotExisted", "", "126"},
		{"HEAD", "/api/hubs/chat/connections/conn1", "Warning.Connection.NotExisted", "", "140"},
		{"PUT", "/api/hubs/hub/users/some_user/groups/some_group", "Warning.User.NotExisted",
			"{\"code\":\"Warning.User.NotExisted\",\"message\":\"User `some_user` is not found.\",\"target\":\"User\",\"details\":null,\"innererror\":null}", "126"},
		{"PUT", "/api/hubs/chat/permissions/joinLeaveGroup/connections/conn1?targetName=group1", "Info.Connection.NotExisted",
			"{\"code\":\"Info.Connection.NotExisted\",\"message\":\"Connection `conn1` is not found.\",\"target\":\"Connection\",\"details\":null,\"innererror\":null}", "137"},
	}
	for _, c := range cases {
		resp := ts.call(t, c.method, c.path, "", "")
		wantStatus(t, resp, http.StatusNotFound)
		h := resp.Header
		if h.Get("x-ms-error-code") != c.code || h.Get("Content-Type") != "application/json; charset=utf-8" ||
			h.Get("api-supported-versions") != supportedVersions || h.Get("Content-Length") != c.length {
			t.Errorf("%s %s: headers %v", c.method, c.path, h)
		}
		if resp.body != c.body {
			t.Errorf("%s %s: body\n%s\nwant\n%s", c.method, c.path, resp.body, c.body)
		}
	}
	// Removals and closes of unknown targets succeed.
	for _, c := range []struct{ method, path string }{
		{"DELETE", "/api/hubs/hub/connections/fake%20connection%20id/groups"},
		{"DELETE", "/api/hubs/chat/permissions/joinLeaveGroup/connections/conn1?targetName=group1"},
		{"DELETE", "/api/hubs/chat/connections/conn1?reason=bye"},
		{"POST", "/api/hubs/chat/:closeConnections?excluded=conn1&reason=r"},
		{"POST", "/api/hubs/chat/groups/group1/:closeConnections?excluded=conn1&reason=r"},
		{"POST", "/api/hubs/chat/users/user1/:closeConnections?excluded=conn1&reason=r"},
		{"DELETE", "/api/hubs/chat/users/user1/groups"},
		{"DELETE", "/api/hubs/chat/users/user1/groups/g"},
		{"DELETE", "/api/hubs/chat/groups/g/connections/conn1"},
	} {
		resp := ts.call(t, c.method, c.path, "", "")
		wantStatus(t, resp, http.StatusNoContent)
		if resp.Header.Get("api-supported-versions") != supportedVersions {
			t.Errorf("%s %s: no api-supported-versions header", c.method, c.path)
		}
	}
}

func TestREST_Send(t *testing.T) {
	ts := newTestService(t)
	plain := dial(t, ts.clientURL(t, "chat", "alice", nil, []string{"g"}), "")
	js, connected := ts.connectJSON(t, jsonSubprotocol, "chat", "bob", nil, []string{"g"})
	bobID := connected["connectionId"].(string)

	cases := []struct {
		contentType, body string
		plainKind         int
		jsonData          string // the "dataType" and "data" fields a JSON client gets
	}{
		{"text/plain", "Hello world!", websocket.TextMessage, `"dataType":"text","data":"Hello world!"`},
		{"application/json", `{"kind": "json"}`, websocket.TextMessage, `"dataType":"json","data":{"kind":"json"}`},
		{"application/json", `"Hello"`, websocket.TextMessage, `"dataType":"json","data":"Hello"`},
		{"application/octet-stream", "binary", websocket.BinaryMessage, `"dataType":"binary","data":"YmluYXJ5"`},
		{"text/plain; charset=utf-8", "ünïcode", websocket.TextMessage, `"dataType":"text","data":"ünïcode"`},
	}
	for _, c := range cases {
		resp := ts.call(t, "POST", "/api/hubs/chat/:send", c.contentType, c.body)
		wantStatus(t, resp, http.StatusAccepted)
		if resp.Header.Get("Content-Length") != "0" || resp.Header.Get("api-supported-versions") != supportedVersions {
			t.Errorf("send headers: %v", resp.Header)
		}
		kind, b := readFrame(t, plain)
		if kind != c.plainKind || string(b) != c.body {
			t.Errorf("%s: plain client got (%d, %q), want (%d, %q)", c.contentType, kind, b, c.plainKind, c.body)
		}
		_, b = readFrame(t, js)
		jsonEqual(t, string(b), `{"type":"message","from":"server",`+c.jsonData+`}`)
	}

	// To a user, a group (a group message with no sender) and a connection.
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/users/bob/:send", "text/plain", "to bob"), http.StatusAccepted)
	_, b := readFrame(t, js)
	jsonEqual(t, string(b), `{"type":"message","from":"server","dataType":"text","data":"to bob"}`)
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/groups/g/:send", "text/plain", "to g"), http.StatusAccepted)
	_, b = readFrame(t, js)
	jsonEqual(t, string(b), `{"type":"message","from":"group","group":"g","fromUserId":null,"dataType":"text","data":"to g"}`)
	if _, b := readFrame(t, plain); string(b) != "to g" {
		t.Errorf("plain client got %q", b)
	}
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/connections/"+bobID+"/:send", "text/plain", "to conn"), http.StatusAccepted)
	_, b = readFrame(t, js)
	jsonEqual(t, string(b), `{"type":"message","from":"server","dataType":"text","data":"to conn"}`)

	// excluded and filter leave bob out; alice gets the messages, and bob's
	// next frame is the marker sent to him alone.
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:send?excluded="+bobID+"&excluded=other", "text/plain", "not bob 1"), http.StatusAccepted)
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/groups/g/:send?filter="+url.QueryEscape("userId ne 'bob'"), "text/plain", "not bob 2"), http.StatusAccepted)
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:send?filter=userId%20eq%20%27alice%27", "text/plain", "not bob 3"), http.StatusAccepted)
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/users/bob/:send?filter=userId+eq+null", "text/plain", "not bob 4"), http.StatusAccepted)
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/users/bob/:send", "text/plain", "marker"), http.StatusAccepted)
	for i := 1; i <= 3; i++ {
		if _, b := readFrame(t, plain); string(b) != "not bob "+string(rune('0'+i)) {
			t.Errorf("alice got %q", b)
		}
	}
	_, b = readFrame(t, js)
	if !strings.Contains(string(b), "marker") {
		t.Errorf("bob got %s, want the marker", b)
	}

	// Bad sends.
	bad := []struct {
		name, path, contentType, body string
		status                        int
		mention                       string
	}{
		{"no content type", "/api/hubs/chat/:send", "", "x", 415, "Content-Type"},
		{"xml", "/api/hubs/chat/:send", "application/xml", "<x/>", 415, "text/plain"},
		{"bad json", "/api/hubs/chat/:send", "application/json", "{nope", 400, "JSON"},
		{"ttl too big", "/api/hubs/chat/:send?messageTtlSeconds=301", "text/plain", "x", 400, "messageTtlSeconds"},
		{"ttl not a number", "/api/hubs/chat/users/u/:send?messageTtlSeconds=ten", "text/plain", "x", 400, "messageTtlSeconds"},
		{"too large", "/api/hubs/chat/:send", "text/plain", strings.Repeat("x", maxBodySize+1), 413, "larger"},
	}
	for _, c := range bad {
		resp := ts.call(t, "POST", c.path, c.contentType, c.body)
		wantStatus(t, resp, c.status)
		if !strings.Contains(resp.body, c.mention) {
			t.Errorf("%s: body %s does not mention %q", c.name, resp.body, c.mention)
		}
	}
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:send?messageTtlSeconds=15", "text/plain", "ttl"), http.StatusAccepted)
	if _, b := readFrame(t, plain); string(b) != "ttl" {
		t.Errorf("alice got %q", b)
	}
}

func TestREST_FilterSyntaxError(t *testing.T) {
	ts := newTestService(t)
	resp := ts.call(t, "POST", "/api/hubs/chat/:send?filter="+url.QueryEscape("userId eq"), "text/plain", "x")
	wantStatus(t, resp, http.StatusBadRequest)
	if resp.Header.Get("Content-Type") != "application/problem+json; charset=utf-8" || resp.Header.Get("x-ms-error-code") != "Error.BadRequest" {
		t.Errorf("headers %v", resp.Header)
	}
	var problem struct {
		Code, Message, Target, Title string
		Status                       int
		Errors                       map[string][]string
	}
	if err := json.Unmarshal([]byte(resp.body), &problem); err != nil {
		t.Fatal(err)
	}
	if problem.Code != "Error.BadRequest" || problem.Target != "Filter" || problem.Status != 400 ||
		!strings.HasPrefix(problem.Message, "Invalid syntax for 'userId eq': Syntax error at position") ||
		!strings.HasSuffix(problem.Message, "(Parameter 'filter')") || len(problem.Errors["Filter"]) != 1 {
		t.Errorf("problem = %+v", problem)
	}

	resp = ts.call(t, "POST", "/api/hubs/simplechat/:addToGroups", "application/json", `{"groups":["group1","group2"],"filter":"invalid filter"}`)
	wantStatus(t, resp, http.StatusBadRequest)
	if !strings.Contains(resp.body, "position") {
		t.Errorf("body %s does not say where", resp.body)
	}
}

func TestREST_Membership(t *testing.T) {
	ts := newTestService(t)
	_, c1 := ts.connectJSON(t, jsonSubprotocol, "chat", "u1", nil, nil)
	_, c2 := ts.connectJSON(t, jsonSubprotocol, "chat", "u1", nil, nil)
	_, c3 := ts.connectJSON(t, reliableSubprotocol, "chat", "", nil, nil)
	id1, id2, id3 := c1["connectionId"].(string), c2["connectionId"].(string), c3["connectionId"].(string)

	exists := func(path string, want int) {
		t.Helper()
		wantStatus(t, ts.call(t, "HEAD", path, "", ""), want)
	}
	exists("/api/hubs/chat/connections/"+id1, 200)
	exists("/api/hubs/CHAT/connections/"+id1, 200) // hub names ignore case
	exists("/api/hubs/chat/users/u1", 200)
	exists("/api/hubs/other/users/u1", 404)
	exists("/api/hubs/chat/groups/g1", 404)

	// A connection joins and leaves; every change shows in the next call.
	wantStatus(t, ts.call(t, "PUT", "/api/hubs/chat/groups/g1/connections/"+id3, "", ""), 200)
	exists("/api/hubs/chat/groups/g1", 200)
	wantStatus(t, ts.call(t, "PUT", "/api/hubs/chat/groups/g1/connections/nobody", "", ""), 404)
	wantStatus(t, ts.call(t, "DELETE", "/api/hubs/chat/groups/g1/connections/"+id3, "", ""), 204)
	exists("/api/hubs/chat/groups/g1", 404)

	// A user's connections join together, and so does the user's next one.
	wantStatus(t, ts.call(t, "PUT", "/api/hubs/chat/users/u1/groups/g2", "", ""), 200)
	_, c4 := ts.connectJSON(t, jsonSubprotocol, "chat", "u1", nil, nil)
	id4 := c4["connectionId"].(string)
	if got := ts.listIDs(t, "/api/hubs/chat/groups/g2/connections"); !sameSet(got, id1, id2, id4) {
		t.Errorf("g2 = %v, want %v", got, []string{id1, id2, id4})
	}
	wantStatus(t, ts.call(t, "DELETE", "/api/hubs/chat/users/u1/groups/g2", "", ""), 204)
	exists("/api/hubs/chat/groups/g2", 404)

	// Remove from all groups, by connection and by user.
	wantStatus(t, ts.call(t, "PUT", "/api/hubs/chat/groups/a/connections/"+id1, "", ""), 200)
	wantStatus(t, ts.call(t, "PUT", "/api/hubs/chat/groups/b/connections/"+id1, "", ""), 200)
	wantStatus(t, ts.call(t, "DELETE", "/api/hubs/chat/connections/"+id1+"/groups", "", ""), 204)
	exists("/api/hubs/chat/groups/a", 404)
	exists("/api/hubs/chat/groups/b", 404)
	wantStatus(t, ts.call(t, "PUT", "/api/hubs/chat/users/u1/groups/c", "", ""), 200)
	wantStatus(t, ts.call(t, "DELETE", "/api/hubs/chat/users/u1/groups", "", ""), 204)
	exists("/api/hubs/chat/groups/c", 404)

	// :addToGroups and :removeFromGroups with and without a filter.
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:addToGroups", "application/json", `{"groups":["x","y"],"filter":"userId eq 'u1'"}`), 200)
	if got := ts.listIDs(t, "/api/hubs/chat/groups/y/connections"); !sameSet(got, id1, id2, id4) {
		t.Errorf("y = %v", got)
	}
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:addToGroups", "application/json", `{"groups":["z"]}`), 200)
	if got := ts.listIDs(t, "/api/hubs/chat/groups/z/connections"); !sameSet(got, id1, id2, id3, id4) {
		t.Errorf("z = %v", got)
	}
	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:removeFromGroups", "application/json", `{"groups":["x","z"],"filter":"connectionId ne '`+id2+`'"}`), 200)
	if got := ts.listIDs(t, "/api/hubs/chat/groups/x/connections"); !sameSet(got, id2) {
		t.Errorf("x = %v", got)
	}
	if got := ts.listIDs(t, "/api/hubs/chat/groups/z/connections"); !sameSet(got, id2) {
		t.Errorf("z = %v", got)
	}
	for _, body := range []string{`{"groups":[]}`, `{"filter":"userId eq 'a'"}`, `not json`, `{"groups":["  "]}`} {
		wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:addToGroups", "application/json", body), 400)
	}
}

// listIDs follows every page of a list and returns the connection ids.
func (ts *testService) listIDs(t *testing.T, path string) []string {
	t.Helper()
	var ids []string
	next := path
	for next != "" {
		resp := ts.call(t, "GET", next, "", "")
		wantStatus(t, resp, 200)
		var page struct {
			Value []struct {
				ConnectionID string  `json:"connectionId"`
				UserID       *string `json:"userId"`
			}
			NextLink string
		}
		if err := json.Unmarshal([]byte(resp.body), &page); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Value {
			ids = append(ids, m.ConnectionID)
		}
		next = strings.TrimPrefix(page.NextLink, ts.server.URL)
	}
	return ids
}

func sameSet(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]bool{}
	for _, g := range got {
		seen[g] = true
	}
	for _, w := range want {
		if !seen[w] {
			return false
		}
	}
	return true
}

func TestREST_ListPaging(t *testing.T) {
	ts := newTestService(t)
	resp := ts.call(t, "GET", "/api/hubs/apicoverage/groups/group1/connections?top=10", "", "")
	wantStatus(t, resp, 200)
	if resp.body != `{"value":[]}` || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("empty list: %s %v", resp.body, resp.Header)
	}

	var ids []string
	for i := 0; i < 5; i++ {
		user := ""
		if i%2 == 0 {
			user = "u"
		}
		_, c := ts.connectJSON(t, jsonSubprotocol, "chat", user, nil, []string{"g"})
		ids = append(ids, c["connectionId"].(string))
	}
	all := ts.listIDs(t, "/api/hubs/chat/groups/g/connections?maxpagesize=2")
	if !sameSet(all, ids...) {
		t.Errorf("pages = %v, want %v", all, ids)
	}
	if got := ts.listIDs(t, "/api/hubs/chat/groups/g/connections?maxpagesize=2&top=3"); len(got) != 3 {
		t.Errorf("top=3 over pages of 2 gave %d items", len(got))
	}
	if got := ts.listIDs(t, "/api/hubs/chat/groups/g/connections?top=4"); len(got) != 4 {
		t.Errorf("top=4 gave %d items", len(got))
	}

	// A page: the userId is null for anonymous connections, and nextLink is
	// absolute. The .NET SDK sends the whole nextLink back as the token.
	resp = ts.call(t, "GET", "/api/hubs/chat/groups/g/connections?maxpagesize=1", "", "")
	var page struct {
		Value    []map[string]any
		NextLink string
	}
	json.Unmarshal([]byte(resp.body), &page)
	if len(page.Value) != 1 || !strings.HasPrefix(page.NextLink, ts.server.URL+"/api/hubs/chat/groups/g/connections?maxpagesize=1&continuationToken=") {
		t.Fatalf("page = %s", resp.body)
	}
	if _, ok := page.Value[0]["userId"]; !ok {
		t.Errorf("userId missing: %s", resp.body)
	}
	resp = ts.call(t, "GET", "/api/hubs/chat/groups/g/connections?maxpagesize=1&continuationToken="+url.QueryEscape(page.NextLink), "", "")
	var second struct{ Value []map[string]any }
	json.Unmarshal([]byte(resp.body), &second)
	if len(second.Value) != 1 || second.Value[0]["connectionId"] == page.Value[0]["connectionId"] {
		t.Errorf("second page = %s", resp.body)
	}

	for _, q := range []string{"maxpagesize=0", "maxpagesize=201", "top=0", "top=x"} {
		wantStatus(t, ts.call(t, "GET", "/api/hubs/chat/groups/g/connections?"+q, "", ""), 400)
	}
}

func TestREST_GenerateToken(t *testing.T) {
	ts := newTestService(t)
	resp := ts.call(t, "POST", "/api/hubs/chat/:generateToken?userId=u1&role=webpubsub.sendToGroup&role=webpubsub.joinLeaveGroup.g1&minutesToExpire=10&group=g1&group=g2&clientType=Default", "", "")
	wantStatus(t, resp, 200)
	if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	var body struct{ Token string }
	json.Unmarshal([]byte(resp.body), &body)
	claims, err := parseToken(body.Token, DevelopmentKey)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != "u1" || len(claims.Roles) != 2 || len(claims.Groups) != 2 ||
		claims.Audience[0] != ts.server.URL+"/client/hubs/chat" || claims.ExpiresAt.Sub(claims.IssuedAt.Time) != 10*time.Minute {
		t.Errorf("claims = %+v", claims)
	}
	// The token connects, in the token's groups.
	wsURL := "ws" + strings.TrimPrefix(ts.server.URL, "http") + "/client/hubs/chat?access_token=" + body.Token
	ws := dial(t, wsURL, jsonSubprotocol)
	readJSON(t, ws)
	wantStatus(t, ts.call(t, "HEAD", "/api/hubs/chat/groups/g2", "", ""), 200)

	resp = ts.call(t, "POST", "/api/hubs/chat/:generateToken?clientType=MQTT", "", "")
	json.Unmarshal([]byte(resp.body), &body)
	claims, _ = parseToken(body.Token, DevelopmentKey)
	if claims.Audience[0] != ts.server.URL+"/clients/mqtt/hubs/chat" || claims.Subject != "" {
		t.Errorf("MQTT claims = %+v", claims)
	}
	for _, q := range []string{"minutesToExpire=0", "minutesToExpire=x", "clientType=carrier-pigeon", "group=%20"} {
		wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/:generateToken?"+q, "", ""), 400)
	}
}

func TestREST_Permissions(t *testing.T) {
	ts := newTestService(t)
	ws, connected := ts.connectJSON(t, jsonSubprotocol, "chat", "u1", nil, nil)
	id := connected["connectionId"].(string)
	perm := "/api/hubs/chat/permissions/sendToGroup/connections/" + id

	wantStatus(t, ts.call(t, "HEAD", perm+"?targetName=g1", "", ""), 404)
	writeJSON(t, ws, `{"type":"sendToGroup","group":"g1","data":"x","ackId":1}`)
	if ack := readJSON(t, ws); ack["success"] != false {
		t.Errorf("ack before grant = %v", ack)
	}

	wantStatus(t, ts.call(t, "PUT", perm+"?targetName=g1", "", ""), 200)
	wantStatus(t, ts.call(t, "HEAD", perm+"?targetName=g1", "", ""), 200)
	wantStatus(t, ts.call(t, "HEAD", perm+"?targetName=g2", "", ""), 404)
	wantStatus(t, ts.call(t, "HEAD", perm, "", ""), 404)
	writeJSON(t, ws, `{"type":"sendToGroup","group":"g1","data":"x","ackId":2}`)
	jsonEqual(t, mustRead(t, ws), `{"type":"ack","ackId":2,"success":true}`)

	wantStatus(t, ts.call(t, "DELETE", perm+"?targetName=g1", "", ""), 204)
	wantStatus(t, ts.call(t, "HEAD", perm+"?targetName=g1", "", ""), 404)
	writeJSON(t, ws, `{"type":"sendToGroup","group":"g1","data":"x","ackId":3}`)
	if ack := readJSON(t, ws); ack["success"] != false {
		t.Errorf("ack after revoke = %v", ack)
	}

	// Without targetName a grant covers every group, and a revoke takes all.
	join := "/api/hubs/chat/permissions/joinLeaveGroup/connections/" + id
	wantStatus(t, ts.call(t, "PUT", join, "", ""), 200)
	wantStatus(t, ts.call(t, "HEAD", join+"?targetName=any", "", ""), 200)
	wantStatus(t, ts.call(t, "HEAD", join, "", ""), 200)
	wantStatus(t, ts.call(t, "DELETE", join, "", ""), 204)
	wantStatus(t, ts.call(t, "HEAD", join+"?targetName=any", "", ""), 404)

	resp := ts.call(t, "HEAD", "/api/hubs/chat/permissions/sendToGroup/connections/nobody?targetName=g", "", "")
	wantStatus(t, resp, 404)
	if resp.Header.Get("x-ms-error-code") != "Info.Connection.NotExisted" {
		t.Errorf("x-ms-error-code = %q", resp.Header.Get("x-ms-error-code"))
	}
}

func mustRead(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_, b := readFrame(t, ws)
	return string(b)
}

func TestREST_Close(t *testing.T) {
	ts := newTestService(t)
	js, c1 := ts.connectJSON(t, jsonSubprotocol, "chat", "u1", nil, []string{"g"})
	plain := dial(t, ts.clientURL(t, "chat", "u2", nil, []string{"g"}), "")
	keep, c3 := ts.connectJSON(t, reliableSubprotocol, "chat", "u3", nil, []string{"g"})
	id1, id3 := c1["connectionId"].(string), c3["connectionId"].(string)

	wantStatus(t, ts.call(t, "POST", "/api/hubs/chat/groups/g/:closeConnections?excluded="+id3+"&reason=live-coverage", "", ""), 204)
	jsonEqual(t, mustRead(t, js), `{"type":"system","event":"disconnected","message":"live-coverage"}`)
	if ce := readClose(t, js); ce.Code != websocket.CloseNormalClosure || ce.Text != "live-coverage" {
		t.Errorf("JSON client closed with %v", ce)
	}
	if ce := readClose(t, plain); ce.Code != websocket.CloseNormalClosure || ce.Text != "live-coverage" {
		t.Errorf("plain client closed with %v", ce)
	}
	// A closed connection is gone for the very next call.
	wantStatus(t, ts.call(t, "HEAD", "/api/hubs/chat/connections/"+id1, "", ""), 404)
	wantStatus(t, ts.call(t, "HEAD", "/api/hubs/chat/users/u2", "", ""), 404)
	wantStatus(t, ts.call(t, "HEAD", "/api/hubs/chat/connections/"+id3, "", ""), 200)

	wantStatus(t, ts.call(t, "DELETE", "/api/hubs/chat/connections/"+id3, "", ""), 204)
	jsonEqual(t, mustRead(t, keep), `{"type":"system","event":"disconnected","message":"`+defaultCloseReason+`"}`)
	if ce := readClose(t, keep); ce.Code != websocket.CloseNormalClosure {
		t.Errorf("reliable client closed with %v", ce)
	}
	wantStatus(t, ts.call(t, "HEAD", "/api/hubs/chat/connections/"+id3, "", ""), 404)
}
