package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/meeting"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/region"
)

// meetingView is a meeting as the tests read it.
type meetingView struct {
	ID           int64     `json:"id"`
	Title        string    `json:"title"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	Place        string    `json:"place"`
	Latitude     *float64  `json:"latitude"`
	Longitude    *float64  `json:"longitude"`
	LocationOK   bool      `json:"location_checkin"`
	Audience     string    `json:"audience"`
	RegionCode   string    `json:"region_code"`
	RegionName   string    `json:"region_name"`
	Status       string    `json:"status"`
	CancelReason string    `json:"cancel_reason"`
	InviteeCount int       `json:"invitee_count"`
	CheckinOpen  bool      `json:"checkin_open"`
	Mine         *struct {
		RSVP          string     `json:"rsvp"`
		RSVPNote      string     `json:"rsvp_note"`
		CheckedInAt   *time.Time `json:"checked_in_at"`
		CheckinMethod string     `json:"checkin_method"`
	} `json:"mine"`
}

type meetingList struct {
	Items      []meetingView `json:"items"`
	NextCursor string        `json:"next_cursor"`
}

func (l meetingList) has(id int64) bool {
	return slices.ContainsFunc(l.Items, func(m meetingView) bool { return m.ID == id })
}

// meetingPayload is the payload of a meeting event.
type meetingPayload struct {
	MeetingID     int64    `json:"meeting_id"`
	Title         string   `json:"title"`
	StartsAt      string   `json:"starts_at"`
	Place         string   `json:"place"`
	InstructorIDs []int64  `json:"instructor_ids"`
	Changes       []string `json:"changes"`
	Reason        string   `json:"reason"`
	OffsetMinutes int      `json:"offset_minutes"`
}

// meetingWorld is the organizer of a county of the test's own (a county-wide meeting, task or
// bulletin reaches every instructor of it) with instructors in two units of the county, an
// instructor of county B1, and staff around them.
type meetingWorld struct {
	e          *apitest.Env
	area       apitest.Area
	staff      *apitest.Client
	callers    map[string]*apitest.Client
	ins        []*apitest.Client // in the area: two in its first township, two in the county itself
	insIDs     []int64
	outsider   *apitest.Client // an instructor of county B1
	outsiderID int64
}

func newMeetingWorld(t *testing.T) meetingWorld {
	t.Helper()
	e := apitest.Shared(t)
	return meetingWorldIn(t, e, e.Area(t))
}

// newFixtureMeetingWorld is a meeting world in the fixture county A1, for tests that invite a
// list of their own instructors and count nothing else of the county: the region allocator's
// counties are few.
func newFixtureMeetingWorld(t *testing.T) meetingWorld {
	t.Helper()
	return meetingWorldIn(t, apitest.Shared(t), apitest.Area{City: apitest.CityA, County: apitest.CountyA1,
		Townships: []string{apitest.TownshipA1}, Neighbour: apitest.CountyA2})
}

func meetingWorldIn(t *testing.T, e *apitest.Env, a apitest.Area) meetingWorld {
	t.Helper()
	w := meetingWorld{e: e, area: a, callers: map[string]*apitest.Client{
		"county_in":  e.Staff(t, "county_staff", a.County),
		"county_out": e.Staff(t, "county_staff", a.Neighbour),
		"city_in":    e.Staff(t, "city_staff", a.City),
		"city_out":   e.Staff(t, "city_staff", apitest.CityB),
		"province":   e.Staff(t, "province_staff", apitest.Province),
		"anonymous":  e.Anon(t),
	}}
	w.staff = w.callers["county_in"]
	units := []int64{w.staff.Unit("village", a.Township()), w.staff.Unit("community", a.County)}
	for i := 0; i < 4; i++ {
		c, id := e.InstructorClient(t, w.staff, units[i/2])
		w.ins, w.insIDs = append(w.ins, c), append(w.insIDs, id)
	}
	other := e.Staff(t, "county_staff", apitest.CountyB1)
	w.outsider, w.outsiderID = e.InstructorClient(t, other, other.Unit("village", apitest.TownshipB1))
	return w
}

// meetingBody is a valid list meeting starting in d (by the shared clock) for an hour.
func meetingBody(e *apitest.Env, d time.Duration, ids ...int64) map[string]any {
	return map[string]any{
		"title": "民族团结进步创建月度例会" + apitest.Unique(), "starts_at": phoneTime(e, d), "ends_at": phoneTime(e, d+time.Hour),
		"place": "长安区民宗局三楼会议室", "latitude": 38.0428, "longitude": 114.5149,
		"agenda": "一、传达上级文件精神\n二、交流走访情况\n三、部署下月工作", "audience": "list", "instructor_ids": ids,
	}
}

func createMeeting(t *testing.T, c *apitest.Client, body map[string]any) meetingView {
	t.Helper()
	var v meetingView
	c.Must(http.StatusCreated, "POST", "/api/v1/meetings", body).JSON(t, &v)
	return v
}

func meetingPath(id int64, rest ...string) string {
	p := fmt.Sprintf("/api/v1/meetings/%d", id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// eventPayloads reads the payloads of the events of one subject and kind, oldest first.
func eventPayloads(t *testing.T, e *apitest.Env, subjectType string, id int64, kind string) []string {
	t.Helper()
	var out []string
	if err := e.DB().Table("events").Where("subject_type = ? AND subject_id = ? AND kind = ?", subjectType, id, kind).
		Order("id").Pluck("payload", &out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func meetingEvents(t *testing.T, e *apitest.Env, id int64, kind string) []meetingPayload {
	t.Helper()
	var out []meetingPayload
	for _, raw := range eventPayloads(t, e, "meeting", id, kind) {
		var p meetingPayload
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			t.Fatalf("payload %s: %v", raw, err)
		}
		out = append(out, p)
	}
	return out
}

func TestMeetingNoticeChangeAndCancel(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	m := createMeeting(t, w.staff, meetingBody(e, 48*time.Hour, w.insIDs[0], w.insIDs[1], w.insIDs[1]))
	if m.Status != "upcoming" || m.InviteeCount != 2 || m.Audience != "list" || m.RegionCode != w.area.County ||
		m.RegionName != w.area.CountyName || m.CheckinOpen || m.Latitude == nil {
		t.Fatalf("created: %+v", m)
	}
	// The notice is in the outbox, written with the meeting, addressed to each invitee.
	notices := meetingEvents(t, e, m.ID, "meeting.scheduled")
	if len(notices) != 1 || !slices.Equal(notices[0].InstructorIDs, w.insIDs[:2]) || notices[0].Title != m.Title ||
		notices[0].Place != m.Place || !strings.HasSuffix(notices[0].StartsAt, "+08:00") {
		t.Fatalf("notice: %+v", notices)
	}
	var regions []string
	e.DB().Table("events").Where("subject_type = 'meeting' AND subject_id = ?", m.ID).Pluck("region_code", &regions)
	if !slices.Equal(regions, []string{w.area.County}) {
		t.Fatalf("event regions %v", regions)
	}

	// Invitees see it with their own answer; others do not.
	var l meetingList
	w.ins[0].Must(http.StatusOK, "GET", "/api/v1/meetings", nil).JSON(t, &l)
	if !l.has(m.ID) || l.Items[0].Mine == nil || l.Items[0].Mine.RSVP != "none" {
		t.Fatalf("invitee list: %+v", l.Items)
	}
	w.ins[2].Must(http.StatusOK, "GET", "/api/v1/meetings", nil).JSON(t, &l)
	if l.has(m.ID) {
		t.Fatal("an instructor not invited lists the meeting")
	}
	w.ins[2].Must(http.StatusNotFound, "GET", meetingPath(m.ID), nil)

	// A change names what changed and goes to the invitees of the moment.
	var v meetingView
	newStart := phoneTime(e, 50*time.Hour)
	w.staff.Must(http.StatusOK, "PATCH", meetingPath(m.ID), map[string]any{
		"place": "长安区政府二号楼会议室", "starts_at": newStart, "ends_at": phoneTime(e, 51*time.Hour),
		"instructor_ids": []int64{w.insIDs[0], w.insIDs[1], w.insIDs[2]}}).JSON(t, &v)
	if v.Place != "长安区政府二号楼会议室" || v.InviteeCount != 3 || !v.StartsAt.Equal(mustTime(t, newStart)) {
		t.Fatalf("changed: %+v", v)
	}
	changes := meetingEvents(t, e, m.ID, "meeting.changed")
	if len(changes) != 1 || len(changes[0].InstructorIDs) != 3 {
		t.Fatalf("change events: %+v", changes)
	}
	for _, f := range []string{"place", "starts_at", "ends_at", "instructor_ids"} {
		if !slices.Contains(changes[0].Changes, f) {
			t.Errorf("changes %v lack %s", changes[0].Changes, f)
		}
	}
	w.ins[2].Must(http.StatusOK, "GET", meetingPath(m.ID), nil)
	// Sending the same values again changes nothing and notifies nobody.
	w.staff.Must(http.StatusOK, "PATCH", meetingPath(m.ID), map[string]any{"place": "长安区政府二号楼会议室", "starts_at": newStart})
	if n := len(meetingEvents(t, e, m.ID, "meeting.changed")); n != 1 {
		t.Fatalf("a no-op change wrote %d change events", n)
	}
	// An invitee who has not checked in can be taken off the list.
	w.staff.Must(http.StatusOK, "PATCH", meetingPath(m.ID), map[string]any{"instructor_ids": []int64{w.insIDs[0], w.insIDs[1]}}).JSON(t, &v)
	if v.InviteeCount != 2 {
		t.Fatalf("after removing: %+v", v)
	}
	w.ins[2].Must(http.StatusNotFound, "GET", meetingPath(m.ID), nil)

	// Cancelling notifies too; a cancelled meeting takes no more changes or answers.
	w.staff.Must(http.StatusBadRequest, "POST", meetingPath(m.ID, "cancel"), map[string]any{"reason": " "})
	w.staff.Must(http.StatusOK, "POST", meetingPath(m.ID, "cancel"), map[string]any{"reason": "与县委中心组学习冲突,另行通知"}).JSON(t, &v)
	if v.Status != "cancelled" || v.CancelReason != "与县委中心组学习冲突,另行通知" {
		t.Fatalf("cancelled: %+v", v)
	}
	cancels := meetingEvents(t, e, m.ID, "meeting.cancelled")
	if len(cancels) != 1 || cancels[0].Reason != "与县委中心组学习冲突,另行通知" || len(cancels[0].InstructorIDs) != 2 {
		t.Fatalf("cancel events: %+v", cancels)
	}
	for _, r := range []struct{ method, path string }{{"POST", meetingPath(m.ID, "cancel")}, {"PATCH", meetingPath(m.ID)}} {
		if got := w.staff.Must(http.StatusConflict, r.method, r.path, map[string]any{"reason": "再取消", "title": "新名称"}).Err(t); got.Code != "meeting_cancelled" {
			t.Fatalf("%s %s: %+v", r.method, r.path, got)
		}
	}
	w.ins[0].Must(http.StatusConflict, "POST", meetingPath(m.ID, "rsvp"), map[string]any{"answer": "yes"})
	w.ins[0].Must(http.StatusOK, "GET", "/api/v1/meetings?status=cancelled", nil).JSON(t, &l)
	if !l.has(m.ID) {
		t.Fatal("cancelled meeting missing from the cancelled filter")
	}
	w.ins[0].Must(http.StatusOK, "GET", "/api/v1/meetings?status=upcoming", nil).JSON(t, &l)
	if l.has(m.ID) {
		t.Fatal("cancelled meeting listed as upcoming")
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMeetingForTheWholeCounty(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	body := meetingBody(e, 72*time.Hour)
	body["audience"] = "county"
	delete(body, "instructor_ids")
	m := createMeeting(t, w.staff, body)
	active := int64(len(activeIn(t, e, region.Prefix(w.area.County))))
	if m.Audience != "county" || int64(m.InviteeCount) != active || active < 4 {
		t.Fatalf("county meeting: %+v (county has %d active instructors)", m, active)
	}
	notice := meetingEvents(t, e, m.ID, "meeting.scheduled")
	if len(notice) != 1 || len(notice[0].InstructorIDs) != int(active) {
		t.Fatalf("notice: %d events", len(notice))
	}
	for i, c := range w.ins {
		var v meetingView
		c.Must(http.StatusOK, "GET", meetingPath(m.ID), nil).JSON(t, &v)
		if !slices.Contains(notice[0].InstructorIDs, w.insIDs[i]) || v.Mine == nil {
			t.Fatalf("instructor %d not invited to the county meeting", w.insIDs[i])
		}
	}
	var l meetingList
	w.outsider.Must(http.StatusOK, "GET", "/api/v1/meetings", nil).JSON(t, &l)
	if l.has(m.ID) {
		t.Fatal("an instructor of another county is invited")
	}
	// The list of a county meeting is the county's; it cannot be edited.
	if r := w.staff.Must(http.StatusBadRequest, "PATCH", meetingPath(m.ID), map[string]any{"instructor_ids": []int64{w.insIDs[0]}}).Err(t); r.Details[0].Field != "instructor_ids" {
		t.Fatalf("edit county list: %+v", r)
	}
}

// Not parallel: servers up to two days ahead run their sweeps over every test's data.
func TestMeetingRemindersOncePerOffset(t *testing.T) {
	w := newMeetingWorld(t)
	e := w.e
	ctx := context.Background()
	t0 := e.Clock.Now()
	m := createMeeting(t, w.staff, meetingBody(e, 48*time.Hour, w.insIDs[0], w.insIDs[1]))
	// Announced 30 minutes ahead: both reminders would have been due before the notice.
	late := createMeeting(t, w.staff, meetingBody(e, 30*time.Minute, w.insIDs[0]))

	sweep := func(at time.Duration) {
		t.Helper()
		if _, err := apitest.Another(t, clock.NewFake(t0.Add(at))).App.Meetings.DueReminders(ctx); err != nil {
			t.Fatal(err)
		}
	}
	offsets := func(id int64) []int {
		var out []int
		for _, p := range meetingEvents(t, e, id, "meeting.reminder") {
			out = append(out, p.OffsetMinutes)
		}
		return out
	}
	sweep(5 * time.Minute)
	sweep(23 * time.Hour)
	if got := offsets(m.ID); len(got) != 0 {
		t.Fatalf("reminders a day and an hour early: %v", got)
	}
	// A day before: the 24-hour reminder, once, however often and on however many instances.
	sweep(24*time.Hour + time.Minute)
	sweep(24*time.Hour + 2*time.Minute)
	at := clock.NewFake(t0.Add(24*time.Hour + 3*time.Minute))
	instances := []*apitest.Env{apitest.Another(t, at), apitest.Another(t, at)}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = instances[i%2].App.Meetings.DueReminders(ctx)
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := offsets(m.ID); !slices.Equal(got, []int{1440}) {
		t.Fatalf("after a day: reminders %v, want [1440]", got)
	}
	// Who declined is not reminded an hour before.
	w.ins[1].Must(http.StatusOK, "POST", meetingPath(m.ID, "rsvp"), map[string]any{"answer": "no", "note": "下乡调解"})
	sweep(47*time.Hour + 30*time.Minute)
	reminders := meetingEvents(t, e, m.ID, "meeting.reminder")
	if len(reminders) != 2 || reminders[1].OffsetMinutes != 60 || !slices.Equal(reminders[1].InstructorIDs, w.insIDs[:1]) ||
		!slices.Equal(reminders[0].InstructorIDs, w.insIDs[:2]) {
		t.Fatalf("reminders: %+v", reminders)
	}
	sweep(49 * time.Hour)
	if got := offsets(m.ID); len(got) != 2 {
		t.Fatalf("reminders after the start: %v", got)
	}
	if got := offsets(late.ID); len(got) != 0 {
		t.Fatalf("a meeting announced inside the reminder window was reminded: %v", got)
	}

	// A meeting moved to a new time is reminded again for it.
	moved := createMeeting(t, w.staff, meetingBody(e, 3*time.Hour, w.insIDs[0]))
	sweep(2*time.Hour + 5*time.Minute)
	w.staff.Must(http.StatusOK, "PATCH", meetingPath(moved.ID), map[string]any{"starts_at": phoneTime(e, 5*time.Hour), "ends_at": phoneTime(e, 6*time.Hour)})
	sweep(2*time.Hour + 10*time.Minute)
	sweep(4*time.Hour + 5*time.Minute)
	if got := offsets(moved.ID); !slices.Equal(got, []int{60, 60}) {
		t.Fatalf("moved meeting reminders %v, want [60 60]", got)
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM meeting_reminders WHERE meeting_id IN (?, ?)", m.ID, moved.ID); n != 4 {
		t.Fatalf("%d reminder marks, want 4", n)
	}
}

// place is 38.0428N 114.5149E; these are about 100 m and 1.1 km north of it.
const (
	nearLatitude = 38.0437
	farLatitude  = 38.0528
)

// Not parallel: servers minutes ahead run their sweeps over every test's data.
func TestMeetingRSVPCheckinAndAttendance(t *testing.T) {
	w := newMeetingWorld(t)
	e := w.e
	m := createMeeting(t, w.staff, meetingBody(e, 10*time.Minute, w.insIDs[0], w.insIDs[1], w.insIDs[2]))
	if !m.CheckinOpen {
		t.Fatalf("check-in should be open 10 minutes before the start: %+v", m)
	}

	// Answers, replaced by a later answer.
	var v meetingView
	w.ins[0].Must(http.StatusOK, "POST", meetingPath(m.ID, "rsvp"), map[string]any{"answer": "yes", "note": "准时参加"}).JSON(t, &v)
	if v.Mine == nil || v.Mine.RSVP != "yes" || v.Mine.RSVPNote != "准时参加" {
		t.Fatalf("rsvp: %+v", v.Mine)
	}
	w.ins[1].Must(http.StatusOK, "POST", meetingPath(m.ID, "rsvp"), map[string]any{"answer": "maybe"})
	w.ins[1].Must(http.StatusOK, "POST", meetingPath(m.ID, "rsvp"), map[string]any{"answer": "no"})
	if r := w.ins[0].Must(http.StatusBadRequest, "POST", meetingPath(m.ID, "rsvp"), map[string]any{"answer": "perhaps"}).Err(t); r.Details[0].Field != "answer" {
		t.Fatalf("bad answer: %+v", r)
	}
	w.ins[3].Must(http.StatusNotFound, "POST", meetingPath(m.ID, "rsvp"), map[string]any{"answer": "yes"})
	w.staff.Must(http.StatusForbidden, "POST", meetingPath(m.ID, "rsvp"), map[string]any{"answer": "yes"})

	// The organizer's screen shows a token; an invitee scanning it checks in, once.
	var tok struct {
		MeetingID int64     `json:"meeting_id"`
		Token     string    `json:"token"`
		QRPayload string    `json:"qr_payload"`
		ExpiresAt time.Time `json:"expires_at"`
		RefreshAt time.Time `json:"refresh_at"`
	}
	r := w.staff.Must(http.StatusOK, "GET", meetingPath(m.ID, "checkin-token"), nil)
	r.JSON(t, &tok)
	now := e.Clock.Now()
	if tok.Token == "" || !strings.Contains(tok.QRPayload, tok.Token) || tok.MeetingID != m.ID ||
		!tok.ExpiresAt.After(now.Add(29*time.Second)) || tok.ExpiresAt.After(now.Add(61*time.Second)) ||
		!tok.RefreshAt.Before(tok.ExpiresAt) || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %+v (now %s) %v", tok, now, r.Header)
	}
	w.ins[0].Must(http.StatusOK, "POST", meetingPath(m.ID, "checkin"), map[string]any{"token": tok.Token}).JSON(t, &v)
	if v.Mine.CheckedInAt == nil || v.Mine.CheckinMethod != "qr" {
		t.Fatalf("qr check-in: %+v", v.Mine)
	}
	first := *v.Mine.CheckedInAt
	w.ins[0].Must(http.StatusOK, "POST", meetingPath(m.ID, "checkin"), map[string]any{"latitude": nearLatitude, "longitude": 114.5149}).JSON(t, &v)
	if !v.Mine.CheckedInAt.Equal(first) || v.Mine.CheckinMethod != "qr" {
		t.Fatalf("second check-in changed the first: %+v", v.Mine)
	}

	// Forged, foreign and stale tokens are refused.
	other := createMeeting(t, w.staff, meetingBody(e, 20*time.Minute, w.insIDs[1]))
	var otherTok struct {
		Token string `json:"token"`
	}
	w.staff.Must(http.StatusOK, "GET", meetingPath(other.ID, "checkin-token"), nil).JSON(t, &otherTok)
	for _, bad := range []string{"abc", "123.xyz", otherTok.Token} {
		if got := w.ins[1].Must(http.StatusForbidden, "POST", meetingPath(m.ID, "checkin"), map[string]any{"token": bad}).Err(t); got.Code != "checkin_token_invalid" || got.Details[0].Field != "token" {
			t.Fatalf("token %q: %+v", bad, got)
		}
	}
	later := apitest.Another(t, clock.NewFake(now.Add(2*time.Minute)))
	if got := later.As(t, w.ins[1].Token).Must(http.StatusForbidden, "POST", meetingPath(m.ID, "checkin"), map[string]any{"token": tok.Token}).Err(t); got.Code != "checkin_token_expired" {
		t.Fatalf("expired token: %+v", got)
	}

	// By location: inside the radius, and not from a kilometre away.
	w.ins[1].Must(http.StatusOK, "POST", meetingPath(m.ID, "checkin"), map[string]any{"latitude": nearLatitude, "longitude": 114.5149}).JSON(t, &v)
	if v.Mine.CheckinMethod != "location" || v.Mine.CheckedInAt == nil {
		t.Fatalf("location check-in: %+v", v.Mine)
	}
	if got := w.ins[2].Must(http.StatusForbidden, "POST", meetingPath(m.ID, "checkin"), map[string]any{"latitude": farLatitude, "longitude": 114.5149}).Err(t); got.Code != "checkin_too_far" {
		t.Fatalf("far check-in: %+v", got)
	}
	if got := w.ins[2].Must(http.StatusBadRequest, "POST", meetingPath(m.ID, "checkin"), map[string]any{}).Err(t); got.Details[0].Field != "token" {
		t.Fatalf("empty check-in: %+v", got)
	}
	w.ins[3].Must(http.StatusNotFound, "POST", meetingPath(m.ID, "checkin"), map[string]any{"token": tok.Token})
	// Not yet open two hours ahead, closed after the end.
	early := createMeeting(t, w.staff, meetingBody(e, 2*time.Hour, w.insIDs[0]))
	if got := w.ins[0].Must(http.StatusConflict, "POST", meetingPath(early.ID, "checkin"), map[string]any{"latitude": 38.0428, "longitude": 114.5149}).Err(t); got.Code != "checkin_not_open" {
		t.Fatalf("early check-in: %+v", got)
	}
	short := meetingBody(e, 2*time.Minute, w.insIDs[2])
	short["ends_at"] = phoneTime(e, 5*time.Minute)
	brief := createMeeting(t, w.staff, short)
	after := apitest.Another(t, clock.NewFake(now.Add(10*time.Minute))) // within the access token's life
	if got := after.As(t, w.ins[2].Token).Must(http.StatusConflict, "POST", meetingPath(brief.ID, "checkin"), map[string]any{"latitude": 38.0428, "longitude": 114.5149}).Err(t); got.Code != "meeting_ended" {
		t.Fatalf("check-in after the end: %+v", got)
	}

	// Attendance: who was invited, answered and came.
	var att struct {
		MeetingID int64 `json:"meeting_id"`
		Invited   int   `json:"invited"`
		CheckedIn int   `json:"checked_in"`
		RSVP      struct {
			Yes, No, Maybe, None int
		} `json:"rsvp"`
		AttendanceRate float64 `json:"attendance_rate"`
		Items          []struct {
			InstructorID  int64      `json:"instructor_id"`
			Name          string     `json:"name"`
			UnitName      string     `json:"unit_name"`
			RSVP          string     `json:"rsvp"`
			CheckedInAt   *time.Time `json:"checked_in_at"`
			CheckinMethod string     `json:"checkin_method"`
			Distance      *int       `json:"checkin_distance_m"`
		} `json:"items"`
	}
	for _, who := range []string{"county_in", "city_in", "province"} {
		w.callers[who].Must(http.StatusOK, "GET", meetingPath(m.ID, "attendance"), nil).JSON(t, &att)
	}
	if att.Invited != 3 || att.CheckedIn != 2 || att.RSVP.Yes != 1 || att.RSVP.No != 1 || att.RSVP.None != 1 ||
		att.AttendanceRate < 0.666 || att.AttendanceRate > 0.667 || len(att.Items) != 3 {
		t.Fatalf("attendance: %+v", att)
	}
	for _, it := range att.Items {
		if it.Name == "" || it.UnitName == "" {
			t.Fatalf("attendance line without names: %+v", it)
		}
		switch it.InstructorID {
		case w.insIDs[0]:
			if it.CheckinMethod != "qr" || it.RSVP != "yes" {
				t.Fatalf("line %+v", it)
			}
		case w.insIDs[1]:
			if it.CheckinMethod != "location" || it.Distance == nil || *it.Distance < 80 || *it.Distance > 120 || it.RSVP != "no" {
				t.Fatalf("line %+v", it)
			}
		case w.insIDs[2]:
			if it.CheckedInAt != nil || it.RSVP != "none" {
				t.Fatalf("line %+v", it)
			}
		}
	}
}

// Invitees are not given the venue's coordinates (they could check in from anywhere by sending
// them back); each location check-in keeps the reported position and accuracy, and a position
// copied from the venue, or one without an accuracy, is pointed out to staff.
func TestLocationCheckinIsNotGivenAwayAndStandsOut(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	m := createMeeting(t, w.staff, meetingBody(w.e, 10*time.Minute, w.insIDs[0], w.insIDs[1], w.insIDs[2]))

	var seen meetingView
	w.ins[0].Must(http.StatusOK, "GET", meetingPath(m.ID), nil).JSON(t, &seen)
	if seen.Latitude != nil || seen.Longitude != nil || !seen.LocationOK || seen.Place == "" {
		t.Fatalf("an invitee sees the venue as %+v", seen)
	}
	var list meetingList
	w.ins[0].Must(http.StatusOK, "GET", "/api/v1/meetings?limit=100", nil).JSON(t, &list)
	for _, it := range list.Items {
		if it.Latitude != nil || it.Longitude != nil {
			t.Fatalf("the invitee's meeting list gives coordinates: %+v", it)
		}
	}
	w.staff.Must(http.StatusOK, "GET", meetingPath(m.ID), nil).JSON(t, &seen)
	if seen.Latitude == nil || seen.Longitude == nil || !seen.LocationOK {
		t.Fatalf("staff see the venue as %+v", seen)
	}

	// One copies the venue's coordinates (from a leaked staff screen), one is really there.
	w.ins[0].Must(http.StatusOK, "POST", meetingPath(m.ID, "checkin"), map[string]any{"latitude": *seen.Latitude, "longitude": *seen.Longitude})
	w.ins[1].Must(http.StatusOK, "POST", meetingPath(m.ID, "checkin"), map[string]any{"latitude": nearLatitude, "longitude": 114.5149, "accuracy": 14.6})
	if r := w.ins[2].Must(http.StatusBadRequest, "POST", meetingPath(m.ID, "checkin"), map[string]any{"latitude": nearLatitude, "longitude": 114.5149, "accuracy": -3}).Err(t); r.Details[0].Field != "accuracy" {
		t.Fatalf("negative accuracy: %+v", r)
	}

	var att struct {
		Items []struct {
			InstructorID int64    `json:"instructor_id"`
			Distance     *int     `json:"checkin_distance_m"`
			Latitude     *float64 `json:"checkin_latitude"`
			Longitude    *float64 `json:"checkin_longitude"`
			Accuracy     *int     `json:"checkin_accuracy_m"`
			Doubt        string   `json:"checkin_doubt"`
		} `json:"items"`
	}
	w.staff.Must(http.StatusOK, "GET", meetingPath(m.ID, "attendance"), nil).JSON(t, &att)
	for _, it := range att.Items {
		switch it.InstructorID {
		case w.insIDs[0]:
			if it.Distance == nil || *it.Distance != 0 || it.Latitude == nil || *it.Latitude != *seen.Latitude ||
				it.Accuracy != nil || !strings.Contains(it.Doubt, "复制") {
				t.Fatalf("a copied position does not stand out: %+v", it)
			}
		case w.insIDs[1]:
			if it.Latitude == nil || *it.Latitude != nearLatitude || it.Longitude == nil || it.Accuracy == nil || *it.Accuracy != 15 || it.Doubt != "" {
				t.Fatalf("a genuine location check-in: %+v", it)
			}
		case w.insIDs[2]:
			if it.Latitude != nil || it.Doubt != "" {
				t.Fatalf("no check-in: %+v", it)
			}
		}
	}
}

func TestMeetingScope(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	m := createMeeting(t, w.staff, meetingBody(e, 10*time.Minute, w.insIDs[0]))
	w.callers["invitee"], w.callers["not_invited"], w.callers["instructor_other"] = w.ins[0], w.ins[1], w.outsider

	def := func(base expect, fallback int) func(string) int {
		return func(who string) int {
			if s, ok := base[who]; ok {
				return s
			}
			if who == "anonymous" {
				return 401
			}
			return fallback
		}
	}
	cases := []struct {
		method, path string
		body         any
		want         func(string) int
	}{
		{"GET", meetingPath(m.ID), nil, def(expect{"county_in": 200, "city_in": 200, "province": 200, "invitee": 200}, 404)},
		{"PATCH", meetingPath(m.ID), map[string]any{"agenda": "调整议程"}, def(expect{"county_in": 200, "county_out": 404,
			"city_in": 403, "city_out": 403, "province": 403, "invitee": 403, "not_invited": 403, "instructor_other": 403}, 0)},
		{"GET", meetingPath(m.ID, "attendance"), nil, def(expect{"county_in": 200, "city_in": 200, "province": 200,
			"county_out": 404, "city_out": 404}, 403)},
		{"GET", meetingPath(m.ID, "checkin-token"), nil, def(expect{"county_in": 200, "county_out": 404}, 403)},
		{"POST", meetingPath(m.ID, "rsvp"), map[string]any{"answer": "yes"}, def(expect{"invitee": 200, "not_invited": 404, "instructor_other": 404}, 403)},
		{"POST", meetingPath(m.ID, "cancel"), map[string]any{"reason": "测试"}, def(expect{"county_out": 404,
			"city_in": 403, "city_out": 403, "province": 403, "invitee": 403, "not_invited": 403, "instructor_other": 403}, 0)},
	}
	for _, c := range cases {
		for who, client := range w.callers {
			want := c.want(who)
			if want == 0 {
				continue
			}
			if r := client.Do(c.method, c.path, c.body); r.Status != want {
				t.Errorf("%s %s %s: %d, want %d: %s", who, c.method, c.path, r.Status, want, r.Body)
			}
		}
	}
	// Lists: each sees only what is theirs.
	for who, want := range map[string]bool{"county_in": true, "county_out": false, "city_in": true, "city_out": false,
		"province": true, "invitee": true, "not_invited": false, "instructor_other": false} {
		var l meetingList
		w.callers[who].Must(http.StatusOK, "GET", "/api/v1/meetings", nil).JSON(t, &l)
		if l.has(m.ID) != want {
			t.Errorf("%s lists the meeting: %v, want %v", who, l.has(m.ID), want)
		}
	}
	var l meetingList
	w.callers["city_in"].Must(http.StatusOK, "GET", "/api/v1/meetings?region_code="+w.area.Neighbour, nil).JSON(t, &l)
	if l.has(m.ID) {
		t.Error("region filter of another county lists the meeting")
	}
	w.callers["anonymous"].Must(http.StatusUnauthorized, "GET", "/api/v1/meetings", nil)
	// Only county staff call meetings, and only with their own instructors.
	for _, who := range []string{"city_in", "province", "invitee"} {
		w.callers[who].Must(http.StatusForbidden, "POST", "/api/v1/meetings", meetingBody(e, time.Hour, w.insIDs[0]))
	}
	if r := w.staff.Must(http.StatusBadRequest, "POST", "/api/v1/meetings", meetingBody(e, time.Hour, w.insIDs[0], w.outsiderID)).Err(t); r.Details[0].Field != "instructor_ids" {
		t.Fatalf("invite an instructor of another county: %+v", r)
	}
	w.callers["county_out"].Must(http.StatusBadRequest, "POST", "/api/v1/meetings", meetingBody(e, time.Hour, w.insIDs[0]))
}

func TestMeetingBadInput(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	m := createMeeting(t, w.staff, meetingBody(e, 5*time.Hour, w.insIDs[0]))
	with := func(changes map[string]any) map[string]any {
		b := meetingBody(e, 5*time.Hour, w.insIDs[0])
		for k, v := range changes {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"malformed", "POST", "/api/v1/meetings", `{"title":`, 400, ""},
		{"wrong type", "POST", "/api/v1/meetings", with(map[string]any{"title": 5}), 400, "title"},
		{"ids wrong type", "POST", "/api/v1/meetings", with(map[string]any{"instructor_ids": "1,2"}), 400, "instructor_ids"},
		{"no title", "POST", "/api/v1/meetings", with(map[string]any{"title": nil}), 400, "title"},
		{"long title", "POST", "/api/v1/meetings", with(map[string]any{"title": strings.Repeat("会", 61)}), 400, "title"},
		{"long agenda", "POST", "/api/v1/meetings", with(map[string]any{"agenda": strings.Repeat("议", 2001)}), 400, "agenda"},
		{"no place", "POST", "/api/v1/meetings", with(map[string]any{"place": ""}), 400, "place"},
		{"bad time", "POST", "/api/v1/meetings", with(map[string]any{"starts_at": "明天上午九点"}), 400, "starts_at"},
		{"past", "POST", "/api/v1/meetings", with(map[string]any{"starts_at": phoneTime(e, -time.Hour)}), 400, "starts_at"},
		{"ends first", "POST", "/api/v1/meetings", with(map[string]any{"ends_at": phoneTime(e, 4*time.Hour)}), 400, "ends_at"},
		{"too long", "POST", "/api/v1/meetings", with(map[string]any{"ends_at": phoneTime(e, 30*time.Hour)}), 400, "ends_at"},
		{"half location", "POST", "/api/v1/meetings", with(map[string]any{"longitude": nil}), 400, "longitude"},
		{"bad latitude", "POST", "/api/v1/meetings", with(map[string]any{"latitude": 138.0}), 400, "latitude"},
		{"audience", "POST", "/api/v1/meetings", with(map[string]any{"audience": "everyone"}), 400, "audience"},
		{"empty list", "POST", "/api/v1/meetings", with(map[string]any{"instructor_ids": []int64{}}), 400, "instructor_ids"},
		{"unknown instructor", "POST", "/api/v1/meetings", with(map[string]any{"instructor_ids": []int64{1 << 40}}), 400, "instructor_ids"},
		{"county with list", "POST", "/api/v1/meetings", with(map[string]any{"audience": "county"}), 400, "instructor_ids"},
		{"patch audience", "PATCH", meetingPath(m.ID), map[string]any{"audience": "county"}, 400, "audience"},
		{"patch past", "PATCH", meetingPath(m.ID), map[string]any{"starts_at": phoneTime(e, -time.Minute)}, 400, "starts_at"},
		{"patch wrong type", "PATCH", meetingPath(m.ID), map[string]any{"latitude": "北纬38度"}, 400, "latitude"},
		{"cancel no reason", "POST", meetingPath(m.ID, "cancel"), map[string]any{}, 400, "reason"},
		{"cancel empty", "POST", meetingPath(m.ID, "cancel"), ``, 400, ""},
		{"bad id", "GET", "/api/v1/meetings/abc", nil, 404, ""},
		{"missing", "GET", meetingPath(1 << 40), nil, 404, ""},
		{"bad status filter", "GET", "/api/v1/meetings?status=soon", nil, 400, "status"},
		{"bad cursor", "GET", "/api/v1/meetings?cursor=zzz", nil, 400, "cursor"},
	}
	for _, c := range cases {
		r := w.staff.Do(c.method, c.path, c.body)
		if r.Status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, r.Status, c.status, r.Body)
			continue
		}
		eb := r.Err(t)
		if c.field != "" && (len(eb.Details) == 0 || eb.Details[0].Field != c.field) {
			t.Errorf("%s: details %+v, want field %s", c.name, eb.Details, c.field)
		}
	}
	for _, c := range []struct {
		name  string
		body  any
		field string
	}{
		{"rsvp wrong type", map[string]any{"answer": 1}, "answer"},
		{"rsvp long note", map[string]any{"answer": "yes", "note": strings.Repeat("备", 201)}, "note"},
	} {
		r := w.ins[0].Do("POST", meetingPath(m.ID, "rsvp"), c.body)
		if r.Status != 400 || r.Err(t).Details[0].Field != c.field {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}
	if r := w.ins[0].Do("POST", meetingPath(m.ID, "checkin"), map[string]any{"latitude": 38.04}); r.Status != 400 || r.Err(t).Details[0].Field != "longitude" {
		t.Errorf("half a location: %d %s", r.Status, r.Body)
	}
	if r := w.ins[0].Do("POST", meetingPath(m.ID, "checkin"), map[string]any{"token": 12}); r.Status != 400 || r.Err(t).Details[0].Field != "token" {
		t.Errorf("token wrong type: %d %s", r.Status, r.Body)
	}
}

// openID is the WeChat openid of the account bound to an instructor.
func openID(t *testing.T, e *apitest.Env, instructorID int64) string {
	t.Helper()
	var ids []string
	if err := e.DB().Table("accounts").Where("instructor_id = ?", instructorID).Pluck("openid", &ids).Error; err != nil || len(ids) != 1 {
		t.Fatalf("openid of instructor %d: %v %v", instructorID, ids, err)
	}
	return ids[0]
}

// Meeting notices and reminders reach the county's instructor group (for a county-wide meeting)
// and each invitee who accepted the template; bulletins reach the instructor groups in scope.
// Not parallel: its reminder sweep, two hours ahead, covers every test's meetings.
func TestMeetingAndBulletinNotices(t *testing.T) {
	e := apitest.Shared(t)
	// Counties of the test's own: an instructors group registered there receives every county-wide
	// meeting and bulletin of it.
	area, area2 := e.Area(t), e.Area(t)
	mtCounty, mtTownship, mtCounty2 := area.County, area.Township(), area2.County
	staff := e.Staff(t, "county_staff", mtCounty)
	groupKey, otherKey := ntKey(), ntKey()
	ntCreateGroup(t, staff, mtCounty, "instructors", groupKey)
	ntCreateGroup(t, e.Staff(t, "county_staff", mtCounty2), mtCounty2, "instructors", otherKey)
	unit := staff.Unit("village", mtTownship)
	var ins []*apitest.Client
	var ids []int64
	for range 2 {
		c, id := e.InstructorClient(t, staff, unit)
		for range 2 { // one-time grants: one per message
			c.Must(http.StatusOK, "POST", "/api/v1/subscriptions", map[string]any{"results": map[string]string{
				"TPL_MEETING_SCHEDULED": "accept", "TPL_MEETING_REMINDER": "accept", "TPL_MEETING_CANCELLED": "accept"}})
		}
		ins, ids = append(ins, c), append(ids, id)
	}

	body := meetingBody(e, 26*time.Hour)
	body["audience"], body["title"] = "county", "全县例会"+apitest.Unique()
	delete(body, "instructor_ids")
	county := createMeeting(t, staff, body)
	title := body["title"].(string)
	ntWait(t, "the county meeting notice", func() bool {
		subs := ntSubscribedTo(e, title)
		return len(ntRobotTo(e, groupKey, title)) == 1 && subs[openID(t, e, ids[0])] == 1 && subs[openID(t, e, ids[1])] == 1
	})
	if msg := ntRobotTo(e, groupKey, title)[0]; !strings.Contains(msg, "例会通知") || !strings.Contains(msg, "长安区民宗局三楼会议室") {
		t.Fatalf("robot notice: %s", msg)
	}
	if len(ntRobotTo(e, otherKey, title)) != 0 {
		t.Fatal("another county's group got the notice")
	}

	// A day before: the reminder. The sweep runs on its own here, not in a second server: that
	// server's dispatcher, two hours ahead, would take over the shared server's sends.
	cfg := e.App.Config.Meetings
	sweeper := meeting.NewService(e.DB(), e.App.Regions, clock.NewFake(e.Clock.Now().Add(2*time.Hour+time.Minute)),
		discardLogger(), meeting.Options{Reminders: cfg.Reminders})
	if _, err := sweeper.DueReminders(context.Background()); err != nil {
		t.Fatal(err)
	}
	ntWait(t, "the reminder", func() bool {
		for _, m := range ntRobotTo(e, groupKey, title) {
			if strings.Contains(m, "例会提醒") && strings.Contains(m, "1天后开始") {
				return true
			}
		}
		return false
	})

	// A meeting of a chosen list goes to its invitee only, not to the county's group.
	listTitle := "小范围例会" + apitest.Unique()
	small := meetingBody(e, 30*time.Hour, ids[0])
	small["title"] = listTitle
	createMeeting(t, staff, small)
	ntWait(t, "the list meeting notice", func() bool { return ntSubscribedTo(e, listTitle)[openID(t, e, ids[0])] == 1 })
	staff.Must(http.StatusOK, "POST", meetingPath(county.ID, "cancel"), map[string]any{"reason": "改期"})
	ntWait(t, "the cancellation", func() bool {
		for _, m := range ntRobotTo(e, groupKey, title) {
			if strings.Contains(m, "例会取消") && strings.Contains(m, "改期") {
				return true
			}
		}
		return false
	})
	if len(ntRobotTo(e, groupKey, listTitle)) != 0 || len(ntSubscribedTo(e, listTitle)) != 1 {
		t.Fatalf("list meeting notice went to %v and the group %v", ntSubscribedTo(e, listTitle), ntRobotTo(e, groupKey, listTitle))
	}

	// A bulletin of the county reaches the county's instructor group, not the neighbour's.
	var b bulletinView
	staff.Must(http.StatusCreated, "POST", "/api/v1/bulletins", bulletinBody(nil)).JSON(t, &b)
	ntWait(t, "the bulletin", func() bool { return len(ntRobotTo(e, groupKey, b.Title)) == 1 })
	if msg := ntRobotTo(e, groupKey, b.Title)[0]; !strings.Contains(msg, "工作简报") || !strings.Contains(msg, area.CountyName) {
		t.Fatalf("bulletin message: %s", msg)
	}
	if len(ntRobotTo(e, otherKey, b.Title)) != 0 {
		t.Fatal("a bulletin reached a group outside its scope")
	}
}
