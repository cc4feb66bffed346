// Command repl benchmarks starting `wps repl` to evaluate one line from a
// pipe against `wps run` of a script holding the same line: the REPL must
// cost no more than a script run.
//
// It builds wps once, starts a Web PubSub service in-process (the
// embedded service's code, with a random key) and points both commands at
// it through WEBPUBSUB_CONNECTION_STRING, as a configured hub. For each
// line (1+1, then a REST call, wps.group_exists) it runs
// `echo LINE | wps repl` and `wps run FILE` (FILE printing the same value)
// -n times each, interleaved so that a slow patch of the machine hits both
// alike, after one warm-up run each, checks that both printed the value,
// and reports the median and p90 wall time and the median CPU time (user
// and system) of each, the median of the rounds' ratios of both, and the
// peak resident memory (GNU time's %M, from a
// second set of runs). `go test -bench . ./repl` measures the same
// comparison in-process, without the cost of starting a process.
//
// Usage:
//
//	go run ./bench/repl           # 50 runs of each command
//	go run ./bench/repl -n 200
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wps/bench/internal/benchkit"
	"wps/webpubsub/service"
)

// gnuTime is GNU time, whose %M is the peak resident set size of the
// command it runs, in KiB.
const gnuTime = "/usr/bin/time"

// targetRatio is the most the REPL's median may cost relative to wps run's.
const targetRatio = 1.0

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench/repl:", err)
		}
		os.Exit(1)
	}
}

// pair is one line measured both ways.
type pair struct {
	name       string
	replInput  string // piped to wps repl
	script     string // the file wps run runs
	wantOutput string // what both print
}

var pairs = []pair{
	{"1+1", "1+1\n", "print(1+1)\n", "2\n"},
	{`wps.group_exists("g")`, `wps.group_exists("g")` + "\n", `print(wps.group_exists("g"))` + "\n", "false\n"},
}

