package app_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
)

type trPlan struct {
	ID           int64   `json:"id"`
	Year         int     `json:"year"`
	Title        string  `json:"title"`
	Goals        string  `json:"goals"`
	RegionCode   string  `json:"region_code"`
	RegionName   string  `json:"region_name"`
	SessionCount int64   `json:"session_count"`
	Hours        float64 `json:"hours"`
}

type trEnrolment struct {
	InstructorID int64      `json:"instructor_id"`
	Name         string     `json:"name"`
	UnitName     string     `json:"unit_name"`
	RegionCode   string     `json:"region_code"`
	Status       string     `json:"status"`
	Hours        float64    `json:"hours"`
	RecordedAt   *time.Time `json:"recorded_at"`
}

type trSession struct {
	ID         int64        `json:"id"`
	PlanID     *int64       `json:"plan_id"`
	Year       int          `json:"year"`
	Title      string       `json:"title"`
	Method     string       `json:"method"`
	MethodName string       `json:"method_name"`
	Mode       string       `json:"mode"`
	Place      string       `json:"place"`
	URL        string       `json:"url"`
	Hours      float64      `json:"hours"`
	RegionCode string       `json:"region_code"`
	RegionName string       `json:"region_name"`
	Enrolled   int64        `json:"enrolled"`
	Attended   int64        `json:"attended"`
	Mine       *trEnrolment `json:"mine"`
}

type trSessionList struct {
	Items []trSession `json:"items"`
}

func (l trSessionList) has(id int64) bool {
	return slices.ContainsFunc(l.Items, func(s trSession) bool { return s.ID == id })
}

type trEnrolmentList struct {
	SessionID int64         `json:"session_id"`
	Items     []trEnrolment `json:"items"`
}

func (l trEnrolmentList) ids() []int64 {
	var out []int64
	for _, e := range l.Items {
		out = append(out, e.InstructorID)
	}
	slices.Sort(out)
	return out
}

type trHours struct {
	Year        int     `json:"year"`
	Instructors int64   `json:"instructors"`
	Trained     int64   `json:"trained"`
	TotalHours  float64 `json:"total_hours"`
	Items       []struct {
		InstructorID int64   `json:"instructor_id"`
		Name         string  `json:"name"`
		UnitName     string  `json:"unit_name"`
		Year         int     `json:"year"`
		Sessions     int64   `json:"sessions"`
		Hours        float64 `json:"hours"`
	} `json:"items"`
}

type trMine struct {
	Year     int         `json:"year"`
	Sessions int64       `json:"sessions"`
	Hours    float64     `json:"hours"`
	Items    []trSession `json:"items"`
}

// trainingWorld is city A's training office with instructors in county A1 (two) and A2 (one),
// an instructor of county B1, and staff around them.
type trainingWorld struct {
	e        *apitest.Env
	city     *apitest.Client
	callers  map[string]*apitest.Client
	a1       []*apitest.Client
	a1IDs    []int64
	a2       *apitest.Client
	a2ID     int64
	outsider *apitest.Client
	outID    int64
	// start is when the sessions of the test began (three hours ago), year its year in China.
	start time.Time
	year  int
}

func newTrainingWorld(t *testing.T) trainingWorld {
	t.Helper()
	e := apitest.Shared(t)
	w := trainingWorld{e: e, callers: map[string]*apitest.Client{
		"county_in":  e.Staff(t, "county_staff", apitest.CountyA1),
		"county_out": e.Staff(t, "county_staff", apitest.CountyA2),
		"city_in":    e.Staff(t, "city_staff", apitest.CityA),
		"city_out":   e.Staff(t, "city_staff", apitest.CityB),
		"province":   e.Staff(t, "province_staff", apitest.Province),
		"anonymous":  e.Anon(t),
	}}
	w.city = w.callers["city_in"]
	county := w.callers["county_in"]
	unit := county.Unit("village", apitest.TownshipA1)
	for range 2 {
		c, id := e.InstructorClient(t, county, unit)
		w.a1, w.a1IDs = append(w.a1, c), append(w.a1IDs, id)
	}
	a2 := w.callers["county_out"]
	w.a2, w.a2ID = e.InstructorClient(t, a2, a2.Unit("community", apitest.CountyA2))
	other := e.Staff(t, "county_staff", apitest.CountyB1)
	w.outsider, w.outID = e.InstructorClient(t, other, other.Unit("village", apitest.TownshipB1))
	w.start = e.Clock.Now().Add(-3 * time.Hour)
	w.year = w.start.In(clock.Shanghai).Year()
	return w
}

