package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"wps/bench/internal/benchkit"
	"wps/webpubsub"
)

// gnuTime is GNU time, whose %M is the peak resident set size of the
// command it runs, in KiB.
const gnuTime = "/usr/bin/time"

// runTimeout bounds one run of a script.
const runTimeout = 30 * time.Second

// target is one command measured by the benchmark.
type target struct {
	name string
	argv []string
	// sends is set for the scripts that send one message per run.
	sends bool
}

// result holds the measurements of one target: the wall time of each timed
// run and the peak RSS (KiB) of each run under GNU time.
type result struct {
	target
	runs   int // every run, the warm-up included
	walls  []time.Duration
	peakKB []int
}

// measureAll runs each target once to warm up, then runs times timed and
// runs times under GNU time, interleaving the targets so that a slow patch
// of the machine affects them alike. A run that fails stops the benchmark.
func measureAll(ctx context.Context, targets []target, runs int, dir string, env []string) ([]*result, error) {
	results := make([]*result, len(targets))
	for i, t := range targets {
		results[i] = &result{target: t}
		if _, err := runTimed(ctx, t, dir, env); err != nil {
			return nil, err
		}
		results[i].runs++
	}
	for range runs {
		for _, r := range results {
			wall, err := runTimed(ctx, r.target, dir, env)
			if err != nil {
				return nil, err
			}
			peak, err := runPeakRSS(ctx, r.target, dir, env)
			if err != nil {
				return nil, err
			}
			r.walls = append(r.walls, wall)
			r.peakKB = append(r.peakKB, peak)
			r.runs += 2
		}
	}
	return results, nil
}

// runTimed runs t once and returns its wall time, from start to exit.
func runTimed(ctx context.Context, t target, dir string, env []string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.argv[0], t.argv[1:]...)
	var output bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &output, &output
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return 0, runError(t, err, output.String())
	}
	return wall, nil
}

// runPeakRSS runs t once under GNU time and returns its peak resident set
// size in KiB.
func runPeakRSS(ctx context.Context, t target, dir string, env []string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	report, err := os.CreateTemp("", "wps-bench-rss-")
	if err != nil {
		return 0, err
	}
	report.Close()
	defer os.Remove(report.Name())
	args := append([]string{"-f", "%M", "-o", report.Name()}, t.argv...)
	cmd := exec.CommandContext(ctx, gnuTime, args...)
	var output bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &output, &output
	if err := cmd.Run(); err != nil {
		return 0, runError(t, err, output.String())
	}
	text, err := os.ReadFile(report.Name())
	if err != nil {
		return 0, err
	}
	kb, err := strconv.Atoi(strings.TrimSpace(string(text)))
	if err != nil {
		return 0, fmt.Errorf("%s: reading the peak RSS from GNU time's %q: %w", t.name, text, err)
	}
	return kb, nil
}

// runError describes a failed run with what it printed, secrets redacted.
func runError(t target, err error, output string) error {
	return fmt.Errorf("%s (%s) failed: %w\n%s", t.name, filepath.Base(t.argv[0]), err, webpubsub.RedactSecrets(strings.TrimSpace(output)))
}

// expectedDeliveries is the number of messages the runs of the sending
// targets put on the hub.
func expectedDeliveries(results []*result) int {
	n := 0
	for _, r := range results {
		if r.sends {
			n += r.runs
		}
	}
	return n
}

// millis converts durations to float milliseconds.
func millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

// mebibytes converts KiB counts to float MiB.
func mebibytes(kbs []int) []float64 {
	out := make([]float64, len(kbs))
	for i, kb := range kbs {
		out[i] = float64(kb) / 1024
	}
	return out
}

// report prints the table of results, the Node/wps ratios and the verdict
// on the targets of `wps run`.
func report(w io.Writer, results []*result, delivered, wantDelivered int) {
	fmt.Fprintf(w, "\n%-26s %5s %10s %10s %10s %12s %12s\n", "", "runs", "median ms", "p90 ms", "min ms", "median MiB", "peak MiB")
	for _, r := range results {
		ms, mib := millis(r.walls), mebibytes(r.peakKB)
		fmt.Fprintf(w, "%-26s %5d %10.1f %10.1f %10.1f %12.1f %12.1f\n", r.name, len(r.walls),
			benchkit.Median(ms), benchkit.Percentile(ms, 90), slices.Min(ms), benchkit.Median(mib), slices.Max(mib))
	}
	fmt.Fprintf(w, "Messages delivered to the hub's client: %d of %d\n", delivered, wantDelivered)

	wps, node, bare := results[0], findResult(results, "node"), findResult(results, "gosend")
	wpsMedian := benchkit.Median(millis(wps.walls))
	wpsPeak := slices.Max(wps.peakKB)
	fmt.Fprintln(w)
	verdict(w, fmt.Sprintf("wps run median wall time %.1f ms", wpsMedian), wpsMedian <= float64(targetMedian/time.Millisecond), fmt.Sprintf("<= %d ms", targetMedian/time.Millisecond))
	if bare != nil {
		ratio := wpsMedian / benchkit.Median(millis(bare.walls))
		verdict(w, fmt.Sprintf("wps run/bare Go median wall time %.2fx", ratio), ratio <= targetGoRatio, fmt.Sprintf("<= %.1fx", targetGoRatio))
	}
	verdict(w, fmt.Sprintf("wps run peak RSS %.1f MiB", float64(wpsPeak)/1024), wpsPeak <= targetPeakKB, fmt.Sprintf("<= %d MiB", targetPeakKB/1024))
	if node != nil {
		timeRatio := benchkit.Median(millis(node.walls)) / wpsMedian
		memRatio := benchkit.Median(mebibytes(node.peakKB)) / benchkit.Median(mebibytes(wps.peakKB))
		verdict(w, fmt.Sprintf("Node/wps median wall time %.1fx", timeRatio), timeRatio >= targetRatio, fmt.Sprintf(">= %.0fx", targetRatio))
		fmt.Fprintf(w, "Node/wps median peak RSS %.1fx\n", memRatio)
	}
}

// findResult returns the result whose name starts with prefix, or nil.
func findResult(results []*result, prefix string) *result {
	for _, r := range results {
		if strings.HasPrefix(r.name, prefix) {
			return r
		}
	}
	return nil
}

// verdict prints a measured figure against its target.
func verdict(w io.Writer, figure string, ok bool, target string) {
	mark := "MISSED"
	if ok {
		mark = "ok"
	}
	fmt.Fprintf(w, "%-44s target %-8s %s\n", figure, target, mark)
}
