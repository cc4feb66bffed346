package webpubsub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"wps/webpubsub/recording"
)

// This file replays the real-service sessions in testdata/recordings (copied
// verbatim from the official SDKs' repositories): for each recorded request,
// the test makes the same call with this client through a
// recording.Replayer, which checks that the client sends that request
// (method, path, query as a multiset, body by content type, signed) and
// answers with the recorded response, and checks that the client reads it
// as the SDKs do.

// recorded is one interaction of a recording.
type recorded = recording.Interaction

// callFor makes the client call that sends the recorded request, and
// returns what the call returned.
func callFor(ctx context.Context, c *Client, rec *recorded) (any, error) {
	segs := strings.Split(strings.TrimPrefix(rec.URL.EscapedPath(), "/"), "/")
	for i, s := range segs {
		segs[i], _ = url.PathUnescape(s)
	}
	q := rec.URL.Query()
	path := strings.Join(segs, "/")
	if path == "api/health" {
		return c.ServiceStatus(ctx)
	}
	rest := segs[3:] // after api/hubs/{hub}
	key := rec.Method + " " + shape(rest)
	send := &SendOptions{Excluded: q["excluded"], Filter: q.Get("filter")}
	if ttl := q.Get("messageTtlSeconds"); ttl != "" {
		send.TTLSeconds, _ = strconv.Atoi(ttl)
	}
	closing := &CloseOptions{Excluded: q["excluded"], Reason: q.Get("reason")}
	msg := Message{ContentType: rec.RequestHeader.Get("Content-Type"), Data: rec.RequestBody}
	perm := &PermissionOptions{TargetName: q.Get("targetName")}
	switch key {
	case "POST :send":
		return nil, c.SendToAll(ctx, msg, send)
	case "POST users/*/:send":
		return nil, c.SendToUser(ctx, rest[1], msg, send)
	case "POST groups/*/:send":
		return nil, c.SendToGroup(ctx, rest[1], msg, send)
	case "POST connections/*/:send":
		return nil, c.SendToConnection(ctx, rest[1], msg, send)
	case "POST :closeConnections":
		return nil, c.CloseAllConnections(ctx, closing)
	case "DELETE connections/*":
		return nil, c.CloseConnection(ctx, rest[1], closing)
	case "POST groups/*/:closeConnections":
		return nil, c.CloseGroupConnections(ctx, rest[1], closing)
	case "POST users/*/:closeConnections":
		return nil, c.CloseUserConnections(ctx, rest[1], closing)
	case "HEAD connections/*":
		return c.ConnectionExists(ctx, rest[1])
	case "HEAD groups/*":
		return c.GroupExists(ctx, rest[1])
	case "HEAD users/*":
		return c.UserExists(ctx, rest[1])
	case "PUT groups/*/connections/*":
		return nil, c.AddConnectionToGroup(ctx, rest[1], rest[3])
	case "DELETE groups/*/connections/*":
		return nil, c.RemoveConnectionFromGroup(ctx, rest[1], rest[3])
	case "DELETE connections/*/groups":
		return nil, c.RemoveConnectionFromAllGroups(ctx, rest[1])
	case "PUT users/*/groups/*":
		return nil, c.AddUserToGroup(ctx, rest[3], rest[1])
	case "DELETE users/*/groups/*":
		return nil, c.RemoveUserFromGroup(ctx, rest[3], rest[1])
	case "DELETE users/*/groups":
		return nil, c.RemoveUserFromAllGroups(ctx, rest[1])
	case "POST :addToGroups", "POST :removeFromGroups":
		var body struct {
			Groups []string `json:"groups"`
			Filter string   `json:"filter"`
		}
		if err := json.Unmarshal(rec.RequestBody, &body); err != nil {
			return nil, err
		}
		if rest[0] == ":addToGroups" {
			return nil, c.AddConnectionsToGroups(ctx, body.Groups, body.Filter)
		}
		return nil, c.RemoveConnectionsFromGroups(ctx, body.Groups, body.Filter)
	case "PUT permissions/*/connections/*":
		return nil, c.GrantPermission(ctx, Permission(rest[1]), rest[3], perm)
	case "DELETE permissions/*/connections/*":
		return nil, c.RevokePermission(ctx, Permission(rest[1]), rest[3], perm)
	case "HEAD permissions/*/connections/*":
		return c.CheckPermission(ctx, Permission(rest[1]), rest[3], perm)
	case "GET groups/*/connections":
		opts := &ListOptions{}
		opts.Top, _ = strconv.Atoi(q.Get("top"))
		opts.MaxPageSize, _ = strconv.Atoi(q.Get("maxpagesize"))
		return c.ListConnections(ctx, rest[1], opts)
	case "POST :generateToken":
		opts := &TokenOptions{UserID: q.Get("userId"), Roles: q["role"], Groups: q["group"], ClientProtocol: ClientProtocol(q.Get("clientType"))}
		opts.MinutesToExpire, _ = strconv.Atoi(q.Get("minutesToExpire"))
		return c.GenerateClientToken(ctx, opts)
	}
	return nil, errors.New("no operation sends " + key)
}

