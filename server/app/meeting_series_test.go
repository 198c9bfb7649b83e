package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
)

type seriesView struct {
	ID        int64       `json:"id"`
	Title     string      `json:"title"`
	RuleText  string      `json:"rule_text"`
	StartsOn  string      `json:"starts_on"`
	Count     int         `json:"count"`
	Until     string      `json:"until"`
	Status    string      `json:"status"`
	NextDates []time.Time `json:"next_dates"`
}

func seriesPath(id int64, rest ...string) string {
	p := fmt.Sprintf("/api/v1/meeting-series/%d", id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// seriesBody is a valid series of the first Monday of each month at 09:30, four times.
func seriesBody(ids ...int64) map[string]any {
	return map[string]any{
		"title": "月度例会" + apitest.Unique(), "place": "县民宗局会议室", "agenda": "通报本月工作",
		"audience": "list", "instructor_ids": ids, "frequency": "monthly_weekday", "weekday": 1, "week_of_month": 1,
		"start_time": "09:30", "duration_minutes": 90, "count": 4,
	}
}

// occurrences lists the meetings of a series in start order.
func occurrences(t *testing.T, c *apitest.Client, id int64) []meetingView {
	t.Helper()
	var l meetingList
	c.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/meetings?series_id=%d&limit=100", id), nil).JSON(t, &l)
	slices.SortFunc(l.Items, func(a, b meetingView) int { return a.StartsAt.Compare(b.StartsAt) })
	return l.Items
}

// sweepOccurrences runs the occurrence sweep of a second instance whose clock reads at.
func sweepOccurrences(t *testing.T, at time.Time) {
	t.Helper()
	if _, err := apitest.Another(t, clock.NewFake(at)).App.Meetings.DueOccurrences(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// firstMondays are the starts at 09:30 Beijing time of the first Mondays after now, found day by
// day rather than by the rule's arithmetic.
func firstMondays(now time.Time, n int) []time.Time {
	var out []time.Time
	y, m, d := now.In(clock.Shanghai).Date()
	for day := time.Date(y, m, d, 9, 30, 0, 0, clock.Shanghai); len(out) < n; day = day.AddDate(0, 0, 1) {
		if day.Weekday() == time.Monday && day.Day() <= 7 && day.After(now) {
			out = append(out, day)
		}
	}
	return out
}

func TestMeetingSeriesCreatesTheRuleDates(t *testing.T) {
	// Not parallel: servers at a later time run their sweeps and dispatchers over every test's
	// data (they took other tests' notifications as abandoned and sent them again).
	w := newMeetingWorld(t)
	e := w.e
	t0 := e.Clock.Now()
	var s seriesView
	w.staff.Must(http.StatusCreated, "POST", "/api/v1/meeting-series", seriesBody(w.insIDs[0], w.insIDs[1])).JSON(t, &s)
	want := firstMondays(t0, 4)
	if s.RuleText != "每月第一个星期一 09:30" || s.Status != "active" || s.Count != 4 || len(s.NextDates) != 4 {
		t.Fatalf("series %+v", s)
	}
	for i, d := range s.NextDates {
		if !d.Equal(want[i]) {
			t.Fatalf("next dates %v, want %v", s.NextDates, want)
		}
	}
	// At once: the next one at least (the rest within the horizon, 35 days, or as instances
	// whose clocks run ahead sweep).
	got := occurrences(t, w.staff, s.ID)
	if len(got) == 0 || !got[0].StartsAt.Equal(want[0]) {
		t.Fatalf("occurrences at once: %+v, want the first of %v", got, want)
	}
	// The sweep creates the later ones as their time comes, and none past the count.
	for days := 20; days <= 200; days += 20 {
		sweepOccurrences(t, t0.Add(time.Duration(days)*24*time.Hour))
	}
	got = occurrences(t, w.staff, s.ID)
	if len(got) != 4 {
		t.Fatalf("%d occurrences, want 4: %+v", len(got), got)
	}
	for i, m := range got {
		local := m.StartsAt.In(clock.Shanghai)
		if !m.StartsAt.Equal(want[i]) || local.Weekday() != time.Monday || local.Day() > 7 ||
			local.Hour() != 9 || local.Minute() != 30 || m.EndsAt.Sub(m.StartsAt) != 90*time.Minute {
			t.Fatalf("occurrence %d starts %s, want %s", i, local, want[i])
		}
		if _, off := m.StartsAt.Zone(); off != 8*3600 {
			t.Fatalf("occurrence %d shown in offset %d", i, off)
		}
		if m.InviteeCount != 2 || m.Audience != "list" || m.RegionCode != w.area.County {
			t.Fatalf("occurrence %+v", m)
		}
		// Each is a real meeting with its notice, to the invitees.
		ev := meetingEvents(t, e, m.ID, "meeting.scheduled")
		if len(ev) != 1 || !slices.Equal(ev[0].InstructorIDs, w.insIDs[:2]) {
			t.Fatalf("notices of occurrence %d: %+v", i, ev)
		}
	}
	// An invitee sees and answers an occurrence like any meeting.
	w.ins[0].Must(http.StatusOK, "POST", meetingPath(got[0].ID, "rsvp"), map[string]any{"answer": "yes"})

	// Weekly on a weekday, until a date.
	until := t0.In(clock.Shanghai).AddDate(0, 0, 20).Format("2006-01-02")
	body := seriesBody(w.insIDs[2])
	delete(body, "count")
	delete(body, "week_of_month")
	body["frequency"], body["weekday"], body["until"] = "weekly", 3, until
	var weekly seriesView
	w.staff.Must(http.StatusCreated, "POST", "/api/v1/meeting-series", body).JSON(t, &weekly)
	sweepOccurrences(t, t0.Add(24*time.Hour))
	weeks := occurrences(t, w.staff, weekly.ID)
	if len(weeks) < 2 || len(weeks) > 3 {
		t.Fatalf("weekly until %s: %d occurrences", until, len(weeks))
	}
	for i, m := range weeks {
		local := m.StartsAt.In(clock.Shanghai)
		if local.Weekday() != time.Wednesday || local.Format("2006-01-02") > until || !m.StartsAt.After(t0) ||
			(i > 0 && m.StartsAt.Sub(weeks[i-1].StartsAt) != 7*24*time.Hour) {
			t.Fatalf("weekly occurrences %v", weeks)
		}
	}

	// Monthly on a day, for the whole county.
	body = seriesBody()
	delete(body, "instructor_ids")
	delete(body, "weekday")
	delete(body, "week_of_month")
	body["audience"], body["frequency"], body["month_day"], body["count"] = "county", "monthly_day", 28, 2
	var monthly seriesView
	w.staff.Must(http.StatusCreated, "POST", "/api/v1/meeting-series", body).JSON(t, &monthly)
	sweepOccurrences(t, t0.Add(40*24*time.Hour))
	days := occurrences(t, w.staff, monthly.ID)
	if len(days) != 2 || days[0].StartsAt.In(clock.Shanghai).Day() != 28 || days[1].StartsAt.In(clock.Shanghai).Day() != 28 ||
		days[0].InviteeCount != 4 {
		t.Fatalf("monthly on the 28th: %+v", days)
	}
}

func TestMeetingSeriesOccurrencesOnceOnSeveralInstances(t *testing.T) {
	// Not parallel: servers at a later time run their sweeps and dispatchers over every test's
	// data (they took other tests' notifications as abandoned and sent them again).
	w := newFixtureMeetingWorld(t)
	e := w.e
	t0 := e.Clock.Now()
	body := seriesBody(w.insIDs[0])
	body["frequency"], body["week_of_month"], body["weekday"], body["count"] = "weekly", nil, 2, 10
	delete(body, "week_of_month")
	var s seriesView
	w.staff.Must(http.StatusCreated, "POST", "/api/v1/meeting-series", body).JSON(t, &s)
	at := clock.NewFake(t0.Add(30 * 24 * time.Hour))
	instances := []*apitest.Env{apitest.Another(t, at), apitest.Another(t, at)}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = instances[i%2].App.Meetings.DueOccurrences(context.Background())
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := occurrences(t, w.staff, s.ID)
	// Weekly within 35 days of t0+30d: the weeks up to day 65, ten at most.
	if len(got) < 8 || len(got) > 10 {
		t.Fatalf("%d occurrences", len(got))
	}
	seen := map[time.Time]bool{}
	for _, m := range got {
		if seen[m.StartsAt] {
			t.Fatalf("two occurrences at %s", m.StartsAt)
		}
		seen[m.StartsAt] = true
		if n := len(meetingEvents(t, e, m.ID, "meeting.scheduled")); n != 1 {
			t.Fatalf("occurrence %d has %d notices", m.ID, n)
		}
	}
	// Instances whose clocks run ahead may add later ones meanwhile: each once, with one notice.
	if n := countRows(t, e, "SELECT COUNT(*) - COUNT(DISTINCT starts_at) FROM meetings WHERE series_id = ?", s.ID); n != 0 {
		t.Fatalf("%d occurrences share a start", n)
	}
	if n := countRows(t, e, `SELECT COUNT(*) FROM meetings m WHERE m.series_id = ? AND (SELECT COUNT(*) FROM events v
		WHERE v.subject_type = 'meeting' AND v.subject_id = m.id AND v.kind = 'meeting.scheduled') <> 1`, s.ID); n != 0 {
		t.Fatalf("%d occurrences without exactly one notice", n)
	}
}

func TestMeetingSeriesChangesAndCancelsTheFutureOnly(t *testing.T) {
	// Not parallel: servers at a later time run their sweeps and dispatchers over every test's
	// data (they took other tests' notifications as abandoned and sent them again).
	w := newFixtureMeetingWorld(t)
	e := w.e
	t0 := e.Clock.Now()
	body := seriesBody(w.insIDs[0], w.insIDs[1])
	delete(body, "week_of_month")
	body["frequency"], body["weekday"], body["count"] = "weekly", int(t0.In(clock.Shanghai).Weekday()+6)%7+1, 5
	body["start_time"] = "23:59"
	var s seriesView
	w.staff.Must(http.StatusCreated, "POST", "/api/v1/meeting-series", body).JSON(t, &s)
	occ := occurrences(t, w.staff, s.ID)
	if len(occ) != 5 {
		t.Fatalf("%d occurrences within the horizon, want 5", len(occ))
	}
	// One occurrence changed on its own, another cancelled on its own.
	w.staff.Must(http.StatusOK, "PATCH", meetingPath(occ[2].ID), map[string]any{"place": "某村村委会"})
	w.staff.Must(http.StatusOK, "POST", meetingPath(occ[3].ID, "cancel"), map[string]any{"reason": "与培训冲突"})

	// Later, after the first occurrence was held, a second instance's officer changes the series
	// and then stops it.
	later := apitest.Another(t, clock.NewFake(occ[0].EndsAt.Add(time.Hour)))
	staff := later.Staff(t, "county_staff", w.area.County)
	var changed seriesView
	staff.Must(http.StatusOK, "PATCH", seriesPath(s.ID), map[string]any{"title": "改名后的例会", "start_time": "15:00"}).JSON(t, &changed)
	if changed.Title != "改名后的例会" {
		t.Fatalf("changed %+v", changed)
	}
	occ2 := occurrences(t, staff, s.ID)
	for i, m := range occ2 {
		local := m.StartsAt.In(clock.Shanghai)
		switch i {
		case 0: // held: unchanged
			if m.Title == "改名后的例会" || !m.StartsAt.Equal(occ[0].StartsAt) {
				t.Fatalf("the held occurrence changed: %+v", m)
			}
		case 2: // changed on its own: keeps its details
			if m.Title == "改名后的例会" || m.Place != "某村村委会" {
				t.Fatalf("the detached occurrence followed the series: %+v", m)
			}
		case 3: // cancelled on its own
			if m.Status != "cancelled" || m.CancelReason != "与培训冲突" {
				t.Fatalf("occurrence 3 %+v", m)
			}
		default:
			if m.Title != "改名后的例会" || local.Hour() != 15 || local.Minute() != 0 || !sameDay(local, occ[i].StartsAt) {
				t.Fatalf("occurrence %d did not follow the series: %+v", i, m)
			}
			if ev := meetingEvents(t, e, m.ID, "meeting.changed"); len(ev) != 1 || !slices.Contains(ev[0].Changes, "starts_at") {
				t.Fatalf("change notices of %d: %+v", i, ev)
			}
		}
	}
	staff.Must(http.StatusBadRequest, "PATCH", seriesPath(s.ID), map[string]any{"weekday": 3})

	var stopped seriesView
	staff.Must(http.StatusOK, "POST", seriesPath(s.ID, "cancel"), map[string]any{"reason": "调整为每月召开"}).JSON(t, &stopped)
	if stopped.Status != "cancelled" || len(stopped.NextDates) != 0 {
		t.Fatalf("stopped %+v", stopped)
	}
	occ3 := occurrences(t, staff, s.ID)
	for i, m := range occ3 {
		switch i {
		case 0:
			if m.Status == "cancelled" {
				t.Fatalf("the held occurrence was cancelled")
			}
		case 3:
			if m.CancelReason != "与培训冲突" {
				t.Fatalf("occurrence 3 lost its own reason: %+v", m)
			}
		default:
			if m.Status != "cancelled" || m.CancelReason != "调整为每月召开" {
				t.Fatalf("occurrence %d not cancelled: %+v", i, m)
			}
			if n := len(meetingEvents(t, e, m.ID, "meeting.cancelled")); n != 1 {
				t.Fatalf("occurrence %d: %d cancellation notices", i, n)
			}
		}
	}
	staff.Must(http.StatusConflict, "POST", seriesPath(s.ID, "cancel"), map[string]any{"reason": "再次停止"})
	sweepOccurrences(t, t0.Add(60*24*time.Hour))
	if n := len(occurrences(t, staff, s.ID)); n != 5 {
		t.Fatalf("%d occurrences after the stop", n)
	}
	// Scope: the neighbour county and the city cannot manage it; the city reads it.
	w.callers["county_out"].Must(http.StatusNotFound, "POST", seriesPath(s.ID, "cancel"), map[string]any{"reason": "越权"})
	w.callers["city_in"].Must(http.StatusForbidden, "PATCH", seriesPath(s.ID), map[string]any{"title": "越权"})
	w.callers["city_in"].Must(http.StatusOK, "GET", seriesPath(s.ID), nil)
	w.callers["city_out"].Must(http.StatusNotFound, "GET", seriesPath(s.ID), nil)
	w.ins[0].Must(http.StatusForbidden, "GET", "/api/v1/meeting-series", nil)
}

func sameDay(a, b time.Time) bool {
	return a.In(clock.Shanghai).Format("2006-01-02") == b.In(clock.Shanghai).Format("2006-01-02")
}

func TestMeetingSeriesBadRule(t *testing.T) {
	t.Parallel()
	w := newFixtureMeetingWorld(t)
	with := func(changes map[string]any) map[string]any {
		b := seriesBody(w.insIDs[0])
		for k, v := range changes {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	today := w.e.Clock.Now().In(clock.Shanghai)
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"no frequency", with(map[string]any{"frequency": nil}), "frequency"},
		{"unknown frequency", with(map[string]any{"frequency": "daily"}), "frequency"},
		{"no weekday", with(map[string]any{"weekday": nil}), "weekday"},
		{"weekday 8", with(map[string]any{"weekday": 8}), "weekday"},
		{"weekday 0", with(map[string]any{"weekday": 0}), "weekday"},
		{"fifth week", with(map[string]any{"week_of_month": 5}), "week_of_month"},
		{"no week", with(map[string]any{"week_of_month": nil}), "week_of_month"},
		{"day 31", with(map[string]any{"frequency": "monthly_day", "weekday": nil, "week_of_month": nil, "month_day": 31}), "month_day"},
		{"no day", with(map[string]any{"frequency": "monthly_day", "weekday": nil, "week_of_month": nil}), "month_day"},
		{"weekday with a day", with(map[string]any{"frequency": "monthly_day", "week_of_month": nil, "month_day": 3}), "weekday"},
		{"week with weekly", with(map[string]any{"frequency": "weekly"}), "week_of_month"},
		{"time 24:00", with(map[string]any{"start_time": "24:00"}), "start_time"},
		{"time words", with(map[string]any{"start_time": "上午九点"}), "start_time"},
		{"time no pad", with(map[string]any{"start_time": "9:30"}), "start_time"},
		{"short", with(map[string]any{"duration_minutes": 5}), "duration_minutes"},
		{"no duration", with(map[string]any{"duration_minutes": nil}), "duration_minutes"},
		{"no end", with(map[string]any{"count": nil}), "until"},
		{"both ends", with(map[string]any{"until": today.AddDate(0, 3, 0).Format("2006-01-02")}), "until"},
		{"count 0", with(map[string]any{"count": 0}), "count"},
		{"count 157", with(map[string]any{"count": 157}), "count"},
		{"until before start", with(map[string]any{"count": nil, "until": today.AddDate(0, 0, -1).Format("2006-01-02")}), "until"},
		{"until far", with(map[string]any{"count": nil, "until": today.AddDate(4, 0, 0).Format("2006-01-02")}), "until"},
		{"until no date in it", with(map[string]any{"count": nil, "frequency": "weekly", "week_of_month": nil,
			"weekday": int(today.Weekday()+6)%7 + 1, "start_time": "00:00", "until": today.Format("2006-01-02")}), "until"},
		{"bad until", with(map[string]any{"count": nil, "until": "下个月底"}), "until"},
		{"past start", with(map[string]any{"starts_on": today.AddDate(0, 0, -2).Format("2006-01-02")}), "starts_on"},
		{"far start", with(map[string]any{"starts_on": today.AddDate(2, 0, 0).Format("2006-01-02")}), "starts_on"},
		{"wrong type", with(map[string]any{"weekday": "星期一"}), "weekday"},
		{"no title", with(map[string]any{"title": nil}), "title"},
		{"unknown instructor", with(map[string]any{"instructor_ids": []int64{1 << 40}}), "instructor_ids"},
	}
	for _, c := range cases {
		r := w.staff.Do("POST", "/api/v1/meeting-series", c.body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d: %s", c.name, r.Status, r.Body)
			continue
		}
		eb := r.Err(t)
		if len(eb.Details) == 0 || eb.Details[0].Field != c.field {
			t.Errorf("%s: details %+v, want field %s", c.name, eb.Details, c.field)
		}
	}
	w.callers["city_in"].Must(http.StatusForbidden, "POST", "/api/v1/meeting-series", seriesBody())
	w.ins[0].Must(http.StatusForbidden, "POST", "/api/v1/meeting-series", seriesBody())
	w.callers["anonymous"].Must(http.StatusUnauthorized, "POST", "/api/v1/meeting-series", seriesBody())
	w.staff.Must(http.StatusBadRequest, "GET", "/api/v1/meetings?series_id=x", nil)
	w.staff.Must(http.StatusBadRequest, "GET", "/api/v1/meeting-series?status=paused", nil)
	w.staff.Must(http.StatusNotFound, "GET", seriesPath(1<<40), nil)
}

func TestMeetingMinutesWithAttachments(t *testing.T) {
	// Not parallel: servers at a later time run their sweeps and dispatchers over every test's
	// data (they took other tests' notifications as abandoned and sent them again).
	w := newFixtureMeetingWorld(t)
	e := w.e
	m := createMeeting(t, w.staff, meetingBody(e, time.Hour, w.insIDs[0]))
	w.staff.Must(http.StatusConflict, "PUT", meetingPath(m.ID, "minutes"), map[string]any{"body": "提前写的纪要"})

	// After the meeting, on an instance whose clock has moved on.
	after := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(3*time.Hour)))
	staff := after.Staff(t, "county_staff", w.area.County)
	photo, doc := uploadPNG(t, staff), uploadPNG(t, staff)
	var got meetingDetail
	staff.Must(http.StatusOK, "PUT", meetingPath(m.ID, "minutes"), map[string]any{
		"body": "一、传达了上级文件精神\n二、各指导员交流走访情况", "attachments": []int64{photo, doc}}).JSON(t, &got)
	if got.Minutes == nil || got.Minutes.Version != 1 || len(got.Minutes.Attachments) != 2 || !strings.HasPrefix(got.Minutes.Body, "一、") {
		t.Fatalf("minutes %+v", got.Minutes)
	}
	// The invitee reads them on the phone; an instructor not invited and staff elsewhere do not.
	var mine meetingDetail
	w.ins[0].Must(http.StatusOK, "GET", meetingPath(m.ID), nil).JSON(t, &mine)
	if mine.Minutes == nil || mine.Minutes.Body != got.Minutes.Body || len(mine.Minutes.Attachments) != 2 || mine.Minutes.Attachments[0].URL == "" {
		t.Fatalf("the invitee's minutes %+v", mine.Minutes)
	}
	w.ins[1].Must(http.StatusNotFound, "GET", meetingPath(m.ID), nil)
	w.outsider.Must(http.StatusNotFound, "GET", meetingPath(m.ID), nil)
	w.callers["city_out"].Must(http.StatusNotFound, "GET", meetingPath(m.ID), nil)
	var city meetingDetail
	w.callers["city_in"].Must(http.StatusOK, "GET", meetingPath(m.ID), nil).JSON(t, &city)
	if city.Minutes == nil {
		t.Fatal("the city does not see the minutes")
	}
	// Only the county writes them.
	w.callers["city_in"].Must(http.StatusForbidden, "PUT", meetingPath(m.ID, "minutes"), map[string]any{"body": "越权"})
	w.callers["county_out"].Must(http.StatusNotFound, "PUT", meetingPath(m.ID, "minutes"), map[string]any{"body": "越权"})
	w.ins[0].Must(http.StatusForbidden, "PUT", meetingPath(m.ID, "minutes"), map[string]any{"body": "越权"})

	// Edited: a stale version is refused, a removed attachment goes, another officer's upload
	// cannot be slipped in.
	staff.Must(http.StatusConflict, "PUT", meetingPath(m.ID, "minutes"), map[string]any{"body": "旧版本", "version": 0})
	other := after.Staff(t, "county_staff", w.area.County)
	theirs := uploadPNG(t, other)
	r := staff.Do("PUT", meetingPath(m.ID, "minutes"), map[string]any{"body": "改", "attachments": []int64{photo, theirs}})
	if r.Status != http.StatusBadRequest || r.Err(t).Details[0].Field != "attachments" {
		t.Fatalf("another's upload: %d %s", r.Status, r.Body)
	}
	staff.Must(http.StatusOK, "PUT", meetingPath(m.ID, "minutes"), map[string]any{
		"body": "一、传达了上级文件精神(已修订)", "attachments": []int64{photo}, "version": 1}).JSON(t, &got)
	if got.Minutes.Version != 2 || len(got.Minutes.Attachments) != 1 || got.Minutes.Attachments[0].ID != photo {
		t.Fatalf("edited minutes %+v", got.Minutes)
	}
	// Another officer of the county may add theirs to the minutes.
	other.Must(http.StatusOK, "PUT", meetingPath(m.ID, "minutes"), map[string]any{
		"body": got.Minutes.Body, "attachments": []int64{photo, theirs}, "version": 2}).JSON(t, &got)
	if len(got.Minutes.Attachments) != 2 {
		t.Fatalf("attachments %+v", got.Minutes.Attachments)
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM uploads WHERE id = ? AND owner_id IS NULL", doc); n != 1 {
		t.Fatal("the removed attachment is still attached")
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"body": ""}, "body"},
		{map[string]any{"body": "   "}, "body"},
		{map[string]any{"body": strings.Repeat("纪", 20001)}, "body"},
		{map[string]any{"body": "好", "attachments": []int64{0}}, "attachments"},
		{map[string]any{"body": "好", "attachments": []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, "attachments"},
		{map[string]any{"body": 3}, "body"},
	} {
		r := staff.Do("PUT", meetingPath(m.ID, "minutes"), c.body)
		if r.Status != http.StatusBadRequest || r.Err(t).Details[0].Field != c.field {
			t.Errorf("%v: %d %s", c.body, r.Status, r.Body)
		}
	}
	// Every save is audited under the meeting.
	waitFor(t, "the minutes' audit entries", func() bool {
		return countRows(t, e, "SELECT COUNT(*) FROM audit_log WHERE action = ? AND subject_id = ? AND status = 200",
			"PUT /api/v1/meetings/{id}/minutes", m.ID) == 3
	})
	// A cancelled meeting takes none.
	c := createMeeting(t, w.staff, meetingBody(e, time.Hour, w.insIDs[0]))
	w.staff.Must(http.StatusOK, "POST", meetingPath(c.ID, "cancel"), map[string]any{"reason": "改期"})
	staff.Must(http.StatusConflict, "PUT", meetingPath(c.ID, "minutes"), map[string]any{"body": "纪要"})
}

type meetingDetail struct {
	ID      int64 `json:"id"`
	Minutes *struct {
		Body        string `json:"body"`
		Version     int    `json:"version"`
		Attachments []struct {
			ID  int64  `json:"id"`
			URL string `json:"url"`
		} `json:"attachments"`
	} `json:"minutes"`
}

type quietCounty struct {
	RegionCode    string     `json:"region_code"`
	CityCode      string     `json:"city_code"`
	LastHeldAt    *time.Time `json:"last_held_at"`
	LastMeetingID *int64     `json:"last_meeting_id"`
	DaysSince     *int       `json:"days_since"`
}

type quietList struct {
	Days     int           `json:"days"`
	Counties int           `json:"counties"`
	Items    []quietCounty `json:"items"`
}

func (q quietList) find(code string) int {
	return slices.IndexFunc(q.Items, func(i quietCounty) bool { return i.RegionCode == code })
}

func TestCountiesThatHeldNoMeeting(t *testing.T) {
	// Not parallel: servers at a later time run their sweeps and dispatchers over every test's
	// data (they took other tests' notifications as abandoned and sent them again).
	w := newMeetingWorld(t)
	e := w.e
	held := createMeeting(t, w.staff, meetingBody(e, time.Hour, w.insIDs[0]))
	gone := createMeeting(t, w.staff, meetingBody(e, 2*time.Hour, w.insIDs[0]))
	w.staff.Must(http.StatusOK, "POST", meetingPath(gone.ID, "cancel"), map[string]any{"reason": "取消"})

	ask := func(env *apitest.Env, query string) quietList {
		t.Helper()
		var q quietList
		env.Staff(t, "city_staff", w.area.City).Must(http.StatusOK, "GET", "/api/v1/meetings/quiet-counties"+query, nil).JSON(t, &q)
		return q
	}
	// Before the meeting: the county never held one, so it is listed without a date.
	q := ask(e, "")
	if q.Days != 30 || q.Counties < 2 {
		t.Fatalf("default %+v", q)
	}
	if i := q.find(w.area.County); i < 0 || q.Items[i].LastHeldAt != nil || q.Items[i].CityCode != w.area.City {
		t.Fatalf("%s held nothing yet: %+v", w.area.County, q)
	}
	// Two hours later the meeting was held (the cancelled one does not count).
	later := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(3*time.Hour)))
	if q := ask(later, "?days=7"); q.find(w.area.County) >= 0 || q.Days != 7 {
		t.Fatalf("after the meeting: %+v", q)
	}
	// Forty days later it is quiet again, with the date of its last meeting.
	much := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(40*24*time.Hour)))
	q = ask(much, "?days=30&region_code="+w.area.City)
	i := q.find(w.area.County)
	if i < 0 || q.Items[i].LastHeldAt == nil || !q.Items[i].LastHeldAt.Equal(held.StartsAt) || *q.Items[i].LastMeetingID != held.ID ||
		*q.Items[i].DaysSince != 39 {
		t.Fatalf("forty days on: %+v", q)
	}
	// Those that never held one first, then the longest quiet.
	for j := 1; j < len(q.Items); j++ {
		a, b := q.Items[j-1].LastHeldAt, q.Items[j].LastHeldAt
		if (a != nil && b == nil) || (a != nil && b != nil && b.Before(*a)) {
			t.Fatalf("out of order at %d: %+v", j, q.Items)
		}
	}
	if q := ask(much, "?days=60"); q.find(w.area.County) >= 0 {
		t.Fatal("listed though it held a meeting within 60 days")
	}
	province := much.Staff(t, "province_staff", apitest.Province)
	var pq quietList
	province.Must(http.StatusOK, "GET", "/api/v1/meetings/quiet-counties?region_code="+w.area.City, nil).JSON(t, &pq)
	if pq.find(w.area.County) < 0 {
		t.Fatalf("the province does not see it: %+v", pq)
	}
	// Bounds and scope.
	city := w.callers["city_in"]
	for _, bad := range []string{"0", "367", "-1", "abc", "3.5"} {
		r := city.Do("GET", "/api/v1/meetings/quiet-counties?days="+bad, nil)
		if r.Status != http.StatusBadRequest || r.Err(t).Details[0].Field != "days" {
			t.Errorf("days=%s: %d %s", bad, r.Status, r.Body)
		}
	}
	city.Must(http.StatusOK, "GET", "/api/v1/meetings/quiet-counties?days=366", nil)
	city.Must(http.StatusOK, "GET", "/api/v1/meetings/quiet-counties?days=1", nil)
	if r := city.Do("GET", "/api/v1/meetings/quiet-counties?region_code="+apitest.CityB, nil); r.Status != http.StatusBadRequest {
		t.Errorf("another city: %d", r.Status)
	}
	w.staff.Must(http.StatusForbidden, "GET", "/api/v1/meetings/quiet-counties", nil)
	w.ins[0].Must(http.StatusForbidden, "GET", "/api/v1/meetings/quiet-counties", nil)
	w.callers["anonymous"].Must(http.StatusUnauthorized, "GET", "/api/v1/meetings/quiet-counties", nil)
	var other quietList
	w.callers["city_out"].Must(http.StatusOK, "GET", "/api/v1/meetings/quiet-counties", nil).JSON(t, &other)
	if other.find(w.area.County) >= 0 {
		t.Fatal("another city sees the county")
	}
}
