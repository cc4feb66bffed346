package engine

import (
	"context"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// DefaultMaxMemory is the memory limit of a run when Options.MaxMemory is
// 0.
const DefaultMaxMemory = 1 << 30

// MemoryLimitError is the cause of a run's context ended because the
// process's live heap grew past the run's memory limit. wps exits 1 for it,
// as for a script error.
type MemoryLimitError struct {
	// Limit is the limit in bytes.
	Limit int64
	// Name names the limit, e.g. "--max-memory"; "" leaves it out.
	Name string
}

// Error reads "memory limit of 1 GiB exceeded (--max-memory)".
func (e *MemoryLimitError) Error() string {
	s := "memory limit of " + FormatSize(float64(e.Limit)) + " exceeded"
	if e.Name != "" {
		s += " (" + e.Name + ")"
	}
	return s
}

// The memory limit is measured by the Go runtime: while runs are watched,
// a goroutine reads the live heap (runtime/metrics /gc/heap/live:bytes,
// the bytes the last garbage collection found in use) every
// memoryCheckInterval and ends every run whose limit it exceeds. The
// runtime's soft memory limit (debug.SetMemoryLimit) is set meanwhile to
// the lowest of their limits, so that the collector runs, and the heap is
// measured, before the process grows much past it. The heap is the
// process's: runs going on at once in one process share it, and all those
// whose limit it passes are ended.

// memoryCheckInterval is how often the live heap is read.
const memoryCheckInterval = 20 * time.Millisecond

// memoryWatch is the process's one watch on the heap.
var memoryWatch = &heapWatch{runs: map[*watchedRun]struct{}{}}

// heapWatch ends the runs whose memory limit the live heap exceeds.
type heapWatch struct {
	mu   sync.Mutex // guards the fields below
	runs map[*watchedRun]struct{}
	// stop ends the goroutine that reads the heap; nil when none runs.
	stop chan struct{}
	// previous is the runtime's memory limit before the watch lowered it.
	previous int64
}

// watchedRun is one run under the watch.
type watchedRun struct {
	limit  int64
	name   string
	cancel context.CancelCauseFunc
}

// watch ends a run (through cancel) with a *MemoryLimitError when the live
// heap exceeds limit bytes, until the returned function is called.
func (w *heapWatch) watch(limit int64, name string, cancel context.CancelCauseFunc) (stop func()) {
	run := &watchedRun{limit: limit, name: name, cancel: cancel}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.runs) == 0 {
		w.previous = debug.SetMemoryLimit(-1)
		w.stop = make(chan struct{})
		go w.poll(w.stop)
	}
	w.runs[run] = struct{}{}
	w.setLimit()
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.runs, run)
		if len(w.runs) > 0 {
			w.setLimit()
			return
		}
		debug.SetMemoryLimit(w.previous)
		close(w.stop)
		w.stop = nil
	}
}

// setLimit sets the runtime's soft memory limit to the lowest limit of the
// runs, or leaves a lower one set before (GOMEMLIMIT).
func (w *heapWatch) setLimit() {
	limit := w.previous
	for run := range w.runs {
		limit = min(limit, run.limit)
	}
	debug.SetMemoryLimit(limit)
}

// poll reads the live heap until stop is closed.
func (w *heapWatch) poll(stop chan struct{}) {
	ticker := time.NewTicker(memoryCheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		live := liveHeap()
		w.mu.Lock()
		for run := range w.runs {
			if live > run.limit {
				run.cancel(&MemoryLimitError{Limit: run.limit, Name: run.name})
			}
		}
		w.mu.Unlock()
	}
}

// liveHeap returns the bytes of heap objects marked live by the last
// collection.
func liveHeap() int64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(min(sample[0].Value.Uint64(), math.MaxInt64))
}

// memoryLimit returns the memory limit of the engine's runs in bytes, or 0
// for none.
func (e *Engine) memoryLimit() int64 {
	switch {
	case e.opts.MaxMemory < 0:
		return 0
	case e.opts.MaxMemory == 0:
		return DefaultMaxMemory
	}
	return e.opts.MaxMemory
}

// maxString returns the largest string the engine's runs may build (see
// Options.MaxString).
func (e *Engine) maxString() int {
	if e.opts.MaxString > 0 {
		return e.opts.MaxString
	}
	if limit := e.memoryLimit(); limit > 0 && limit/2 < MaxStringSize {
		return int(max(limit/2, 1<<10))
	}
	return MaxStringSize
}
