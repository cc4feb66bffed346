package luaapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestErrors_Structured(t *testing.T) {
	srv := newWireServer(t)
	srv.reply = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-error-code", "Error.Forbidden")
		w.Header().Set("x-ms-request-id", "req-42")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"code":"Error.Forbidden","message":"no access to group ops"}`)
	}
	L, _ := newTestState(t, testTarget{ConnectionString: srv.connectionString()})

	t.Run("Fields", func(t *testing.T) {
		got := mustRun(t, L, `
			local ok, err = pcall(wps.send_to_group, "ops", "hi")
			assert(not ok)
			return {status = err.status, code = err.code, message = err.message, operation = err.operation,
				method = err.method, path = err.path, request_id = err.request_id, text = tostring(err)}`)
		want := `{"code":"Error.Forbidden","message":"no access to group ops","method":"POST","operation":"send_to_group",` +
			`"path":"/api/hubs/hub/groups/ops/:send","request_id":"req-42","status":403,` +
			`"text":"wps: send_to_group: 403 Forbidden (Error.Forbidden): no access to group ops"}`
		if got != want {
			t.Errorf("error table =\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("UncaughtStopsTheScript", func(t *testing.T) {
		got := mustFail(t, L, `wps.add_user_to_group("g", "u"); reached = true`)
		if got != "wps: add_user_to_group: 403 Forbidden (Error.Forbidden): no access to group ops" {
			t.Errorf("error = %q", got)
		}
		if L.GetGlobal("reached").String() != "nil" {
			t.Error("the script went on after the failed call")
		}
	})
	t.Run("ExistsRaisesOnOtherStatuses", func(t *testing.T) {
		got := mustFail(t, L, `return wps.user_exists("u")`)
		if !strings.HasPrefix(got, "wps: user_exists: 403 Forbidden") {
			t.Errorf("error = %q", got)
		}
	})
}

func TestErrors_Transport(t *testing.T) {
	srv := newWireServer(t)
	cs := srv.connectionString()
	srv.Close() // nothing listens any more
	L, _ := newTestState(t, testTarget{ConnectionString: cs})
	got := mustRun(t, L, `
		local c = wps.client{connection_string = "`+cs+`", retries = 0}
		local ok, err = pcall(c.send_to_all, c, "hi")
		assert(not ok)
		return {has_status = err.status ~= nil, operation = err.operation, text = tostring(err)}`)
	if !strings.Contains(got, `"has_status":false`) || !strings.Contains(got, `"operation":"send_to_all"`) ||
		!strings.Contains(got, `wps: send_to_all: failed`) {
		t.Errorf("transport error = %s", got)
	}
	if strings.Contains(got, testKey) {
		t.Errorf("the access key leaked into the error: %s", got)
	}
}

func TestErrors_NoSecrets(t *testing.T) {
	L, _ := newTestState(t, testTarget{})
	for _, script := range []string{
		`wps.client{connection_string = "Endpoint=http://x;AccessKey=` + testKey + `;Version=9;"}`,
		`wps.client{connection_string = "AccessKey=` + testKey + `"}`,
		`wps.client{endpoint = "ftp://x", key = "` + testKey + `"}`,
		`wps.connect{url = "ws://127.0.0.1:1/client/hubs/hub?access_token=` + testKey + `"}`,
	} {
		got := mustFail(t, L, script)
		if strings.Contains(got, testKey) {
			t.Errorf("%s\nraised %q, which holds the key", script, got)
		}
	}
}
