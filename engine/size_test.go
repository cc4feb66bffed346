package engine

import "testing"

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576": 1 << 20, "512MiB": 512 << 20, "2GiB": 2 << 30, "2G": 2 << 30, "64M": 64 << 20,
		"1.5GiB": 3 << 29, "100KB": 100 << 10, "1 TiB": 1 << 40, "0": 0, "10b": 10,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "12XB", "-1G", "1iB", "1e30G"} {
		if got, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, got)
		}
	}
	for n, want := range map[float64]string{100: "100 bytes", 1 << 30: "1 GiB", 1536: "1.5 KiB", 1 << 40: "1 TiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%v) = %q, want %q", n, got, want)
		}
	}
}
