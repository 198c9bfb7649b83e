// Package breaker is a small circuit breaker: after a few failures in a row it stops calling a
// dependency for a cool-down, then lets one call through to probe it. Callers fall back to
// something slower but sure while it is open. Each change of state is logged once, so an outage
// is two lines in the log, not one per request.
package breaker

import (
	"log/slog"
	"sync"
	"time"
)

// State is where the breaker stands.
type State int

const (
	Closed   State = iota // calls go through
	Open                  // calls are refused until the cool-down ends
	HalfOpen              // one probe call is in flight
)

func (s State) String() string {
	switch s {
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "closed"
}

// Breaker guards one dependency. The zero value is not usable; use New.
type Breaker struct {
	name     string
	failures int
	cooldown time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu        sync.Mutex
	state     State
	fails     int
	openUntil time.Time
}

// New returns a closed breaker that opens after failures consecutive failures and stays open for
// cooldown. now is the clock (time.Now when nil).
func New(name string, failures int, cooldown time.Duration, now func() time.Time, log *slog.Logger) *Breaker {
	if failures < 1 {
		failures = 1
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Breaker{name: name, failures: failures, cooldown: cooldown, now: now, log: log}
}

// Allow reports whether a call may go ahead. While open it says no; when the cool-down is over
// it lets exactly one probe through (half-open) and says no to the others until that probe
// reports.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case Closed:
		return true
	case Open:
		if b.now().Before(b.openUntil) {
			return false
		}
		b.setLocked(HalfOpen, nil)
		b.openUntil = b.now().Add(b.cooldown)
		return true
	case HalfOpen:
		// A probe that never reported (its caller gave up) must not hold the breaker forever.
		if !b.now().Before(b.openUntil) {
			b.openUntil = b.now().Add(b.cooldown)
			return true
		}
	}
	return false
}

// Report records the outcome of an allowed call.
func (b *Breaker) Report(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		b.fails = 0
		if b.state != Closed {
			b.setLocked(Closed, nil)
		}
		return
	}
	b.fails++
	if b.state == HalfOpen || b.fails >= b.failures {
		b.openUntil = b.now().Add(b.cooldown)
		if b.state != Open {
			b.setLocked(Open, err)
		}
	}
}

// State returns the current state.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

func (b *Breaker) setLocked(s State, err error) {
	from := b.state
	b.state = s
	switch s {
	case Open:
		if from == HalfOpen {
			// Still down: the probe failed. Not news worth a line each cool-down.
			return
		}
		b.log.Warn("circuit breaker open: not asking "+b.name+" for a while", "breaker", b.name,
			"cooldown", b.cooldown.String(), "err", err)
	case Closed:
		b.log.Info("circuit breaker closed: "+b.name+" answers again", "breaker", b.name)
	}
}
