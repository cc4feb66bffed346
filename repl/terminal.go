package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode"

	"github.com/peterh/liner"

	"wps/engine"
	"wps/webpubsub"
)

// terminal is the interactive mode: liner edits lines on os.Stdin and
// os.Stdout. liner keeps the terminal raw until Close, but turns ISIG off
// only while prompting, so Ctrl-C during an evaluation is a real SIGINT,
// which cancels that evaluation; at the prompt liner sees it and clears
// the line.
type terminal struct {
	*repl
	// ctx is the REPL's: evaluations are cancelled when it ends.
	ctx     context.Context
	line    *liner.State
	history *history
	// evaluating is set while an evaluation runs: completion must not read
	// the state then (the guard prompts during evaluations).
	evaluating atomic.Bool
	// asking is set while the guard's question is shown: liner prints it
	// before it turns SIGINT off, so a quick Ctrl-C may still arrive as a
	// signal, which must not stop the evaluation that waits for the
	// answer.
	asking atomic.Bool

	mu sync.Mutex // guards the fields below, shared with the signal handler
	// cancel ends the running evaluation; nil at the prompt.
	cancel context.CancelCauseFunc
	// evaluation counts the evaluations begun, to tell them apart.
	evaluation int
	interrupts int
	terminated bool
}

// stopHint is how long an interrupted evaluation may take to stop before
// the REPL says how to end it anyway.
const stopHint = 500 * time.Millisecond

// runTerminal runs the interactive loop.
func (r *repl) runTerminal(ctx context.Context) (int, error) {
	t := &terminal{repl: r, ctx: ctx}
	if r.cfg.HistoryFile != "" {
		h, lines, err := openHistory(r.cfg.HistoryFile)
		if err != nil {
			fmt.Fprintf(r.errOut, "wps repl: no history this time: %v\n", err)
		} else {
			t.history = h
			defer h.close()
			t.startLiner(lines)
		}
	}
	if t.line == nil {
		t.startLiner(nil)
	}
	defer t.line.Close()
	r.asker = t.confirm
	r.begin = t.begin

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	stopSignals := make(chan struct{})
	defer close(stopSignals)
	go t.handleSignals(signals, stopSignals)

	if err := t.banner(ctx); err != nil {
		return 1, err
	}
	unrecorded := false
	for {
		prompt := continuationPrompt
		if len(r.pending) == 0 {
			prompt = t.showArrivals()
		}
		text, err := t.line.Prompt(prompt)
		switch {
		case errors.Is(err, liner.ErrPromptAborted):
			r.pending = nil
			continue
		case errors.Is(err, io.EOF):
			fmt.Fprintln(r.out)
			return engine.StatusOK, nil
		case err != nil:
			return 1, err
		}
		if len(r.pending) == 0 {
			// A line starting with a space keeps its whole input out.
			unrecorded = strings.HasPrefix(text, " ") || strings.HasPrefix(text, "\t")
		}
		if !unrecorded {
			kept, err := t.history.add(text, len(r.pending) > 0)
			if err != nil {
				t.printError("wps repl: " + err.Error())
			}
			if kept {
				t.line.AppendHistory(text)
			}
		}
		if len(r.pending) == 0 && isCommand(text) {
			if status, stop := t.afterEvaluation(r.runCommand(text)); stop {
				return status, nil
			}
			continue
		}
		ran, err := r.feed(text)
		if !ran {
			continue
		}
		if status, stop := t.afterEvaluation(err); stop {
			return status, nil
		}
	}
}

// continuationPrompt asks for the rest of an incomplete input.
const continuationPrompt = ".. "

// startLiner opens the line editor with the lines of history.
func (t *terminal) startLiner(lines []string) {
	t.line = liner.NewLiner()
	t.line.SetCtrlCAborts(true)
	t.line.SetMultiLineMode(true)
	t.line.SetTabCompletionStyle(liner.TabPrints)
	t.line.SetWordCompleter(t.complete)
	for _, l := range lines {
		t.line.AppendHistory(l)
	}
}

// banner prints the target and, for the embedded service (started now),
// a connection string and a client URL others can use.
func (t *terminal) banner(ctx context.Context) error {
	fmt.Fprintf(t.out, "wps repl on %s. help() lists functions and commands; Ctrl-D leaves.\n", t.target)
	if !t.target.Embedded() {
		if t.guard.on.Load() {
			fmt.Fprintln(t.out, "The guard is on: calls that close connections, remove them from every group or revoke permissions ask first.")
		}
		return nil
	}
	cs, err := t.cfg.Engine.Service(ctx)
	if err != nil {
		return err
	}
	client, err := webpubsub.NewClientFromConnectionString(cs, t.target.Hub, nil)
	if err != nil {
		return err
	}
	token, err := client.GetClientAccessToken(&webpubsub.TokenOptions{MinutesToExpire: 24 * 60})
	if err != nil {
		return err
	}
	fmt.Fprintln(t.out, "The embedded Web PubSub service runs until the REPL ends:")
	fmt.Fprintln(t.out, "  connection string: "+cs)
	fmt.Fprintln(t.out, "  client URL (24 h): "+token.URL)
	return nil
}

// showArrivals prints the messages that arrived on wps.connect connections
// since the last look, and returns the prompt, which counts the messages
// waiting for conn:receive.
func (t *terminal) showArrivals() string {
	notices, waiting := t.arrivals.collect(t.module().Connections())
	for _, n := range notices {
		fmt.Fprintln(t.out, n)
	}
	prompt := t.target.String()
	if waiting > 0 {
		prompt += fmt.Sprintf(" (%s)", plural(waiting, "message"))
	}
	// liner refuses a prompt with any character of Unicode's C classes.
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.C, r) {
			return '?'
		}
		return r
	}, prompt) + "> "
}