func (w trainingWorld) plan(t *testing.T) trPlan {
	t.Helper()
	var p trPlan
	w.city.Must(http.StatusCreated, "POST", "/api/v1/training-plans", map[string]any{
		"year": w.year, "title": fmt.Sprintf("%d年度指导员培训计划%s", w.year, apitest.Unique()),
		"goals": "全年组织4次集中培训,重点学习民族理论政策、法律法规和创建实务"}).JSON(t, &p)
	return p
}

// sessionBody is a valid offline lecture of 3.5 hours starting at w.start plus d.
func (w trainingWorld) sessionBody(planID int64, d time.Duration) map[string]any {
	at := func(x time.Duration) string { return w.start.Add(x).In(clock.Shanghai).Format(time.RFC3339) }
	b := map[string]any{
		"title": "铸牢中华民族共同体意识专题培训" + apitest.Unique(), "topic": "民族理论政策", "lecturer": "河北师范大学 王教授",
		"method": "lecture", "mode": "offline", "place": "石家庄市民宗局培训中心", "hours": 3.5,
		"starts_at": at(d), "ends_at": at(d + 3*time.Hour), "topics": []string{"ethnic_theory_policy", "laws_regulations"},
	}
	if planID > 0 {
		b["plan_id"] = planID
	}
	return b
}

func (w trainingWorld) session(t *testing.T, c *apitest.Client, body map[string]any) trSession {
	t.Helper()
	var s trSession
	c.Must(http.StatusCreated, "POST", "/api/v1/training-sessions", body).JSON(t, &s)
	return s
}

