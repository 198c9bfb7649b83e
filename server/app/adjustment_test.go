package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/adjustment"
	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
)

type asView struct {
	InstructorID   int64  `json:"instructor_id"`
	InstructorName string `json:"instructor_name"`
	Year           int    `json:"year"`
	Grade          string `json:"grade"`
	GradeName      string `json:"grade_name"`
	Comment        string `json:"comment"`
	Evidence       *struct {
		From    string `json:"from"`
		To      string `json:"to"`
		Records struct {
			Total int64 `json:"total"`
		} `json:"records"`
	} `json:"evidence"`
}

func asPath(id int64, year any) string {
	return fmt.Sprintf("/api/v1/instructors/%d/assessments/%v", id, year)
}

// Staff grade an instructor's year on the evidence of that year's performance card, which is
// kept with the grade as it stood; grading again corrects it.
func TestYearlyAssessmentWithItsEvidence(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA1)
	neighbour := e.Staff(t, "county_staff", apitest.CountyA2)
	ins, id := e.InstructorClient(t, county, county.Unit("village", apitest.TownshipA1))
	year := e.Clock.Now().In(clock.Shanghai).Year()
	ins.Submit("visit", apitest.RecordBody("visit", phoneTime(e, -time.Hour)))

	var a asView
	county.Must(http.StatusCreated, "PUT", asPath(id, year), map[string]any{"grade": "competent", "comment": "完成走访任务"}).JSON(t, &a)
	if a.Grade != "competent" || a.GradeName != "合格" || a.Year != year || a.InstructorName == "" || a.Evidence == nil ||
		a.Evidence.Records.Total != 1 || a.Evidence.From != fmt.Sprintf("%d-01-01", year) || a.Evidence.To != fmt.Sprintf("%d-12-31", year) {
		t.Fatalf("assessed: %+v", a)
	}
	// Another record afterwards does not change the evidence kept; grading again does.
	ins.Submit("visit", apitest.RecordBody("visit", phoneTime(e, -time.Hour)))
	var l struct{ Items []asView }
	county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d/assessments", id), nil).JSON(t, &l)
	if len(l.Items) != 1 || l.Items[0].Evidence.Records.Total != 1 {
		t.Fatalf("kept: %+v", l.Items)
	}
	county.Must(http.StatusOK, "PUT", asPath(id, year), map[string]any{"grade": "excellent"}).JSON(t, &a)
	if a.Grade != "excellent" || a.Evidence.Records.Total != 2 || a.Comment != "" {
		t.Fatalf("corrected: %+v", a)
	}
	county.Must(http.StatusCreated, "PUT", asPath(id, year-1), map[string]any{"grade": "basically_competent", "comment": "参加例会较少"})
	county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d/assessments", id), nil).JSON(t, &l)
	if len(l.Items) != 2 || l.Items[0].Year != year || l.Items[1].Year != year-1 || l.Items[1].Evidence.Records.Total != 0 {
		t.Fatalf("years: %+v", l.Items)
	}

	for _, c := range []struct {
		path   string
		body   map[string]any
		status int
		field  string
	}{
		{asPath(id, year), map[string]any{"grade": "good"}, 400, "grade"},
		{asPath(id, year), map[string]any{"grade": "incompetent"}, 400, "comment"},
		{asPath(id, year+1), map[string]any{"grade": "competent"}, 400, "year"},
		{asPath(id, year-6), map[string]any{"grade": "competent"}, 400, "year"},
		{asPath(id, "今年"), map[string]any{"grade": "competent"}, 400, "year"},
	} {
		if r := county.Must(c.status, "PUT", c.path, c.body).Err(t); r.Details[0].Field != c.field {
			t.Errorf("%s %v: %+v", c.path, c.body, r)
		}
	}
	if r := neighbour.Must(http.StatusNotFound, "PUT", asPath(id, year), map[string]any{"grade": "competent"}).Err(t); r.Code != "instructor_not_found" {
		t.Fatalf("neighbour: %+v", r)
	}
	neighbour.Must(http.StatusNotFound, "GET", fmt.Sprintf("/api/v1/instructors/%d/assessments", id), nil)
	ins.Must(http.StatusForbidden, "PUT", asPath(id, year), map[string]any{"grade": "excellent"})

	// The sheet of the year: the instructor with the grade; "none" lists those still to assess.
	var sheet struct {
		Year, Instructors, Assessed int64
		ByGrade                     []struct {
			Code  string
			Count int64
		} `json:"by_grade"`
		Items []struct {
			InstructorID int64  `json:"instructor_id"`
			Grade        string `json:"grade"`
			GradeName    string `json:"grade_name"`
		}
	}
	county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/assessments?year=%d&limit=100&region_code=%s", year, apitest.TownshipA1), nil).JSON(t, &sheet)
	i := slices.IndexFunc(sheet.Items, func(x struct {
		InstructorID int64  `json:"instructor_id"`
		Grade        string `json:"grade"`
		GradeName    string `json:"grade_name"`
	}) bool {
		return x.InstructorID == id
	})
	if i < 0 || sheet.Items[i].Grade != "excellent" || sheet.Items[i].GradeName != "优秀" || sheet.Assessed < 1 || sheet.Instructors < sheet.Assessed ||
		len(sheet.ByGrade) != 4 || sheet.ByGrade[0].Code != "excellent" || sheet.ByGrade[0].Count < 1 {
		t.Fatalf("sheet: %+v", sheet)
	}
	county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/assessments?year=%d&grade=none&limit=100", year), nil).JSON(t, &sheet)
	for _, x := range sheet.Items {
		if x.InstructorID == id || x.Grade != "" {
			t.Fatalf("not assessed: %+v", sheet.Items)
		}
	}
	county.Must(http.StatusBadRequest, "GET", "/api/v1/assessments?grade=fine", nil)
}