// shape replaces the variable segments of a path below the hub with "*".
func shape(rest []string) string {
	out := slices.Clone(rest)
	for i := range out {
		if i%2 == 1 && !strings.HasPrefix(out[i], ":") && !(i == len(out)-1 && (out[i] == "groups" || out[i] == "connections")) {
			out[i] = "*"
		}
	}
	return strings.Join(out, "/")
}

// checkResult checks what the client made of a recorded response against
// what the SDKs make of it: the value a successful call returns, or the
// error code it fails with.
func checkResult(t *testing.T, rec *recorded, result any, err error) {
	t.Helper()
	var mismatch *recording.MismatchError
	if errors.As(err, &mismatch) {
		t.Fatalf("the client did not send the recorded request: %v", mismatch)
	}
	switch {
	case rec.Method == http.MethodHead && (rec.StatusCode == 200 || rec.StatusCode == 404):
		if err != nil || result != (rec.StatusCode == 200) {
			t.Errorf("%s %s: got %v, %v; want %v", rec.Method, rec.URL.Path, result, err, rec.StatusCode == 200)
		}
	case rec.StatusCode >= 400:
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s %s: status %d gave %v, want an *Error", rec.Method, rec.URL.Path, rec.StatusCode, err)
		}
		if e.StatusCode != rec.StatusCode || e.Code != rec.ResponseHeader.Get("x-ms-error-code") {
			t.Errorf("%s %s: error %+v, want status %d code %q", rec.Method, rec.URL.Path, e, rec.StatusCode, rec.ResponseHeader.Get("x-ms-error-code"))
		}
	default:
		if err != nil {
			t.Errorf("%s %s: %v", rec.Method, rec.URL.Path, err)
		}
	}
}

func TestReplayRecordings(t *testing.T) {
	files, _ := filepath.Glob("testdata/recordings/*/*")
	var count int
	for _, path := range files {
		if !strings.HasSuffix(path, ".json") && !strings.HasSuffix(path, ".yaml") {
			continue
		}
		count++
		t.Run(filepath.Base(path), func(t *testing.T) {
			fixture, err := recording.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			replayer := recording.NewReplayer(fixture, nil)
			used := func() map[int]bool {
				used := map[int]bool{}
				for i := range fixture.Interactions {
					used[i] = true
				}
				for _, in := range replayer.Unused() {
					delete(used, in.Index)
				}
				return used
			}
			for i := range fixture.Interactions {
				rec := &fixture.Interactions[i]
				before := used()
				if before[i] {
					continue // a page of a listing made earlier
				}
				segs := strings.Split(rec.URL.Path, "/")
				hub := "hub"
				if len(segs) > 3 && segs[2] == "hubs" {
					hub = segs[3]
				}
				c, err := NewClient("https://"+recording.PlaceholderHost, testKey, hub, &ClientOptions{
					APIVersion: rec.URL.Query().Get("api-version"), MaxRetries: -1,
					HTTPClient: &http.Client{Transport: replayer},
				})
				if err != nil {
					t.Fatal(err)
				}
				result, err := callFor(context.Background(), c, rec)
				after := used()
				if len(after) == len(before) {
					t.Fatalf("%s %s: the call used no recorded request: %v", rec.Method, rec.URL, err)
				}
				checkResult(t, rec, result, err)
				if members, ok := result.([]GroupMember); ok {
					var pages []*recorded
					for j := range fixture.Interactions {
						if after[j] && !before[j] {
							pages = append(pages, &fixture.Interactions[j])
						}
					}
					checkMembers(t, pages, members)
				}
			}
			if unused := replayer.Unused(); len(unused) > 0 {
				t.Errorf("recorded requests never made: %v", unused)
			}
		})
	}
	if count < 11 {
		t.Errorf("replayed %d recordings, want the 11 of testdata/recordings", count)
	}
}

// checkMembers checks that a listing returned every member of every page.
func checkMembers(t *testing.T, pages []*recorded, members []GroupMember) {
	var want []string
	for _, p := range pages {
		var page struct {
			Value []GroupMember `json:"value"`
		}
		json.Unmarshal(p.ResponseBody, &page)
		for _, m := range page.Value {
			want = append(want, m.ConnectionID)
		}
	}
	var got []string
	for _, m := range members {
		got = append(got, m.ConnectionID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
}
