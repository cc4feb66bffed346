package main

import (
	"context"
	"io"
	"os"

	"golang.org/x/term"

	"wps/engine"
	"wps/repl"
)

const replDescription = `Evaluate Lua interactively against a hub: the wps module with the shortest
possible loop, for troubleshooting during an incident. The prompt names the
hub and the service (chat@contoso.webpubsub.azure.com>). With no
configuration it starts the embedded service and prints a connection string
and a client URL that a browser or wscat can use.

An expression prints its value (1+1, wps.user_exists("bob"), =expr); tables
print with inspect; an open function, if, table or long string continues on
a ".." prompt. Tab completes globals, wps. functions, table fields and the
methods of clients and connections. help() lists the functions and the REPL
commands (.load FILE, .timing on|off, .trace, .http, .hub NAME, .guard on|off,
.messages); help(wps.send_to_group) explains one. Ctrl-C stops the running
evaluation (the session's state stays) or clears the line; a second Ctrl-C
while an evaluation will not stop ends wps; Ctrl-D leaves. Messages that
arrive on wps.connect connections while you type are printed before the
next prompt, which counts those waiting for conn:receive.

The guard: against any service but the embedded one, calls that close
connections, remove them from every group or revoke permissions first ask
for confirmation, naming the hub, the endpoint and, where the service can
tell, how many connections they touch. Refusing stops the evaluation.
--yes or .guard off turns it off.

History: lines typed at the terminal are appended, as soon as they are
entered, to $XDG_CONFIG_HOME/wps/history (else the user configuration
directory's wps/history), mode 0600, kept across sessions (the last 1000).
A line holding an access key, a connection string, a bearer token or a JWT
is never written, nor one that starts with a space. --no-history keeps none.

When stdin is not a terminal, wps repl reads Lua from it and prints each
value with no prompt; it stops at the first error with status 1 (or goes on
with --keep-going, and then exits 1 if anything failed). When stdout is not
a terminal, values print plainly: strings as they are, tables as JSON.

Exit status: 0 at Ctrl-D or end of input, 1 an error in piped input, 2 a
usage mistake, 124 --timeout ran out in piped input, 130 Ctrl-C in piped
input or a second Ctrl-C while an evaluation will not stop, 143 SIGTERM;
os.exit(n) exits with n.

Examples:
  wps repl
  WEBPUBSUB_CONNECTION_STRING=... wps repl --hub chat
  echo 'wps.group_exists("ops")' | wps repl
  wps repl --keep-going < checks.lua`

// replInput is the REPL's stdin (a variable so that tests can pipe it).
var replInput = os.Stdin

func runREPL(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("repl", "[flags]", replDescription, stdout)
	flags := addScriptFlags(fs, "stop an evaluation after this `duration` (e.g. 30s); 0 means no limit", 0)
	yes := fs.Bool("yes", false, "turn the guard off: close, remove-from-all-groups and revoke calls go without asking")
	noHistory := fs.Bool("no-history", false, "keep no history file")
	keepGoing := fs.Bool("keep-going", false, "with input that is not a terminal, go on after an error (and exit 1 at the end)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("repl takes no arguments; run a file with .load FILE, or pipe it in")
	}
	opts, err := flags.engineOptions(stdout, stderr)
	if err != nil {
		return err
	}
	inTerminal := term.IsTerminal(int(replInput.Fd()))
	outTerminal := engine.IsTerminal(stdout)
	cfg := repl.Config{
		Stdin:         replInput,
		Stdout:        stdout,
		Stderr:        stderr,
		Terminal:      inTerminal && outTerminal && replInput == os.Stdin && stdout == os.Stdout,
		InputTerminal: inTerminal && !outTerminal,
		PlainOutput:   !outTerminal,
		Color:         os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb",
		Guard:         !*yes,
		KeepGoing:     *keepGoing,
		Timeout:       flags.timeout,
	}
	if cfg.Terminal && !*noHistory {
		if cfg.HistoryFile, err = repl.DefaultHistoryFile(); err != nil {
			cfg.HistoryFile = ""
			io.WriteString(stderr, "wps repl: no history: "+err.Error()+"\n")
		}
	}
	e := engine.New(opts)
	defer closeEngine(e)
	cfg.Engine = e
	status, err := repl.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if status != engine.StatusOK {
		return &reportedError{&engine.ExitError{Code: status}}
	}
	return nil
}
