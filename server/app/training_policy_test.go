package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/training"
)

type trNotice struct {
	SessionID     int64   `json:"session_id"`
	Title         string  `json:"title"`
	StartsAt      string  `json:"starts_at"`
	InstructorIDs []int64 `json:"instructor_ids"`
	StartsIn      string  `json:"starts_in"`
}

func trNotices(t *testing.T, e *apitest.Env, id int64, kind string) []trNotice {
	t.Helper()
	var out []trNotice
	for _, raw := range eventPayloads(t, e, "training-session", id, kind) {
		var n trNotice
		if err := json.Unmarshal([]byte(raw), &n); err != nil {
			t.Fatalf("%s payload %s: %v", kind, raw, err)
		}
		out = append(out, n)
	}
	return out
}

// A session carries the topics of the measures; instructors enrolled in a session to come are
// told once, by subscribe message, and reminded a day before; those enrolled after it began are
// not; a session with attendance stays in its year.
//
// Not parallel: the reminder sweep goes through every test's sessions, and must find none left.
func TestTrainingTopicsNoticesAndReminders(t *testing.T) {
	w := newTrainingWorld(t)
	e := w.e
	county := w.callers["county_in"]
	for _, c := range append([]*apitest.Client{w.a2}, w.a1...) {
		c.Must(http.StatusOK, "POST", "/api/v1/subscriptions", map[string]any{"results": map[string]string{
			e.Config.Notify.Templates["training_enrolled"].ID: "accept", e.Config.Notify.Templates["training_reminder"].ID: "accept"}})
	}

	// Tomorrow's session, 25 hours from now (w.start is three hours ago).
	body := w.sessionBody(0, 28*time.Hour)
	body["topics"] = []string{"creation_practice", "ethnic_theory_policy", "creation_practice"}
	s := w.session(t, w.city, body)
	var v struct {
		Topics     []string `json:"topics"`
		TopicNames []string `json:"topic_names"`
	}
	w.city.Must(http.StatusOK, "GET", trPath(s.ID), nil).JSON(t, &v)
	if !slices.Equal(v.Topics, []string{"ethnic_theory_policy", "creation_practice"}) || !slices.Equal(v.TopicNames, []string{"民族理论政策", "创建实务"}) {
		t.Fatalf("topics: %+v", v)
	}
	w.city.Must(http.StatusOK, "PATCH", trPath(s.ID), map[string]any{"topics": []string{"laws_regulations"}}).JSON(t, &v)
	if !slices.Equal(v.Topics, []string{"laws_regulations"}) || !slices.Equal(v.TopicNames, []string{"法律法规"}) {
		t.Fatalf("patched topics: %+v", v)
	}
	if r := w.city.Must(http.StatusBadRequest, "PATCH", trPath(s.ID), map[string]any{"topics": []string{}}).Err(t); r.Details[0].Field != "topics" {
		t.Fatalf("no topics: %+v", r)
	}

	// The county enrols its two, twice: one notice naming both. The city adds A2's: a notice for it alone.
	for range 2 {
		county.Must(http.StatusOK, "POST", trPath(s.ID, "enrolments"), map[string]any{"instructor_ids": w.a1IDs})
	}
	w.city.Must(http.StatusOK, "POST", trPath(s.ID, "enrolments"), map[string]any{"instructor_ids": []int64{w.a1IDs[0], w.a2ID}})
	notices := trNotices(t, e, s.ID, "training.enrolled")
	if len(notices) != 2 || !slices.Equal(notices[0].InstructorIDs, w.a1IDs) || !slices.Equal(notices[1].InstructorIDs, []int64{w.a2ID}) ||
		notices[0].Title != s.Title || notices[0].SessionID != s.ID {
		t.Fatalf("enrolment notices: %+v", notices)
	}
	ntWait(t, "the enrolment notices", func() bool {
		subs := ntSubscribedTo(e, s.Title)
		return subs[openID(t, e, w.a1IDs[0])] == 1 && subs[openID(t, e, w.a1IDs[1])] == 1 && subs[openID(t, e, w.a2ID)] == 1
	})

	// A day before: the reminder, once however often the sweep runs. (A service of its own, on a
	// clock an hour and a minute ahead, so the shared server's dispatcher sends it.)
	sweeper := training.NewService(e.DB(), e.App.Regions, clock.NewFake(e.Clock.Now().Add(time.Hour+time.Minute)), discardLogger(),
		training.Options{Reminders: e.App.Config.Training.Reminders})
	if n, err := sweeper.DueReminders(context.Background()); err != nil || n < 1 {
		t.Fatalf("reminders written: %d %v", n, err)
	}
	if n, err := sweeper.DueReminders(context.Background()); err != nil || n != 0 {
		t.Fatalf("reminders written again: %d %v", n, err)
	}
	rem := trNotices(t, e, s.ID, "training.reminder")
	if len(rem) != 1 || !slices.Equal(rem[0].InstructorIDs, []int64{w.a1IDs[0], w.a1IDs[1], w.a2ID}) || rem[0].StartsIn != "1天" {
		t.Fatalf("reminder: %+v", rem)
	}
	ntWait(t, "the reminder", func() bool { return ntSubscribedTo(e, s.Title)[openID(t, e, w.a2ID)] == 2 })

	// Filled in after it began: nobody is told to come.
	past := w.session(t, w.city, w.sessionBody(0, 0))
	county.Must(http.StatusOK, "POST", trPath(past.ID, "enrolments"), map[string]any{"instructor_ids": w.a1IDs})
	if n := len(trNotices(t, e, past.ID, "training.enrolled")); n != 0 {
		t.Fatalf("%d notices for a session under way", n)
	}
	county.Must(http.StatusOK, "POST", trPath(past.ID, "attendance"), map[string]any{"instructor_id": w.a1IDs[0], "attended": true})
	lastYear := time.Date(w.year-1, 12, 20, 9, 0, 0, 0, clock.Shanghai)
	if r := w.city.Must(http.StatusBadRequest, "PATCH", trPath(past.ID), map[string]any{
		"starts_at": lastYear.Format(time.RFC3339), "ends_at": lastYear.Add(3 * time.Hour).Format(time.RFC3339)}).Err(t); r.Details[0].Field != "starts_at" {
		t.Fatalf("moved to another year: %+v", r)
	}
}

