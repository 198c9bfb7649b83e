package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/wxfake"
)

// The delivery log shows a failed send with its reason: an invalid robot key (93000) fails at
// once and disables the group, which the group list shows. Replacing the key re-activates the
// group, and retrying the failed notification delivers it.
func TestNotifyFailedSendShowsReasonAndRetryDelivers(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	area := e.Area(t)
	ntCountyFail := area.County
	staff := e.Staff(t, "county_staff", ntCountyFail)
	key := ntKey()
	g := ntCreateGroup(t, staff, ntCountyFail, "county_staff", key)
	instructor, _ := e.InstructorClient(t, staff, staff.Unit("village", area.Township()))
	e.WX.DisableRobot(key)

	tipID, title := ntTip(t, e, instructor, "general")
	rows := ntWaitFinal(t, staff, tipID, 2) // the group, and the one county officer (no WeChat)
	var failed ntNotification
	for _, r := range rows {
		switch r.Channel {
		case "robot":
			failed = r
		case "subscribe":
			if r.Status != "skipped" || !strings.Contains(r.Reason, "未绑定微信") {
				t.Fatalf("officer without WeChat: %+v", r)
			}
		}
	}
	if failed.Status != "failed" || failed.ErrorCode != 93000 || !strings.Contains(failed.Reason, "93000") || failed.Attempts != 1 {
		t.Fatalf("robot row: %+v", failed)
	}
	if got := ntLog(t, staff, fmt.Sprintf("subject_type=tip&subject_id=%d&status=failed&channel=robot", tipID)); len(got) != 1 || got[0].ID != failed.ID {
		t.Fatalf("filtered log: %+v", got)
	}
	var groups struct{ Items []ntGroup }
	staff.Must(http.StatusOK, "GET", "/api/v1/notification-groups?status=disabled&region_code="+ntCountyFail, nil).JSON(t, &groups)
	if len(groups.Items) != 1 || groups.Items[0].ID != g.ID || !strings.Contains(groups.Items[0].DisabledReason, "93000") {
		t.Fatalf("disabled group not shown: %+v", groups.Items)
	}
	retry := fmt.Sprintf("/api/v1/notifications/%d/retry", failed.ID)

	newKey := ntKey()
	staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/notification-groups/%d", g.ID), map[string]any{"webhook_key": newKey})
	var again ntNotification
	staff.Must(http.StatusOK, "POST", retry, nil).JSON(t, &again)
	if again.Status != "pending" || again.Attempts != 0 || again.Reason != "" {
		t.Fatalf("retried row: %+v", again)
	}
	ntWait(t, "the retried message", func() bool { return len(ntRobotTo(e, newKey, title)) == 1 })
	rows = ntWaitFinal(t, staff, tipID, 2)
	for _, r := range rows {
		if r.ID == failed.ID && (r.Status != "sent" || r.Attempts != 1) {
			t.Fatalf("after retry: %+v", r)
		}
	}
	if got := staff.Must(http.StatusConflict, "POST", retry, nil).Err(t); got.Code != "notification_not_failed" {
		t.Fatalf("retry of a sent row: %+v", got)
	}
}

