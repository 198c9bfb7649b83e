package breaker

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestBreakerOpensProbesAndLogsStateChangesOnly: three failures open it; while open nothing
// goes through; after the cool-down exactly one probe does; a failed probe keeps it open, a good
// one closes it. A thousand refused calls during an outage log one line, recovery one more.
func TestBreakerOpensProbesAndLogsStateChangesOnly(t *testing.T) {
	var logs bytes.Buffer
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	b := New("redis", 3, 5*time.Second, clk.now, slog.New(slog.NewTextHandler(&logs, nil)))
	down := errors.New("i/o timeout")

	for i := 0; i < 3; i++ {
		if !b.Allow() {
			t.Fatalf("call %d refused while closed", i)
		}
		b.Report(down)
	}
	if b.State() != Open {
		t.Fatalf("state after 3 failures: %v", b.State())
	}
	for i := 0; i < 1000; i++ {
		if b.Allow() {
			t.Fatal("call let through while open")
		}
	}
	clk.add(5 * time.Second)
	if !b.Allow() {
		t.Fatal("no probe after the cool-down")
	}
	if b.Allow() {
		t.Fatal("a second probe while the first is out")
	}
	b.Report(down)
	if b.State() != Open || b.Allow() {
		t.Fatal("a failed probe must keep it open")
	}
	clk.add(5 * time.Second)
	if !b.Allow() {
		t.Fatal("no second probe")
	}
	b.Report(nil)
	if b.State() != Closed || !b.Allow() {
		t.Fatal("a good probe must close it")
	}
	if n := strings.Count(logs.String(), "\n"); n != 2 {
		t.Fatalf("%d log lines, want 2 (open, closed):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "circuit breaker open") || !strings.Contains(logs.String(), "circuit breaker closed") {
		t.Fatalf("log: %s", logs.String())
	}
}

// TestBreakerProbeThatNeverReports: a probe whose caller gave up without reporting does not
// hold the breaker half-open for ever.
func TestBreakerProbeThatNeverReports(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	b := New("redis", 1, time.Second, clk.now, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	b.Allow()
	b.Report(errors.New("down"))
	clk.add(time.Second)
	if !b.Allow() {
		t.Fatal("no probe")
	}
	clk.add(time.Second)
	if !b.Allow() {
		t.Fatal("a lost probe holds the breaker")
	}
}
