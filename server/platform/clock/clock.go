// Package clock is the time source (injectable, so tests can move past deadlines) and the zone in
// which times are shown. Storage is always UTC.
package clock

import (
	"sync"
	"time"
)

// Shanghai is China Standard Time. China has no daylight saving, so a fixed zone is exact and does
// not need tzdata in a minimal container.
var Shanghai = time.FixedZone("CST", 8*3600)

// Clock tells the time.
type Clock interface{ Now() time.Time }

// Real is the wall clock, in UTC.
type Real struct{}

func (Real) Now() time.Time { return time.Now().UTC() }

// Fake is a settable clock for tests.
type Fake struct {
	mu sync.Mutex
	t  time.Time
}

// NewFake starts at t.
func NewFake(t time.Time) *Fake { return &Fake{t: t.UTC()} }

func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Advance moves the clock forward.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// Local converts a stored time for display.
func Local(t time.Time) time.Time { return t.In(Shanghai) }

// LocalPtr converts an optional time for display.
func LocalPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	l := t.In(Shanghai)
	return &l
}
