package recording

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIndexFold holds indexFold to bytes.Index over lower-cased copies,
// on texts and needles drawn from a small alphabet of letters in both
// cases, digits and punctuation, so that near misses are common.
func TestIndexFold(t *testing.T) {
	const alphabet = "aAbBzZ09=%.-\"é"
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 20000 {
		s, needle := draw(rng.IntN(40)), draw(1+rng.IntN(4))
		if rng.IntN(3) == 0 && len(s) > 0 { // plant a copy in another case
			at := rng.IntN(len(s))
			s = s[:at] + string(bytes.ToUpper([]byte(needle))) + s[at:]
		}
		want := bytes.Index(asciiLower(s), asciiLower(needle))
		if got := indexFold([]byte(s), needle); got != want {
			t.Fatalf("indexFold(%q, %q) = %d, want %d", s, needle, got, want)
		}
	}
	for _, c := range []struct {
		s, needle string
		want      int
	}{
		{"", "a", -1},
		{"abc", "", 0},
		{"xxEndPoint=yy", "endpoint=", 2},
		{"Bearer", "bearer", 0},
		{"bearebearer", "BEARER", 5},
		{"key%3D", "key%3d", 0},
		{"a[b", "{b", -1}, // '[' and '{' differ only in bit 0x20 but are not letters
	} {
		if got := indexFold([]byte(c.s), c.needle); got != c.want {
			t.Errorf("indexFold(%q, %q) = %d, want %d", c.s, c.needle, got, c.want)
		}
	}
}

// asciiLower lower-cases the ASCII letters of s only.
func asciiLower(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

func BenchmarkScan(b *testing.B) {
	data := bytes.Repeat([]byte(`{"RequestUri": "http://Sanitized.webpubsub.azure.com/api/hubs/bench/groups/group1/:send?api-version=2024-12-01", "Authorization": "Sanitized", "text": "deploy starting"}`+"\n"), 500)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := Scan(data, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDottedRuns holds dottedRuns, which jumps from dot to dot, to the
// byte-by-byte reading of its definition: every maximal run of
// [A-Za-z0-9_.-] at least 10 long with at least two dots.
func TestDottedRuns(t *testing.T) {
	reference := func(data []byte) (runs [][2]int) {
		start, dots := -1, 0
		for i := 0; i <= len(data); i++ {
			in := i < len(data) && inRun[data[i]]
			switch {
			case in && start < 0:
				start, dots = i, 0
				if data[i] == '.' {
					dots++
				}
			case in:
				if data[i] == '.' {
					dots++
				}
			case start >= 0:
				if i-start >= 10 && dots >= 2 {
					runs = append(runs, [2]int{start, i})
				}
				start = -1
			}
		}
		return runs
	}
	const alphabet = "aZ9_-.. \"/:"
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		data := make([]byte, rng.IntN(60))
		for i := range data {
			data[i] = alphabet[rng.IntN(len(alphabet))]
		}
		var got [][2]int
		dottedRuns(data, func(start, end int) { got = append(got, [2]int{start, end}) })
		if want := reference(data); !slices.Equal(got, want) {
			t.Fatalf("dottedRuns(%q) = %v, want %v", data, got, want)
		}
	}
}
