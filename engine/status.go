package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// The exit statuses of every wps command.
const (
	StatusOK         = 0   // success
	StatusFailure    = 1   // a script error, a failed call, a failed test
	StatusUsage      = 2   // a mistake on the command line
	StatusTimeout    = 124 // a time limit ran out, as timeout(1) exits
	StatusInterrupt  = 130 // SIGINT (Ctrl-C): 128 + 2
	StatusTerminated = 143 // SIGTERM: 128 + 15
)

// The causes a runner gives the context of its scripts when a signal ends
// them (see SignalContext).
var (
	// ErrInterrupted is the cause of a context ended by SIGINT (Ctrl-C).
	ErrInterrupted = errors.New("interrupted")
	// ErrTerminated is the cause of a context ended by SIGTERM.
	ErrTerminated = errors.New("terminated")
)

// isSignal reports whether cause is the end of a context by a signal or a
// plain cancellation, where saying where the script was is noise.
func isSignal(cause error) bool {
	return errors.Is(cause, ErrInterrupted) || errors.Is(cause, ErrTerminated) || errors.Is(cause, context.Canceled)
}

// causeText is the message of an interruption with cause.
func causeText(cause error) string {
	if errors.Is(cause, context.Canceled) {
		return "interrupted"
	}
	return cause.Error()
}

// TimeoutError is the cause of a context ended by a time limit, such as
// --timeout. It matches context.DeadlineExceeded.
type TimeoutError struct {
	// After is the limit.
	After time.Duration
	// Limit names the limit, e.g. "--timeout" or "the job's timeout".
	Limit string
}

// Error reads "timed out after 5s (--timeout)".
func (e *TimeoutError) Error() string {
	if e.Limit == "" {
		return fmt.Sprintf("timed out after %s", e.After)
	}
	return fmt.Sprintf("timed out after %s (%s)", e.After, e.Limit)
}

// Is makes a TimeoutError match context.DeadlineExceeded.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// WithTimeout returns a copy of ctx that ends after d with a *TimeoutError
// naming limit as its cause. d <= 0 means no limit.
func WithTimeout(ctx context.Context, d time.Duration, limit string) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, d, &TimeoutError{After: d, Limit: limit})
}

// UsageError is a mistake on the command line: wps prints it with a hint
// to run --help and exits with StatusUsage.
type UsageError struct{ Message string }

// Error returns the message.
func (e *UsageError) Error() string { return e.Message }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, a ...any) error { return &UsageError{fmt.Sprintf(format, a...)} }

// ExitStatus maps the outcome of any command to its exit status: nil is 0,
// an *ExitError its code, a *UsageError 2, an end by SIGTERM 143, by SIGINT
// (or any other cancellation) 130, a timeout 124, anything else 1.
func ExitStatus(err error) int {
	var exit *ExitError
	var usage *UsageError
	switch {
	case err == nil:
		return StatusOK
	case errors.As(err, &exit):
		return exit.Code
	case errors.As(err, &usage):
		return StatusUsage
	case errors.Is(err, ErrTerminated):
		return StatusTerminated
	case errors.Is(err, ErrInterrupted), errors.Is(err, context.Canceled):
		return StatusInterrupt
	case errors.Is(err, context.DeadlineExceeded):
		return StatusTimeout
	}
	return StatusFailure
}

// SignalContext returns a copy of parent that ends at the first SIGINT
// (cause ErrInterrupted) or SIGTERM (cause ErrTerminated). stop releases the
// signals, after which they act as by default again: so a second Ctrl-C
// ends a process that is still cleaning up.
func SignalContext(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-signals:
			if sig == syscall.SIGTERM {
				cancel(ErrTerminated)
			} else {
				cancel(ErrInterrupted)
			}
			// The first signal asked for a clean stop; a second one
			// should not wait for it.
			signal.Stop(signals)
		case <-done:
		}
	}()
	return ctx, sync.OnceFunc(func() {
		signal.Stop(signals)
		close(done)
		cancel(context.Canceled)
	})
}
