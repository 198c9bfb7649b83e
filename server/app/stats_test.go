package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/stats"
	"github.com/shiliu/shiliu/server/task"
	"github.com/shiliu/shiliu/server/training"
	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"
)

type statsItem struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	Count int64  `json:"count"`
}

type statsItems []statsItem

func (l statsItems) get(code string) int64 {
	for _, it := range l {
		if it.Code == code {
			return it.Count
		}
	}
	return -1
}

type overviewView struct {
	Region struct {
		Code  string `json:"code"`
		Name  string `json:"name"`
		Level string `json:"level"`
	} `json:"region"`
	From        string `json:"from"`
	To          string `json:"to"`
	Instructors struct {
		Total            int64      `json:"total"`
		Active           int64      `json:"active"`
		ByStatus         statsItems `json:"by_status"`
		ByUnitKind       statsItems `json:"by_unit_kind"`
		ByEthnicity      statsItems `json:"by_ethnicity"`
		BySourceCategory statsItems `json:"by_source_category"`
	} `json:"instructors"`
	Units struct {
		Total                   int64      `json:"total"`
		ByKind                  statsItems `json:"by_kind"`
		WithoutInstructor       int64      `json:"without_instructor"`
		WithoutInstructorSample []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"without_instructor_sample"`
	} `json:"units"`
	Records struct {
		Total   int64      `json:"total"`
		ByKind  statsItems `json:"by_kind"`
		ByMonth []struct {
			Month  string           `json:"month"`
			Total  int64            `json:"total"`
			ByKind map[string]int64 `json:"by_kind"`
		} `json:"by_month"`
	} `json:"records"`
	Tips struct {
		Total      int64 `json:"total"`
		Duplicates int64 `json:"duplicates"`
		ByLevel    []struct {
			Code    string     `json:"code"`
			Count   int64      `json:"count"`
			ByState statsItems `json:"by_state"`
		} `json:"by_level"`
		ByState     statsItems `json:"by_state"`
		Acknowledge struct {
			Count         int64    `json:"count"`
			MedianMinutes *float64 `json:"median_minutes"`
		} `json:"acknowledge"`
		Resolve struct {
			Count         int64    `json:"count"`
			MedianMinutes *float64 `json:"median_minutes"`
		} `json:"resolve"`
	} `json:"tips"`
	Mediations struct {
		Total             int64      `json:"total"`
		ByOutcome         statsItems `json:"by_outcome"`
		Settled           int64      `json:"settled"`
		PartlySettled     int64      `json:"partly_settled"`
		SettlementRate    *float64   `json:"settlement_rate"`
		PartlySettledRate *float64   `json:"partly_settled_rate"`
	} `json:"mediations"`
	Meetings struct {
		Meetings       int64    `json:"meetings"`
		Invitees       int64    `json:"invitees"`
		CheckedIn      int64    `json:"checked_in"`
		AttendanceRate *float64 `json:"attendance_rate"`
	} `json:"meetings"`
	Training *struct {
		Sessions          int64    `json:"sessions"`
		Attendances       int64    `json:"attendances"`
		TotalHours        float64  `json:"total_hours"`
		ActiveInstructors int64    `json:"active_instructors"`
		AverageHours      *float64 `json:"average_hours"`
	} `json:"training"`
	Inactive struct {
		Days   int   `json:"days"`
		Count  int64 `json:"count"`
		Sample []struct {
			ID           int64      `json:"id"`
			LastRecordAt *time.Time `json:"last_record_at"`
		} `json:"sample"`
	} `json:"inactive_instructors"`
}

func (o overviewView) month(m string) map[string]int64 {
	for _, mc := range o.Records.ByMonth {
		if mc.Month == m {
			return mc.ByKind
		}
	}
	return nil
}

type cardView struct {
	Instructor struct {
		ID        int64  `json:"id"`
		UnitName  string `json:"unit_name"`
		TermStart string `json:"term_start"`
	} `json:"instructor"`
	Year    *int `json:"year"`
	Periods []cardPeriodView
	Total   cardPeriodView `json:"total"`

	LastRecordAt   *time.Time `json:"last_record_at"`
	LastCheckinAt  *time.Time `json:"last_checkin_at"`
	LastActivityAt *time.Time `json:"last_activity_at"`
}

type cardPeriodView struct {
	Label   string `json:"label"`
	From    string `json:"from"`
	To      string `json:"to"`
	Records struct {
		Total  int64      `json:"total"`
		ByKind statsItems `json:"by_kind"`
	} `json:"records"`
	Tips struct {
		Reported int64      `json:"reported"`
		Resolved int64      `json:"resolved"`
		ByState  statsItems `json:"by_state"`
	} `json:"tips"`
	Mediations struct {
		Total          int64    `json:"total"`
		Settled        int64    `json:"settled"`
		PartlySettled  int64    `json:"partly_settled"`
		SettlementRate *float64 `json:"settlement_rate"`
	} `json:"mediations"`
	Meetings struct {
		Invited  int64 `json:"invited"`
		Attended int64 `json:"attended"`
	} `json:"meetings"`
	Training struct {
		Sessions int64   `json:"sessions"`
		Hours    float64 `json:"hours"`
	} `json:"training"`
	Tasks struct {
		Assigned int64 `json:"assigned"`
		Done     int64 `json:"done"`
		DoneLate int64 `json:"done_late"`
		Overdue  int64 `json:"overdue"`
	} `json:"tasks"`
}

func cstMonth(t time.Time) string { return t.In(clock.Shanghai).Format("2006-01") }

func TestStatsScopeMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	staffIn := expect{"county_in": 200, "city_in": 200, "province": 200, "county_out": 403, "city_out": 403,
		"instructor_self": 403, "instructor_other": 403, "anonymous": 401}
	own := expect{"county_in": 200, "city_in": 200, "province": 200, "county_out": 200, "city_out": 200,
		"instructor_self": 403, "instructor_other": 403, "anonymous": 401}
	card := expect{"county_in": 200, "city_in": 200, "province": 200, "county_out": 404, "city_out": 404,
		"instructor_self": 200, "instructor_other": 404, "anonymous": 401}
	a1 := "?region_code=" + w.area.County
	routes := []struct {
		path string
		want expect
	}{
		{"/api/v1/stats/overview" + a1, staffIn},
		{"/api/v1/stats/overview", own},
		{"/api/v1/stats/regions" + a1, staffIn},
		{"/api/v1/stats/regions", own},
		{"/api/v1/stats/overview.xlsx" + a1, staffIn},
		{"/api/v1/stats/overview.xlsx", own},
		{"/api/v1/stats/units-without-instructor" + a1, staffIn},
		{"/api/v1/stats/units-without-instructor", own},
		{"/api/v1/stats/inactive-instructors" + a1, staffIn},
		{"/api/v1/stats/inactive-instructors", own},
		{fmt.Sprintf("/api/v1/instructors/%d/performance-card", w.ins), card},
		{fmt.Sprintf("/api/v1/instructors/%d/performance-card?year=2025", w.ins), card},
	}
	for _, r := range routes {
		for name, c := range w.callers {
			res := c.Do("GET", r.path, nil)
			if res.Status != r.want[name] {
				t.Errorf("GET %s as %s: %d, want %d: %.300s", r.path, name, res.Status, r.want[name], res.Body)
				continue
			}
			if res.Status >= 400 {
				res.Err(t)
				if strings.Contains(string(res.Body), "测试") {
					t.Errorf("GET %s as %s leaked data: %s", r.path, name, res.Body)
				}
			}
		}
	}
	// The overview of one's own region names it; a city sees its county's instructor counted.
	var ov overviewView
	w.callers["county_out"].Must(200, "GET", "/api/v1/stats/overview", nil).JSON(t, &ov)
	if ov.Region.Code != w.area.Neighbour || ov.Region.Level != "county" {
		t.Errorf("default region: %+v", ov.Region)
	}
	w.callers["city_in"].Must(200, "GET", "/api/v1/stats/overview"+a1, nil).JSON(t, &ov)
	if ov.Region.Code != w.area.County || ov.Instructors.Active < 1 || ov.Units.Total < 1 {
		t.Errorf("the county seen by its city: %+v %+v", ov.Region, ov.Instructors)
	}
	// The instructor's fresh unit has an instructor; their card names them.
	var c cardView
	w.callers["instructor_self"].Must(200, "GET", fmt.Sprintf("/api/v1/instructors/%d/performance-card", w.ins), nil).JSON(t, &c)
	if c.Instructor.ID != w.ins || c.Instructor.UnitName == "" || len(c.Periods) == 0 {
		t.Errorf("own card: %+v", c)
	}
	// Reading someone's card is in the audit trail, under the instructor; the overview is not.
	province := w.callers["province"]
	read := province.Must(200, "GET", fmt.Sprintf("/api/v1/instructors/%d/performance-card", w.ins), nil)
	counts := province.Must(200, "GET", "/api/v1/stats/overview"+a1, nil)
	l := auditOf(t, apitest.Shared(t).Staff(t, "audit_admin", apitest.Province), url.Values{"account_id": {fmt.Sprint(accountID(t, province))}})
	if got, ok := l.find(read.Header.Get("X-Request-ID")); !ok || got.SubjectType != "instructor" ||
		got.SubjectID == nil || *got.SubjectID != w.ins || got.Status != 200 {
		t.Errorf("card read audited as %+v (%v)", got, ok)
	}
	if _, ok := l.find(counts.Header.Get("X-Request-ID")); ok {
		t.Errorf("the overview was audited")
	}
}

func TestStatsBadInput(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "city_staff", apitest.CityA)
	bad := []struct {
		path, field string
		status      int
	}{
		{"/api/v1/stats/overview?region_code=abc", "region_code", 400},
		{"/api/v1/stats/overview?region_code=139999000000", "region_code", 404},
		{"/api/v1/stats/overview?region_code=" + apitest.CityB, "region_code", 403},
		{"/api/v1/stats/overview?from=2025-13", "from", 400},
		{"/api/v1/stats/overview?from=1999-12", "from", 400},
		{"/api/v1/stats/overview?to=2025", "to", 400},
		{"/api/v1/stats/overview?from=2025-06&to=2025-05", "to", 400},
		{"/api/v1/stats/overview?from=2010-01&to=2025-01", "to", 400},
		{"/api/v1/stats/overview.xlsx?from=x", "from", 400},
		{"/api/v1/stats/overview.xlsx?region_code=" + apitest.CityB, "region_code", 403},
		{"/api/v1/stats/units-without-instructor?limit=0", "limit", 400},
		{"/api/v1/stats/units-without-instructor?cursor=zzz", "cursor", 400},
		{"/api/v1/stats/units-without-instructor?region_code=1301", "region_code", 400},
		{"/api/v1/stats/inactive-instructors?limit=101", "limit", 400},
		{"/api/v1/stats/inactive-instructors?region_code=" + apitest.CityB, "region_code", 403},
		{"/api/v1/instructors/1/performance-card?year=abc", "year", 400},
		{"/api/v1/instructors/1/performance-card?year=1999", "year", 400},
	}
	for _, b := range bad {
		r := staff.Do("GET", b.path, nil)
		if r.Status != b.status {
			t.Errorf("GET %s: %d, want %d: %s", b.path, r.Status, b.status, r.Body)
			continue
		}
		if e := r.Err(t); len(e.Details) == 0 || e.Details[0].Field != b.field {
			t.Errorf("GET %s: details %+v, want field %s", b.path, e.Details, b.field)
		}
	}
	for _, path := range []string{"/api/v1/instructors/abc/performance-card", "/api/v1/instructors/999999999/performance-card"} {
		staff.Must(http.StatusNotFound, "GET", path, nil).Err(t)
	}
}

// statsWorld is a county of a city of the test's own (the statistics count exactly) with its
// units, instructors, records, a meeting, a training session of the city and tasks, as
// TestStatsCounts builds it.
type statsWorld struct {
	e         *apitest.Env
	city      string
	area      apitest.Area    // the county counted: its first township, a village of it, a second township
	staff     *apitest.Client // the county's staff
	province  *apitest.Client
	ins       map[string]int64
	units     map[string]int64
	t0        time.Time
	recent    time.Time // an hour before t0
	earlier   time.Time // 40 days before t0
	longAgo   time.Time // 100 days before t0
	meetingAt time.Time
}

// Not parallel: servers minutes and hours ahead run their sweeps over every test's data.
func TestStatsCounts(t *testing.T) {
	e := apitest.Shared(t)
	t0 := e.Clock.Now()
	city := e.City(t)
	a := city.Counties[0]
	statsCounty, statsTownship, statsVillage, statsTown2 := a.County, a.Township(), a.Village, a.Townships[1]
	w := statsWorld{e: e, city: city.Code, area: a, staff: e.Staff(t, "county_staff", statsCounty), province: e.Staff(t, "province_staff", apitest.Province),
		ins: map[string]int64{}, units: map[string]int64{}, t0: t0,
		recent: t0.Add(-time.Hour), earlier: t0.AddDate(0, 0, -40), longAgo: t0.AddDate(0, 0, -100)}
	s := w.staff
	w.units["u1"] = s.Unit("village", statsVillage)
	w.units["u2"] = s.Unit("school", statsTownship)
	w.units["u3"] = s.Unit("enterprise", statsCounty)
	w.units["u4"] = s.Unit("community", statsTown2)
	w.units["u5"] = s.Unit("village", statsTown2)
	w.units["u6"] = s.Unit("religious_venue", statsTown2)

	person := func(unit int64, ethnicity, source string) map[string]any {
		b := apitest.InstructorBody(unit)
		b["ethnicity"], b["source_category"] = ethnicity, source
		return b
	}
	bind := func(id int64) *apitest.Client {
		var tok apitest.Tokens
		e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{
			"bind_ticket": e.BindTicket(t), "invite_code": s.Invite(id)}).JSON(t, &tok)
		return e.As(t, tok.AccessToken)
	}
	create := func(name string, body map[string]any) *apitest.Client {
		w.ins[name] = apitest.ID(t, s.Must(http.StatusCreated, "POST", "/api/v1/instructors", body))
		return bind(w.ins[name])
	}
	i1 := create("i1", person(w.units["u1"], "03", "village_committee"))
	i2 := create("i2", person(w.units["u1"], "01", "mediator"))
	create("i3", person(w.units["u2"], "03", "org_head"))
	suspended := person(w.units["u2"], "11", "township_cadre")
	suspended["status"] = "suspended"
	w.ins["i4"] = apitest.ID(t, s.Must(http.StatusCreated, "POST", "/api/v1/instructors", suspended))
	i5 := create("i5", person(w.units["u3"], "01", "village_committee"))
	i6 := create("i6", person(w.units["u4"], "11", "other"))

	at := func(tm time.Time) string { return tm.In(clock.Shanghai).Format(time.RFC3339) }
	submit := func(c *apitest.Client, kind string, when time.Time, edit func(map[string]any)) int64 {
		b := apitest.RecordBody(kind, at(when))
		if edit != nil {
			edit(b)
		}
		return c.Submit(kind, b)
	}
	level := func(lv string) func(map[string]any) {
		return func(b map[string]any) { b["tip"].(map[string]any)["level"] = lv }
	}
	outcome := func(o string) func(map[string]any) {
		return func(b map[string]any) { b["mediation"].(map[string]any)["outcome"] = o }
	}
	submit(i1, "visit", w.recent, nil)
	submit(i1, "visit", w.earlier, nil)
	submit(i1, "sentiment", w.recent, nil)
	tipA := submit(i1, "tip", w.recent, level("general"))
	tipB := submit(i1, "tip", w.recent, level("serious"))
	submit(i1, "mediation", w.recent, outcome("settled"))
	submit(i1, "mediation", w.recent, outcome("partly_settled"))
	v3 := submit(i2, "visit", w.recent, nil)
	tipC := submit(i2, "tip", w.recent, level("general"))
	m2 := submit(i2, "mediation", w.recent, outcome("partly_settled"))
	submit(i2, "mediation", w.recent, outcome("failed"))
	tipW := submit(i2, "tip", w.recent, level("major"))
	tipD := submit(i2, "tip", w.recent, level("general"))
	v4 := submit(i5, "visit", w.recent, nil)
	submit(i6, "visit", w.longAgo, nil)

	// Changes the aggregate follows: a withdrawal, an edit moving a record to another month, a
	// follow-up changing a mediation's outcome, a duplicate, acknowledgements and a resolution.
	i2.Must(http.StatusOK, "POST", recordPath("tip", tipW, "withdraw"), map[string]any{"reason": "重复提交"})
	i5.Must(http.StatusOK, "POST", recordPath("visit", v4, "withdraw"), map[string]any{"reason": "误报"})
	i2.Must(http.StatusOK, "PATCH", recordPath("visit", v3), map[string]any{"occurred_at": at(w.earlier)})
	s.Must(http.StatusCreated, "POST", recordPath("mediation", m2, "followups"), map[string]any{
		"visited_at": at(t0), "content": "回访双方,已按协议履行", "outcome": "settled"})
	s.Must(http.StatusOK, "POST", recordPath("tip", tipD, "duplicate"), map[string]any{"of": tipA})
	after := func(d time.Duration) *apitest.Client {
		return apitest.Another(t, clock.NewFake(t0.Add(d))).As(t, s.Token)
	}
	after(3*time.Minute).Must(http.StatusOK, "POST", recordPath("tip", tipB, "acknowledge"), map[string]any{})
	after(5*time.Minute).Must(http.StatusOK, "POST", recordPath("tip", tipC, "acknowledge"), map[string]any{})
	ten := after(10 * time.Minute)
	ten.Must(http.StatusOK, "POST", recordPath("tip", tipA, "acknowledge"), map[string]any{})
	ten.Must(http.StatusOK, "POST", recordPath("tip", tipB, "resolve"), map[string]any{"note": "已化解"})

	// A meeting of i1–i3 starting in ten minutes; i1 checks in from the meeting place.
	mv := createMeeting(t, s, meetingBody(e, 10*time.Minute, w.ins["i1"], w.ins["i2"], w.ins["i3"]))
	w.meetingAt = mv.StartsAt
	i1.Must(http.StatusOK, "POST", meetingPath(mv.ID, "checkin"), map[string]any{"latitude": nearLatitude, "longitude": 114.5149})

	// The session and the tasks are written underneath: their routes belong to another package's tests.
	db := e.DB()
	sess := training.Session{RegionCode: w.city, Title: "统计测试培训" + apitest.Unique(), Method: training.MethodLecture,
		Mode: training.ModeOffline, Place: city.Name, StartsAt: t0.AddDate(0, 0, -2), EndsAt: t0.AddDate(0, 0, -2).Add(3 * time.Hour),
		HoursTenths: 30, CreatedAt: t0, UpdatedAt: t0}
	must(t, db.Create(&sess).Error)
	// Attendance goes through the route, recorded and corrected, as the county keeps the tally:
	// i1 the whole session, i2 1.5 hours, i3 absent.
	for _, a := range []struct {
		name string
		body map[string]any
	}{
		{"i1", map[string]any{"attended": true, "hours": 1}},
		{"i3", map[string]any{"attended": true}},
		{"i2", map[string]any{"attended": true, "hours": 1.5}},
		{"i1", map[string]any{"attended": true}},
		{"i3", map[string]any{"attended": false}},
	} {
		a.body["instructor_id"] = w.ins[a.name]
		s.Must(http.StatusOK, "POST", trPath(sess.ID, "attendance"), a.body)
	}
	for i, tk := range []struct {
		due   time.Time
		state string
		done  *time.Time
	}{
		{t0.AddDate(0, 0, -3), task.StateDone, ptrTime(t0.AddDate(0, 0, -4))},
		{t0.AddDate(0, 0, -1), task.StateInProgress, nil},
		{t0.AddDate(0, 0, 5), task.StateAssigned, nil},
	} {
		tsk := task.Task{RegionCode: statsCounty, Title: fmt.Sprintf("统计测试任务%d", i), DueAt: tk.due, AssigneeCount: 1, CreatedAt: t0, UpdatedAt: t0}
		must(t, db.Create(&tsk).Error)
		must(t, db.Create(&task.Assignee{TaskID: tsk.ID, InstructorID: w.ins["i1"], UnitID: w.units["u1"], RegionCode: statsVillage,
			State: tk.state, DoneAt: tk.done, CreatedAt: t0, UpdatedAt: t0}).Error)
	}
	// i1's term began two years and two months ago: the records fall in its third year.
	termStart := time.Date(t0.In(clock.Shanghai).Year()-2, t0.In(clock.Shanghai).Month()-2, 1, 0, 0, 0, 0, time.UTC)
	must(t, db.Table("instructors").Where("id = ?", w.ins["i1"]).
		Updates(map[string]any{"term_start": termStart, "term_end": termStart.AddDate(3, 0, 0)}).Error)

	// After the meeting began, as the province sees the county.
	later := apitest.Another(t, clock.NewFake(t0.Add(11*time.Minute)))
	from, to := cstMonth(w.longAgo), cstMonth(t0)
	q := "?region_code=" + statsCounty + "&from=" + from + "&to=" + to
	var ov overviewView
	later.As(t, w.province.Token).Must(200, "GET", "/api/v1/stats/overview"+q, nil).JSON(t, &ov)
	checkCountyOverview(t, w, ov)

	// Once the meeting has ended (and settled), its attendance is counted once and kept.
	ended := apitest.Another(t, clock.NewFake(t0.Add(3*time.Hour))).Staff(t, "province_staff", apitest.Province)
	for range 2 {
		var o overviewView
		ended.Must(200, "GET", "/api/v1/stats/overview"+q, nil).JSON(t, &o)
		if mt := o.Meetings; mt.Meetings != 1 || mt.Invitees != 3 || mt.CheckedIn != 1 {
			t.Errorf("meetings after the end: %+v", mt)
		}
	}
	var kept []stats.MeetingCount
	must(t, db.Where("meeting_id = ?", mv.ID).Find(&kept).Error)
	if len(kept) != 1 || kept[0].Invitees != 3 || kept[0].CheckedIn != 1 || kept[0].RegionCode != statsCounty {
		t.Errorf("kept attendance: %+v", kept)
	}

	// The county staff see the same; the township and the village count only what lies in them.
	var same overviewView
	later.As(t, s.Token).Must(200, "GET", "/api/v1/stats/overview"+q, nil).JSON(t, &same)
	if jsonOf(t, same.Records, same.Tips, same.Instructors) != jsonOf(t, ov.Records, ov.Tips, ov.Instructors) {
		t.Errorf("county staff see other numbers than the province:\n%+v\n%+v", same, ov)
	}
	var town overviewView
	later.As(t, s.Token).Must(200, "GET", "/api/v1/stats/overview?region_code="+statsTownship+"&from="+from+"&to="+to, nil).JSON(t, &town)
	if town.Region.Level != "township" || town.Instructors.Total != 4 || town.Instructors.Active != 3 ||
		town.Records.Total != 12 || town.Tips.Total != 3 || town.Mediations.Total != 4 || town.Units.Total != 2 ||
		town.Meetings.Meetings != 1 || town.Meetings.Invitees != 3 || town.Meetings.CheckedIn != 1 ||
		town.Training.TotalHours != 4.5 || town.Inactive.Count != 1 {
		t.Errorf("township: %+v", town)
	}
	var village overviewView
	later.As(t, s.Token).Must(200, "GET", "/api/v1/stats/overview?region_code="+statsVillage+"&from="+from+"&to="+to, nil).JSON(t, &village)
	if village.Region.Level != "village" || village.Instructors.Active != 2 || village.Records.Total != 12 ||
		village.Meetings.Invitees != 2 || village.Meetings.CheckedIn != 1 || village.Inactive.Count != 0 {
		t.Errorf("village: %+v", village)
	}
	// Before the meeting began it does not count; a period without records counts nothing.
	var before overviewView
	s.Must(200, "GET", "/api/v1/stats/overview"+q, nil).JSON(t, &before)
	if before.Meetings.Meetings != 0 || before.Meetings.AttendanceRate != nil {
		t.Errorf("meeting counted before it began: %+v", before.Meetings)
	}
	var empty overviewView
	s.Must(200, "GET", "/api/v1/stats/overview?from=2001-01&to=2001-12", nil).JSON(t, &empty)
	if empty.Records.Total != 0 || len(empty.Records.ByMonth) != 12 || empty.Tips.Acknowledge.MedianMinutes != nil ||
		empty.Mediations.SettlementRate != nil || empty.Instructors.Active != 5 {
		t.Errorf("empty period: %+v", empty)
	}

	checkWorkbook(t, w, later, q)
	checkCard(t, w, later)
	checkStatsLists(t, w)

	// Rebuilding from the records changes nothing; after losing the county's aggregate and facts
	// it restores them.
	ctx := context.Background()
	later.As(t, s.Token).Must(200, "GET", "/api/v1/stats/overview"+q, nil).JSON(t, &ov)
	if _, err := stats.Rebuild(ctx, db); err != nil {
		t.Fatal(err)
	}
	var rebuilt overviewView
	later.As(t, s.Token).Must(200, "GET", "/api/v1/stats/overview"+q, nil).JSON(t, &rebuilt)
	if jsonOf(t, rebuilt.Records, rebuilt.Tips, rebuilt.Mediations, rebuilt.Inactive) != jsonOf(t, ov.Records, ov.Tips, ov.Mediations, ov.Inactive) {
		t.Errorf("rebuild changed the numbers:\n%+v\n%+v", rebuilt, ov)
	}
	// The test's own city and county, whichever the allocator gave: spelled out, they were another
	// test's once the allocator handed out cities in another order, and the rebuild (which re-adds
	// only missing facts) left that test's cells empty.
	must(t, db.Exec("DELETE FROM stats_record_facts WHERE region_code LIKE ?", w.area.County[:6]+"%").Error)
	must(t, db.Exec("DELETE FROM stats_monthly WHERE region_code LIKE ?", w.city[:4]+"%").Error)
	must(t, db.Exec("UPDATE instructors SET last_record_at = NULL WHERE id IN ?", []int64{w.ins["i1"], w.ins["i6"]}).Error)
	if _, err := stats.Rebuild(ctx, db); err != nil {
		t.Fatal(err)
	}
	later.As(t, s.Token).Must(200, "GET", "/api/v1/stats/overview"+q, nil).JSON(t, &rebuilt)
	if jsonOf(t, rebuilt.Records, rebuilt.Tips, rebuilt.Mediations, rebuilt.Inactive) !=
		jsonOf(t, ov.Records, ov.Tips, ov.Mediations, ov.Inactive) {
		t.Errorf("rebuild did not restore the numbers:\n%+v\n%+v", rebuilt, ov)
	}
}

func checkCountyOverview(t *testing.T, w statsWorld, ov overviewView) {
	t.Helper()
	in := ov.Instructors
	if ov.Region.Code != w.area.County || ov.Region.Name != w.area.CountyName || ov.Region.Level != "county" {
		t.Errorf("region: %+v", ov.Region)
	}
	if in.Total != 6 || in.Active != 5 || in.ByStatus.get("active") != 5 || in.ByStatus.get("suspended") != 1 ||
		in.ByStatus.get("dismissed") != 0 {
		t.Errorf("instructors by status: %+v", in)
	}
	if in.ByEthnicity.get("03") != 2 || in.ByEthnicity.get("01") != 2 || in.ByEthnicity.get("11") != 1 || len(in.ByEthnicity) != 3 {
		t.Errorf("by ethnicity: %+v", in.ByEthnicity)
	}
	for _, it := range in.ByEthnicity {
		if it.Code == "03" && it.Label != "回族" {
			t.Errorf("ethnicity label: %+v", it)
		}
	}
	if in.BySourceCategory.get("village_committee") != 2 || in.BySourceCategory.get("mediator") != 1 ||
		in.BySourceCategory.get("org_head") != 1 || in.BySourceCategory.get("other") != 1 || in.BySourceCategory.get("township_cadre") != 0 {
		t.Errorf("by source: %+v", in.BySourceCategory)
	}
	if in.ByUnitKind.get("village") != 2 || in.ByUnitKind.get("school") != 1 || in.ByUnitKind.get("enterprise") != 1 ||
		in.ByUnitKind.get("community") != 1 || in.ByUnitKind.get("religious_venue") != 0 {
		t.Errorf("by unit kind: %+v", in.ByUnitKind)
	}
	u := ov.Units
	if u.Total != 6 || u.WithoutInstructor != 2 || u.ByKind.get("village") != 2 || len(u.WithoutInstructorSample) != 2 ||
		u.WithoutInstructorSample[0].ID != w.units["u6"] || u.WithoutInstructorSample[1].ID != w.units["u5"] {
		t.Errorf("units: %+v", u)
	}

	r := ov.Records
	if r.Total != 13 || r.ByKind.get("visit") != 4 || r.ByKind.get("sentiment") != 1 || r.ByKind.get("tip") != 4 || r.ByKind.get("mediation") != 4 {
		t.Errorf("records by kind: %+v", r.ByKind)
	}
	if ov.From != cstMonth(w.longAgo) || ov.To != cstMonth(w.t0) || r.ByMonth[0].Month != ov.From || r.ByMonth[len(r.ByMonth)-1].Month != ov.To {
		t.Errorf("months: %s–%s %+v", ov.From, ov.To, r.ByMonth)
	}
	now, earlier, longAgo := ov.month(cstMonth(w.recent)), ov.month(cstMonth(w.earlier)), ov.month(cstMonth(w.longAgo))
	if now["visit"] != 1 || now["sentiment"] != 1 || now["tip"] != 4 || now["mediation"] != 4 || earlier["visit"] != 2 || longAgo["visit"] != 1 {
		t.Errorf("by month: %+v", r.ByMonth)
	}

	tp := ov.Tips
	if tp.Total != 3 || tp.Duplicates != 1 || tp.ByState.get("acknowledged") != 2 || tp.ByState.get("resolved") != 1 ||
		tp.ByState.get("submitted") != 0 || tp.ByState.get("withdrawn") != 0 {
		t.Errorf("tips: %+v", tp)
	}
	for _, lv := range tp.ByLevel {
		want := map[string][2]int64{"general": {2, 2}, "serious": {1, 0}, "major": {0, 0}, "critical": {0, 0}}[lv.Code]
		if lv.Count != want[0] || lv.ByState.get("acknowledged") != want[1] {
			t.Errorf("tips of level %s: %+v", lv.Code, lv)
		}
	}
	// Acknowledged after 3, 5 and 10 minutes: the median is in the 5-minute bucket; resolved after 10.
	if a := tp.Acknowledge; a.Count != 3 || a.MedianMinutes == nil || *a.MedianMinutes < 5 || *a.MedianMinutes >= 6 {
		t.Errorf("acknowledge: %+v %v", a, deref(a.MedianMinutes))
	}
	if z := tp.Resolve; z.Count != 1 || z.MedianMinutes == nil || *z.MedianMinutes < 10 || *z.MedianMinutes >= 12 {
		t.Errorf("resolve: %+v %v", z, deref(z.MedianMinutes))
	}

	m := ov.Mediations
	if m.Total != 4 || m.Settled != 2 || m.PartlySettled != 1 || m.ByOutcome.get("failed") != 1 || m.ByOutcome.get("referred") != 0 ||
		deref(m.SettlementRate) != 0.5 || deref(m.PartlySettledRate) != 0.25 {
		t.Errorf("mediations: %+v", m)
	}
	if mt := ov.Meetings; mt.Meetings != 1 || mt.Invitees != 3 || mt.CheckedIn != 1 || deref(mt.AttendanceRate) != 0.3333 {
		t.Errorf("meetings: %+v", mt)
	}
	if tr := ov.Training; tr == nil || tr.Sessions != 1 || tr.TotalHours != 4.5 || tr.Attendances != 2 ||
		tr.ActiveInstructors != 5 || deref(tr.AverageHours) != 0.9 {
		t.Errorf("training: %+v", tr)
	}
	// i3 has no record, i5 only a withdrawn one, i6 none in 90 days.
	idle := ov.Inactive
	ids := []int64{}
	for _, s := range idle.Sample {
		ids = append(ids, s.ID)
	}
	if idle.Days != 90 || idle.Count != 3 || !slices.Equal(ids, []int64{w.ins["i6"], w.ins["i5"], w.ins["i3"]}) ||
		idle.Sample[0].LastRecordAt == nil || !idle.Sample[0].LastRecordAt.Equal(w.longAgo.Truncate(time.Second)) ||
		idle.Sample[1].LastRecordAt != nil {
		t.Errorf("inactive: %+v (want %d %d %d)", idle, w.ins["i6"], w.ins["i5"], w.ins["i3"])
	}
}

func checkStatsLists(t *testing.T, w statsWorld) {
	t.Helper()
	var page struct {
		Items []struct {
			ID         int64  `json:"id"`
			Name       string `json:"name"`
			KindName   string `json:"kind_name"`
			RegionName string `json:"region_name"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	base := "/api/v1/stats/units-without-instructor?region_code=" + w.area.County
	w.province.Must(200, "GET", base+"&limit=1", nil).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != w.units["u6"] || page.Items[0].KindName != "宗教活动场所" ||
		page.Items[0].RegionName != w.area.TownshipNames[1] || page.NextCursor == "" {
		t.Fatalf("first page: %+v", page)
	}
	w.province.Must(200, "GET", base+"&limit=1&cursor="+page.NextCursor, nil).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != w.units["u5"] || page.NextCursor != "" {
		t.Fatalf("second page: %+v", page)
	}
	// A unit with an instructor again leaves the list.
	w.staff.Must(http.StatusCreated, "POST", "/api/v1/instructors", apitest.InstructorBody(w.units["u5"]))
	w.staff.Must(200, "GET", "/api/v1/stats/units-without-instructor", nil).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != w.units["u6"] {
		t.Fatalf("after appointing to u5: %+v", page)
	}

	var idle struct {
		Items []struct {
			ID           int64      `json:"id"`
			UnitName     string     `json:"unit_name"`
			RegionName   string     `json:"region_name"`
			LastRecordAt *time.Time `json:"last_record_at"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	w.staff.Must(200, "GET", "/api/v1/stats/inactive-instructors?region_code="+w.area.Townships[1]+"&limit=100", nil).JSON(t, &idle)
	// The instructor just appointed to u5 has no record either.
	if len(idle.Items) != 2 || idle.Items[1].ID != w.ins["i6"] || idle.Items[1].UnitName == "" || idle.Items[1].LastRecordAt == nil ||
		idle.Items[1].RegionName != w.area.TownshipNames[1] || idle.NextCursor != "" {
		t.Fatalf("inactive in %s: %+v", w.area.TownshipNames[1], idle)
	}
	w.staff.Must(200, "GET", "/api/v1/stats/inactive-instructors?limit=2", nil).JSON(t, &idle)
	if len(idle.Items) != 2 || idle.NextCursor == "" {
		t.Fatalf("inactive, first page: %+v", idle)
	}
	w.staff.Must(200, "GET", "/api/v1/stats/inactive-instructors?limit=2&cursor="+idle.NextCursor, nil).JSON(t, &idle)
	if len(idle.Items) != 2 || idle.Items[1].ID != w.ins["i3"] || idle.NextCursor != "" {
		t.Fatalf("inactive, second page: %+v", idle)
	}
}

func checkCard(t *testing.T, w statsWorld, later *apitest.Env) {
	t.Helper()
	path := fmt.Sprintf("/api/v1/instructors/%d/performance-card", w.ins["i1"])
	var c cardView
	later.As(t, w.staff.Token).Must(200, "GET", path, nil).JSON(t, &c)
	if len(c.Periods) != 3 || c.Periods[0].Label != "任期第1年" || c.Periods[2].Label != "任期第3年" || c.Year != nil ||
		c.Periods[0].From != c.Instructor.TermStart {
		t.Fatalf("term periods: %+v", c)
	}
	third := c.Periods[2]
	for i, p := range []cardPeriodView{third, c.Total} {
		if p.Records.Total != 7 || p.Records.ByKind.get("visit") != 2 || p.Records.ByKind.get("tip") != 2 ||
			p.Tips.Reported != 2 || p.Tips.Resolved != 1 || p.Tips.ByState.get("acknowledged") != 1 ||
			p.Mediations.Total != 2 || p.Mediations.Settled != 1 || p.Mediations.PartlySettled != 1 || deref(p.Mediations.SettlementRate) != 0.5 ||
			p.Meetings.Invited != 1 || p.Meetings.Attended != 1 || p.Training.Sessions != 1 || p.Training.Hours != 3 ||
			p.Tasks.Assigned != 3 || p.Tasks.Done != 1 || p.Tasks.DoneLate != 0 || p.Tasks.Overdue != 1 {
			t.Errorf("card period %d: %+v", i, p)
		}
	}
	if c.Periods[0].Records.Total != 0 || c.Total.Label != "合计" {
		t.Errorf("first year, total: %+v %+v", c.Periods[0], c.Total)
	}
	if c.LastRecordAt == nil || !c.LastRecordAt.Equal(w.recent.Truncate(time.Second)) || c.LastCheckinAt == nil ||
		c.LastActivityAt == nil || !c.LastActivityAt.Equal(*c.LastCheckinAt) {
		t.Errorf("last activity: %v %v %v", c.LastRecordAt, c.LastCheckinAt, c.LastActivityAt)
	}
	// One calendar year; the instructor reads their own card.
	y := w.t0.In(clock.Shanghai).Year()
	earlier := map[bool]int64{true: 1, false: 0}[w.earlier.In(clock.Shanghai).Year() == y]
	later.As(t, w.staff.Token).Must(200, "GET", fmt.Sprintf("%s?year=%d", path, y), nil).JSON(t, &c)
	if c.Year == nil || *c.Year != y || len(c.Periods) != 1 || c.Periods[0].Label != fmt.Sprintf("%d年", y) ||
		c.Periods[0].From != fmt.Sprintf("%d-01-01", y) || c.Periods[0].To != fmt.Sprintf("%d-12-31", y) || c.Periods[0].Records.Total != 6+earlier {
		t.Errorf("calendar year card: %+v", c)
	}
	w.staff.Must(200, "GET", path+"?year=2001", nil).JSON(t, &c)
	if c.Total.Records.Total != 0 || c.Total.Meetings.Invited != 0 || c.Total.Mediations.SettlementRate != nil {
		t.Errorf("card of 2001: %+v", c.Total)
	}
}

func checkWorkbook(t *testing.T, w statsWorld, later *apitest.Env, q string) {
	t.Helper()
	r := later.As(t, w.province.Token).Must(200, "GET", "/api/v1/stats/overview.xlsx"+q, nil)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.openxmlformats") {
		t.Fatalf("content type %q", ct)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"概况", "指导员状态", "单位类型", "民族", "选聘范围", "记录按月", "五大员角色", "标签", "风险线索", "调解结果", "无在任指导员的单位", "90天无记录的指导员"}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets %v", got)
	}
	rows := func(sheet string) [][]string {
		rs, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	summary := map[string]string{}
	for _, row := range rows("概况") {
		if len(row) == 2 {
			summary[row[0]] = row[1]
		}
	}
	if summary["统计区域"] != w.area.CountyName || summary["在任指导员"] != "5" || summary["记录总数(不含已撤回)"] != "13" ||
		summary["调解成功率"] != "50.00%" || summary["签到人次"] != "1" || summary["培训总学时"] != "4.5" {
		t.Errorf("summary sheet: %v", summary)
	}
	months := rows("记录按月")
	if head := months[0]; !slices.Equal(head, []string{"月份", "走访日志", "民情报告", "风险隐患线索", "矛盾纠纷调解记录", "合计"}) {
		t.Errorf("month headers: %v", head)
	}
	if last := months[len(months)-1]; !slices.Equal(last, []string{"合计", "4", "1", "4", "4", "13"}) {
		t.Errorf("month totals: %v", last)
	}
	// every record serves one role: the roles add up to the records
	if roles := rows("五大员角色"); len(roles) != 7 || roles[1][0] != "政治引领员" || !slices.Equal(roles[6][:2], []string{"合计", "13"}) {
		t.Errorf("role sheet: %v", roles)
	}
	if tags := rows("标签"); len(tags) != 7 || tags[1][0] != "石榴花开" {
		t.Errorf("tag sheet: %v", tags)
	}
	if eth := rows("民族"); eth[1][0] != "汉族" || eth[1][1] != "2" || eth[len(eth)-1][1] != "5" {
		t.Errorf("ethnicity sheet: %v", eth)
	}
	if units := rows("无在任指导员的单位"); len(units) != 3 || units[1][2] != "宗教活动场所" {
		t.Errorf("units sheet: %v", units)
	}
	if idle := rows("90天无记录的指导员"); len(idle) != 4 || idle[0][1] != "姓名" {
		t.Errorf("inactive sheet: %v", idle)
	}
}

// TestStatsAggregateMatchesRecords recounts every record the tests of this binary have written
// so far (a record of each kind of its own among them), straight from the records, and compares
// it with the aggregate the record hook kept. TestMain compares again after all the tests.
// Not parallel: it compares every record with the aggregate, and needs no writes meanwhile.
func TestStatsAggregateMatchesRecords(t *testing.T) {
	e := apitest.Shared(t)
	area := e.Area(t)
	staff := e.Staff(t, "county_staff", area.County)
	author, _ := e.InstructorClient(t, staff, staff.Unit("village", area.Township()))
	for _, kind := range []string{"visit", "sentiment", "tip", "mediation"} {
		author.Submit(kind, apitest.RecordBody(kind, phoneTime(e, -time.Hour)))
	}
	if n := checkAggregate(t, e.DB(), ""); n < 4 {
		t.Errorf("%d records compared, want at least the test's own 4", n)
	}
}

// Submissions at once, most of them in one busy county, the rest in four others: they update
// different slots of the county's and city's cells, and whatever the interleaving each cell still
// sums to a count of the records; every stored record has its audit entry. 10,000 submissions
// from 64 phones (400 with -short).
func TestStatsStayExactUnderConcurrentSubmissions(t *testing.T) {
	total := 10_000
	if testing.Short() {
		total = 400
	}
	// On a database of the test's own, so that the shared server's dispatcher is not left with
	// thousands of events to work through while later tests wait for theirs. Notifications are not
	// what this test is about: its own server delivers none. Its regions are its own there: a
	// township of each of the first five counties of the region table, the first one busy.
	e := apitest.Isolated(t, func(c *config.Config) { c.Notify.DispatchInServe = false })
	towns := firstTownships(t, e, 5)
	busy, others := towns[0], towns[1:]
	type phone struct {
		token  string
		county string
	}
	var phones []phone
	for i := range 64 {
		township := busy
		if i%2 == 1 {
			township = others[i/2%len(others)]
		}
		staff := e.Staff(t, "county_staff", township[:6]+"000000")
		unit := staff.Unit("village", township)
		c, _ := e.InstructorClient(t, staff, unit)
		phones = append(phones, phone{c.Token, township[:6] + "000000"})
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(phones)}, Timeout: time.Minute}
	kinds := []string{"visit", "tip", "sentiment", "mediation"}
	var created sync.Map // id → county
	var failed atomic.Int64
	began := time.Now()
	var wg sync.WaitGroup
	for i, p := range phones {
		n := total / len(phones)
		if i < total%len(phones) {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				kind := kinds[(i+j)%len(kinds)]
				// Over three months, so several months' cells are written.
				body := apitest.RecordBody(kind, phoneTime(e, -time.Duration(j%90)*24*time.Hour-time.Hour))
				status, out := postJSON(hc, e.URL+"/api/v1/"+apitest.RecordPaths[kind], p.token, body)
				var v struct {
					ID int64 `json:"id"`
				}
				if status != http.StatusCreated || json.Unmarshal(out, &v) != nil || v.ID == 0 {
					if failed.Add(1) <= 5 {
						t.Errorf("submission: %d %.300s", status, out)
					}
					continue
				}
				created.Store(v.ID, p.county)
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	t.Logf("%d submissions from %d phones in %s: %.0f/s (%s)", total, len(phones), took.Round(time.Millisecond),
		float64(total)/took.Seconds(), apitest.Backend())
	if failed.Load() > 0 {
		t.Fatalf("%d submissions failed", failed.Load())
	}
	perCounty := map[string]int{}
	created.Range(func(_, county any) bool {
		perCounty[county.(string)]++
		return true
	})
	for county, want := range perCounty {
		if n := checkAggregate(t, e.DB(), county); n != want {
			t.Errorf("%s: compared %d records, %d were created", county, n, want)
		}
	}
	if len(perCounty) != 5 {
		t.Errorf("counties: %v", perCounty)
	}
	checkAudited(t, e.DB(), append([]string{busy}, others...))
}

// checkAudited checks that every record of the townships has its audit entry, the 201 of its
// submission.
func checkAudited(t *testing.T, db *gorm.DB, townships []string) {
	t.Helper()
	for _, township := range townships {
		var recs, audited int64
		must(t, db.Raw("SELECT COUNT(*) FROM records WHERE region_code = ?", township).Scan(&recs).Error)
		must(t, db.Raw(`SELECT COUNT(DISTINCT r.id) FROM records r JOIN audit_log a ON a.subject_id = r.id AND a.subject_type = r.kind
			WHERE r.region_code = ? AND a.status = 201 AND a.action LIKE 'POST /api/v1/%'`, township).Scan(&audited).Error)
		if recs == 0 || audited != recs {
			t.Errorf("%s: %d records, %d with the audit entry of their submission", township, recs, audited)
		}
	}
}

// postJSON posts a JSON body outside the contract check (thousands of requests at once).
func postJSON(hc *http.Client, url, token string, body any) (int, []byte) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, []byte(err.Error())
	}
	req, err := http.NewRequest("POST", url, bytes.NewReader(b))
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, []byte(err.Error())
	}
	return resp.StatusCode, out
}

// checkAggregate compares the county cells of the aggregate (summed over their slots) with a
// count of the records, for the counties whose code starts with prefix ("" for all), and returns
// how many records it counted.
func checkAggregate(t *testing.T, db *gorm.DB, prefix string) int {
	t.Helper()
	counted, mismatches, err := aggregateMismatches(db, prefix)
	must(t, err)
	for _, m := range mismatches {
		t.Error(m)
	}
	return counted
}

// aggregateMismatches is checkAggregate's comparison: the records counted, and a line for each
// cell the aggregate and the records disagree on.
func aggregateMismatches(db *gorm.DB, prefix string) (int, []string, error) {
	var recs []record.Record
	if err := db.Select("id", "kind", "region_code", "occurred_at", "status", "role", "tags").Where("region_code LIKE ?", prefix[:min(6, len(prefix))]+"%").Find(&recs).Error; err != nil {
		return 0, nil, err
	}
	var tips []record.Tip
	if err := db.Find(&tips).Error; err != nil {
		return 0, nil, err
	}
	var meds []record.Mediation
	if err := db.Select("record_id", "outcome").Find(&meds).Error; err != nil {
		return 0, nil, err
	}
	tipOf := map[int64]record.Tip{}
	for _, tp := range tips {
		tipOf[tp.RecordID] = tp
	}
	outcome := map[int64]string{}
	for _, m := range meds {
		outcome[m.RecordID] = m.Outcome
	}
	want := map[string]int64{}
	counted := 0
	for _, r := range recs {
		if r.Status == record.StatusWithdrawn {
			continue
		}
		counted++
		month := r.OccurredAt.In(clock.Shanghai).Format("200601")
		county := r.RegionCode[:6] + "000000"
		want[county+" "+month+" r:"+r.Kind]++
		if tp, ok := tipOf[r.ID]; ok && tp.DuplicateOf == nil {
			want[county+" "+month+" t:"+tp.Level+":"+r.Status]++
		}
		if o, ok := outcome[r.ID]; ok {
			want[county+" "+month+" m:"+o]++
		}
		if r.Role != "" {
			want[county+" "+month+" role:"+r.Role]++
		}
		for _, tag := range record.SplitTags(r.Tags) {
			want[county+" "+month+" tag:"+tag]++
		}
	}
	var rows []stats.Count
	if err := db.Where("grain = ? AND n <> 0 AND (metric LIKE 'r:%' OR metric LIKE 'm:%' OR (metric LIKE 't:%' AND metric <> 't:dup') OR metric LIKE 'role:%' OR metric LIKE 'tag:%')",
		stats.GrainCounty).Where("region_code LIKE ?", prefix[:min(6, len(prefix))]+"%").Find(&rows).Error; err != nil {
		return 0, nil, err
	}
	got := map[string]int64{}
	for _, c := range rows {
		got[fmt.Sprintf("%s %d %s", c.RegionCode, c.Month, c.Metric)] += c.N // a cell is the sum of its slots
	}
	var mismatches []string
	for k, n := range want {
		if got[k] != n {
			mismatches = append(mismatches, fmt.Sprintf("%s: aggregate %d, records %d", k, got[k], n))
		}
	}
	for k, n := range got {
		if want[k] != n {
			mismatches = append(mismatches, fmt.Sprintf("%s: aggregate %d, records %d", k, n, want[k]))
		}
	}
	slices.Sort(mismatches)
	return counted, mismatches, nil
}

func jsonOf(t *testing.T, v ...any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

func deref(f *float64) float64 {
	if f == nil {
		return -1
	}
	return *f
}

// firstTownships reads the region table for the first township of each of the first n counties.
func firstTownships(t *testing.T, e *apitest.Env, n int) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	cities, err := e.App.Regions.Children(ctx, apitest.Province)
	if err != nil {
		t.Fatal(err)
	}
	for _, city := range cities {
		counties, err := e.App.Regions.Children(ctx, city.Code)
		if err != nil {
			t.Fatal(err)
		}
		for _, county := range counties {
			towns, err := e.App.Regions.Children(ctx, county.Code)
			if err != nil {
				t.Fatal(err)
			}
			if len(towns) > 0 {
				out = append(out, towns[0].Code)
			}
			if len(out) == n {
				return out
			}
		}
	}
	t.Fatalf("the region table has fewer than %d counties with a township", n)
	return nil
}
