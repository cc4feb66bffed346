package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Sizes in bytes, as flags take them (--max-memory, wps serve's
// --max-queue) and as messages show them.

// FormatSize renders a number of bytes for people: "512 MiB", "1 GiB",
// "1.5 KiB", "100 bytes".
func FormatSize(n float64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f bytes", n)
	}
	return strconv.FormatFloat(math.Round(n*10)/10, 'f', -1, 64) + " " + units[i]
}

// ParseSize parses a size such as "512MiB", "2GiB", "1.5G", "64M" or
// "1048576" (bytes). K, M, G and T mean powers of 1024, with or without a
// trailing "iB" or "B".
func ParseSize(s string) (int64, error) {
	number := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(s[len(number):]))
	var scale float64
	switch strings.TrimSuffix(strings.TrimSuffix(unit, "b"), "i") {
	case "":
		scale = 1
	case "k":
		scale = 1 << 10
	case "m":
		scale = 1 << 20
	case "g":
		scale = 1 << 30
	case "t":
		scale = 1 << 40
	default:
		return 0, fmt.Errorf("unknown unit %q: use B, KiB, MiB, GiB or TiB", s[len(number):])
	}
	if unit == "i" || unit == "ib" && scale == 1 {
		return 0, fmt.Errorf("unknown unit %q: use B, KiB, MiB, GiB or TiB", s[len(number):])
	}
	v, err := strconv.ParseFloat(number, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a size such as 512MiB or 2GiB", s)
	}
	if v*scale >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(v * scale), nil
}
