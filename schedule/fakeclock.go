package schedule

import (
	"context"
	"slices"
	"sync"
	"time"
)

// FakeClock is a Clock that moves only when told, for tests and
// simulations. Advance moves wall and elapsed time together and fires the
// timers that come due; Jump moves the wall clock alone, as a suspended
// machine sees it on waking (timers count elapsed time, which stood still).
// It is safe for concurrent use.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time     // wall clock
	elapsed time.Duration // monotonic clock
	timers  []*fakeTimer  // pending, in no order
	changed chan struct{} // closed and replaced whenever timers change
}

// NewFakeClock returns a FakeClock reading start.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start, changed: make(chan struct{})}
}

// fakeTimer is a Timer of a FakeClock.
type fakeTimer struct {
	clock *FakeClock
	due   time.Duration // on the clock's elapsed time
	c     chan time.Time
}

// Now returns the fake wall-clock time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the clock has advanced by d.
func (c *FakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, due: c.elapsed + d, c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	c.notify()
	return t
}

// C returns the channel the timer fires on.
func (t *fakeTimer) C() <-chan time.Time { return t.c }

// Stop removes the timer; it reports whether the timer was pending.
func (t *fakeTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.timers, t)
	if i < 0 {
		return false
	}
	c.timers = slices.Delete(c.timers, i, i+1)
	c.notify()
	return true
}

// notify wakes BlockUntil; c.mu is held.
func (c *FakeClock) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Advance moves the clock forward by d and fires, in order, every timer
// that comes due.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.elapsed + d
	for {
		i := -1
		for k, t := range c.timers {
			if t.due <= end && (i < 0 || t.due < c.timers[i].due) {
				i = k
			}
		}
		if i < 0 {
			break
		}
		t := c.timers[i]
		c.now = c.now.Add(t.due - c.elapsed)
		c.elapsed = t.due
		c.timers = slices.Delete(c.timers, i, i+1)
		t.c <- c.now
	}
	c.now = c.now.Add(end - c.elapsed)
	c.elapsed = end
	c.notify()
}

// AdvanceTo advances the clock to wall time t (no-op if t is not later).
func (c *FakeClock) AdvanceTo(t time.Time) {
	if d := t.Sub(c.Now()); d > 0 {
		c.Advance(d)
	}
}

// Jump moves the wall clock by d without firing any timer, as a machine
// waking from suspend sees it.
func (c *FakeClock) Jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.notify()
}

// Timers returns how many timers are pending.
func (c *FakeClock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// NextTimer returns the wall time at which the earliest pending timer
// fires, and false when none is pending.
func (c *FakeClock) NextTimer() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	due := c.timers[0].due
	for _, t := range c.timers[1:] {
		due = min(due, t.due)
	}
	return c.now.Add(due - c.elapsed), true
}

// BlockUntil waits until at least n timers are pending, or ctx is done.
func (c *FakeClock) BlockUntil(ctx context.Context, n int) error {
	return c.waitFor(ctx, func() bool { return len(c.timers) >= n })
}

// BlockUntilTimerAt waits until a pending timer fires at wall time t, or
// ctx is done.
func (c *FakeClock) BlockUntilTimerAt(ctx context.Context, t time.Time) error {
	return c.waitFor(ctx, func() bool {
		return slices.ContainsFunc(c.timers, func(ft *fakeTimer) bool {
			return c.now.Add(ft.due - c.elapsed).Equal(t)
		})
	})
}

// waitFor waits until cond, called with c.mu held, is true.
func (c *FakeClock) waitFor(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		ok, changed := cond(), c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
