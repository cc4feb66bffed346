package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"wps/engine"
)

const runDescription = `Run the Lua script FILE. Arguments after FILE are passed to the script,
as the list args and as the chunk's ... . Flags go before FILE.

The script has the wps module (see 'wps docs') and the helpers json, log,
flags, sleep, env, args and inspect. Its default client uses --connection-string
and --hub, else $WEBPUBSUB_CONNECTION_STRING and $WEBPUBSUB_HUB, else a Web
PubSub service embedded in wps, started when the script first needs it.
Client connections the script leaves open are closed when it ends.

Exit status: 0 success, 1 an uncaught error (printed as "file:line: message"
and a Lua traceback) or --max-memory exceeded, 2 a usage mistake, 124
--timeout ran out, 130 Ctrl-C (SIGINT), 143 SIGTERM; os.exit(n) exits with n.
A script stops at once when interrupted, even inside sleep or a pending
call; one stuck inside a long builtin (a pattern that backtracks for hours)
is stopped hard after 2 seconds, with one line saying so. Builtins refuse
to build a string over 256 MiB (string.rep, string.format, string.gsub,
table.concat), coroutines nest at most 200 deep, and a traceback shows the
first and last 10 lines of the stack.

--sandbox is for running scripts you did not write. It promises that the
script reads no file, runs no program, loads no code from files or strings
and reads no environment variable (env() and os.getenv return nothing for
every name), and that no Lua value holds the key or the connection string:
the default client still works, and its tokens are tokens, not the key.
Proxy settings come from the environment wps started with. It does not
limit what the script does with the hub (it may send, close, grant, revoke
and sign client tokens as the key allows), nor the hosts wps.client{} and
wps.connect reach with credentials the script brings, nor CPU and memory
beyond --timeout and --max-memory.

Example:
  wps run --timeout 30s scripts/announce.lua "Maintenance at 18:00"`

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "[flags] FILE [args...]", runDescription, stdout)
	flags := addScriptFlags(fs, "stop the script after this `duration` (e.g. 30s, 5m); 0 means no limit", 0)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("missing FILE, the Lua script to run")
	}
	opts, err := flags.engineOptions(stdout, stderr)
	if err != nil {
		return err
	}
	e := engine.New(opts)
	defer closeEngine(e)
	ctx, cancel := engine.WithTimeout(ctx, flags.timeout, "--timeout")
	defer cancel()
	script, err := engine.CompileFile(ctx, fs.Arg(0))
	if err == nil {
		err = e.Run(ctx, script, engine.RunOptions{Args: fs.Args()[1:]})
	}
	return reportScriptError("run", err, stderr)
}

// closeEngine stops the engine's embedded service, waiting at most 5
// seconds for its clients to take their close frames.
func closeEngine(e *engine.Engine) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.Close(ctx)
}

// reportScriptError prints the outcome of a script on stderr and returns
// the error that gives wps its exit status. Errors that are not the
// script's (a missing file) are returned as they are, for runMain to print.
// On a terminal, control characters in the text are escaped (a script's
// error may hold anything).
func reportScriptError(command string, err error, stderr io.Writer) error {
	var scriptErr *engine.Error
	var exit *engine.ExitError
	text := func(s string) string {
		if engine.IsTerminal(stderr) {
			return engine.EscapeControl(s)
		}
		return s
	}
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit):
		if exit.Message != "" {
			fmt.Fprintln(stderr, text(exit.Message))
		}
	case engine.Interrupted(err):
		fmt.Fprintf(stderr, "wps %s: %s\n", command, text(err.Error()))
	case errors.As(err, &scriptErr):
		fmt.Fprintln(stderr, text(err.Error()))
	default:
		return err
	}
	return &reportedError{err}
}