type stTrainingLine struct {
	RegionCode        string   `json:"region_code"`
	RegionName        string   `json:"region_name"`
	Sessions          int64    `json:"sessions"`
	Attendances       int64    `json:"attendances"`
	Trained           int64    `json:"trained"`
	Hours             float64  `json:"hours"`
	ActiveInstructors int64    `json:"active_instructors"`
	TrainedRate       *float64 `json:"trained_rate"`
}

type stTrainingYear struct {
	Year    int              `json:"year"`
	Total   stTrainingLine   `json:"total"`
	Regions []stTrainingLine `json:"regions"`
}

type stSupportLine struct {
	RegionCode        string `json:"region_code"`
	VisitCare         int64  `json:"visit_care"`
	Periodicals       int64  `json:"periodicals"`
	Other             int64  `json:"other"`
	Supported         int64  `json:"supported"`
	ActiveInstructors int64  `json:"active_instructors"`
	Suggestions       int64  `json:"suggestions"`
	Answered          int64  `json:"answered"`
	Unanswered        int64  `json:"unanswered"`
}

type stSupportYear struct {
	Year    int             `json:"year"`
	Total   stSupportLine   `json:"total"`
	Regions []stSupportLine `json:"regions"`
}

func lineOf[L any](t *testing.T, lines []L, code string, codeOf func(L) string) L {
	t.Helper()
	i := slices.IndexFunc(lines, func(l L) bool { return codeOf(l) == code })
	if i < 0 {
		t.Fatalf("no line for %s", code)
	}
	return lines[i]
}

