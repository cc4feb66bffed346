package repl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"wps/engine"
)

// command is one REPL command: a line starting with a dot, which Lua
// never does.
type command struct {
	name, usage, doc string
	run              func(r *repl, arg string) error
}

// errQuit is what .exit returns to end the REPL.
var errQuit = errors.New("quit")

// commands lists the REPL commands, in the order help() shows them.
var commands []command

func init() {
	commands = []command{
		{"load", ".load FILE", "run a Lua file in this session (its globals stay)", (*repl).cmdLoad},
		{"timing", ".timing on|off", "after each evaluation, print its time and the REST calls it made", (*repl).cmdTiming},
		{"trace", ".trace", "print the last error in full, with its Lua traceback", (*repl).cmdTrace},
		{"http", ".http", "print the last HTTP request and response (keys and tokens redacted)", (*repl).cmdHTTP},
		{"hub", ".hub [NAME]", "make NAME the hub of wps.* calls (no NAME: show the target)", (*repl).cmdHub},
		{"guard", ".guard on|off", "ask before closing, removing from all groups or revoking on a real service", (*repl).cmdGuard},
		{"messages", ".messages", "print the messages waiting for conn:receive on wps.connect connections", (*repl).cmdMessages},
		{"help", ".help", "list the functions and these commands (as help() does)", (*repl).cmdHelp},
		{"exit", ".exit", "leave (as Ctrl-D does)", func(*repl, string) error { return errQuit }},
	}
}

// isCommand reports whether line is a REPL command rather than Lua.
func isCommand(line string) bool {
	line = strings.TrimSpace(line)
	return len(line) > 1 && line[0] == '.' && (line[1] >= 'a' && line[1] <= 'z')
}

// runCommand runs the command on line. It returns errQuit for .exit, or
// the command's failure, which it has printed.
func (r *repl) runCommand(line string) error {
	name, arg, _ := strings.Cut(strings.TrimSpace(line)[1:], " ")
	arg = strings.TrimSpace(arg)
	for _, c := range commands {
		if c.name == name {
			err := c.run(r, arg)
			if err != nil && err != errQuit && !isExit(err) {
				r.lastError = err
				r.printError(errorLine(err))
			}
			return err
		}
	}
	err := fmt.Errorf("unknown command .%s (help() lists the commands)", name)
	r.printError(err.Error())
	return err
}

// commandNames returns the commands whose ".name" starts with prefix, for
// completion.
func commandNames(prefix string) []string {
	var names []string
	for _, c := range commands {
		if strings.HasPrefix("."+c.name, prefix) {
			names = append(names, "."+c.name)
		}
	}
	return names
}

func (r *repl) cmdLoad(path string) error {
	if path == "" {
		return errors.New(".load needs a FILE")
	}
	ctx, cancel, done := r.begin()
	defer done()
	values, err := r.load(ctx, cancel, path)
	if err != nil {
		return err
	}
	r.report(values, nil)
	return nil
}

func (r *repl) cmdTiming(arg string) error {
	on, err := onOff(arg, r.timing)
	if err != nil {
		return err
	}
	r.timing = on
	fmt.Fprintf(r.out, "timing is %s\n", onOffText(on))
	return nil
}

func (r *repl) cmdTrace(string) error {
	if r.lastError == nil {
		fmt.Fprintln(r.out, "no error yet")
		return nil
	}
	fmt.Fprintln(r.out, engine.EscapeControl(r.lastError.Error()))
	return nil
}

func (r *repl) cmdHTTP(string) error {
	ex := r.transport.lastExchange()
	if ex == "" {
		ex = "no HTTP request yet"
	}
	fmt.Fprintln(r.out, ex)
	return nil
}

func (r *repl) cmdHub(name string) error {
	if name == "" {
		fmt.Fprintln(r.out, r.target.String())
		return nil
	}
	ctx, _, done := r.begin()
	defer done()
	if err := r.setHub(ctx, name); err != nil {
		return fmt.Errorf(".hub: %w", err)
	}
	fmt.Fprintf(r.out, "wps.* calls now go to %s\n", r.target.String())
	return nil
}

func (r *repl) cmdGuard(arg string) error {
	on, err := onOff(arg, r.guard.on.Load())
	if err != nil {
		return err
	}
	r.guard.on.Store(on)
	switch {
	case !r.cfg.Terminal && !r.cfg.InputTerminal:
		fmt.Fprintln(r.out, "the guard only asks when a person types at a terminal")
	case on:
		fmt.Fprintln(r.out, "the guard is on: closing connections, removing them from every group and revoking permissions ask first")
	default:
		fmt.Fprintln(r.out, "the guard is off: calls go to the service without asking")
	}
	return nil
}

func (r *repl) cmdMessages(string) error {
	lines := r.arrivals.pending(r.module().Connections())
	if len(lines) == 0 {
		fmt.Fprintln(r.out, "no message waits for conn:receive")
	}
	for _, line := range lines {
		fmt.Fprintln(r.out, line)
	}
	return nil
}

func (r *repl) cmdHelp(string) error {
	writeOverview(r.out)
	return nil
}

// onOff reads "on" or "off"; "" toggles current.
func onOff(arg string, current bool) (bool, error) {
	switch arg {
	case "on":
		return true, nil
	case "off":
		return false, nil
	case "":
		return !current, nil
	}
	return false, fmt.Errorf("want on or off, not %q", arg)
}

func onOffText(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// isExit reports whether err is a script's os.exit.
func isExit(err error) bool {
	var exit *engine.ExitError
	return errors.As(err, &exit)
}

// interrupted reports whether err ended an evaluation because of Ctrl-C or
// SIGTERM (not a timeout, nor the guard).
func interrupted(err error) bool {
	return engine.Interrupted(err) && (errors.Is(err, engine.ErrInterrupted) || errors.Is(err, engine.ErrTerminated) || errors.Is(err, context.Canceled))
}
