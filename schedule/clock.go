package schedule

import "time"

// Clock tells the time and waits: the Scheduler does both only through
// it, so that tests and simulations can drive time themselves.
type Clock interface {
	// Now returns the current wall-clock time.
	Now() time.Time
	// NewTimer returns a timer that fires once d has elapsed. Like Go's
	// timers it counts elapsed (monotonic) time, which may stop while the
	// machine is suspended; the scheduler rereads Now often for that reason.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	// C returns the channel that receives the time when the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// RealClock is the Clock of the machine: time.Now and time.NewTimer.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer as a Timer.
func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// realTimer adapts *time.Timer to Timer.
type realTimer struct{ t *time.Timer }

// C returns the timer's channel.
func (r realTimer) C() <-chan time.Time { return r.t.C }

// Stop stops the timer.
func (r realTimer) Stop() bool { return r.t.Stop() }