// The yearly statistics per region: training counts different instructors (not only
// attendances), and support and suggestions are counted where the instructors are.
//
// The yearly statistics count every instructor and record of the city: the test has a whole city
// of its own, and looks at two of its counties and a third where nothing happens.
func TestTrainingAndSupportStatisticsByYear(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	whole := e.City(t)
	eastArea, westArea := whole.Counties[0], whole.Counties[1]
	zjkCity, zjkEast, zjkEastTown, zjkWest := whole.Code, eastArea.County, eastArea.Township(), westArea.County
	counties, err := e.App.Regions.Children(context.Background(), zjkCity)
	must(t, err)
	quiet := ""
	for _, r := range counties {
		if r.Code != zjkEast && r.Code != zjkWest {
			quiet = r.Code
			break
		}
	}
	if quiet == "" {
		t.Fatalf("%s has no third county", whole.Name)
	}
	city := e.Staff(t, "city_staff", zjkCity)
	east := e.Staff(t, "county_staff", zjkEast)
	west := e.Staff(t, "county_staff", zjkWest)
	province := e.Staff(t, "province_staff", apitest.Province)
	u1, u2 := east.Unit("village", zjkEastTown), west.Unit("community", zjkWest)
	aC, a := e.InstructorClient(t, east, u1)
	b := east.Instructor(u1)
	cC, c := e.InstructorClient(t, west, u2)
	d := west.Instructor(u2)
	year := e.Clock.Now().In(clock.Shanghai).Year()

	// Two sessions: a, b, c attend the first (d is absent), a the second too.
	start := e.Clock.Now().Add(-3 * time.Hour)
	session := func(d time.Duration) int64 {
		at := func(x time.Duration) string { return start.Add(x).In(clock.Shanghai).Format(time.RFC3339) }
		var s trSession
		city.Must(http.StatusCreated, "POST", "/api/v1/training-sessions", map[string]any{
			"title": "民族团结进步创建实务培训" + apitest.Unique(), "topics": []string{"creation_practice"}, "method": "mutual_inspection",
			"mode": "offline", "place": whole.Name + "民宗局", "hours": 3.5, "starts_at": at(d), "ends_at": at(d + 3*time.Hour)}).JSON(t, &s)
		return s.ID
	}
	s1, s2 := session(0), session(time.Hour)
	city.Must(http.StatusOK, "POST", trPath(s1, "enrolments"), map[string]any{"instructor_ids": []int64{a, b, c, d}})
	city.Must(http.StatusOK, "POST", trPath(s2, "enrolments"), map[string]any{"instructor_ids": []int64{a}})
	attend := func(s, id int64, came bool) {
		city.Must(http.StatusOK, "POST", trPath(s, "attendance"), map[string]any{"instructor_id": id, "attended": came})
	}
	attend(s1, a, true)
	attend(s1, b, true)
	attend(s1, c, true)
	attend(s1, d, false)
	attend(s2, a, true)

	training := func(c *apitest.Client, query string) stTrainingYear {
		t.Helper()
		var y stTrainingYear
		c.Must(http.StatusOK, "GET", "/api/v1/stats/training?"+query, nil).JSON(t, &y)
		return y
	}
	code := func(l stTrainingLine) string { return l.RegionCode }
	y := training(city, fmt.Sprintf("year=%d", year))
	if y.Year != year || y.Total.Trained != 3 || y.Total.Attendances != 4 || y.Total.Sessions != 2 || y.Total.Hours != 14 ||
		y.Total.ActiveInstructors != 4 || y.Total.TrainedRate == nil || *y.Total.TrainedRate != 0.75 {
		t.Fatalf("city total: %+v", y.Total)
	}
	if l := lineOf(t, y.Regions, zjkEast, code); l.Trained != 2 || l.Attendances != 3 || l.Sessions != 2 || l.Hours != 10.5 ||
		l.ActiveInstructors != 2 || l.RegionName != eastArea.CountyName || *l.TrainedRate != 1 {
		t.Fatalf("%s: %+v", eastArea.CountyName, l)
	}
	if l := lineOf(t, y.Regions, zjkWest, code); l.Trained != 1 || l.Attendances != 1 || l.Sessions != 1 || l.Hours != 3.5 || *l.TrainedRate != 0.5 {
		t.Fatalf("%s: %+v", westArea.CountyName, l)
	}
	if l := lineOf(t, y.Regions, quiet, code); l.Trained != 0 || l.ActiveInstructors != 0 || l.TrainedRate != nil {
		t.Fatalf("%s: %+v", quiet, l)
	}
	// A county sees its townships; the province any region; a county not its neighbour.
	if y := training(east, ""); y.Total.Trained != 2 || lineOf(t, y.Regions, zjkEastTown, code).Trained != 2 {
		t.Fatalf("the county's own: %+v", y)
	}
	if y := training(province, "region_code="+zjkCity); y.Total.Trained != 3 {
		t.Fatalf("the province: %+v", y.Total)
	}
	west.Must(http.StatusForbidden, "GET", "/api/v1/stats/training?region_code="+zjkEast, nil)
	for _, q := range []string{"year=twenty", "year=1999", "region_code=13"} {
		city.Must(http.StatusBadRequest, "GET", "/api/v1/stats/training?"+q, nil)
	}
	// b's attendance was a mistake: b was trained by no session this year.
	attend(s1, b, false)
	if y := training(city, ""); y.Total.Trained != 2 || y.Total.Attendances != 3 || lineOf(t, y.Regions, zjkEast, code).Trained != 1 {
		t.Fatalf("after the correction: %+v", y.Total)
	}

	// Support: the eastern county visits a and b, the city subscribes periodicals for all four, the western helps c.
	today := raDate(e, 0, 0)
	east.Must(http.StatusCreated, "POST", "/api/v1/support-records", map[string]any{"kind": "visit_care", "given_on": today,
		"given_by": eastArea.CountyName + "民宗局", "instructor_ids": []int64{a, b}})
	city.Must(http.StatusCreated, "POST", "/api/v1/support-records", map[string]any{"kind": "periodicals", "given_on": today,
		"given_by": whole.Name + "民宗局", "note": "订阅《中国民族》杂志", "recipient_region": zjkCity})
	west.Must(http.StatusCreated, "POST", "/api/v1/support-records", map[string]any{"kind": "other", "given_on": today,
		"given_by": westArea.CountyName + "民宗局", "note": "协调解决工作用车", "instructor_ids": []int64{c}})
	// Suggestions: two from a (one answered), one from c.
	suggest := func(c *apitest.Client, text string) int64 {
		var s spSuggestion
		c.Must(http.StatusCreated, "POST", "/api/v1/suggestions", map[string]any{"client_id": apitest.ClientID(), "content": text}).JSON(t, &s)
		return s.ID
	}
	first := suggest(aC, "希望增加外出考察学习的机会")
	suggest(aC, "建议为指导员配发工作证")
	suggest(cC, "建议定期通报辖区民族工作情况")
	east.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/suggestions/%d/answer", first), map[string]any{"answer": "已列入明年培训计划"})

	var sy stSupportYear
	city.Must(http.StatusOK, "GET", "/api/v1/stats/support", nil).JSON(t, &sy)
	want := stSupportLine{RegionCode: zjkCity, VisitCare: 1, Periodicals: 1, Other: 1, Supported: 4, ActiveInstructors: 4,
		Suggestions: 3, Answered: 1, Unanswered: 2}
	if sy.Year != year || sy.Total != want {
		t.Fatalf("support total: %+v", sy.Total)
	}
	scode := func(l stSupportLine) string { return l.RegionCode }
	if l := lineOf(t, sy.Regions, zjkEast, scode); l != (stSupportLine{RegionCode: zjkEast, VisitCare: 1, Periodicals: 1, Supported: 2,
		ActiveInstructors: 2, Suggestions: 2, Answered: 1, Unanswered: 1}) {
		t.Fatalf("%s: %+v", eastArea.CountyName, l)
	}
	if l := lineOf(t, sy.Regions, zjkWest, scode); l != (stSupportLine{RegionCode: zjkWest, Periodicals: 1, Other: 1, Supported: 2,
		ActiveInstructors: 2, Suggestions: 1, Unanswered: 1}) {
		t.Fatalf("%s: %+v", westArea.CountyName, l)
	}
	west.Must(http.StatusForbidden, "GET", "/api/v1/stats/support?region_code="+zjkCity, nil)
	var last stSupportYear
	city.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/stats/support?year=%d", year-1), nil).JSON(t, &last)
	if last.Total.Supported != 0 || last.Total.Suggestions != 0 {
		t.Fatalf("last year: %+v", last.Total)
	}
}
