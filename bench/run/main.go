// Command run benchmarks `wps run` against the official Node SDK on the same
// job: send one message to a Web PubSub service that is already running.
//
// It builds wps once, starts `wps serve` on a free loopback port with a
// random key, and runs send_one.lua (with `wps run`) and send_one.mjs (with
// node and @azure/web-pubsub 1.2.0) -n times each, pointing both at the
// service through WEBPUBSUB_CONNECTION_STRING. For each it reports the
// median and p90 wall time and the peak resident memory (GNU time's %M),
// and the ratio between the two. A bare Go program doing the same send with
// the webpubsub client (gosend) gives the cold start `wps run` is held to:
// at most 1.3 times its median. Two more rows split the time of `wps run`:
// `wps run empty.lua` (start and a Lua state, no request) and `wps version`
// (the process start alone). A WebSocket client of the hub counts the
// messages delivered, so a script that silently sent nothing fails the
// benchmark. The targets for `wps run` are a median of at most 20 ms, a
// peak of at most 25 MiB and at least 20 times the speed of Node.
//
// It also measures what a Lua call of the wps module costs beyond the HTTP
// request (target: under 2 µs), with a transport that answers at once, in
// paired rounds; `go test -bench LuaCall ./bench/run` measures the same
// calls as a Go benchmark.
//
// Usage:
//
//	go run ./bench/run              # 30 runs of each script, then the Lua call cost
//	go run ./bench/run -n 100 -node=false
//
// The Node side needs `npm ci` in bench/run, which the command runs itself
// when node_modules is missing. The connection string and key are never
// printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"wps/bench/internal/benchkit"
)

// Targets of `wps run`, from issues 4 and 7.
const (
	targetGoRatio = 1.3 // at most this times the bare Go sender's median
	targetMedian  = 20 * time.Millisecond
	targetPeakKB  = 25 * 1024
	targetRatio   = 20.0
	targetCallNS  = 2000.0
)

// config is the command line of the benchmark.
type config struct {
	runs  int
	node  bool
	calls bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench/run:", err)
		}
		os.Exit(1)
	}
}

// parseFlags reads the command line into a config.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.runs, "n", 30, "measured runs of each script (each is run twice: once timed, once under GNU time for memory)")
	fs.BoolVar(&c.node, "node", true, "also run the Node SDK script, for the comparison")
	fs.BoolVar(&c.calls, "calls", true, "also measure the cost of a Lua call of the wps module")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./bench/run [flags]")
		fmt.Fprintln(stderr, "Benchmarks `wps run` sending one message against the @azure/web-pubsub Node SDK.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.runs < 1 {
		return c, errors.New("-n must be at least 1")
	}
	return c, nil
}

// run is the whole benchmark.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := checkGNUTime(); err != nil {
		return err
	}
	root, err := benchkit.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	benchDir := filepath.Join(root, "bench", "run")
	if c.node {
		if err := installNodeSDK(ctx, benchDir, stderr); err != nil {
			return err
		}
	}

	// Build wps once, outside the measurements.
	tmp, err := os.MkdirTemp("", "wps-bench-run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintln(stdout, "Building wps and gosend...")
	wpsBin, err := benchkit.Build(ctx, tmp, "wps", ".", stderr)
	if err != nil {
		return err
	}
	goSendBin, err := benchkit.Build(ctx, tmp, "gosend", "./bench/run/gosend", stderr)
	if err != nil {
		return err
	}

	// Start the already running local service, and a client counting what
	// it delivers.
	svc, err := startService(ctx, wpsBin, stderr)
	if err != nil {
		return err
	}
	defer svc.stop()
	fmt.Fprintf(stdout, "Service: %s, hub %q (wps serve, random key)\n", svc.url, benchHub)
	recv, err := svc.listen(ctx)
	if err != nil {
		return err
	}
	defer recv.close()

	env := scriptEnv(svc.connectionString)
	targets := []target{
		{name: "wps run send_one.lua", argv: []string{wpsBin, "run", filepath.Join(benchDir, "send_one.lua")}, sends: true},
		{name: "wps run empty.lua", argv: []string{wpsBin, "run", filepath.Join(benchDir, "empty.lua")}},
		{name: "wps version", argv: []string{wpsBin, "version"}},
		{name: "gosend (bare Go)", argv: []string{goSendBin}, sends: true},
	}
	if c.node {
		targets = append(targets, target{name: "node send_one.mjs", argv: []string{"node", filepath.Join(benchDir, "send_one.mjs")}, sends: true})
	}
	fmt.Fprintf(stdout, "Running each script %d times (plus one warm-up)...\n", c.runs)
	results, err := measureAll(ctx, targets, c.runs, benchDir, env)
	if err != nil {
		return err
	}
	wantDelivered := expectedDeliveries(results)
	delivered := recv.wait(wantDelivered)
	report(stdout, results, delivered, wantDelivered)
	if delivered != wantDelivered {
		return fmt.Errorf("the hub's client received %d messages, want %d: a script did not send", delivered, wantDelivered)
	}

	if c.calls {
		fmt.Fprintln(stdout, "\nMeasuring a Lua call of wps.send_to_all against a transport that answers at once...")
		cost, err := measureLuaCall()
		if err != nil {
			return err
		}
		reportLuaCall(stdout, cost)
	}
	return nil
}

// checkGNUTime makes sure /usr/bin/time is GNU time, which reports the
// child's own peak RSS. (The rusage a Go parent gets from Wait is no good
// here: Go starts children with vfork, so a child's maxrss starts at the
// parent's high-water mark.)
func checkGNUTime() error {
	out, err := exec.Command(gnuTime, "-f", "%M", "true").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return fmt.Errorf("%s -f %%M does not work (%v): install GNU time (Debian package \"time\")", gnuTime, err)
	}
	return nil
}

// installNodeSDK runs `npm ci` in dir when its node_modules is missing.
func installNodeSDK(ctx context.Context, dir string, stderr io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@azure", "web-pubsub")); err == nil {
		return nil
	}
	npm := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	npm.Dir = dir
	npm.Stdout, npm.Stderr = stderr, stderr
	if err := npm.Run(); err != nil {
		return fmt.Errorf("npm ci in %s (or pass -node=false): %w", dir, err)
	}
	return nil
}

// scriptEnv returns the environment of the scripts: this process's, with
// the WEBPUBSUB_ variables pointing at the benchmark's service and hub.
func scriptEnv(connectionString string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WEBPUBSUB_") {
			env = append(env, kv)
		}
	}
	return append(env, "WEBPUBSUB_CONNECTION_STRING="+connectionString, "WEBPUBSUB_HUB="+benchHub)
}
