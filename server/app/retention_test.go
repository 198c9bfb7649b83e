package app_test

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/notify"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// TestRetentionSweepRuns: an instance sweeping every second (App.Run) deletes an event consumed
// 31 days ago, a notification sent 181 days ago and, with the audit trail kept for the legal
// minimum, an entry older than that; it keeps the young ones, an old event never consumed and an
// old notification still pending, and counts what it deleted in /metrics.
// Not parallel: every server sweeps when it starts, and one started by another test would delete
// the old rows before this test's server counts them.
func TestRetentionSweepRuns(t *testing.T) {
	e := apitest.Shared(t)
	now := e.Clock.Now()
	db := e.DB()
	const day = 24 * time.Hour
	at := func(d time.Duration) *time.Time { x := now.Add(-d); return &x }

	event := func(consumed *time.Time) int64 {
		t.Helper()
		ev := notify.Event{Kind: "retention.test", SubjectType: "test", SubjectID: 1, RegionCode: apitest.CountyA1,
			Payload: "{}", CreatedAt: now.Add(-400 * day), ConsumedAt: consumed}
		if err := db.Create(&ev).Error; err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	oldEvent, youngEvent := event(at(31*day)), event(at(29*day))
	// Never consumed: the shared dispatcher may consume it now, which makes it young.
	unconsumed := event(nil)

	notification := func(status string, updated time.Time) int64 {
		t.Helper()
		n := notify.Notification{EventID: oldEvent, Channel: notify.ChannelRobot, Target: strconv.FormatInt(updated.UnixNano(), 10),
			TargetKind: notify.TargetGroup, EventKind: "retention.test", SubjectType: "test", SubjectID: 1, RegionCode: apitest.CountyA1,
			Title: "保留期测试", Content: "{}", Status: status, NextAttemptAt: now.Add(400 * day), Attempts: 1,
			CreatedAt: updated, UpdatedAt: updated}
		if err := db.Create(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n.ID
	}
	oldSent, youngSent := notification(notify.StatusSent, now.Add(-181*day)), notification(notify.StatusSent, now.Add(-179*day))
	// Not due for a year: no dispatcher sends it during the test.
	pending := notification(notify.StatusPending, now.Add(-300*day))

	entry := func(created time.Time) int64 {
		t.Helper()
		a := audit.Entry{AccountID: 1, Role: "admin", RegionCode: apitest.CountyA1, Action: "POST /api/v1/retention-test",
			Status: 200, RequestID: "retention-test", CreatedAt: created}
		if err := db.Create(&a).Error; err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	oldEntry, youngEntry := entry(now.Add(-config.AuditMinimum-day)), entry(now.Add(-config.AuditMinimum+day))
	t.Cleanup(func() {
		db.Where("id IN ?", []int64{oldEvent, youngEvent, unconsumed}).Delete(&notify.Event{})
		db.Where("id IN ?", []int64{oldSent, youngSent, pending}).Delete(&notify.Notification{})
		db.Where("id IN ?", []int64{oldEntry, youngEntry}).Delete(&audit.Entry{})
	})

	sweeper := apitest.Another(t, clock.NewFake(now), func(c *config.Config) {
		c.Retention.Interval = time.Second
		c.Retention.Audit = config.AuditMinimum
		c.Notify.DispatchInServe = false
	})
	exists := func(table string, id int64) bool {
		return countRows(t, e, "SELECT COUNT(*) FROM "+table+" WHERE id = ?", id) == 1
	}
	deadline := time.Now().Add(30 * time.Second)
	for exists("events", oldEvent) || exists("notifications", oldSent) || exists("audit_log", oldEntry) {
		if time.Now().After(deadline) {
			t.Fatalf("not swept within 30s: event %v, notification %v, audit entry %v",
				exists("events", oldEvent), exists("notifications", oldSent), exists("audit_log", oldEntry))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name, kept := range map[string]bool{
		"young consumed event":   exists("events", youngEvent),
		"old unconsumed event":   exists("events", unconsumed),
		"young sent":             exists("notifications", youngSent),
		"old pending":            exists("notifications", pending),
		"audit entry under 184d": exists("audit_log", youngEntry),
	} {
		if !kept {
			t.Errorf("%s was deleted", name)
		}
	}

	// The sweep counts what it deleted once its last table is done, a moment after the rows are
	// gone: read the counters until they show it (CI once read them in between).
	uncounted := func() []string {
		resp, err := http.Get(sweeper.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		var out []string
		for _, table := range []string{"events", "notifications", "audit_log"} {
			if n := metricValue(string(text), `shiliu_retention_deleted_total{table="`+table+`"}`); n < 1 {
				out = append(out, fmt.Sprintf("%s is %v", table, n))
			}
		}
		return out
	}
	deadline = time.Now().Add(10 * time.Second)
	for missing := uncounted(); len(missing) > 0; missing = uncounted() {
		if time.Now().After(deadline) {
			t.Fatalf("shiliu_retention_deleted_total: %s", strings.Join(missing, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metricValue is the value of one series in Prometheus text, -1 when it is missing.
func metricValue(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return -1
			}
			return f
		}
	}
	return -1
}