// begin starts an evaluation that Ctrl-C cancels. done must be called
// when it has ended.
func (t *terminal) begin() (context.Context, context.CancelCauseFunc, func()) {
	// What arrived while the line was typed comes first.
	t.showArrivals()
	ctx, cancel := context.WithCancelCause(t.ctx)
	t.mu.Lock()
	t.cancel, t.interrupts = cancel, 0
	t.evaluation++
	t.mu.Unlock()
	t.evaluating.Store(true)
	return ctx, cancel, func() {
		t.evaluating.Store(false)
		t.mu.Lock()
		t.cancel = nil
		t.mu.Unlock()
		cancel(nil)
	}
}

// afterEvaluation decides whether the REPL can go on after an evaluation
// or command that ended with err: not after .exit or os.exit (its status),
// SIGTERM (143), nor after a hard stop, which leaves the session's state
// busy (130).
func (t *terminal) afterEvaluation(err error) (int, bool) {
	t.mu.Lock()
	terminated := t.terminated
	t.mu.Unlock()
	var stopErr *engine.Error
	var exit *engine.ExitError
	switch {
	case err == errQuit:
		return engine.StatusOK, true
	case errors.As(err, &exit):
		if exit.Message != "" {
			fmt.Fprintln(t.errOut, exit.Message)
		}
		return exit.Code, true
	case terminated:
		return engine.StatusTerminated, true
	case errors.As(err, &stopErr) && stopErr.HardStop, errors.Is(err, engine.ErrSessionBroken):
		t.printError("the evaluation would not stop, so this session cannot go on")
		return engine.StatusInterrupt, true
	}
	return 0, false
}

// handleSignals cancels the running evaluation at the first Ctrl-C and
// ends the process at the second, if it is still running; SIGTERM cancels
// it and ends the REPL, at once when at the prompt.
func (t *terminal) handleSignals(signals <-chan os.Signal, stop <-chan struct{}) {
	for {
		var sig os.Signal
		select {
		case sig = <-signals:
		case <-stop:
			return
		}
		t.mu.Lock()
		cancel := t.cancel
		switch {
		case sig == syscall.SIGTERM && cancel != nil:
			t.terminated = true
			cancel(engine.ErrTerminated)
		case sig == syscall.SIGTERM:
			t.mu.Unlock()
			t.hardExit(engine.StatusTerminated, "")
			return
		case cancel == nil, t.asking.Load():
			// A Ctrl-C between two evaluations, or as the guard's
			// question appears: nothing to stop.
		case t.interrupts == 0:
			t.interrupts++
			cancel(engine.ErrInterrupted)
			evaluation := t.evaluation
			time.AfterFunc(stopHint, func() {
				t.mu.Lock()
				defer t.mu.Unlock()
				if t.cancel != nil && t.evaluation == evaluation {
					fmt.Fprintln(t.errOut, "still stopping the evaluation; Ctrl-C again ends wps")
				}
			})
		default:
			t.mu.Unlock()
			t.hardExit(engine.StatusInterrupt, "wps repl: the evaluation would not stop; ending the process")
			return
		}
		t.mu.Unlock()
	}
}

// hardExit restores the terminal, closes the session's connections and
// ends the process with status, while the main goroutine may still be
// stuck.
func (t *terminal) hardExit(status int, message string) {
	t.line.Close()
	if message != "" {
		fmt.Fprintln(t.errOut, "\n"+message)
	}
	t.module().Close()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	t.cfg.Engine.Close(ctx)
	t.cfg.Exit(status)
}

// confirm asks the guard's question and reads the answer with liner, on
// the evaluation's goroutine while the main one waits for it. Ctrl-C
// (liner sees it while prompting) and Ctrl-D mean no.
func (t *terminal) confirm(question []string) bool {
	for _, line := range question {
		fmt.Fprintln(t.out, line)
	}
	t.asking.Store(true)
	defer t.asking.Store(false)
	for {
		answer, err := t.line.Prompt("Proceed? [y/N] ")
		if err != nil {
			return false
		}
		switch strings.ToLower(strings.TrimSpace(answer)) {
		case "y", "yes":
			return true
		case "", "n", "no":
			return false
		}
	}
}

// complete is liner's word completer: REPL commands at the start of a
// line, else the identifier path before the cursor, completed by the
// session (globals, table fields, hub: and conn: methods).
func (t *terminal) complete(line string, pos int) (string, []string, string) {
	if t.evaluating.Load() {
		return line[:pos], nil, line[pos:]
	}
	if pos > len(line) {
		pos = len(line)
	}
	if isCommandStart(line[:pos]) {
		return "", commandNames(line[:pos]), line[pos:]
	}
	start := pos
	for start > 0 && isPathByte(line[start-1]) {
		start--
	}
	return line[:start], t.session.Complete(line[start:pos]), line[pos:]
}

// isCommandStart reports whether text is the start of a REPL command name.
func isCommandStart(text string) bool {
	return strings.HasPrefix(text, ".") && !strings.ContainsAny(text, " \t")
}

// isPathByte reports whether c may be part of an identifier path
// ("wps.send_to_", "hub:se").
func isPathByte(c byte) bool {
	return c == '_' || c == '.' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
