// Command service benchmarks the embedded Web PubSub service against a bare
// Go WebSocket broadcaster, in one run on loopback.
//
// Both targets get the same load: -clients plain WebSocket clients, then
// -messages broadcasts of -size bytes sent over HTTP, with at most -window
// broadcasts not yet delivered to every client. Each message carries its
// sequence number and send time, so the clients measure deliveries per
// second, send-to-receive latency (p50, p99, max) and lost messages. The bare
// broadcaster (no auth, no protocol, one queue per socket, one
// websocket.PreparedMessage per broadcast) is the yardstick: the service
// should reach at least 0.9 times its deliveries per second, lose nothing and
// keep p99 under 1 s.
//
// With -idle N it also measures the resident memory (VmRSS) of the service,
// and of the bare broadcaster, each in a child process, holding N idle
// connections; the target is at most 150 MiB for 10,000.
//
// With -slow N it measures the service's memory, in a child process, while
// one client never reads and N broadcasts of -slow-size bytes (1 MiB) go to
// it and to -slow-clients (100) clients that read everything: the peak RSS
// must stay under 300 MiB, the RSS must come back within 50 MiB of where it
// started once the slow client is closed, and the healthy clients must lose
// nothing.
//
// Usage:
//
//	go run ./bench/service                  # 1000 clients, 300 broadcasts of 2 KB
//	go run ./bench/service -idle 10000      # plus memory for 10,000 idle connections
//	go run ./bench/service -idle 10000 -slow 2000   # plus a never-reading client under 2,000 broadcasts of 1 MiB
//	go run ./bench/service -cpuprofile service.pprof
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"time"
)

// config is the command line of the benchmark.
type config struct {
	clients    int
	messages   int
	warmup     int
	size       int
	window     int
	rounds     int
	drain      time.Duration
	idle       int
	slow       int
	slowSize   int
	slowPeers  int
	skipLoad   bool
	cpuProfile string
	child      string
}

