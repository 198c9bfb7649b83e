package notify

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/platform/wxfake"
)

// onceWorld is eight counties, each with a staff group and two officers holding long-term
// grants, and five tips per county: 40 robot messages and 80 subscribe messages, each with a
// title of its own.
func onceWorld(e *testEnv) (robots, subscribes int) {
	counties := []string{"130102000000", "130104000000", "130105000000", "130107000000",
		"130108000000", "130109000000", "130110000000", "130111000000"}
	for i, c := range counties {
		e.group(c, "county_staff", fmt.Sprintf("oncekey%05d", i))
		for j := range 2 {
			a := e.account("county_staff", c, fmt.Sprintf("o_once_%d_%d", i, j), true)
			e.grant(a, "TPL_TIP", SubLongTerm, 0)
		}
		for k := range 5 {
			e.event("tip.submitted", c[:9]+"001", int64(i*10+k), map[string]any{"title": fmt.Sprintf("线索%d-%d", i, k), "level": "general"})
		}
	}
	return 40, 80
}

// checkOnce fails unless the fake received every message exactly once per target.
func checkOnce(t *testing.T, e *testEnv, robots, subscribes int, allowDup int) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range e.wx.RobotMessages() {
		seen["robot "+m.Key+" "+m.Content]++
	}
	for _, m := range e.wx.SubscribeMessages() {
		seen["subscribe "+m.ToUser+" "+m.Data["thing1"]]++
	}
	dups := 0
	for k, n := range seen {
		if n > 1 {
			dups += n - 1
			if allowDup == 0 {
				t.Errorf("received %d times: %s", n, k)
			}
		}
	}
	if got, want := len(seen), robots+subscribes; got != want {
		t.Errorf("%d distinct messages reached the fake, want %d", got, want)
	}
	if dups != allowDup {
		t.Errorf("%d duplicates, want %d", dups, allowDup)
	}
}

func (e *testEnv) allFinal() bool {
	var open int64
	e.db.Model(&Notification{}).Where("status IN ?", []string{StatusPending, StatusSending}).Count(&open)
	var events int64
	e.db.Model(&Event{}).Where("consumed_at IS NULL").Count(&events)
	return open == 0 && events == 0
}

// waitFinal waits until every notification is final. The clock is fake: a send that failed for
// a passing reason (on SQLite, a write that waited out the send's timeout behind the killed
// dispatcher's) is retried at its next attempt time, which would never come. When nothing is
// being sent and every open notification waits for a later attempt, the clock moves to the
// earliest of those times, as the real one would.
// retried collects the notifications it moved the clock for: their extra attempt is that retry.
func (e *testEnv) waitFinal(d time.Duration, retried map[int64]bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if e.allFinal() {
			return true
		}
		var open []Notification
		e.db.Where("status IN ?", []string{StatusPending, StatusSending}).Find(&open)
		var next time.Time
		for _, n := range open {
			if n.Status != StatusPending || !n.NextAttemptAt.After(e.clock.Now()) {
				next = time.Time{}
				break
			}
			if next.IsZero() || n.NextAttemptAt.Before(next) {
				next = n.NextAttemptAt
			}
		}
		if !next.IsZero() {
			for _, n := range open {
				retried[n.ID] = true
			}
			e.clock.Advance(next.Sub(e.clock.Now()))
		}
	}
	return false
}

// Three dispatchers on one database; one is killed (its context cancelled) while sends are slow.
// Every notification reaches the fake exactly once per target: the killed one finishes and
// records the send it had started and hands back the ones it had claimed but not started.
func TestThreeDispatchersOneKilledDeliverExactlyOnce(t *testing.T) {
	e := newTestEnv(t)
	robots, subscribes := onceWorld(e)
	e.wx.SetDelay(wxfake.EndpointRobot, 40*time.Millisecond)
	e.wx.SetDelay(wxfake.EndpointSubscribe, 40*time.Millisecond)

	var startedByFirst, sentByFirst atomic.Int64
	first := e.dispatcher(testOptions)
	first.beforeSend = func(*Notification) bool { startedByFirst.Add(1); return false }
	first.afterSend = func(*Notification, error) bool { sentByFirst.Add(1); return false }
	stopFirst := run(first)
	stop2 := run(e.dispatcher(testOptions))
	defer stop2()
	stop3 := run(e.dispatcher(testOptions))
	defer stop3()

	// Killed while its sends are in flight (each takes 40 ms at the fake).
	waitFor(t, 20*time.Second, "the first dispatcher's sends", func() bool { return startedByFirst.Load() >= 3 })
	stopFirst() // returns once its in-flight sends are recorded
	killedAt := len(e.wx.RobotMessages()) + len(e.wx.SubscribeMessages())
	retried := map[int64]bool{}
	if !e.waitFinal(60*time.Second, retried) {
		var open []Notification
		e.db.Where("status IN ?", []string{StatusPending, StatusSending}).Find(&open)
		for _, n := range open {
			t.Logf("open: %+v", n)
		}
		var events []Event
		e.db.Where("consumed_at IS NULL").Find(&events)
		for _, ev := range events {
			t.Logf("unconsumed: %+v", ev)
		}
		t.Fatalf("timed out waiting for every notification to be final (the fake has %d robot and %d subscribe messages of %d and %d)",
			len(e.wx.RobotMessages()), len(e.wx.SubscribeMessages()), robots, subscribes)
	}

	checkOnce(t, e, robots, subscribes, 0)
	if sentByFirst.Load() == 0 || killedAt >= robots+subscribes {
		t.Fatalf("the killed dispatcher did not take part (sent %d, %d delivered when killed)", sentByFirst.Load(), killedAt)
	}
	for _, n := range e.notifications("") {
		if want := map[bool]int{false: 1, true: 2}[retried[n.ID]]; n.Status != StatusSent || n.Attempts != want {
			t.Fatalf("want sent after %d attempts: %+v", want, n)
		}
	}
	var owners int64
	e.db.Model(&Notification{}).Where("lease_owner <> ''").Count(&owners)
	if owners != 0 {
		t.Fatalf("%d rows still leased", owners)
	}
}

