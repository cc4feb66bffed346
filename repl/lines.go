package repl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"wps/engine"
)

// runLines reads chunks from stdin when it is not a terminal (a pipe, a
// file), or when stdout is not one: each line is added to the chunk being
// read until the chunk compiles, then evaluated, its values printed with no
// prompt and no colour. The first error stops it with its exit status (1
// for a failure), unless KeepGoing is set or a person types (then the
// status is 0). The first SIGINT or SIGTERM stops the evaluation and the
// REPL (130, 143), as for wps run.
func (r *repl) runLines(ctx context.Context) (int, error) {
	ctx, stop := engine.SignalContext(ctx)
	defer stop()
	lines := readLines(r.cfg.Stdin)
	r.begin = func() (context.Context, context.CancelCauseFunc, func()) {
		ctx, cancel := context.WithCancelCause(ctx)
		return ctx, cancel, func() { cancel(nil) }
	}
	person := r.cfg.InputTerminal
	if person {
		r.asker = func(question []string) bool {
			for _, line := range question {
				fmt.Fprintln(r.errOut, line)
			}
			fmt.Fprint(r.errOut, "Proceed? [y/N] ")
			answer, ok := <-lines
			return ok && answer.err == nil && strings.EqualFold(strings.TrimSpace(answer.text), "y")
		}
	}
	failed := false
	for {
		if person {
			prompt := r.target.String() + "> "
			if len(r.pending) > 0 {
				prompt = continuationPrompt
			}
			fmt.Fprint(r.errOut, prompt)
		}
		var next line
		var ok bool
		select {
		case next, ok = <-lines:
		case <-ctx.Done():
			err := context.Cause(ctx)
			fmt.Fprintf(r.errOut, "wps repl: %v\n", err)
			return engine.ExitStatus(err), nil
		}
		if ok && next.err != nil {
			return 1, next.err
		}
		if !ok {
			if len(r.pending) > 0 {
				// Let the compiler say what is missing.
				_, err := r.session.Eval(ctx, chunkName, strings.Join(r.pending, "\n"))
				r.report(nil, err)
				return 1, nil
			}
			if failed && r.cfg.KeepGoing && !person {
				return 1, nil
			}
			return engine.StatusOK, nil
		}
		var err error
		if len(r.pending) == 0 && isCommand(next.text) {
			err = r.runCommand(next.text)
			if err == errQuit {
				return engine.StatusOK, nil
			}
		} else {
			var ran bool
			if ran, err = r.feed(next.text); !ran {
				continue
			}
		}
		var exit *engine.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit):
			if exit.Message != "" {
				fmt.Fprintln(r.errOut, exit.Message)
			}
			return exit.Code, nil
		case interrupted(err) || !person && !r.cfg.KeepGoing:
			return engine.ExitStatus(err), nil
		default:
			failed = true
		}
	}
}

// line is one line of input, or the error that ended reading.
type line struct {
	text string
	err  error
}

// readLines reads lines from r on a goroutine (so that a signal is seen
// while waiting for input), without their line endings, until EOF.
func readLines(r io.Reader) <-chan line {
	lines := make(chan line)
	go func() {
		defer close(lines)
		br := bufio.NewReader(r)
		for {
			text, err := br.ReadString('\n')
			if text != "" {
				lines <- line{text: strings.TrimRight(text, "\r\n")}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				lines <- line{err: fmt.Errorf("reading stdin: %w", err)}
				return
			}
		}
	}()
	return lines
}