// parseFlags reads the command line into a config.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.clients, "clients", 1000, "plain WebSocket clients receiving the broadcasts")
	fs.IntVar(&c.messages, "messages", 300, "measured broadcasts per target")
	fs.IntVar(&c.warmup, "warmup", 20, "unmeasured broadcasts sent first")
	fs.IntVar(&c.size, "size", 2048, "bytes per broadcast (at least 16)")
	fs.IntVar(&c.window, "window", 32, "broadcasts in flight: broadcast k waits until k-window reached every client")
	fs.IntVar(&c.rounds, "rounds", 3, "alternating runs of each target; the summary uses the medians")
	fs.DurationVar(&c.drain, "drain", 10*time.Second, "longest wait for a broadcast to reach every client before counting the missing copies as lost")
	fs.IntVar(&c.idle, "idle", 0, "if > 0, measure resident memory for this many idle connections")
	fs.IntVar(&c.slow, "slow", 0, "if > 0, measure memory while one client never reads and this many broadcasts go out")
	fs.IntVar(&c.slowSize, "slow-size", 1<<20, "bytes per broadcast of the -slow measurement")
	fs.IntVar(&c.slowPeers, "slow-clients", 100, "clients that read everything during the -slow measurement")
	fs.BoolVar(&c.skipLoad, "skip-load", false, "skip the broadcast benchmark (with -idle or -slow: memory only)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the first service run to this file")
	fs.StringVar(&c.child, "child", "", "internal: serve `service` or `bare` for the memory measurement")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./bench/service [flags]")
		fmt.Fprintln(stderr, "Benchmarks the embedded Web PubSub service against a bare Go WebSocket broadcaster.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.clients < 1:
		return c, errors.New("-clients must be at least 1")
	case c.messages < 1:
		return c, errors.New("-messages must be at least 1")
	case c.warmup < 0:
		return c, errors.New("-warmup must not be negative")
	case c.size < payloadHeader:
		return c, fmt.Errorf("-size must be at least %d bytes", payloadHeader)
	case c.window < 1:
		return c, errors.New("-window must be at least 1")
	case c.rounds < 1:
		return c, errors.New("-rounds must be at least 1")
	case c.drain <= 0:
		return c, errors.New("-drain must be positive")
	case c.idle < 0:
		return c, errors.New("-idle must not be negative")
	case c.slow < 0:
		return c, errors.New("-slow must not be negative")
	case c.slowSize < payloadHeader || c.slowSize > 1<<20:
		return c, fmt.Errorf("-slow-size must be from %d to %d bytes (the largest REST message)", payloadHeader, 1<<20)
	case c.slowPeers < 1:
		return c, errors.New("-slow-clients must be at least 1")
	case c.child != "" && c.child != "service" && c.child != "bare":
		return c, fmt.Errorf("-child must be service or bare, not %q", c.child)
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if cfg.child != "" {
		err = serveChild(cfg.child, os.Stdin, os.Stdout)
	} else {
		err = run(cfg, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run performs the benchmarks cfg asks for and prints their results to out.
func run(cfg config, out io.Writer) error {
	needed := max(cfg.clients, cfg.idle, cfg.slowPeers+1)
	if err := raiseFileLimit(needed + 1000); err != nil {
		return err
	}
	if !cfg.skipLoad {
		if err := runLoad(cfg, out); err != nil {
			return err
		}
	}
	if cfg.idle > 0 {
		if err := runIdle(cfg.idle, out); err != nil {
			return err
		}
	}
	if cfg.slow > 0 {
		if err := runSlow(cfg.slow, cfg.slowSize, cfg.slowPeers, out); err != nil {
			return fmt.Errorf("slow client: %w", err)
		}
	}
	return nil
}

// runLoad runs the broadcast benchmark cfg.rounds times, alternating the
// bare broadcaster and the service so that both see the same machine, and
// prints every run, the medians and their ratio.
func runLoad(cfg config, out io.Writer) error {
	fmt.Fprintf(out, "broadcast: %d clients, %d broadcasts of %d bytes (+%d warm-up), window %d, %d rounds, loopback\n",
		cfg.clients, cfg.messages, cfg.size, cfg.warmup, cfg.window, cfg.rounds)
	fmt.Fprintf(out, "%-10s %11s %6s %5s %10s %9s %9s %9s %8s\n",
		"target", "deliveries", "lost", "dup", "deliv/s", "p50", "p99", "max", "elapsed")
	var bareRuns, serviceRuns []result
	for round := 1; round <= cfg.rounds; round++ {
		bare, err := measureOnce(cfg, startBare, "")
		if err != nil {
			return fmt.Errorf("bare broadcaster: %w", err)
		}
		printResult(out, fmt.Sprintf("bare#%d", round), bare)
		bareRuns = append(bareRuns, bare)

		profile := ""
		if round == 1 {
			profile = cfg.cpuProfile
		}
		svc, err := measureOnce(cfg, startService, profile)
		if err != nil {
			return fmt.Errorf("service: %w", err)
		}
		printResult(out, fmt.Sprintf("service#%d", round), svc)
		serviceRuns = append(serviceRuns, svc)
	}
	printSummary(out, median(bareRuns), median(serviceRuns))
	return nil
}

// measureOnce starts a target with start, measures it, and stops it. With a
// non-empty profile path it writes a CPU profile of the measurement there.
func measureOnce(cfg config, start func(addr string) (target, error), profile string) (result, error) {
	t, err := start("127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	defer t.close()
	if profile != "" {
		stop, err := startCPUProfile(profile)
		if err != nil {
			return result{}, err
		}
		defer stop()
	}
	return measure(t, cfg)
}

// median returns the run with the median deliveries per second, and the
// total of lost messages and duplicates over all runs.
func median(runs []result) result {
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b result) int { return cmp.Compare(a.perSecond(), b.perSecond()) })
	m := sorted[len(sorted)/2]
	m.lost, m.duplicates = 0, 0
	for _, r := range runs {
		m.lost += r.lost
		m.duplicates += r.duplicates
	}
	return m
}

// printResult prints one row of the table.
func printResult(out io.Writer, name string, r result) {
	fmt.Fprintf(out, "%-10s %11d %6d %5d %10.0f %9s %9s %9s %8s\n",
		name, r.delivered, r.lost, r.duplicates, r.perSecond(),
		roundDuration(r.p50), roundDuration(r.p99), roundDuration(r.max), r.elapsed.Round(time.Millisecond))
}

// printSummary prints the medians and the verdicts against the targets.
func printSummary(out io.Writer, bare, svc result) {
	ratio := 0.0
	if bare.perSecond() > 0 {
		ratio = svc.perSecond() / bare.perSecond()
	}
	fmt.Fprintf(out, "median deliveries/s: bare %.0f, service %.0f; service/bare %.2f (target >= 0.90: %s)\n",
		bare.perSecond(), svc.perSecond(), ratio, verdict(ratio >= 0.9))
	fmt.Fprintf(out, "service lost messages, all rounds: %d (target 0: %s); p99 of the median run: %s (target < 1s: %s)\n",
		svc.lost, verdict(svc.lost == 0), roundDuration(svc.p99), verdict(svc.p99 < time.Second))
}

// verdict returns "ok" or "MISSED".
func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// roundDuration rounds d to a precision that suits a table column.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Microsecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d
	}
}

// startCPUProfile writes a CPU profile to path until the returned function
// is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