type adRound struct {
	ID          int64  `json:"id"`
	Title       string `json:"title"`
	RegionCode  string `json:"region_code"`
	RegionName  string `json:"region_name"`
	WindowStart string `json:"window_start"`
	WindowEnd   string `json:"window_end"`
	Status      string `json:"status"`
	Counts      adCounts
}

type adCounts struct {
	Total, Renewed, Replaced, Ended, Elsewhere, Pending, Overdue int64
}

type adMember struct {
	InstructorID    int64  `json:"instructor_id"`
	Name            string `json:"name"`
	CountyCode      string `json:"county_code"`
	TermEnd         string `json:"term_end"`
	CurrentTermEnd  string `json:"current_term_end"`
	Status          string `json:"status"`
	State           string `json:"state"`
	Overdue         bool   `json:"overdue"`
	Decision        string `json:"decision"`
	ReasonCategory  string `json:"reason_category"`
	ReplacementID   int64  `json:"replacement_instructor_id"`
	ReplacementName string `json:"replacement_name"`
	Assessments     []struct {
		Year  int    `json:"year"`
		Grade string `json:"grade"`
	} `json:"assessments"`
}

func adMembers(t *testing.T, c *apitest.Client, id int64, query string) map[int64]adMember {
	t.Helper()
	var l struct{ Items []adMember }
	c.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/adjustment-rounds/%d/instructors?limit=100&%s", id, query), nil).JSON(t, &l)
	out := map[int64]adMember{}
	for _, m := range l.Items {
		out[m.InstructorID] = m
	}
	return out
}

