package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/filing"
	"github.com/shiliu/shiliu/server/platform/clock"
)

type fnItem struct {
	RegionCode        string  `json:"region_code"`
	State             string  `json:"state"`
	StateName         string  `json:"state_name"`
	DaysSinceAccepted *int    `json:"days_since_accepted"`
	RosterChanged     bool    `json:"roster_changed"`
	StaleSince        *string `json:"stale_since"`
	RemindedAt        *string `json:"reminded_at"`
}

func fnOverview(t *testing.T, c *apitest.Client, code string) map[string]fnItem {
	t.Helper()
	var ov struct{ Items []fnItem }
	c.Must(http.StatusOK, "GET", "/api/v1/filings/overview?region_code="+code, nil).JSON(t, &ov)
	out := map[string]fnItem{}
	for _, it := range ov.Items {
		out[it.RegionCode] = it
	}
	return out
}

// fnNotified counts the notifications of an event kind about a filing addressed to an account.
func fnNotified(t *testing.T, e *apitest.Env, kind string, filingID int64, c *apitest.Client) int64 {
	t.Helper()
	return countRows(t, e, "SELECT COUNT(*) FROM notifications WHERE event_kind = ? AND subject_id = ? AND target_kind = 'account' AND target = ?",
		kind, filingID, fmt.Sprint(accountID(t, c)))
}