func trPath(id int64, rest ...string) string {
	p := fmt.Sprintf("/api/v1/training-sessions/%d", id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func trHoursOf(t *testing.T, c *apitest.Client, year int, instructorID int64) (sessions int64, hours float64) {
	t.Helper()
	var h trHours
	c.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/training-hours?year=%d&instructor_id=%d", year, instructorID), nil).JSON(t, &h)
	if len(h.Items) != 1 || h.Items[0].InstructorID != instructorID || h.Items[0].Year != year || h.Instructors != 1 {
		t.Fatalf("hours of %d: %+v", instructorID, h)
	}
	if h.TotalHours != h.Items[0].Hours || (h.Trained == 1) != (h.Items[0].Hours > 0) {
		t.Fatalf("hours totals of %d: %+v", instructorID, h)
	}
	return h.Items[0].Sessions, h.Items[0].Hours
}

// A city plans its year, holds sessions, enrols instructors of its counties, the counties record
// who came, and each instructor's hours add up; the instructor sees their own.
func TestTrainingPlanSessionsAndHours(t *testing.T) {
	t.Parallel()
	w := newTrainingWorld(t)
	county := w.callers["county_in"]

	plan := w.plan(t)
	if plan.RegionCode != apitest.CityA || plan.RegionName != "石家庄市" || plan.Year != w.year || plan.SessionCount != 0 {
		t.Fatalf("plan: %+v", plan)
	}
	for _, who := range []string{"county_in"} {
		w.callers[who].Must(http.StatusForbidden, "POST", "/api/v1/training-plans", map[string]any{"year": w.year, "title": "县级计划"})
		w.callers[who].Must(http.StatusForbidden, "POST", "/api/v1/training-sessions", w.sessionBody(0, 0))
	}
	w.a1[0].Must(http.StatusForbidden, "POST", "/api/v1/training-plans", map[string]any{"year": w.year, "title": "个人计划"})

	// An expert lecture in the plan, and an online seminar outside it the day before.
	lecture := w.session(t, w.city, w.sessionBody(plan.ID, 0))
	if lecture.PlanID == nil || *lecture.PlanID != plan.ID || lecture.Hours != 3.5 || lecture.Method != "lecture" ||
		lecture.MethodName != "专家授课" || lecture.RegionCode != apitest.CityA || lecture.Year != w.year {
		t.Fatalf("lecture: %+v", lecture)
	}
	seminarBody := w.sessionBody(0, -time.Hour)
	seminarBody["method"], seminarBody["mode"], seminarBody["place"], seminarBody["url"], seminarBody["hours"] =
		"seminar", "online", "", "https://meeting.tencent.com/dm/abc123", 2
	seminar := w.session(t, w.city, seminarBody)
	if seminar.PlanID != nil || seminar.Mode != "online" || seminar.URL == "" || seminar.Hours != 2 {
		t.Fatalf("seminar: %+v", seminar)
	}

	// The city enrols instructors of both its counties; again changes nothing.
	var s trSession
	ids := []int64{w.a1IDs[0], w.a1IDs[1], w.a2ID}
	for range 2 {
		w.city.Must(http.StatusOK, "POST", trPath(lecture.ID, "enrolments"), map[string]any{"instructor_ids": ids}).JSON(t, &s)
		if s.Enrolled != 3 || s.Attended != 0 {
			t.Fatalf("after enrolling: %+v", s)
		}
	}
	// A county enrols its own instructor in the seminar, not another county's.
	county.Must(http.StatusOK, "POST", trPath(seminar.ID, "enrolments"), map[string]any{"instructor_ids": []int64{w.a1IDs[0]}})
	if r := county.Must(http.StatusBadRequest, "POST", trPath(seminar.ID, "enrolments"), map[string]any{"instructor_ids": []int64{w.a2ID}}).Err(t); r.Details[0].Field != "instructor_ids" {
		t.Fatalf("enrol another county's instructor: %+v", r)
	}
	w.city.Must(http.StatusBadRequest, "POST", trPath(lecture.ID, "enrolments"), map[string]any{"instructor_ids": []int64{w.outID}})

	// Each level sees the enrolments of its own subtree.
	var el trEnrolmentList
	county.Must(http.StatusOK, "GET", trPath(lecture.ID, "enrolments"), nil).JSON(t, &el)
	if !slices.Equal(el.ids(), w.a1IDs) || el.Items[0].Name == "" || el.Items[0].UnitName == "" || el.Items[0].Status != "enrolled" {
		t.Fatalf("county A1 sees %+v", el.Items)
	}
	w.city.Must(http.StatusOK, "GET", trPath(lecture.ID, "enrolments"), nil).JSON(t, &el)
	if len(el.Items) != 3 {
		t.Fatalf("city sees %+v", el.Items)
	}
	w.callers["county_out"].Must(http.StatusOK, "GET", trPath(lecture.ID, "enrolments"), nil).JSON(t, &el)
	if !slices.Equal(el.ids(), []int64{w.a2ID}) {
		t.Fatalf("county A2 sees %+v", el.Items)
	}

	// Attendance: the whole session by default, part of it when given; absent counts nothing.
	var en trEnrolment
	county.Must(http.StatusOK, "POST", trPath(lecture.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[0], "attended": true}).JSON(t, &en)
	if en.Status != "attended" || en.Hours != 3.5 || en.RecordedAt == nil || en.Name == "" {
		t.Fatalf("attendance: %+v", en)
	}
	county.Must(http.StatusOK, "POST", trPath(lecture.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[1], "attended": true, "hours": 2}).JSON(t, &en)
	if en.Hours != 2 {
		t.Fatalf("partial attendance: %+v", en)
	}
	w.callers["county_out"].Must(http.StatusOK, "POST", trPath(lecture.ID, "attendance"), map[string]any{"instructor_id": w.a2ID, "attended": false}).JSON(t, &en)
	if en.Status != "absent" || en.Hours != 0 {
		t.Fatalf("absent: %+v", en)
	}
	if r := county.Must(http.StatusBadRequest, "POST", trPath(lecture.ID, "attendance"), map[string]any{"instructor_id": w.a2ID, "attended": true}).Err(t); r.Details[0].Field != "instructor_id" {
		t.Fatalf("attendance of another county's instructor: %+v", r)
	}
	if r := county.Must(http.StatusBadRequest, "POST", trPath(lecture.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[1], "attended": true, "hours": 4}).Err(t); r.Details[0].Field != "hours" {
		t.Fatalf("more hours than the session: %+v", r)
	}
	county.Must(http.StatusOK, "POST", trPath(seminar.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[0], "attended": true})
	w.city.Must(http.StatusOK, "GET", trPath(lecture.ID), nil).JSON(t, &s)
	if s.Enrolled != 3 || s.Attended != 2 {
		t.Fatalf("lecture counts: %+v", s)
	}

	// Hours per instructor per year, for staff in scope.
	for _, who := range []string{"county_in", "city_in", "province"} {
		if n, h := trHoursOf(t, w.callers[who], w.year, w.a1IDs[0]); n != 2 || h != 5.5 {
			t.Fatalf("%s: hours of the first instructor %d sessions %.1f hours, want 2 and 5.5", who, n, h)
		}
	}
	if n, h := trHoursOf(t, county, w.year, w.a1IDs[1]); n != 1 || h != 2 {
		t.Fatalf("second instructor: %d %.1f", n, h)
	}
	if n, h := trHoursOf(t, w.callers["county_out"], w.year, w.a2ID); n != 0 || h != 0 {
		t.Fatalf("absent instructor: %d %.1f", n, h)
	}
	if n, h := trHoursOf(t, county, w.year-1, w.a1IDs[0]); n != 0 || h != 0 {
		t.Fatalf("last year: %d %.1f", n, h)
	}
	var hl trHours
	w.city.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/training-hours?year=%d&region_code=%s&limit=100", w.year, apitest.TownshipA1), nil).JSON(t, &hl)
	got := map[int64]float64{}
	for _, it := range hl.Items {
		got[it.InstructorID] = it.Hours
	}
	if got[w.a1IDs[0]] != 5.5 || got[w.a1IDs[1]] != 2 || hl.Trained < 2 || hl.TotalHours < 7.5 || hl.Instructors < 2 {
		t.Fatalf("township hours: %+v", hl)
	}
	if _, ok := got[w.a2ID]; ok {
		t.Fatal("region filter lists an instructor of another county")
	}
	// Outside the caller's scope the list is empty, not an error that tells what exists.
	w.callers["county_out"].Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/training-hours?instructor_id=%d", w.a1IDs[0]), nil).JSON(t, &hl)
	if len(hl.Items) != 0 || hl.TotalHours != 0 {
		t.Fatalf("county A2 sees hours of county A1: %+v", hl)
	}

	// The instructor's own view of the year.
	var mine trMine
	w.a1[0].Must(http.StatusOK, "GET", "/api/v1/me/training", nil).JSON(t, &mine)
	if mine.Year != yearNow(w.e) || (mine.Year == w.year && (mine.Sessions != 2 || mine.Hours != 5.5 || len(mine.Items) != 2)) {
		t.Fatalf("my training: %+v", mine)
	}
	w.a1[0].Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/me/training?year=%d", w.year), nil).JSON(t, &mine)
	if mine.Sessions != 2 || mine.Hours != 5.5 || len(mine.Items) != 2 || mine.Items[0].Mine == nil || mine.Items[0].Mine.Status != "attended" {
		t.Fatalf("my training in %d: %+v", w.year, mine)
	}
	w.a2.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/me/training?year=%d", w.year), nil).JSON(t, &mine)
	if mine.Sessions != 0 || mine.Hours != 0 || len(mine.Items) != 1 || mine.Items[0].Mine.Status != "absent" {
		t.Fatalf("absent instructor's training: %+v", mine)
	}
	w.a1[1].Must(http.StatusOK, "GET", trPath(lecture.ID), nil).JSON(t, &s)
	if s.Mine == nil || s.Mine.Hours != 2 {
		t.Fatalf("instructor's session: %+v", s)
	}
	var sl trSessionList
	w.a1[1].Must(http.StatusOK, "GET", "/api/v1/training-sessions", nil).JSON(t, &sl)
	if !sl.has(lecture.ID) || sl.has(seminar.ID) {
		t.Fatalf("instructor's sessions: %+v", sl.Items)
	}

	// Correcting the session's hours follows through to whoever attended all of it.
	w.city.Must(http.StatusOK, "PATCH", trPath(lecture.ID), map[string]any{"hours": 4}).JSON(t, &s)
	if s.Hours != 4 {
		t.Fatalf("patched: %+v", s)
	}
	if _, h := trHoursOf(t, county, w.year, w.a1IDs[0]); h != 6 {
		t.Fatalf("after the correction: %.1f hours, want 6", h)
	}
	if _, h := trHoursOf(t, county, w.year, w.a1IDs[1]); h != 2 {
		t.Fatalf("partial attendance after the correction: %.1f hours, want 2", h)
	}
	var pl trPlan
	w.city.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/training-plans/%d", plan.ID), nil).JSON(t, &pl)
	if pl.SessionCount != 1 || pl.Hours != 4 {
		t.Fatalf("plan totals: %+v", pl)
	}
	if r := w.city.Must(http.StatusBadRequest, "PATCH", fmt.Sprintf("/api/v1/training-plans/%d", plan.ID), map[string]any{"year": w.year - 1}).Err(t); r.Details[0].Field != "year" {
		t.Fatalf("move a plan with sessions to another year: %+v", r)
	}
	w.city.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/training-plans/%d", plan.ID), map[string]any{"goals": "调整后的目标"}).JSON(t, &pl)
	if pl.Goals != "调整后的目标" || pl.Title != plan.Title {
		t.Fatalf("plan patched: %+v", pl)
	}
	var plans struct {
		Items []trPlan `json:"items"`
	}
	county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/training-plans?year=%d", w.year), nil).JSON(t, &plans)
	if !slices.ContainsFunc(plans.Items, func(p trPlan) bool { return p.ID == plan.ID }) {
		t.Fatal("the county does not see its city's plan")
	}
	county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/training-sessions?plan_id=%d", plan.ID), nil).JSON(t, &sl)
	if !sl.has(lecture.ID) || sl.has(seminar.ID) {
		t.Fatalf("sessions of the plan: %+v", sl.Items)
	}

	// Who attended stays on the list; who did not can be taken off.
	if r := county.Must(http.StatusConflict, "DELETE", trPath(lecture.ID, "enrolments", fmt.Sprint(w.a1IDs[1])), nil).Err(t); r.Code != "training_attended" {
		t.Fatalf("unenrol who attended: %+v", r)
	}
	county.Must(http.StatusNotFound, "DELETE", trPath(lecture.ID, "enrolments", fmt.Sprint(w.a2ID)), nil)
	w.callers["county_out"].Must(http.StatusNoContent, "DELETE", trPath(lecture.ID, "enrolments", fmt.Sprint(w.a2ID)), nil)
	w.city.Must(http.StatusOK, "GET", trPath(lecture.ID, "enrolments"), nil).JSON(t, &el)
	if !slices.Equal(el.ids(), w.a1IDs) {
		t.Fatalf("after unenrolling: %+v", el.ids())
	}
	w.a2.Must(http.StatusNotFound, "GET", trPath(lecture.ID), nil)

	// Attendance waits for the session to start; it can be recorded without enrolling first.
	future := w.session(t, w.city, w.sessionBody(0, 27*time.Hour))
	if r := county.Must(http.StatusConflict, "POST", trPath(future.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[0], "attended": true}).Err(t); r.Code != "training_not_started" {
		t.Fatalf("attendance before the start: %+v", r)
	}
	walkIn := w.session(t, w.city, w.sessionBody(0, -2*time.Hour))
	county.Must(http.StatusOK, "POST", trPath(walkIn.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[1], "attended": true})
	w.city.Must(http.StatusOK, "GET", trPath(walkIn.ID), nil).JSON(t, &s)
	if s.Enrolled != 1 || s.Attended != 1 {
		t.Fatalf("walk-in: %+v", s)
	}
}

func yearNow(e *apitest.Env) int { return e.Clock.Now().In(clock.Shanghai).Year() }

func TestTrainingScope(t *testing.T) {
	t.Parallel()
	w := newTrainingWorld(t)
	e := w.e
	plan := w.plan(t)
	s := w.session(t, w.city, w.sessionBody(plan.ID, 0))
	w.city.Must(http.StatusOK, "POST", trPath(s.ID, "enrolments"), map[string]any{"instructor_ids": []int64{w.a1IDs[0]}})
	// A session of city B: nobody of city A sees it.
	bStaff := w.callers["city_out"]
	bSession := w.session(t, bStaff, w.sessionBody(0, 0))
	w.callers["enrolled"], w.callers["not_enrolled"], w.callers["instructor_other"] = w.a1[0], w.a1[1], w.outsider

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
	readers := expect{"county_in": 200, "county_out": 200, "city_in": 200, "province": 200, "city_out": 404}
	with := func(base expect, extra expect) expect {
		m := expect{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	planPath := fmt.Sprintf("/api/v1/training-plans/%d", plan.ID)
	attend := map[string]any{"instructor_id": w.a1IDs[0], "attended": true}
	cases := []struct {
		method, path string
		body         any
		want         func(string) int
	}{
		{"GET", planPath, nil, def(readers, 403)},
		{"PATCH", planPath, map[string]any{"goals": "调整"}, def(expect{"city_in": 200, "city_out": 404}, 403)},
		{"GET", trPath(s.ID), nil, def(with(readers, expect{"enrolled": 200, "not_enrolled": 404, "instructor_other": 404}), 0)},
		{"PATCH", trPath(s.ID), map[string]any{"lecturer": "李教授"}, def(expect{"city_in": 200, "city_out": 404}, 403)},
		{"GET", trPath(s.ID, "enrolments"), nil, def(readers, 403)},
		{"POST", trPath(s.ID, "enrolments"), map[string]any{"instructor_ids": []int64{w.a1IDs[0]}},
			def(expect{"county_in": 200, "city_in": 200, "province": 200, "county_out": 400, "city_out": 404}, 403)},
		{"POST", trPath(s.ID, "attendance"), attend,
			def(expect{"county_in": 200, "city_in": 200, "province": 200, "county_out": 400, "city_out": 404}, 403)},
		{"DELETE", trPath(s.ID, "enrolments", fmt.Sprint(w.a1IDs[1])), nil,
			def(expect{"county_in": 404, "city_in": 404, "province": 404, "county_out": 404, "city_out": 404}, 403)},
		{"GET", trPath(bSession.ID), nil, def(expect{"city_out": 200, "province": 200,
			"county_in": 404, "county_out": 404, "city_in": 404, "enrolled": 404, "not_enrolled": 404, "instructor_other": 404}, 0)},
		{"POST", trPath(bSession.ID, "attendance"), attend, def(expect{"city_out": 400, "province": 400,
			"county_in": 404, "county_out": 404, "city_in": 404}, 403)},
		{"GET", fmt.Sprintf("/api/v1/training-hours?instructor_id=%d", w.a1IDs[0]), nil,
			def(expect{"county_in": 200, "county_out": 200, "city_in": 200, "city_out": 200, "province": 200}, 403)},
		{"GET", "/api/v1/me/training", nil, def(expect{"enrolled": 200, "not_enrolled": 200, "instructor_other": 200}, 403)},
		{"GET", "/api/v1/training-plans", nil, def(expect{"county_in": 200, "county_out": 200, "city_in": 200, "city_out": 200,
			"province": 200}, 403)},
		{"GET", "/api/v1/training-sessions", nil, def(expect{}, 200)},
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
	// Hours only for instructors in scope: an out-of-scope instructor is not listed.
	for who, want := range map[string]int{"county_in": 1, "county_out": 0, "city_in": 1, "city_out": 0, "province": 1} {
		var h trHours
		w.callers[who].Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/training-hours?instructor_id=%d", w.a1IDs[0]), nil).JSON(t, &h)
		if len(h.Items) != want {
			t.Errorf("%s sees %d hour lines of a county A1 instructor, want %d", who, len(h.Items), want)
		}
	}
	// Lists: each sees only what is theirs.
	for who, want := range map[string]bool{"county_in": true, "county_out": true, "city_in": true, "city_out": false,
		"province": true, "enrolled": true, "not_enrolled": false, "instructor_other": false} {
		var l trSessionList
		w.callers[who].Must(http.StatusOK, "GET", "/api/v1/training-sessions?limit=100", nil).JSON(t, &l)
		if l.has(s.ID) != want {
			t.Errorf("%s lists the session: %v, want %v", who, l.has(s.ID), want)
		}
		if who != "city_out" && who != "province" && l.has(bSession.ID) {
			t.Errorf("%s lists city B's session", who)
		}
	}
	// What a county sees of the enrolments is its own county's.
	var el trEnrolmentList
	w.callers["county_out"].Must(http.StatusOK, "GET", trPath(s.ID, "enrolments"), nil).JSON(t, &el)
	if len(el.Items) != 0 {
		t.Fatalf("county A2 sees county A1's enrolments: %+v", el.Items)
	}
	// The instructor only ever sees their own enrolment.
	var mine trMine
	w.outsider.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/me/training?year=%d", w.year), nil).JSON(t, &mine)
	if len(mine.Items) != 0 {
		t.Fatalf("an instructor not enrolled sees %+v", mine.Items)
	}
	_ = e
}

func TestTrainingBadInput(t *testing.T) {
	t.Parallel()
	w := newTrainingWorld(t)
	plan := w.plan(t)
	s := w.session(t, w.city, w.sessionBody(plan.ID, 0))
	future := w.session(t, w.city, w.sessionBody(0, 24*time.Hour))
	body := func(changes map[string]any) map[string]any {
		b := w.sessionBody(plan.ID, 0)
		for k, v := range changes {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	planPath := fmt.Sprintf("/api/v1/training-plans/%d", plan.ID)
	at := func(d time.Duration) string { return w.start.Add(d).In(clock.Shanghai).Format(time.RFC3339) }
	otherYear := time.Date(w.year-1, 6, 1, 9, 0, 0, 0, clock.Shanghai)
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"plan malformed", "POST", "/api/v1/training-plans", `{"year":`, 400, ""},
		{"plan not an object", "POST", "/api/v1/training-plans", `[1]`, 400, ""},
		{"plan year type", "POST", "/api/v1/training-plans", map[string]any{"year": "今年", "title": "x"}, 400, "year"},
		{"plan year fraction", "POST", "/api/v1/training-plans", map[string]any{"year": 2024.5, "title": "x"}, 400, "year"},
		{"plan year far", "POST", "/api/v1/training-plans", map[string]any{"year": 1999, "title": "x"}, 400, "year"},
		{"plan no title", "POST", "/api/v1/training-plans", map[string]any{"year": w.year}, 400, "title"},
		{"plan long title", "POST", "/api/v1/training-plans", map[string]any{"year": w.year, "title": strings.Repeat("计", 101)}, 400, "title"},
		{"plan long goals", "POST", "/api/v1/training-plans", map[string]any{"year": w.year, "title": "x", "goals": strings.Repeat("目", 5001)}, 400, "goals"},
		{"plan patch type", "PATCH", planPath, map[string]any{"title": 1}, 400, "title"},
		{"plan patch empty title", "PATCH", planPath, map[string]any{"title": " "}, 400, "title"},
		{"plan bad id", "GET", "/api/v1/training-plans/abc", nil, 404, ""},
		{"plan missing", "GET", "/api/v1/training-plans/1099511627776", nil, 404, ""},
		{"plans bad year", "GET", "/api/v1/training-plans?year=twenty", nil, 400, "year"},
		{"session malformed", "POST", "/api/v1/training-sessions", `{"title"`, 400, ""},
		{"session no title", "POST", "/api/v1/training-sessions", body(map[string]any{"title": nil}), 400, "title"},
		{"session hours type", "POST", "/api/v1/training-sessions", body(map[string]any{"hours": "三个半小时"}), 400, "hours"},
		{"session no hours", "POST", "/api/v1/training-sessions", body(map[string]any{"hours": nil}), 400, "hours"},
		{"session zero hours", "POST", "/api/v1/training-sessions", body(map[string]any{"hours": 0}), 400, "hours"},
		{"session hours two places", "POST", "/api/v1/training-sessions", body(map[string]any{"hours": 3.25}), 400, "hours"},
		{"session too many hours", "POST", "/api/v1/training-sessions", body(map[string]any{"hours": 201}), 400, "hours"},
		{"session method", "POST", "/api/v1/training-sessions", body(map[string]any{"method": "lecture_hall"}), 400, "method"},
		{"session no topics", "POST", "/api/v1/training-sessions", body(map[string]any{"topics": []string{}}), 400, "topics"},
		{"session topic not of the measures", "POST", "/api/v1/training-sessions", body(map[string]any{"topics": []string{"cooking"}}), 400, "topics"},
		{"session topics type", "POST", "/api/v1/training-sessions", body(map[string]any{"topics": "法律法规"}), 400, "topics"},
		{"session mode", "POST", "/api/v1/training-sessions", body(map[string]any{"mode": "hybrid"}), 400, "mode"},
		{"offline without place", "POST", "/api/v1/training-sessions", body(map[string]any{"place": ""}), 400, "place"},
		{"online without url", "POST", "/api/v1/training-sessions", body(map[string]any{"mode": "online"}), 400, "url"},
		{"bad url", "POST", "/api/v1/training-sessions", body(map[string]any{"mode": "online", "url": "tencent meeting 123"}), 400, "url"},
		{"bad time", "POST", "/api/v1/training-sessions", body(map[string]any{"starts_at": "明天上午"}), 400, "starts_at"},
		{"ends first", "POST", "/api/v1/training-sessions", body(map[string]any{"ends_at": at(-time.Hour)}), 400, "ends_at"},
		{"too long", "POST", "/api/v1/training-sessions", body(map[string]any{"ends_at": at(40 * 24 * time.Hour)}), 400, "ends_at"},
		{"plan of another year", "POST", "/api/v1/training-sessions", body(map[string]any{
			"starts_at": otherYear.Format(time.RFC3339), "ends_at": otherYear.Add(time.Hour).Format(time.RFC3339)}), 400, "starts_at"},
		{"unknown plan", "POST", "/api/v1/training-sessions", body(map[string]any{"plan_id": 1 << 40}), 400, "plan_id"},
		{"plan id type", "POST", "/api/v1/training-sessions", body(map[string]any{"plan_id": "一"}), 400, "plan_id"},
		{"session patch type", "PATCH", trPath(s.ID), map[string]any{"hours": true}, 400, "hours"},
		{"session patch mode", "PATCH", trPath(s.ID), map[string]any{"mode": "online"}, 400, "url"},
		{"sessions bad plan", "GET", "/api/v1/training-sessions?plan_id=x", nil, 400, "plan_id"},
		{"sessions bad cursor", "GET", "/api/v1/training-sessions?cursor=zzz", nil, 400, "cursor"},
		{"enrol empty", "POST", trPath(s.ID, "enrolments"), map[string]any{"instructor_ids": []int64{}}, 400, "instructor_ids"},
		{"enrol type", "POST", trPath(s.ID, "enrolments"), map[string]any{"instructor_ids": "1,2"}, 400, "instructor_ids"},
		{"enrol unknown", "POST", trPath(s.ID, "enrolments"), map[string]any{"instructor_ids": []int64{1 << 40}}, 400, "instructor_ids"},
		{"enrol negative", "POST", trPath(s.ID, "enrolments"), map[string]any{"instructor_ids": []int64{-1}}, 400, "instructor_ids"},
		{"enrol missing session", "POST", trPath(1<<40, "enrolments"), map[string]any{"instructor_ids": []int64{w.a1IDs[0]}}, 404, ""},
		{"enrolments status", "GET", trPath(s.ID, "enrolments") + "?status=maybe", nil, 400, "status"},
		{"attendance no body", "POST", trPath(s.ID, "attendance"), ``, 400, ""},
		{"attendance no attended", "POST", trPath(s.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[0]}, 400, "attended"},
		{"attendance no instructor", "POST", trPath(s.ID, "attendance"), map[string]any{"attended": true}, 400, "instructor_id"},
		{"attendance type", "POST", trPath(s.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[0], "attended": "yes"}, 400, "attended"},
		{"absent with hours", "POST", trPath(s.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[0], "attended": false, "hours": 1}, 400, "hours"},
		{"attendance future", "POST", trPath(future.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[0], "attended": true}, 409, ""},
		{"unenrol bad id", "DELETE", trPath(s.ID, "enrolments", "abc"), nil, 404, ""},
		{"hours bad year", "GET", "/api/v1/training-hours?year=24", nil, 400, "year"},
		{"hours far year", "GET", "/api/v1/training-hours?year=2001", nil, 400, "year"},
		{"hours bad region", "GET", "/api/v1/training-hours?region_code=1301", nil, 400, "region_code"},
		{"hours bad instructor", "GET", "/api/v1/training-hours?instructor_id=-4", nil, 400, "instructor_id"},
		{"hours bad limit", "GET", "/api/v1/training-hours?limit=1000", nil, 400, "limit"},
	}
	for _, c := range cases {
		r := w.city.Do(c.method, c.path, c.body)
		if r.Status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, r.Status, c.status, r.Body)
			continue
		}
		eb := r.Err(t)
		if c.field != "" && (len(eb.Details) == 0 || eb.Details[0].Field != c.field) {
			t.Errorf("%s: details %+v, want field %s", c.name, eb.Details, c.field)
		}
	}
	if r := w.a1[0].Do("GET", "/api/v1/me/training?year=abc", nil); r.Status != 400 || r.Err(t).Details[0].Field != "year" {
		t.Errorf("my training with a bad year: %d %s", r.Status, r.Body)
	}
}
