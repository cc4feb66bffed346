//go:build !linux

package schedule

import (
	"bufio"
	"runtime"
)

// writeProcessMetrics writes the goroutine count; the process metrics of
// client_golang's collectors are read from /proc, on Linux only.
func writeProcessMetrics(w *bufio.Writer) {
	writeHeader(w, "go_goroutines", "Number of goroutines that currently exist.", "gauge")
	writeSample(w, "go_goroutines", nil, nil, "", 0, float64(runtime.NumGoroutine()))
}
