package notify

import (
	"context"
	"sync"
	"testing"
	"time"
)

const day = 24 * time.Hour

var testRetention = Retention{Events: 30 * day, Notifications: 180 * day}

// pruneEvents writes n events created and consumed at the given time (nil: not consumed).
func (e *testEnv) pruneEvents(n int, consumed *time.Time) []int64 {
	e.t.Helper()
	created := e.clock.Now().Add(-400 * day)
	if consumed != nil {
		created = consumed.Add(-time.Second)
	}
	rows := make([]Event, n)
	for i := range rows {
		rows[i] = Event{Kind: "visit.submitted", SubjectType: "visit", SubjectID: int64(i + 1), RegionCode: town,
			Payload: "{}", CreatedAt: created, ConsumedAt: consumed}
	}
	if err := e.db.CreateInBatches(rows, 500).Error; err != nil {
		e.t.Fatal(err)
	}
	ids := make([]int64, n)
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

var pruneTarget int64

// pruneNotifications writes n notifications in this status, last changed at updated.
func (e *testEnv) pruneNotifications(n int, status string, updated time.Time) []int64 {
	e.t.Helper()
	rows := make([]Notification, n)
	for i := range rows {
		pruneTarget++
		rows[i] = Notification{EventID: 1, Channel: ChannelRobot, Target: id(pruneTarget), TargetKind: TargetGroup,
			EventKind: "tip.submitted", SubjectType: "tip", SubjectID: 1, RegionCode: town, Title: "线索", Content: "{}",
			Status: status, NextAttemptAt: updated, Attempts: 1, CreatedAt: updated.Add(-time.Minute), UpdatedAt: updated}
		if status == StatusSending {
			until := updated.Add(time.Minute)
			rows[i].LeaseOwner, rows[i].LeaseUntil = "other/1/x#1", &until
		}
	}
	if err := e.db.CreateInBatches(rows, 500).Error; err != nil {
		e.t.Fatal(err)
	}
	ids := make([]int64, n)
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

func (e *testEnv) exists(model any, ids []int64) int {
	e.t.Helper()
	var n int64
	if err := e.db.Model(model).Where("id IN ?", ids).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return int(n)
}

func ago(now time.Time, d time.Duration) *time.Time {
	t := now.Add(-d)
	return &t
}

// TestPruneDeletesOnlyWhatIsDone: consumed events older than their retention go, and so do
// sent, failed and skipped notifications final for longer than theirs; unconsumed events
// (however old), young rows, and pending or sending notifications stay. 0 keeps everything.
func TestPruneDeletesOnlyWhatIsDone(t *testing.T) {
	e := newTestEnv(t)
	now := e.clock.Now()
	oldEvents := e.pruneEvents(3, ago(now, 31*day))
	youngEvents := e.pruneEvents(2, ago(now, 29*day))
	unconsumed := e.pruneEvents(2, nil) // created 400 days ago, never fanned out
	var oldFinal []int64
	for _, st := range finalStatuses {
		oldFinal = append(oldFinal, e.pruneNotifications(2, st, now.Add(-181*day))...)
	}
	var youngFinal []int64
	for _, st := range finalStatuses {
		youngFinal = append(youngFinal, e.pruneNotifications(1, st, now.Add(-179*day))...)
	}
	pending := e.pruneNotifications(2, StatusPending, now.Add(-400*day))
	sending := e.pruneNotifications(1, StatusSending, now.Add(-400*day))

	if got, err := Prune(context.Background(), e.db.DB, now, Retention{}); err != nil || got != (Pruned{}) {
		t.Fatalf("retention 0 pruned %+v, %v", got, err)
	}
	got, err := Prune(context.Background(), e.db.DB, now, testRetention)
	if err != nil {
		t.Fatal(err)
	}
	if got != (Pruned{Events: 3, Notifications: 6}) {
		t.Fatalf("pruned %+v, want 3 events and 6 notifications", got)
	}
	for name, c := range map[string]struct {
		model any
		ids   []int64
		want  int
	}{
		"old consumed events":      {&Event{}, oldEvents, 0},
		"young consumed events":    {&Event{}, youngEvents, 2},
		"old unconsumed events":    {&Event{}, unconsumed, 2},
		"old final notifications":  {&Notification{}, oldFinal, 0},
		"young final notification": {&Notification{}, youngFinal, 3},
		"old pending":              {&Notification{}, pending, 2},
		"old sending":              {&Notification{}, sending, 1},
	} {
		if n := e.exists(c.model, c.ids); n != c.want {
			t.Errorf("%s: %d left, want %d", name, n, c.want)
		}
	}
	// A second pass finds nothing; a month later the young ones are due.
	if got, err := Prune(context.Background(), e.db.DB, now, testRetention); err != nil || got != (Pruned{}) {
		t.Fatalf("second pass pruned %+v, %v", got, err)
	}
	if got, err := Prune(context.Background(), e.db.DB, now.Add(2*day), testRetention); err != nil || got != (Pruned{Events: 2, Notifications: 3}) {
		t.Fatalf("two days later pruned %+v, %v", got, err)
	}
	if n := e.exists(&Event{}, unconsumed) + e.exists(&Notification{}, pending) + e.exists(&Notification{}, sending); n != 5 {
		t.Fatalf("%d unfinished rows left, want 5", n)
	}
}

// TestPruneGoesPastOneBatch: more eligible rows than one batch all go, in several statements.
func TestPruneGoesPastOneBatch(t *testing.T) {
	e := newTestEnv(t)
	now := e.clock.Now()
	old := e.pruneEvents(2*PruneBatch+7, ago(now, 40*day))
	young := e.pruneEvents(5, ago(now, day))
	var oldN []int64
	for _, st := range finalStatuses {
		oldN = append(oldN, e.pruneNotifications(PruneBatch/2+3, st, now.Add(-200*day))...)
	}
	pending := e.pruneNotifications(4, StatusPending, now.Add(-200*day))
	got, err := Prune(context.Background(), e.db.DB, now, testRetention)
	if err != nil {
		t.Fatal(err)
	}
	if got.Events != int64(len(old)) || got.Notifications != int64(len(oldN)) {
		t.Fatalf("pruned %+v, want %d events and %d notifications", got, len(old), len(oldN))
	}
	if e.exists(&Event{}, old) != 0 || e.exists(&Event{}, young) != 5 || e.exists(&Notification{}, oldN) != 0 || e.exists(&Notification{}, pending) != 4 {
		t.Fatal("wrong rows left after pruning several batches")
	}
}

// TestConcurrentPrunesDeleteEachRowOnce: instances pruning at the same moment split the work:
// no error, every eligible row deleted exactly once between them, nothing else touched.
func TestConcurrentPrunesDeleteEachRowOnce(t *testing.T) {
	e := newTestEnv(t)
	now := e.clock.Now()
	old := e.pruneEvents(3*PruneBatch+11, ago(now, 31*day))
	unconsumed := e.pruneEvents(3, nil)
	oldN := e.pruneNotifications(2*PruneBatch+5, StatusSent, now.Add(-181*day))
	pending := e.pruneNotifications(3, StatusPending, now.Add(-181*day))

	const instances = 4
	results := make([]Pruned, instances)
	errs := make([]error, instances)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			<-start
			results[i], errs[i] = Prune(context.Background(), e.db.DB, now, testRetention)
		})
	}
	close(start)
	wg.Wait()
	t.Logf("deleted by each instance: %+v", results)
	var sum Pruned
	for i := range instances {
		if errs[i] != nil {
			t.Errorf("instance %d: %v", i, errs[i])
		}
		sum.Events += results[i].Events
		sum.Notifications += results[i].Notifications
	}
	// An instance that stopped early (another one took its batch) leaves the rest to the others;
	// what is left after all of them is nothing, and each row was counted once.
	if sum.Events != int64(len(old)) || sum.Notifications != int64(len(oldN)) {
		t.Fatalf("instances deleted %+v in all (%+v), want %d events and %d notifications", sum, results, len(old), len(oldN))
	}
	if e.exists(&Event{}, old) != 0 || e.exists(&Notification{}, oldN) != 0 {
		t.Fatal("eligible rows left after the concurrent prunes")
	}
	if e.exists(&Event{}, unconsumed) != 3 || e.exists(&Notification{}, pending) != 3 {
		t.Fatal("the concurrent prunes deleted unfinished rows")
	}
}