// A transient failure (-1) is retried after a backoff; the log shows the reason meanwhile.
// Not parallel: it injects a failure into the shared fake WeChat and moves the shared clock.
func TestNotifyTransientFailureIsRetried(t *testing.T) {
	e := apitest.Shared(t)
	area := e.Area(t)
	ntCountyRetry := area.County
	staff := e.Staff(t, "county_staff", ntCountyRetry)
	key := ntKey()
	ntCreateGroup(t, staff, ntCountyRetry, "county_staff", key)
	instructor, _ := e.InstructorClient(t, staff, staff.Unit("village", area.Township()))
	// The officer would take a subscribe row; keep the county to the group.
	e.DB().Exec("UPDATE accounts SET status = 'disabled' WHERE role = 'county_staff' AND region_code = ?", ntCountyRetry)
	defer e.DB().Exec("UPDATE accounts SET status = 'active' WHERE role = 'county_staff' AND region_code = ?", ntCountyRetry)

	ntIdle(t, e)
	e.WX.Inject(wxfake.EndpointRobot, -1, 1)
	tipID, title := ntTip(t, e, instructor, "general")
	admin := e.Staff(t, "province_staff", apitest.Province)
	var row ntNotification
	ntWait(t, "the failed first attempt", func() bool {
		rows := ntLog(t, admin, fmt.Sprintf("subject_type=tip&subject_id=%d", tipID))
		if len(rows) == 1 {
			row = rows[0]
		}
		return row.Attempts == 1 && row.Status == "pending"
	})
	if row.ErrorCode != -1 || !strings.Contains(row.Reason, "繁忙") {
		t.Fatalf("pending row: %+v", row)
	}
	if len(ntRobotTo(e, key, title)) != 0 {
		t.Fatal("delivered despite the failure")
	}
	e.Clock.Advance(6 * time.Second) // past the first backoff (at most notify.retry_base)
	ntWait(t, "the retry", func() bool { return len(ntRobotTo(e, key, title)) == 1 })
}

// The delivery log and retry are scoped like everything else: another county sees nothing and
// cannot retry; instructors have no log.
func TestNotifyLogScope(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	area := e.Area(t)
	staff := e.Staff(t, "county_staff", area.County)
	key := ntKey()
	ntCreateGroup(t, staff, area.County, "county_staff", key)
	instructor, _ := e.InstructorClient(t, staff, staff.Unit("village", area.Township()))
	e.WX.DisableRobot(key)
	tipID, _ := ntTip(t, e, instructor, "general")
	rows := ntWaitFinal(t, staff, tipID, 2)
	var failed int64
	for _, r := range rows {
		if r.Status == "failed" {
			failed = r.ID
		}
	}
	other := e.Staff(t, "county_staff", area.Neighbour)
	otherCity := e.Staff(t, "city_staff", apitest.CityB)
	for name, c := range map[string]*apitest.Client{"other county": other, "other city": otherCity} {
		if got := ntLog(t, c, fmt.Sprintf("subject_type=tip&subject_id=%d", tipID)); len(got) != 0 {
			t.Fatalf("%s sees %+v", name, got)
		}
		c.Must(http.StatusNotFound, "POST", fmt.Sprintf("/api/v1/notifications/%d/retry", failed), nil)
	}
	if got := ntLog(t, e.Staff(t, "city_staff", area.City), fmt.Sprintf("subject_type=tip&subject_id=%d", tipID)); len(got) != 2 {
		t.Fatalf("the city sees %+v", got)
	}
	instructor.Must(http.StatusForbidden, "GET", "/api/v1/notifications", nil)
	instructor.Must(http.StatusForbidden, "POST", fmt.Sprintf("/api/v1/notifications/%d/retry", failed), nil)
	e.Anon(t).Must(http.StatusUnauthorized, "GET", "/api/v1/notifications", nil)
	staff.Must(http.StatusNotFound, "POST", "/api/v1/notifications/abc/retry", nil)
	for _, q := range []string{"status=lost", "channel=sms", "event_id=x", "subject_id=-1", "cursor=bogus", "limit=1000"} {
		staff.Must(http.StatusBadRequest, "GET", "/api/v1/notifications?"+q, nil)
	}
	// Pagination.
	var page struct {
		Items      []ntNotification `json:"items"`
		NextCursor string           `json:"next_cursor"`
	}
	staff.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/notifications?subject_type=tip&subject_id=%d&limit=1", tipID), nil).JSON(t, &page)
	if len(page.Items) != 1 || page.NextCursor == "" {
		t.Fatalf("page 1: %+v", page)
	}
	first := page.Items[0].ID
	staff.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/notifications?subject_type=tip&subject_id=%d&limit=1&cursor=%s", tipID, page.NextCursor), nil).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID >= first {
		t.Fatalf("page 2: %+v", page)
	}
}

