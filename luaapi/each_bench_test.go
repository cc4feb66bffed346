package luaapi

import (
	"net/http"
	"testing"
	"time"
)

// BenchmarkEach sends to 64 users through a server that takes 2 ms per
// call, one by one in a loop and with wps.each at several concurrencies:
// the time per run shows how far the calls in flight overlap.
func BenchmarkEach(b *testing.B) {
	for _, bench := range []struct {
		name   string
		script string
	}{
		{"Loop", `for _, u in ipairs(users) do wps.send_to_user(u, "x") end`},
		{"Concurrency1", `wps.each(users, function(u) wps.send_to_user(u, "x") end, {concurrency = 1, progress = false})`},
		{"Concurrency8", `wps.each(users, function(u) wps.send_to_user(u, "x") end, {concurrency = 8, progress = false})`},
		{"Concurrency32", `wps.each(users, function(u) wps.send_to_user(u, "x") end, {concurrency = 32, progress = false})`},
	} {
		b.Run(bench.name, func(b *testing.B) {
			srv := newWireServer(b)
			srv.reply = func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(2 * time.Millisecond)
				w.WriteHeader(http.StatusAccepted)
			}
			L, _ := newTestState(b, testTarget{ConnectionString: srv.connectionString()})
			mustRun(b, L, `users = {}; for i = 1, 64 do users[i] = "user" .. i end`)
			b.ResetTimer()
			for range b.N {
				mustRun(b, L, bench.script)
			}
		})
	}
}
