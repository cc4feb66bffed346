package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DefaultKillGrace is ProcessExecutor.KillGrace when it is 0.
const DefaultKillGrace = 10 * time.Second

// maxLine is the longest line of a child's output logged as one record.
const maxLine = 64 << 10

// ProcessExecutor runs each attempt in its own OS process, in a process
// group of its own. When the run context is canceled (the job's timeout,
// or the scheduler giving up at shutdown) it sends SIGTERM to the group,
// and SIGKILL after KillGrace if the child is still there. Each line the
// child writes to stdout or stderr is logged, tagged with the job and run.
//
// Exit status 0 is OutcomeOK, 124 OutcomeTimeout and any other
// OutcomeFailed; a child stopped at its timeout is OutcomeTimeout, and one
// that had to be killed, or was stopped because the scheduler stopped, is
// OutcomeKilled.
type ProcessExecutor struct {
	// Argv returns the command line of a run's child; argv[0] is the
	// program, e.g. os.Executable() with "cron", "--child", job, file.
	Argv func(job *Job, run RunInfo) []string
	// Env is added to the environment of the child, after os.Environ()
	// and WPS_CRON_JOB, WPS_CRON_RUN_ID, WPS_CRON_SCHEDULED (RFC 3339),
	// WPS_CRON_ATTEMPT and WPS_CRON_TIMEOUT (a Go duration).
	Env []string
	// Dir is the child's working directory; empty means this process's.
	Dir string
	// KillGrace is how long a child has between SIGTERM and SIGKILL; 0
	// means DefaultKillGrace.
	KillGrace time.Duration
	// Logger receives the child's output; nil means slog.Default().
	Logger *slog.Logger
	// Stdin, if set, returns what the child reads on its standard input
	// (the wps cron child reads there the schedule file as it was loaded,
	// so that runs do not see an edit that was not reloaded).
	Stdin func(job *Job, run RunInfo) []byte
	// Records says that the child writes its log records to stderr as
	// slog JSON lines: each is logged again at its level, with its message
	// and attributes, rather than as a line of text; the "error" attribute
	// of its last error record says why a failed run failed.
	Records bool
}

// Execute runs one attempt of job in a child process and waits for it. It
// also stops the child at the job's timeout on its own, so it can be used
// without a Scheduler (to run a job once).
func (p *ProcessExecutor) Execute(ctx context.Context, job *Job, run RunInfo) Result {
	if cause := context.Cause(ctx); cause != nil {
		return stoppedResult(cause, fmt.Errorf("not started: %w", cause))
	}
	var argv []string
	if p.Argv != nil {
		argv = p.Argv(job, run)
	}
	if len(argv) == 0 {
		return Result{Outcome: OutcomeFailed, Err: errors.New("no command line for the run")}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, job.Timeout(), ErrTimeout)
	defer cancel()
	log := orDefault(p.Logger, slog.Default()).With("job", job.Name(), "run_id", run.ID)
	stdout, stderr := &lineLogger{log: log, stream: "stdout"}, &lineLogger{log: log, stream: "stderr", records: p.Records}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = p.Dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if p.Stdin != nil {
		cmd.Stdin = bytes.NewReader(p.Stdin(job, run))
	}
	cmd.Env = append(os.Environ(),
		"WPS_CRON_JOB="+job.Name(),
		"WPS_CRON_RUN_ID="+run.ID,
		"WPS_CRON_SCHEDULED="+run.Scheduled.Format(time.RFC3339),
		"WPS_CRON_ATTEMPT="+strconv.Itoa(run.Attempt),
		"WPS_CRON_TIMEOUT="+job.Timeout().String())
	cmd.Env = append(cmd.Env, p.Env...)
	// A child that exits but leaves its output open (a daemonized
	// grandchild) must not hold the run: stop reading a little later.
	cmd.WaitDelay = time.Second
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return Result{Outcome: OutcomeFailed, Err: fmt.Errorf("starting the run: %w", err)}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var err error
	stopped, killed := false, false
	select {
	case err = <-done:
	case <-ctx.Done():
		stopped = true
		terminateGroup(cmd)
		grace := orDefault(p.KillGrace, DefaultKillGrace)
		t := time.NewTimer(grace)
		select {
		case err = <-done:
		case <-t.C:
			killed = true
			killGroup(cmd)
			err = <-done
		}
		t.Stop()
	}
	stdout.flush()
	stderr.flush()

	cause := context.Cause(ctx)
	switch {
	case killed:
		return Result{Outcome: OutcomeKilled, Err: fmt.Errorf("%w; killed: still running %s after SIGTERM",
			cause, orDefault(p.KillGrace, DefaultKillGrace))}
	case stopped && errors.Is(cause, ErrTimeout):
		return stoppedResult(cause, fmt.Errorf("%w after %s", ErrTimeout, job.Timeout()))
	case stopped:
		return stoppedResult(cause, fmt.Errorf("terminated: %w", cause))
	}
	var exit *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
		return Result{Outcome: OutcomeOK}
	case errors.As(err, &exit) && exit.ExitCode() == 124:
		return Result{Outcome: OutcomeTimeout, Err: stderr.explain("the run exited with status 124 (timeout)")}
	default:
		return Result{Outcome: OutcomeFailed, Err: stderr.explain(err.Error())}
	}
}