// Three server instances on one database, one stopped while sends are slow: every alert reaches
// the fake exactly once per target.
// Not parallel: it slows the shared fake WeChat and waits for the whole queue to be idle.
func TestNotifyExactlyOnceAcrossThreeInstances(t *testing.T) {
	e := apitest.Shared(t)
	b := apitest.Another(t, e.Clock)
	c := apitest.Another(t, e.Clock)
	area := e.Area(t)
	staff := e.Staff(t, "county_staff", area.County)
	officers := []ntOfficer{ntStaffOfficer(t, e, "county_staff", area.County, true), ntStaffOfficer(t, e, "county_staff", area.County, true)}
	for _, o := range officers {
		for range 10 {
			o.Must(http.StatusOK, "POST", "/api/v1/subscriptions", map[string]any{"results": map[string]string{"TPL_TIP_SUBMITTED": "accept"}})
		}
	}
	key := ntKey()
	ntCreateGroup(t, staff, area.County, "county_staff", key)
	instructor, _ := e.InstructorClient(t, staff, staff.Unit("village", area.Township()))

	ntIdle(t, e)
	e.WX.SetDelay(wxfake.EndpointRobot, 60*time.Millisecond)
	e.WX.SetDelay(wxfake.EndpointSubscribe, 60*time.Millisecond)
	defer e.WX.SetDelay(wxfake.EndpointRobot, 0)
	defer e.WX.SetDelay(wxfake.EndpointSubscribe, 0)
	var titles []string
	var tips []int64
	for range 12 {
		id, title := ntTip(t, e, instructor, "general")
		tips, titles = append(tips, id), append(titles, title)
	}
	// The first deliveries: subscribe messages, one per tip and officer. The robot's may be few:
	// tips that wait for it together go out joined (notify/join.go).
	ntWait(t, "the first deliveries", func() bool {
		n := 0
		for _, title := range titles {
			for _, k := range ntSubscribedTo(e, title) {
				n += k
			}
		}
		return n >= 3
	})
	b.Stop() // killed mid-run: finishes and records its sends in flight
	for _, id := range tips {
		ntWaitFinal(t, staff, id, 3)
	}
	// The robot's messages cover each tip once: a message alone, or joined ("N 条待签收", listing
	// up to 10 titles).
	covered := 0
	for _, m := range ntRobotTo(e, key, "") {
		if c := ntJoinedCount.FindStringSubmatch(m); c != nil {
			k, _ := strconv.Atoi(c[1])
			covered += k
		} else {
			covered++
		}
	}
	if covered != len(tips) {
		t.Errorf("the robot's messages cover %d tips, want each of the %d once", covered, len(tips))
	}
	for _, title := range titles {
		if got := ntRobotTo(e, key, title); len(got) > 1 {
			t.Errorf("%s: %d robot messages", title, len(got))
		}
		got := ntSubscribedTo(e, title)
		for _, o := range officers {
			if got[o.OpenID] != 1 {
				t.Errorf("%s: %d subscribe messages to %s", title, got[o.OpenID], o.OpenID)
			}
		}
	}
	_ = c
}

// /metrics carries the queue depth, send latency and failures by channel: a tip whose county has
// one group that takes messages and one whose robot is gone is sent once and fails once.
// Not parallel: the shared server must be the only one sending, so that its own counters see both.
func TestNotifyMetrics(t *testing.T) {
	e := apitest.Shared(t)
	area := e.Area(t)
	staff := e.Staff(t, "county_staff", area.County)
	gone := ntKey()
	ntCreateGroup(t, staff, area.County, "county_staff", ntKey())
	ntCreateGroup(t, staff, area.County, "county_staff", gone)
	e.WX.DisableRobot(gone)
	instructor, _ := e.InstructorClient(t, staff, staff.Unit("village", area.Township()))
	tipID, _ := ntTip(t, e, instructor, "general")
	ntWaitFinal(t, staff, tipID, 3) // the two groups and the officer (without WeChat: skipped)
	resp, err := http.Get(e.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`shiliu_notify_queue{channel="robot",status="pending"}`, `shiliu_notify_events_backlog`,
		`shiliu_notify_send_duration_seconds_bucket{channel="robot"`, `shiliu_notify_failures_total{channel="robot",code="93000"}`,
		`shiliu_notify_outcomes_total{channel="robot",outcome="sent"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	_ = context.Background
}
