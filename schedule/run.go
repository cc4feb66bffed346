package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// runJob runs job's run due at sched, then the run queued meanwhile, if
// any, until none is left; it frees the job's slot when done. It runs on
// its own goroutine.
func (s *Scheduler) runJob(e *entry, job *Job, sched time.Time) {
	defer s.wg.Done()
	for {
		s.runOnce(job, sched)
		s.mu.Lock()
		p := e.pending
		e.pending = nil
		if p == nil || s.stopping || e.removed {
			e.busy = false
			if e.removed && s.entries[job.Name()] == e {
				delete(s.entries, job.Name())
				s.metrics.forget(job.Name())
			}
			s.mu.Unlock()
			if s.freed != nil {
				s.freed(job.Name())
			}
			return
		}
		job, sched = e.job, *p
		e.busySince = s.clock.Now()
		s.mu.Unlock()
	}
}

// runOnce waits the job's jitter, then runs attempts until one succeeds,
// the retries are spent or Run is stopping.
func (s *Scheduler) runOnce(job *Job, sched time.Time) {
	id := NewRunID()
	if j := job.spec.Jitter; j > 0 && !s.sleep(time.Duration(s.randN(int64(j)))) {
		s.log.Info("run not started: scheduler stopping", "job", job.Name(), "run_id", id, "scheduled", sched)
		return
	}
	backoff := job.spec.RetryBackoff
	for attempt := 1; ; attempt++ {
		if s.attempt(job, id, sched, attempt) == OutcomeOK || attempt > job.spec.Retries || s.isStopping() {
			return
		}
		s.log.Info("run will be retried", "job", job.Name(), "run_id", id, "attempt", attempt+1, "backoff", backoff)
		if !s.sleep(backoff) {
			s.log.Info("retry abandoned: scheduler stopping", "job", job.Name(), "run_id", id)
			return
		}
		backoff = min(2*backoff, MaxRetryBackoff)
	}
}

// attempt runs one attempt through the executor, with the job's timeout,
// and logs and measures it.
func (s *Scheduler) attempt(job *Job, id string, sched time.Time, attempt int) Outcome {
	name := job.Name()
	log := s.log.With("job", name, "run_id", id, "scheduled", sched, "attempt", attempt)
	start := s.clock.Now()
	delay := start.Sub(sched)
	log.Info("run started", "start_delay", delay)
	s.metrics.started(name)

	ctx, cancel := context.WithCancelCause(s.runCtx)
	timer := s.clock.NewTimer(job.spec.Timeout)
	go func() {
		select {
		case <-timer.C():
			cancel(ErrTimeout)
		case <-ctx.Done():
		}
	}()
	res := s.execute(ctx, job, RunInfo{ID: id, Scheduled: sched, Attempt: attempt})
	timer.Stop()
	res = res.normalize(context.Cause(ctx))
	cancel(nil)

	end := s.clock.Now()
	dur := end.Sub(start)
	s.metrics.finished(name, res.Outcome, dur, end)
	level := slog.LevelInfo
	if res.Outcome != OutcomeOK {
		level = slog.LevelError
	}
	errText := ""
	if res.Err != nil {
		errText = res.Err.Error()
	}
	log.Log(context.Background(), level, "run finished", "start_delay", delay, "duration", dur,
		"outcome", res.Outcome, "error", errText)
	return res.Outcome
}

// execute calls the executor, turning a panic into a failed result.
func (s *Scheduler) execute(ctx context.Context, job *Job, run RunInfo) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			res = Result{Outcome: OutcomeFailed, Err: fmt.Errorf("executor panicked: %v", r)}
		}
	}()
	return s.exec.Execute(ctx, job, run)
}

// isStopping reports whether Run is stopping.
func (s *Scheduler) isStopping() bool {
	select {
	case <-s.stopCh:
		return true
	default:
		return false
	}
}
