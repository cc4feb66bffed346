// Package benchkit holds what the benchmark programs under bench/ share:
// building wps (and helper programs) once, outside the measurements, and
// reading the median and percentiles of measurements.
package benchkit

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// ModuleRoot returns the directory of the wps module, which a benchmark
// must be run from inside.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("finding the wps module (run from inside it): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Build builds the package pkg of the module (e.g. "." for wps) into dir
// under name, writing the compiler's output to stderr, and returns the
// binary's path.
func Build(ctx context.Context, dir, name, pkg string, stderr io.Writer) (string, error) {
	root, err := ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, name)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	build.Dir = root
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building %s: %w", pkg, err)
	}
	return bin, nil
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// values, which must not be empty: the smallest value that at least p% of
// them do not exceed. values is left as it is.
func Percentile[T cmp.Ordered](values []T, p float64) T {
	s := slices.Sorted(slices.Values(values))
	rank := int(math.Ceil(float64(len(s))*p/100)) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// Median returns the middle of values (the mean of the two middle ones
// for an even count), which must not be empty. values is left as it is.
func Median(values []float64) float64 {
	s := slices.Sorted(slices.Values(values))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