// A dispatcher killed outright after claiming (no chance to hand anything back): its rows wait
// for their lease to end, then another dispatcher delivers each once.
func TestClaimedRowsOfADeadDispatcherAreTakenOverAfterTheLease(t *testing.T) {
	e := newTestEnv(t)
	robots, subscribes := onceWorld(e)
	dead := e.dispatcher(testOptions)
	dead.beforeSend = func(*Notification) bool { return true } // dies before every send
	dead.RunOnce(context.Background())
	var leased int64
	e.db.Model(&Notification{}).Where("status = ?", StatusSending).Count(&leased)
	if leased == 0 {
		t.Fatal("the dead dispatcher claimed nothing")
	}

	live := e.dispatcher(testOptions)
	for range 20 {
		live.RunOnce(context.Background())
	}
	var still int64
	e.db.Model(&Notification{}).Where("status = ?", StatusSending).Count(&still)
	if still != leased {
		t.Fatalf("rows taken over before their lease ended: %d of %d left", still, leased)
	}
	e.clock.Advance(testOptions.Lease + time.Second)
	e.drain(live, 50)
	checkOnce(t, e, robots, subscribes, 0)
}

// The residual window, shown rather than hidden: WeChat has no idempotency key, so a process
// killed after WeChat accepted a message and before the row was marked sent leaves the row
// "sending"; when its lease ends another dispatcher sends it again. docs/notifications.md
// describes this window.
func TestCrashBetweenSendAndMarkResendsAfterTheLease(t *testing.T) {
	e := newTestEnv(t)
	e.group(county, "county_staff", "windowkey001")
	e.event("tip.submitted", town, 1, map[string]any{"title": "t", "level": "general"})
	dead := e.dispatcher(testOptions)
	dead.afterSend = func(*Notification, error) bool { return true } // dies after the send
	dead.RunOnce(context.Background())
	dead.RunOnce(context.Background())
	if len(e.wx.RobotMessages()) != 1 {
		t.Fatal("not sent")
	}
	live := e.dispatcher(testOptions)
	live.RunOnce(context.Background())
	if len(e.wx.RobotMessages()) != 1 {
		t.Fatal("re-sent while the lease held")
	}
	e.clock.Advance(testOptions.Lease + time.Second)
	live.RunOnce(context.Background())
	if n := len(e.wx.RobotMessages()); n != 2 {
		t.Fatalf("%d robot messages, want the documented duplicate (2)", n)
	}
	if n := e.notifications("")[0]; n.Status != StatusSent || n.Attempts != 2 {
		t.Fatalf("%+v", n)
	}
}

// A send starts only with enough lease left to finish: a row whose turn comes late in a long
// batch has its lease extended first, and a row that is no longer ours is not sent.
func TestLeaseIsExtendedBeforeALateSend(t *testing.T) {
	e := newTestEnv(t)
	e.group(county, "county_staff", "leasekey0001")
	e.event("tip.submitted", town, 1, map[string]any{"title": "t", "level": "general"})
	d := e.dispatcher(testOptions)
	var claimed Notification
	d.beforeSend = func(n *Notification) bool { claimed = *n; return true }
	d.RunOnce(context.Background())
	if claimed.ID == 0 {
		t.Fatal("nothing claimed")
	}
	e.clock.Advance(50 * time.Second) // 10 s of lease left, less than a send may take
	if !d.holdLease(context.Background(), &claimed) {
		t.Fatal("lease not extended")
	}
	row := e.one(claimed.ID)
	if want := e.clock.Now().Add(testOptions.Lease); !row.LeaseUntil.Equal(want) || !row.NextAttemptAt.Equal(want) {
		t.Fatalf("lease until %v, want %v", row.LeaseUntil, want)
	}
	other := claimed
	other.LeaseOwner = "someone-else"
	other.LeaseUntil = nil
	if d.holdLease(context.Background(), &other) {
		t.Fatal("extended a lease held by another dispatcher")
	}
}