// A city launches the three-year adjustment; each county decides renew, replace or end for its
// instructors in batches, all or nothing; the city and province follow the progress per county;
// terms that ran out undecided are flagged and the county reminded, never extended; the round
// closes once every term is decided.
//
// A round lists every instructor of its city whose term ends in the window: the test has a whole
// city, shared only with the tip deadline test, which adds no term ending in the window
// (roundsAndTipsCity); the round takes its first two counties. Not parallel: the reminder sweep
// goes through every open round.
func TestAdjustmentRoundDecidedByTheCounties(t *testing.T) {
	e := apitest.Shared(t)
	c := roundsAndTipsCity(t, e)
	eastArea, westArea := c.Counties[0], c.Counties[1]
	cdCity, cdEast, cdEastTown, cdWest := c.Code, eastArea.County, eastArea.Township(), westArea.County
	city := e.Staff(t, "city_staff", cdCity)
	east := e.Staff(t, "county_staff", cdEast)
	west := e.Staff(t, "county_staff", cdWest)
	province := e.Staff(t, "province_staff", apitest.Province)
	stranger := e.Staff(t, "county_staff", apitest.CountyA1)
	u1, u2 := east.Unit("village", cdEastTown), east.Unit("community", cdEast)
	u3 := west.Unit("village", cdWest)
	startFor := func(endInDays int) string { return raDate(e, -3, endInDays) }
	p1 := raAppointed(t, east, u1, startFor(10)) // ends in 10 days
	p2 := raAppointed(t, east, u1, startFor(-5)) // ended 5 days ago
	p3 := raAppointed(t, east, u2, startFor(20))
	fresh := east.Instructor(u2) // a new term: not in the window
	q1 := raAppointed(t, west, u3, startFor(-3))
	year := e.Clock.Now().In(clock.Shanghai).Year()
	east.Must(http.StatusCreated, "PUT", asPath(p1, year), map[string]any{"grade": "excellent"})

	window := map[string]any{"title": c.Name + "指导员集中调整" + apitest.Unique(), "window_start": raDate(e, 0, -30), "window_end": raDate(e, 0, 30)}
	east.Must(http.StatusForbidden, "POST", "/api/v1/adjustment-rounds", window)
	for _, bad := range []map[string]any{
		{"title": "", "window_start": raDate(e, 0, 0), "window_end": raDate(e, 0, 1)},
		{"title": "x", "window_start": raDate(e, 0, 10), "window_end": raDate(e, 0, 1)},
		{"title": "x", "window_start": "明年", "window_end": raDate(e, 0, 1)},
		{"title": "x", "window_start": raDate(e, 0, 0), "window_end": raDate(e, 4, 0)},
	} {
		city.Must(http.StatusBadRequest, "POST", "/api/v1/adjustment-rounds", bad)
	}
	var r adRound
	city.Must(http.StatusCreated, "POST", "/api/v1/adjustment-rounds", window).JSON(t, &r)
	if r.Status != "open" || r.RegionCode != cdCity || r.RegionName != c.Name ||
		r.Counts != (adCounts{Total: 4, Pending: 4, Overdue: 2}) {
		t.Fatalf("launched: %+v", r)
	}
	if x := city.Must(http.StatusConflict, "POST", "/api/v1/adjustment-rounds", window).Err(t); x.Code != "adjustment_round_overlap" {
		t.Fatalf("overlap: %+v", x)
	}
	// The counties concerned are told, with their number.
	raw := eventPayloads(t, e, "adjustment-round", r.ID, "adjustment.launched")
	var launched struct {
		Counties []struct {
			CountyCode  string `json:"county_code"`
			Instructors int64  `json:"instructors"`
		} `json:"counties"`
	}
	if len(raw) != 1 || json.Unmarshal([]byte(raw[0]), &launched) != nil || len(launched.Counties) != 2 ||
		launched.Counties[0].CountyCode != cdEast || launched.Counties[0].Instructors != 3 || launched.Counties[1].Instructors != 1 {
		t.Fatalf("adjustment.launched: %v", raw)
	}

	// Each county sees its own; a county elsewhere not the round.
	path := fmt.Sprintf("/api/v1/adjustment-rounds/%d", r.ID)
	m := adMembers(t, east, r.ID, "")
	if len(m) != 3 || m[p2].State != "overdue" || !m[p2].Overdue || m[p1].State != "pending" || m[p1].Name == "" ||
		len(m[p1].Assessments) != 1 || m[p1].Assessments[0].Grade != "excellent" {
		t.Fatalf("%s's list: %+v", eastArea.CountyName, m)
	}
	if _, ok := m[fresh]; ok {
		t.Fatal("a fresh term is on the list")
	}
	if m := adMembers(t, west, r.ID, ""); len(m) != 1 || m[q1].State != "overdue" {
		t.Fatalf("%s's list: %+v", westArea.CountyName, m)
	}
	if m := adMembers(t, city, r.ID, "state=overdue"); len(m) != 2 {
		t.Fatalf("overdue in the city: %+v", m)
	}
	stranger.Must(http.StatusNotFound, "GET", path, nil)
	var seen adRound
	province.Must(http.StatusOK, "GET", path, nil).JSON(t, &seen)
	if seen.ID != r.ID || seen.Counts != r.Counts || seen.WindowStart != window["window_start"] {
		t.Fatalf("the province reads %+v", seen)
	}
	city.Must(http.StatusBadRequest, "GET", path+"/instructors?state=later", nil)

	decide := func(c *apitest.Client, status int, items ...map[string]any) *apitest.Response {
		t.Helper()
		return c.Must(status, "POST", path+"/decisions", map[string]any{"decisions": items})
	}
	renew := map[string]any{"instructor_id": p1, "decision": "renew", "reason_category": "performance", "note": "作用发挥好"}
	end := map[string]any{"instructor_id": p2, "decision": "end", "reason_category": "own_wish", "note": "本人申请不再担任"}
	person := apitest.InstructorBody(0)
	delete(person, "unit_id")
	replace := map[string]any{"instructor_id": p3, "decision": "replace", "reason_category": "job_change", "replacement": person}

	city.Must(http.StatusForbidden, "POST", path+"/decisions", map[string]any{"decisions": []any{renew}})
	if x := decide(west, 404, renew).Err(t); x.Details[0].Field != "decisions[0].instructor_id" {
		t.Fatalf("another county's instructor: %+v", x)
	}
	// All or nothing: a bad reason in the second item, or a replacement already in office in the
	// unit, leaves the first undone.
	if x := decide(east, 400, renew, map[string]any{"instructor_id": p2, "decision": "end", "reason_category": "tired"}).Err(t); x.Details[0].Field != "decisions[1].reason_category" {
		t.Fatalf("bad reason: %+v", x)
	}
	if x := decide(east, 409, renew, map[string]any{"instructor_id": p3, "decision": "replace", "reason_category": "health",
		"replacement_instructor_id": fresh}).Err(t); x.Code != "instructor_active" || x.Details[0].Field != "decisions[1].replacement_instructor_id" {
		t.Fatalf("replacement in office: %+v", x)
	}
	if v := raGetInstructor(t, east, p1); v.TermEnd != raDate(e, 0, 10) {
		t.Fatalf("renewed by a refused batch: %+v", v)
	}

	var done struct{ Items []adMember }
	decide(east, 200, renew, end, replace).JSON(t, &done)
	got := map[int64]adMember{}
	for _, x := range done.Items {
		got[x.InstructorID] = x
	}
	if got[p1].State != "renew" || got[p1].CurrentTermEnd != raDate(e, 3, 10) || got[p2].State != "end" || got[p2].Status != "term_ended" ||
		got[p3].State != "replace" || got[p3].Status != "dismissed" || got[p3].ReplacementID == 0 || got[p3].ReplacementName != person["name"] {
		t.Fatalf("decided: %+v", done.Items)
	}
	// Asked again (a retried request): nothing changes, p1 is not renewed twice. Another decision is refused.
	decide(east, 200, renew, end, replace)
	if v := raGetInstructor(t, east, p1); v.TermEnd != raDate(e, 3, 10) {
		t.Fatalf("renewed twice: %+v", v)
	}
	if x := decide(east, 409, map[string]any{"instructor_id": p1, "decision": "end", "reason_category": "health"}).Err(t); x.Code != "adjustment_decided" {
		t.Fatalf("changed decision: %+v", x)
	}
	if h := raHistoryOf(t, east, p1); h.Items[0].Action != "renew" || h.Items[0].ReasonCategory != "performance" || h.Items[0].Note != "作用发挥好" {
		t.Fatalf("p1's history: %+v", h.Items[0])
	}

	// Progress per county, for the city and the province.
	var pg struct {
		Counties []struct {
			CountyCode string `json:"county_code"`
			CountyName string `json:"county_name"`
			CityName   string `json:"city_name"`
			adCounts
		}
		Total adCounts
	}
	for _, who := range []*apitest.Client{city, province} {
		who.Must(http.StatusOK, "GET", path+"/progress", nil).JSON(t, &pg)
		if len(pg.Counties) != 2 || pg.Counties[0].CountyName != eastArea.CountyName || pg.Counties[0].CityName != c.Name ||
			pg.Counties[0].adCounts != (adCounts{Total: 3, Renewed: 1, Ended: 1, Replaced: 1}) ||
			pg.Counties[1].adCounts != (adCounts{Total: 1, Pending: 1, Overdue: 1}) || pg.Total.Overdue != 1 {
			t.Fatalf("progress: %+v", pg)
		}
	}

	// The western county has not decided q1, whose term ran out: reminded, not extended; once a week.
	remind := func(at time.Time) int {
		s := adjustment.NewService(e.DB(), e.App.Roster, e.App.Assessments, e.App.Regions, clock.NewFake(at), discardLogger(),
			adjustment.Options{RemindEvery: e.App.Config.Adjustment.RemindEvery})
		n, err := s.DueReminders(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := remind(e.Clock.Now()); n != 1 {
		t.Fatalf("%d reminders", n)
	}
	if n := remind(e.Clock.Now().Add(time.Hour)); n != 0 {
		t.Fatalf("%d reminders an hour later", n)
	}
	if n := remind(e.Clock.Now().Add(8 * 24 * time.Hour)); n != 1 {
		t.Fatalf("%d reminders a week later", n)
	}
	overdue := eventPayloads(t, e, "adjustment-round", r.ID, "adjustment.overdue")
	var ov struct {
		CountyCode string `json:"county_code"`
		Overdue    int64  `json:"overdue"`
		Pending    int64  `json:"pending"`
		Earliest   string `json:"earliest"`
	}
	if len(overdue) != 2 || json.Unmarshal([]byte(overdue[0]), &ov) != nil || ov.CountyCode != cdWest || ov.Overdue != 1 || ov.Pending != 1 ||
		ov.Earliest != raDate(e, 0, -3) {
		t.Fatalf("adjustment.overdue: %v", overdue)
	}
	officer := fmt.Sprint(accountID(t, west))
	ntWait(t, "the county's reminder", func() bool {
		var n int64
		e.DB().Raw("SELECT COUNT(*) FROM notifications WHERE event_kind = 'adjustment.overdue' AND subject_id = ? AND target = ?", r.ID, officer).Scan(&n)
		return n == 2
	})
	if v := raGetInstructor(t, west, q1); v.Status != "active" || v.TermEnd != raDate(e, 0, -3) {
		t.Fatalf("q1 was changed: %+v", v)
	}

	// The round cannot close while q1 waits; the western county ends the term on the roster directly, which
	// the round shows as handled elsewhere; then the city closes it.
	east.Must(http.StatusForbidden, "POST", path+"/close", nil)
	if x := city.Must(http.StatusConflict, "POST", path+"/close", nil).Err(t); x.Code != "adjustment_pending" {
		t.Fatalf("closed with q1 pending: %+v", x)
	}
	west.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/instructors/%d/end-term", q1), map[string]any{"reason": "年龄原因不再担任"})
	if m := adMembers(t, west, r.ID, "state=elsewhere"); len(m) != 1 || m[q1].State != "elsewhere" {
		t.Fatalf("handled elsewhere: %+v", m)
	}
	var closed adRound
	city.Must(http.StatusOK, "POST", path+"/close", nil).JSON(t, &closed)
	if closed.Status != "closed" || closed.Counts.Pending != 0 || closed.Counts.Elsewhere != 1 {
		t.Fatalf("closed: %+v", closed)
	}
	if x := decide(east, 409, renew).Err(t); x.Code != "adjustment_round_closed" {
		t.Fatalf("decided after closing: %+v", x)
	}
	var rounds struct{ Items []adRound }
	province.Must(http.StatusOK, "GET", "/api/v1/adjustment-rounds?status=closed&limit=100", nil).JSON(t, &rounds)
	if !slices.ContainsFunc(rounds.Items, func(x adRound) bool { return x.ID == r.ID }) {
		t.Fatal("the province does not list the city's round")
	}
	east.Must(http.StatusOK, "GET", "/api/v1/adjustment-rounds", nil).JSON(t, &rounds)
	if !slices.ContainsFunc(rounds.Items, func(x adRound) bool { return x.ID == r.ID && x.Counts.Total == 3 }) {
		t.Fatalf("the county's rounds: %+v", rounds.Items)
	}
	stranger.Must(http.StatusOK, "GET", "/api/v1/adjustment-rounds", nil).JSON(t, &rounds)
	if slices.ContainsFunc(rounds.Items, func(x adRound) bool { return x.ID == r.ID }) {
		t.Fatal("a county of another city lists the round")
	}
}
