package main

import "testing"

// BenchmarkLuaCall measures a send_to_all made from Go and from Lua over a
// transport that answers at once, and a Lua call of a no-op Go function.
// The binding's overhead is lua_send minus go_send (target: under 2 µs);
// `go run ./bench/run` measures that difference more steadily, in paired
// rounds.
func BenchmarkLuaCall(b *testing.B) {
	for _, bc := range []struct {
		name      string
		newSender func() (*sender, error)
	}{
		{"go_send", newGoSender},
		{"lua_send", newLuaSender},
		{"lua_noop", newNoopSender},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := bc.newSender()
			if err != nil {
				b.Fatal(err)
			}
			defer s.close()
			if err := s.send(1); err != nil { // warm up: makes the default client
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := s.send(b.N); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if s.sends != nil && s.sends.Load() != int64(b.N+1) {
				b.Fatalf("%d calls sent %d requests", b.N+1, s.sends.Load())
			}
		})
	}
}

// TestSenders checks that the measured calls really send: one request per
// call, to the send-to-all endpoint, from Go and from Lua.
func TestSenders(t *testing.T) {
	for name, newSender := range map[string]func() (*sender, error){"Go": newGoSender, "Lua": newLuaSender} {
		t.Run(name, func(t *testing.T) {
			s, err := newSender()
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			if _, err := timeCalls(s, 3); err != nil {
				t.Fatal(err)
			}
			if got := s.sends.Load(); got != 3 {
				t.Errorf("3 calls sent %d requests, want 3", got)
			}
		})
	}
	t.Run("Noop", func(t *testing.T) {
		s, err := newNoopSender()
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		if _, err := timeCalls(s, 3); err != nil {
			t.Fatal(err)
		}
	})
}