// fnWait waits for the fake WeCom and WeChat longer than ntWait: other tests inject failures into
// the one fake server, and a send that meets one is retried after the backoff.
func fnWait(t *testing.T, e *apitest.Env, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			var rows []struct {
				EventKind, Channel, Status, LastError string
				SubjectID                             int64
				Attempts                              int
				NextAttemptAt                         time.Time
			}
			err := e.DB().Raw("SELECT event_kind, channel, status, last_error, subject_id, attempts, next_attempt_at FROM notifications WHERE event_kind LIKE 'filing.%' ORDER BY id").Scan(&rows).Error
			var events []struct {
				ID         int64
				Kind       string
				ConsumedAt *time.Time
			}
			err2 := e.DB().Raw("SELECT id, kind, consumed_at FROM events WHERE kind LIKE 'filing.%' ORDER BY id").Scan(&events).Error
			t.Fatalf("timed out waiting for %s (now %v); filing notifications (%v): %+v; events (%v): %+v; unconsumed events: %d",
				what, time.Now(), err, rows, err2, events, countRows(t, e, "SELECT COUNT(*) FROM events WHERE consumed_at IS NULL"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Filing on time (measures §二(四)): a filing that arrives tells the city (a city's, the province);
// acceptance and return tell the county that filed, each once, by the robot groups of the level's
// staff and a subscribe message to its officers; a county whose roster changed after its last
// accepted filing is reminded once per change; the overview shows how stale each filing is.
func TestFilingNoticesAndStaleness(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	// A county of the test's own. Its city is shared with other tests (TestFilingScopeMatrix files
	// there too): what reaches the city is told apart by the county's name, and the city's own
	// filing and staleness are checked in TestFilingChain, which has a city to itself.
	a := e.Area(t)
	county := e.Staff(t, "county_staff", a.County)
	city := e.Staff(t, "city_staff", a.City)
	countyKey, cityKey := ntKey(), ntKey()
	ntCreateGroup(t, county, a.County, "county_staff", countyKey)
	ntCreateGroup(t, city, a.City, "city_staff", cityKey)

	u := county.Unit("village", a.Township())
	ins := county.Instructor(u)
	if ov := fnOverview(t, city, a.City); ov[a.County].State != "never" || !ov[a.County].RosterChanged || ov[a.County].DaysSinceAccepted != nil {
		t.Fatalf("before any filing: %+v", ov)
	}

	// Filed: the city hears of it. Returned: the county hears why. Filed again and accepted.
	f1 := raFile(t, county)
	if ov := fnOverview(t, county, a.County); ov[a.County].State != "pending" || ov[a.County].StateName != "待接收" {
		t.Fatalf("pending: %+v", ov[a.County])
	}
	city.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/return", f1.ID), map[string]any{"reason": "职务未填写" + a.CountyName})
	if ov := fnOverview(t, county, a.County); ov[a.County].State != "returned" {
		t.Fatalf("returned: %+v", ov[a.County])
	}
	f2 := raFile(t, county)
	city.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", f2.ID), nil)

	// The robot messages about this county's filings.
	about := func(key, text string) []string {
		var out []string
		for _, m := range ntRobotTo(e, key, text) {
			if strings.Contains(m, a.CountyName) {
				out = append(out, m)
			}
		}
		return out
	}
	arrived := func(key string) int { return len(about(key, "指导员名册备案待接收")) }
	fnWait(t, e, "the notices", func() bool {
		return arrived(cityKey) == 2 && len(about(countyKey, "指导员名册备案已接收")) == 1 &&
			len(about(countyKey, "指导员名册备案被退回")) == 1
	})
	if got := about(countyKey, "指导员名册备案被退回"); !strings.Contains(got[0], "职务未填写"+a.CountyName) {
		t.Fatalf("the return notice: %s", got[0])
	}
	if got := about(cityKey, "指导员名册备案待接收"); !strings.Contains(got[0], "指导员:1名") {
		t.Fatalf("the arrival notice: %s", got[0])
	}
	// Each to its place only: the county's group is not told of arrivals, the city's not of decisions.
	if arrived(countyKey) != 0 || len(about(cityKey, "已接收")) != 0 || len(about(cityKey, "被退回")) != 0 {
		t.Fatalf("notices in the wrong group: county %v, city %v", ntRobotTo(e, countyKey, ""), ntRobotTo(e, cityKey, ""))
	}
	fnWait(t, e, "the officers' notices", func() bool {
		return fnNotified(t, e, "filing.submitted", f1.ID, city) == 1 && fnNotified(t, e, "filing.submitted", f2.ID, city) == 1 &&
			fnNotified(t, e, "filing.returned", f1.ID, county) == 1 && fnNotified(t, e, "filing.accepted", f2.ID, county) == 1
	})
	if fnNotified(t, e, "filing.submitted", f2.ID, county) != 0 || fnNotified(t, e, "filing.accepted", f2.ID, city) != 0 {
		t.Fatal("an officer was told of what is not theirs")
	}
	for kind, id := range map[string]int64{"filing.submitted": f2.ID, "filing.returned": f1.ID, "filing.accepted": f2.ID} {
		if n := len(eventPayloads(t, e, "filing", id, kind)); n != 1 {
			t.Fatalf("%d %s events", n, kind)
		}
	}

	// Accepted and unchanged: current.
	if it := fnOverview(t, city, a.City)[a.County]; it.State != "current" || it.StateName != "已备案" || it.RosterChanged || it.DaysSinceAccepted == nil ||
		*it.DaysSinceAccepted != 0 || it.StaleSince != nil {
		t.Fatalf("current: %+v", it)
	}

	// The roster changes after the accepted filing: the county is reminded once, after
	// filing.remind_after, and not again until it changes again (and at most once a week).
	now := e.Clock.Now()
	remind := func(after time.Duration) int {
		t.Helper()
		s := filing.NewService(e.DB(), e.App.Roster, e.App.Regions, clock.NewFake(now.Add(after)), discardLogger(),
			filing.Options{RemindAfter: e.App.Config.Filing.RemindAfter, RemindEvery: e.App.Config.Filing.RemindEvery})
		if _, err := s.DueReminders(context.Background()); err != nil {
			t.Fatal(err)
		}
		return len(eventPayloads(t, e, "filing", f2.ID, "filing.stale"))
	}
	day := 24 * time.Hour
	if n := remind(4 * day); n != 0 {
		t.Fatalf("%d reminders of an unchanged roster", n)
	}
	county.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", ins), map[string]any{"position": "村委会主任"})
	if n := remind(0); n != 0 {
		t.Fatalf("%d reminders at once", n)
	}
	it := fnOverview(t, county, a.County)[a.County]
	if it.State != "changed" || !it.RosterChanged || it.StaleSince == nil || it.RemindedAt != nil {
		t.Fatalf("changed: %+v", it)
	}
	if n := remind(4 * day); n != 1 {
		t.Fatalf("%d reminders after 4 days", n)
	}
	if n := remind(4*day + time.Hour); n != 1 {
		t.Fatalf("%d reminders an hour later", n)
	}
	if n := remind(20 * day); n != 1 {
		t.Fatalf("%d reminders with no further change", n)
	}
	if it := fnOverview(t, county, a.County)[a.County]; it.RemindedAt == nil {
		t.Fatalf("reminded: %+v", it)
	}
	county.Instructor(u)
	if n := remind(21 * day); n != 2 {
		t.Fatalf("%d reminders after another change", n)
	}
	if n := remind(22 * day); n != 2 {
		t.Fatalf("%d reminders a day later", n)
	}
	var stale struct {
		CountyCode string `json:"county_code"`
		AcceptedOn string `json:"accepted_on"`
		Days       int    `json:"days"`
	}
	raw := eventPayloads(t, e, "filing", f2.ID, "filing.stale")
	if json.Unmarshal([]byte(raw[1]), &stale) != nil || stale.CountyCode != a.County || stale.Days != 21 ||
		stale.AcceptedOn != clock.Local(now).Format("2006-01-02") {
		t.Fatalf("filing.stale: %v", raw)
	}
	fnWait(t, e, "the reminders", func() bool { return len(about(countyKey, "名册有变动,请及时重新备案")) == 2 })
	if len(about(cityKey, "名册有变动")) != 0 {
		t.Fatal("the city's group was reminded")
	}

	// Filed again and accepted: current, nothing to remind.
	f3 := raFile(t, county)
	if n := remind(30 * day); n != 2 {
		t.Fatalf("%d reminders while a filing waits", n)
	}
	city.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", f3.ID), nil)
	if n := remind(31 * day); n != 2 || len(eventPayloads(t, e, "filing", f3.ID, "filing.stale")) != 0 {
		t.Fatal("reminded after filing again")
	}
	if it := fnOverview(t, city, a.City)[a.County]; it.State != "current" || it.RosterChanged || it.StaleSince != nil {
		t.Fatalf("filed again: %+v", it)
	}
}
