package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"wps/engine"
)

// scriptFlags are the flags of every command that runs scripts (run, repl,
// cron, test), defined once here so that they read and behave the same in
// each.
type scriptFlags struct {
	connectionString string
	hub              string
	logLevel         string
	logFormat        string
	sandbox          bool
	timeout          time.Duration
	maxMemory        sizeFlag
	// fs is the command's flag set, whose name and flags the engine
	// passes to flags.parse for its messages.
	fs *flag.FlagSet
}

// sandboxHelp says what --sandbox does and does not promise; run's --help
// and the README say the same.
const sandboxHelp = `for scripts you did not write: take away files, processes, code loading
and the environment, and keep the key out of Lua. io, debug, dofile,
loadfile, load, loadstring, string.dump, os.execute, os.remove, os.rename,
os.tmpname, os.setenv and require of files are gone; env() and os.getenv
see no environment variables at all; the default client works, but no
Lua value holds its key or connection string. What the script does with
the hub is not limited`

// addScriptFlags defines the script flags on fs. timeoutHelp says what
// --timeout limits in this command (a script, an evaluation, a test) and
// defaultTimeout is its default.
func addScriptFlags(fs *flag.FlagSet, timeoutHelp string, defaultTimeout time.Duration) *scriptFlags {
	f := &scriptFlags{timeout: defaultTimeout, fs: fs}
	fs.StringVar(&f.connectionString, "connection-string", "", "connection `string` of the default client's service\n(default $WEBPUBSUB_CONNECTION_STRING, else the embedded service)")
	fs.StringVar(&f.hub, "hub", "", "`name` of the default client's hub (default $WEBPUBSUB_HUB, else \"hub\")")
	fs.StringVar(&f.logLevel, "log-level", "info", "lowest `level` of log lines on stderr: debug, info, warn or error;\ndebug also logs each HTTP request and response, redacted")
	fs.StringVar(&f.logFormat, "log-format", "text", "`format` of log lines: text or json")
	fs.BoolVar(&f.sandbox, "sandbox", false, sandboxHelp)
	fs.Var((*durationFlag)(&f.timeout), "timeout", timeoutHelp)
	f.maxMemory = engine.DefaultMaxMemory
	fs.Var(&f.maxMemory, "max-memory", "stop a script when the live heap of wps exceeds this `size` (e.g. 512MiB,\n2GiB; 0 means no limit)")
	return f
}

// engineOptions checks the script flags and returns the engine options
// they give, with the logger, writing prints to stdout and logs and
// progress to stderr. A malformed --connection-string or --hub is a usage
// mistake; a malformed $WEBPUBSUB_* is a failure naming the variable. No
// message shows the key.
func (f *scriptFlags) engineOptions(stdout, stderr io.Writer) (engine.Options, error) {
	if f.timeout < 0 {
		return engine.Options{}, usagef("invalid --timeout %s: must not be negative", f.timeout)
	}
	logger, err := newLogger(stderr, f.logLevel, f.logFormat)
	if err != nil {
		return engine.Options{}, err
	}
	target, err := engine.ResolveTarget(f.connectionString, f.hub, os.LookupEnv)
	var targetErr *engine.TargetError
	if errors.As(err, &targetErr) && targetErr.FromFlag {
		return engine.Options{}, usagef("%v", err)
	}
	if err != nil {
		return engine.Options{}, err
	}
	maxMemory := int64(f.maxMemory)
	if maxMemory == 0 {
		maxMemory = -1 // no limit
	}
	var hostFlags []string
	f.fs.VisitAll(func(fl *flag.Flag) { hostFlags = append(hostFlags, fl.Name) })
	return engine.Options{
		Target:        target,
		Sandbox:       f.sandbox,
		Logger:        logger,
		Stdout:        stdout,
		Stderr:        stderr,
		MaxMemory:     maxMemory,
		MaxMemoryName: "--max-memory",
		Host:          "wps " + f.fs.Name(),
		HostFlags:     hostFlags,
	}, nil
}

// newLogger returns the logger of a command (--log-level, --log-format),
// writing to stderr in format ("text" or "json") from level on.
func newLogger(stderr io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil || strings.ContainsAny(level, "+-") {
		return nil, usagef("invalid --log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, usagef("invalid --log-format %q: use text or json", format)
}

// durationFlag is a time.Duration flag whose parse error says what a
// duration looks like: the flag package's own says only "parse error", and
// "--timeout 30" (no unit) is an easy mistake.
type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }

func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration with a unit, such as 30s, 5m or 1h30m")
	}
	*d = durationFlag(v)
	return nil
}

// sizeFlag is a size in bytes given as "512MiB", "2GiB" or a number of
// bytes (see engine.ParseSize).
type sizeFlag int64

func (s *sizeFlag) String() string {
	if *s == 0 {
		return "0"
	}
	return strings.ReplaceAll(engine.FormatSize(float64(*s)), " ", "")
}

func (s *sizeFlag) Set(v string) error {
	n, err := engine.ParseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}
