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

func TestMedian(t *testing.T) {
	t.Run("Odd", func(t *testing.T) {
		if got := median([]float64{9, 1, 5}); got != 5 {
			t.Errorf("median = %v, want 5", got)
		}
	})
	t.Run("Even", func(t *testing.T) {
		if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
			t.Errorf("median = %v, want 2.5", got)
		}
	})
	t.Run("LeavesInputUnsorted", func(t *testing.T) {
		values := []float64{3, 1, 2}
		median(values)
		if values[0] != 3 || values[1] != 1 || values[2] != 2 {
			t.Errorf("median reordered its input: %v", values)
		}
	})
}

func TestPercentile(t *testing.T) {
	values := make([]float64, 0, 30)
	for i := 30; i >= 1; i-- {
		values = append(values, float64(i))
	}
	for _, tc := range []struct {
		p    float64
		want float64
	}{
		{90, 27}, // 27 of the 30 values are <= 27
		{50, 15},
		{100, 30},
		{1, 1},
	} {
		if got := percentile(values, tc.p); got != tc.want {
			t.Errorf("percentile(1..30, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile([]float64{7}, 90); got != 7 {
		t.Errorf("percentile([7], 90) = %v, want 7", got)
	}
}
