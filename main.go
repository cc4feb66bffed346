// Command wps drives Azure Web PubSub from Lua: scripts and runbooks run
// against a real hub or against the Web PubSub service embedded in the
// binary.
//
// Package main holds the command line only: this file dispatches the
// subcommands, and each has a file of its flags (run.go, serve.go,
// docs.go). The work is done by the packages webpubsub, luaapi and engine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"wps/engine"
)

// command is one subcommand of wps.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	// ownsSignals is set for a command that handles SIGINT and SIGTERM
	// itself (the REPL, where Ctrl-C cancels one evaluation); the others
	// get a context that the first signal ends (engine.SignalContext).
	ownsSignals bool
}

// commands lists every subcommand, in the order --help shows them.
var commands = []command{
	{"version", "print the version of wps", runVersion, false},
	{"serve", "run the embedded Web PubSub service", runServe, false},
	{"run", "run a Lua script or runbook", runRun, false},
	{"test", "run Lua tests (*_test.lua), replaying recorded HTTP fixtures", runTest, false},
	{"cron", "run Lua jobs on cron schedules, each run in a process of its own", runCron, true},
	{"repl", "evaluate Lua interactively against a hub", runREPL, true},
	{"docs", "print the reference of the Lua API, or LuaLS definitions", runDocs, false},
}

// usagef returns an *engine.UsageError with a formatted message: a mistake
// on the command line, for which wps exits with status 2.
func usagef(format string, a ...any) error { return engine.Usagef(format, a...) }

// reportedError is a failure the command has already printed (a script's
// error and traceback): runMain only turns it into the exit status.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

func main() {
	os.Exit(runMain(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// runMain runs wps with args and returns the exit status (see
// engine.ExitStatus).
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return runMain(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		if !c.ownsSignals {
			var stop func()
			ctx, stop = engine.SignalContext(ctx)
			defer stop()
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var usageErr *engine.UsageError
		var reported *reportedError
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return engine.StatusOK
		case errors.As(err, &reported):
		case errors.As(err, &usageErr):
			fmt.Fprintf(stderr, "wps %s: %v\nRun 'wps %s --help' for usage.\n", c.name, err, c.name)
		default:
			fmt.Fprintf(stderr, "wps %s: %v\n", c.name, err)
		}
		return engine.ExitStatus(err)
	}
	fmt.Fprintf(stderr, "wps: unknown command %q\nRun 'wps --help' for the list of commands.\n", args[0])
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "wps drives Azure Web PubSub from Lua.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: wps <command> [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'wps <command> --help' for the flags of a command.")
}

// newFlagSet returns a flag set for a subcommand whose --help prints usage,
// a description and the flags to stdout.
func newFlagSet(name, usage, description string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: wps %s %s\n\n%s\n", name, usage, description)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(stdout, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args with fs, turning a parse failure into a usage error
// (the flag package has already printed what was wrong).
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage, output := fs.Usage, fs.Output()
	fs.Usage = func() {} // errors are reported once, by runMain
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(output)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return flag.ErrHelp
	}
	if err != nil {
		return usagef("%v", err)
	}
	return nil
}

// version is set at build time with -ldflags "-X main.version=..."; otherwise
// it comes from the module's build information.
var version = ""

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "", "Print the version of wps and of the Go toolchain that built it.", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("version takes no arguments")
	}
	v := version
	info, ok := debug.ReadBuildInfo()
	if v == "" && ok {
		v = info.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	goVersion := "unknown"
	if ok {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(stdout, "wps %s (%s)\n", v, goVersion)
	return nil
}