// stoppedResult is the result of a run stopped for cause: a timeout, or
// the scheduler giving up on it.
func stoppedResult(cause, err error) Result {
	if errors.Is(cause, ErrTimeout) {
		return Result{Outcome: OutcomeTimeout, Err: err}
	}
	return Result{Outcome: OutcomeKilled, Err: err}
}

// lineLogger is an io.Writer that logs each line written to it.
type lineLogger struct {
	log    *slog.Logger
	stream string
	// records is set when lines are slog JSON records (ProcessExecutor.Records).
	records bool
	mu      sync.Mutex
	buf     []byte
	// lastError is the "error" of the last error record.
	lastError string
}

// Write logs every complete line of p and keeps the rest for later.
func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		switch i := bytes.IndexByte(l.buf, '\n'); {
		case i >= 0 && i <= maxLine:
			l.emit(l.buf[:i])
			l.buf = l.buf[i+1:]
		case len(l.buf) >= maxLine: // a long line is logged in pieces
			l.emit(l.buf[:maxLine])
			l.buf = l.buf[maxLine:]
		default:
			return len(p), nil
		}
	}
}

// flush logs what is left of an unterminated last line.
func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = nil
	}
}

// emit logs one line, without its carriage return.
func (l *lineLogger) emit(line []byte) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if l.records && l.emitRecord(line) {
		return
	}
	l.log.Info(string(line), "stream", l.stream)
}

// emitRecord logs line again if it is a slog JSON record (an object with a
// string level and msg), at its level and with its attributes but its
// time, and reports whether it was one.
func (l *lineLogger) emitRecord(line []byte) bool {
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	var r map[string]any
	if json.Unmarshal(line, &r) != nil {
		return false
	}
	msg, ok1 := r["msg"].(string)
	levelText, ok2 := r["level"].(string)
	var level slog.Level
	if !ok1 || !ok2 || level.UnmarshalText([]byte(levelText)) != nil {
		return false
	}
	attrs := []slog.Attr{slog.String("stream", l.stream)}
	for _, k := range slices.Sorted(maps.Keys(r)) {
		if k != "time" && k != "level" && k != "msg" {
			attrs = append(attrs, slog.Any(k, r[k]))
		}
	}
	if e, ok := r["error"].(string); ok && level >= slog.LevelError {
		l.lastError = e
	}
	l.log.LogAttrs(context.Background(), level, msg, attrs...)
	return true
}

// explain returns an error of text, preceded by the error the child last
// reported, if any.
func (l *lineLogger) explain(text string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lastError == "" {
		return errors.New(text)
	}
	return fmt.Errorf("%s (%s)", l.lastError, text)
}
