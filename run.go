package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"wps/engine"
	"wps/luaapi"
	"wps/webpubsub"
)

// exitError ends wps with status after the command has printed what went
// wrong itself (a script's error and traceback, "interrupted").
type exitError struct{ status int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.status) }

// statusInterrupted is the conventional exit status after SIGINT (128 + 2).
const statusInterrupted = 130

const runDescription = `Run the Lua script FILE. Arguments after FILE are passed to the script,
as the list args and as the chunk's ... . Flags go before FILE.

The script has the wps module (see 'wps docs') and the helpers json, log,
flags, sleep, env, args and inspect. Its default client uses --connection-string
and --hub, else $WEBPUBSUB_CONNECTION_STRING and $WEBPUBSUB_HUB, else a Web
PubSub service embedded in wps, started when the script first needs it.

An uncaught error prints "file:line: message" and a Lua traceback, and wps
exits with status 1; os.exit(n) exits with n. Ctrl-C stops the script at
once (status 130).

Example:
  wps run --timeout 30s scripts/announce.lua "Maintenance at 18:00"`

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "[flags] FILE [args...]", runDescription, stdout)
	timeout := new(time.Duration)
	fs.Var((*durationFlag)(timeout), "timeout", "stop the script after this `duration` (e.g. 30s, 5m); 0 means no limit")
	logLevel := fs.String("log-level", "info", "lowest `level` of log lines on stderr: debug, info, warn or error;\ndebug also logs each HTTP request and response, redacted")
	logFormat := fs.String("log-format", "text", "`format` of log lines: text or json")
	sandbox := fs.Bool("sandbox", false, "remove file and process access: io, debug, os.execute, os.remove,\nos.rename, os.tmpname, dofile, loadfile, load, loadstring, require of files")
	connectionString := fs.String("connection-string", "", "connection `string` of the default client's service\n(default $WEBPUBSUB_CONNECTION_STRING, else the embedded service)")
	hub := fs.String("hub", "", "`name` of the default client's hub (default $WEBPUBSUB_HUB, else \"hub\")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("missing FILE, the Lua script to run")
	}
	if *timeout < 0 {
		return usagef("invalid --timeout %s: must not be negative", *timeout)
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	if err := checkClientSettings(*connectionString, *hub); err != nil {
		return err
	}

	e := engine.New(engine.Options{
		Client: luaapi.ClientConfig{
			ConnectionString: *connectionString,
			Hub:              *hub,
			Logger:           logger,
			Stderr:           stderr,
		},
		Sandbox: *sandbox,
		Logger:  logger,
		Stdout:  stdout,
	})
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Close(closeCtx)
	}()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, *timeout, fmt.Errorf("timed out after %s (--timeout)", *timeout))
		defer cancel()
	}
	return scriptResult(e.RunFile(ctx, fs.Arg(0), fs.Args()[1:]), stderr)
}

// checkClientSettings rejects a malformed connection string or hub name, from
// the flags or the environment, before the script runs: a runbook should not
// do half its work and then find that its target was mistyped. The messages
// never show the key.
func checkClientSettings(connectionString, hub string) error {
	if connectionString != "" {
		if _, err := webpubsub.ParseConnectionString(connectionString); err != nil {
			return usagef("--connection-string: %v", err)
		}
	} else if env := os.Getenv("WEBPUBSUB_CONNECTION_STRING"); env != "" {
		if _, err := webpubsub.ParseConnectionString(env); err != nil {
			return fmt.Errorf("$WEBPUBSUB_CONNECTION_STRING: %w", err)
		}
	}
	if hub != "" {
		if err := webpubsub.CheckHubName(hub); err != nil {
			return usagef("--hub: %v", err)
		}
	} else if env := os.Getenv("WEBPUBSUB_HUB"); env != "" {
		if err := webpubsub.CheckHubName(env); err != nil {
			return fmt.Errorf("$WEBPUBSUB_HUB: %w", err)
		}
	}
	return nil
}

// scriptResult reports the outcome of a script on stderr and returns the
// error that gives wps its exit status. Errors that are not the script's
// (a missing file) are returned for runMain to print.
func scriptResult(err error, stderr io.Writer) error {
	var scriptErr *engine.Error
	var exit *engine.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit):
		if exit.Message != "" {
			fmt.Fprintln(stderr, exit.Message)
		}
		return &exitError{exit.Code}
	case engine.Interrupted(err):
		fmt.Fprintf(stderr, "wps run: %v\n", err)
		if errors.Is(err, context.Canceled) {
			return &exitError{statusInterrupted}
		}
		return &exitError{1}
	case errors.As(err, &scriptErr):
		fmt.Fprintln(stderr, err)
		return &exitError{1}
	default:
		return err
	}
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
