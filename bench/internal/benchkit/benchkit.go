// Package benchkit holds what the benchmark programs under bench/ share:
// building wps (and helper programs) once, outside the measurements, and
// reading a percentile of timings.
package benchkit

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
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

// Percentile returns the p-th percentile (nearest rank) of ds, which must
// not be empty.
func Percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}
