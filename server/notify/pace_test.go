package notify

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/platform/wechat"
	"github.com/shiliu/shiliu/server/platform/wxfake"
)

// WeCom counts a robot's minute by arrival. When the first minute's messages arrive late (1.5 s
// after they were paced) and the next minute's on time, a pacer that frees a slot exactly 60 s
// after the first send lets the 21st arrive 58.5 s after the 1st, and WeCom refuses it (45009).
// The pacer keeps a margin: every message is accepted, each sent once.
func TestRobotPacerKeepsAMarginBeyondTheMinute(t *testing.T) {
	var lag atomic.Int64 // how late WeCom receives what the dispatcher sends now
	var e *testEnv
	e = newTestEnv(t, wxfake.WithClock(func() time.Time { return e.clock.Now().Add(time.Duration(lag.Load())) }))
	e.group(county, "county_staff", "marginkey001")
	for i := range 40 {
		e.event("tip.submitted", town, int64(i+1), map[string]any{"title": "线索" + id(int64(i)), "level": "general"})
	}
	d := e.dispatcher(testOptions)
	lag.Store(int64(1500 * time.Millisecond))
	e.drain(d, 10)
	if n := len(e.wx.RobotMessages()); n != 20 {
		t.Fatalf("first minute: %d robot messages, want 20", n)
	}
	lag.Store(0)
	for range 4 {
		e.clock.Advance(time.Minute)
		e.drain(d, 10)
		e.clock.Advance(5 * time.Second)
		e.drain(d, 10)
	}
	reqs := e.wx.Requests(wxfake.EndpointRobot)
	if len(e.wx.RobotMessages()) != 40 || len(reqs) != 40 {
		t.Fatalf("%d robot messages in %d requests: WeCom refused a paced send (45009)", len(e.wx.RobotMessages()), len(reqs))
	}
	for _, n := range e.notifications("") {
		if n.Status != StatusSent || n.Attempts != 1 || n.ErrorCode != 0 {
			t.Fatalf("row not sent on its first attempt: %+v", n)
		}
	}
}

// Another sender used up the robot's minute without our pacer knowing: WeCom answers 45009. The
// alert waits for the window to end, as a deferral, not as a failed attempt retried at once
// (with one attempt allowed, counting it would have failed the alert).
func TestRobot45009WaitsForTheWindow(t *testing.T) {
	e := newTestEnv(t)
	e.group(county, "county_staff", "busykey00001")
	ctx := context.Background()
	for range 20 {
		if err := e.client.SendRobot(ctx, "busykey00001", wechat.RobotMessage{Content: "另一个系统的消息"}); err != nil {
			t.Fatal(err)
		}
	}
	e.event("tip.submitted", town, 7, map[string]any{"title": "线索", "level": "general"})
	opt := testOptions
	opt.MaxAttempts = 1
	d := e.dispatcher(opt)
	start := e.clock.Now()
	d.RunOnce(ctx)
	d.RunOnce(ctx)
	n := e.notifications("")[0]
	if n.Status != StatusPending || n.Attempts != 0 || n.ErrorCode != 45009 || !strings.Contains(n.LastError, "45009") {
		t.Fatalf("after 45009: %+v", n)
	}
	if n.NextAttemptAt.Before(start.Add(time.Minute)) {
		t.Fatalf("next attempt %v after 45009, want the end of the robot's minute", n.NextAttemptAt.Sub(start))
	}
	tried := len(e.wx.Requests(wxfake.EndpointRobot))
	e.clock.Advance(10 * time.Second)
	d.RunOnce(ctx)
	if got := len(e.wx.Requests(wxfake.EndpointRobot)); got != tried {
		t.Fatalf("robot called again %d time(s) within the minute", got-tried)
	}
	e.clock.Advance(n.NextAttemptAt.Sub(e.clock.Now()))
	e.drain(d, 5)
	n = e.notifications("")[0]
	if n.Status != StatusSent || n.Attempts != 1 || n.ErrorCode != 0 || n.LastError != "" {
		t.Fatalf("not sent after the window: %+v", n)
	}
}
