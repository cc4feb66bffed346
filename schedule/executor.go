package schedule

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Outcome is how a run ended, as logs and metrics name it.
type Outcome string

// The outcomes of a run.
const (
	// OutcomeOK is a run that succeeded.
	OutcomeOK Outcome = "ok"
	// OutcomeFailed is a run that returned an error or exited non-zero.
	OutcomeFailed Outcome = "failed"
	// OutcomeTimeout is a run stopped at its timeout (or a child that
	// exited 124, timeout(1)'s status).
	OutcomeTimeout Outcome = "timeout"
	// OutcomeKilled is a run that had to be killed: it did not stop within
	// the grace period after its timeout, or the scheduler was stopping.
	OutcomeKilled Outcome = "killed"
	// OutcomeSkipped is a run not started because the job was still
	// running (see Overlap).
	OutcomeSkipped Outcome = "skipped"
	// OutcomeMissed is a run not started because it was found later than
	// its starting deadline (the machine was suspended or the clock jumped).
	OutcomeMissed Outcome = "missed"
)

// Outcomes lists every Outcome, in the order above.
var Outcomes = []Outcome{OutcomeOK, OutcomeFailed, OutcomeTimeout, OutcomeKilled, OutcomeSkipped, OutcomeMissed}

var (
	// ErrTimeout is the cause of a run context canceled at the job's timeout.
	ErrTimeout = errors.New("run timed out")
	// ErrStopped is the cause of a run context canceled because the
	// scheduler stopped and the run outlived the grace period.
	ErrStopped = errors.New("scheduler stopped")
)

// NewRunID returns a random id for a run: 12 hexadecimal digits, as the
// scheduler gives its runs and their log lines.
func NewRunID() string {
	return fmt.Sprintf("%012x", rand.Uint64()>>16)
}

// RunInfo identifies one attempt of a run for an Executor.
type RunInfo struct {
	// ID is unique to the run; its retries share it.
	ID string
	// Scheduled is when the run was due, in the job's time zone.
	Scheduled time.Time
	// Attempt counts from 1; retries are 2, 3, ...
	Attempt int
}

// Result is what an Executor reports of one attempt.
type Result struct {
	// Outcome is OutcomeOK, OutcomeFailed, OutcomeTimeout or OutcomeKilled.
	// Empty means: OutcomeOK when Err is nil, else derived from the run
	// context's cause (ErrTimeout, ErrStopped) or OutcomeFailed.
	Outcome Outcome
	// Err says why the attempt did not succeed.
	Err error
}

// Executor runs one attempt of a job. The context is canceled with cause
// ErrTimeout at the job's timeout and ErrStopped when the scheduler gives up
// waiting at shutdown; Execute should return soon after. It is called from
// many goroutines at once (never twice at once for one job).
type Executor interface {
	// Execute runs one attempt of job and reports how it went.
	Execute(ctx context.Context, job *Job, run RunInfo) Result
}

// ExecutorFunc adapts a function to an Executor.
type ExecutorFunc func(ctx context.Context, job *Job, run RunInfo) Result

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, job *Job, run RunInfo) Result {
	return f(ctx, job, run)
}

// normalize fills in r.Outcome from r.Err and the cause of the run context.
func (r Result) normalize(cause error) Result {
	switch r.Outcome {
	case OutcomeOK, OutcomeFailed, OutcomeTimeout, OutcomeKilled:
		return r
	case "":
	default:
		r.Err = errors.Join(r.Err, errors.New("executor reported unknown outcome "+string(r.Outcome)))
		r.Outcome = OutcomeFailed
		return r
	}
	switch {
	case r.Err == nil:
		r.Outcome = OutcomeOK
	case errors.Is(cause, ErrTimeout):
		r.Outcome = OutcomeTimeout
	case errors.Is(cause, ErrStopped):
		r.Outcome = OutcomeKilled
	default:
		r.Outcome = OutcomeFailed
	}
	return r
}