// command is one way of running a line.
type command struct {
	name  string
	argv  []string
	stdin string
	want  string
	walls []time.Duration
	cpus  []time.Duration // user + system time of the process
	peaks []int           // KiB
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("repl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("n", 50, "measured runs of each command (each is run twice: once timed, once under GNU time for memory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runs < 1 || fs.NArg() > 0 {
		return errors.New("usage: go run ./bench/repl [-n runs]")
	}
	if out, err := exec.Command(gnuTime, "-f", "%M", "true").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) == "" {
		return fmt.Errorf("%s -f %%M does not work (%v): install GNU time (Debian package \"time\")", gnuTime, err)
	}
	tmp, err := os.MkdirTemp("", "wps-bench-repl-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintln(stdout, "Building wps...")
	wps, err := benchkit.Build(ctx, tmp, "wps", ".", stderr)
	if err != nil {
		return err
	}

	key := make([]byte, 32)
	rand.Read(key)
	server, err := service.Listen("127.0.0.1:0", service.Options{AccessKey: base64.StdEncoding.EncodeToString(key)})
	if err != nil {
		return err
	}
	defer server.Close(context.Background())
	env := append(os.Environ(),
		"WEBPUBSUB_CONNECTION_STRING="+server.ConnectionString, "WEBPUBSUB_HUB=bench",
		"XDG_CONFIG_HOME="+tmp, "NO_COLOR=1")
	fmt.Fprintf(stdout, "Service: %s, hub \"bench\" (in-process, random key)\n", server.URL)
	fmt.Fprintf(stdout, "Running each command %d times (plus one warm-up), interleaved...\n\n", *runs)

	fmt.Fprintf(stdout, "| line | command | median wall | p90 wall | median CPU | peak RSS |\n|---|---|---|---|---|---|\n")
	var verdicts []string
	for i, p := range pairs {
		file := filepath.Join(tmp, fmt.Sprintf("line%d.lua", i))
		if err := os.WriteFile(file, []byte(p.script), 0o644); err != nil {
			return err
		}
		repl := &command{name: "echo '" + strings.TrimSpace(p.replInput) + "' | wps repl", argv: []string{wps, "repl"}, stdin: p.replInput, want: p.wantOutput}
		script := &command{name: "wps run " + filepath.Base(file), argv: []string{wps, "run", file}, want: p.wantOutput}
		if err := measure(ctx, []*command{repl, script}, *runs, env); err != nil {
			return err
		}
		for _, c := range []*command{repl, script} {
			fmt.Fprintf(stdout, "| `%s` | `%s` | %s | %s | %s | %.1f MiB |\n", p.name, c.name,
				ms(benchkit.Percentile(c.walls, 50)), ms(benchkit.Percentile(c.walls, 90)), ms(benchkit.Percentile(c.cpus, 50)), float64(slices.Max(c.peaks))/1024)
		}
		for _, m := range []struct {
			what         string
			repl, script []time.Duration
		}{{"wall time", repl.walls, script.walls}, {"CPU time", repl.cpus, script.cpus}} {
			ratio := pairedRatio(m.repl, m.script)
			verdict := "PASS"
			if ratio > targetRatio {
				verdict = "MISS"
			}
			verdicts = append(verdicts, fmt.Sprintf("%s  %s: wps repl takes %.2fx the %s of wps run (median of %d paired rounds; target <= %.2fx)",
				verdict, p.name, ratio, m.what, len(m.repl), targetRatio))
		}
	}
	fmt.Fprintln(stdout)
	for _, v := range verdicts {
		fmt.Fprintln(stdout, v)
	}
	return nil
}

// measure runs each command once to warm up, then runs times timed and
// runs times under GNU time, alternating the commands and their order.
func measure(ctx context.Context, cmds []*command, runs int, env []string) error {
	for _, c := range cmds {
		if _, _, err := c.run(ctx, env, false); err != nil {
			return err
		}
	}
	for i := range runs {
		order := cmds
		if i%2 == 1 {
			order = []*command{cmds[1], cmds[0]}
		}
		for _, c := range order {
			wall, cpu, err := c.run(ctx, env, false)
			if err != nil {
				return err
			}
			c.walls, c.cpus = append(c.walls, wall), append(c.cpus, cpu)
		}
		for _, c := range order {
			if _, _, err := c.run(ctx, env, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// run runs c once and returns its wall time and CPU time, or under GNU
// time, recording its peak RSS. The output must be what c wants.
func (c *command) run(ctx context.Context, env []string, underTime bool) (wall, cpu time.Duration, err error) {
	argv := c.argv
	var peak *os.File
	if underTime {
		var err error
		if peak, err = os.CreateTemp("", "wps-bench-peak-"); err != nil {
			return 0, 0, err
		}
		defer os.Remove(peak.Name())
		peak.Close()
		argv = append([]string{gnuTime, "-f", "%M", "-o", peak.Name()}, argv...)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(c.stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if err != nil || out.String() != c.want {
		return 0, 0, fmt.Errorf("%s: %v: printed %q (want %q), stderr %q", c.name, err, out.String(), c.want, errOut.String())
	}
	cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if underTime {
		data, err := os.ReadFile(peak.Name())
		if err != nil {
			return 0, 0, err
		}
		kb, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			return 0, 0, fmt.Errorf("GNU time printed %q", data)
		}
		c.peaks = append(c.peaks, kb)
	}
	return wall, cpu, nil
}

// pairedRatio returns the median of a[i]/b[i]: each round ran both
// commands back to back, so on a busy machine this is steadier than the
// ratio of the medians.
func pairedRatio(a, b []time.Duration) float64 {
	ratios := make([]float64, len(a))
	for i := range ratios {
		ratios[i] = float64(a[i]) / float64(max(b[i], 1))
	}
	slices.Sort(ratios)
	return ratios[len(ratios)/2]
}

// ms renders d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
