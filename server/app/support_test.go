package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
)

type spRecipient struct {
	InstructorID int64  `json:"instructor_id"`
	Name         string `json:"name"`
	UnitName     string `json:"unit_name"`
	RegionCode   string `json:"region_code"`
}

type spRecord struct {
	ID              int64         `json:"id"`
	Kind            string        `json:"kind"`
	KindName        string        `json:"kind_name"`
	GivenOn         string        `json:"given_on"`
	GivenBy         string        `json:"given_by"`
	Note            string        `json:"note"`
	RegionCode      string        `json:"region_code"`
	RegionName      string        `json:"region_name"`
	RecipientRegion string        `json:"recipient_region"`
	RecipientCount  int           `json:"recipient_count"`
	Recipients      []spRecipient `json:"recipients"`
}

func (r spRecord) recipientIDs() []int64 {
	var out []int64
	for _, x := range r.Recipients {
		out = append(out, x.InstructorID)
	}
	slices.Sort(out)
	return out
}

type spSuggestion struct {
	ID             int64   `json:"id"`
	ClientID       string  `json:"client_id"`
	InstructorID   int64   `json:"instructor_id"`
	InstructorName string  `json:"instructor_name"`
	UnitName       string  `json:"unit_name"`
	CountyCode     string  `json:"county_code"`
	CountyName     string  `json:"county_name"`
	Content        string  `json:"content"`
	Status         string  `json:"status"`
	StatusName     string  `json:"status_name"`
	Answer         string  `json:"answer"`
	AnsweredAt     *string `json:"answered_at"`
}

func spRecords(t *testing.T, c *apitest.Client, query string) []spRecord {
	t.Helper()
	var l struct{ Items []spRecord }
	c.Must(http.StatusOK, "GET", "/api/v1/support-records?limit=100&"+query, nil).JSON(t, &l)
	return l.Items
}

func spHas(rs []spRecord, id int64) bool {
	return slices.ContainsFunc(rs, func(r spRecord) bool { return r.ID == id })
}

// Staff record the support they give (走访慰问、订阅报刊、其他) to instructors one by one or to a
// whole region; the record shows on each instructor's file, to the staff whose subtree holds
// them, with only their own instructors when a level above recorded it.
func TestSupportRecordsReachTheInstructorFile(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA1)
	neighbour := e.Staff(t, "county_staff", apitest.CountyA2)
	city := e.Staff(t, "city_staff", apitest.CityA)
	u1 := county.Unit("village", apitest.TownshipA1)
	a, b := county.Instructor(u1), county.Instructor(u1)
	c := neighbour.Instructor(neighbour.Unit("community", apitest.CountyA2))
	today := raDate(e, 0, 0)

	var visit spRecord
	county.Must(http.StatusCreated, "POST", "/api/v1/support-records", map[string]any{
		"kind": "visit_care", "given_on": today, "given_by": "长安区民宗局 李局长", "note": "春节前走访慰问,送去慰问品",
		"instructor_ids": []int64{b, a, b}}).JSON(t, &visit)
	if visit.KindName != "走访慰问" || visit.RegionCode != apitest.CountyA1 || visit.RegionName != "长安区" || visit.RecipientCount != 2 ||
		!slices.Equal(visit.recipientIDs(), []int64{a, b}) || visit.Recipients[0].Name == "" || visit.Recipients[0].UnitName == "" ||
		visit.GivenOn != today || visit.RecipientRegion != "" {
		t.Fatalf("visit: %+v", visit)
	}
	var papers spRecord
	county.Must(http.StatusCreated, "POST", "/api/v1/support-records", map[string]any{
		"kind": "periodicals", "given_on": raDate(e, 0, -10), "given_by": "长安区民宗局", "recipient_region": apitest.TownshipA1,
	}).JSON(t, &papers)
	if papers.RecipientRegion != apitest.TownshipA1 || papers.RecipientCount < 2 || papers.RecipientCount != len(papers.Recipients) ||
		!slices.Contains(papers.recipientIDs(), a) || !slices.Contains(papers.recipientIDs(), b) {
		t.Fatalf("periodicals for the township: %+v", papers)
	}

	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		field  string
	}{
		"unknown kind":          {map[string]any{"kind": "banquet"}, 400, "kind"},
		"tomorrow":              {map[string]any{"given_on": raDate(e, 0, 1)}, 400, "given_on"},
		"not a date":            {map[string]any{"given_on": "春节前"}, 400, "given_on"},
		"six years ago":         {map[string]any{"given_on": raDate(e, -6, 0)}, 400, "given_on"},
		"other without note":    {map[string]any{"kind": "other", "note": ""}, 400, "note"},
		"nobody":                {map[string]any{"instructor_ids": []int64{}}, 400, "instructor_ids"},
		"both":                  {map[string]any{"recipient_region": apitest.TownshipA1}, 400, "recipient_region"},
		"no one gave it":        {map[string]any{"given_by": " "}, 400, "given_by"},
		"another county's":      {map[string]any{"instructor_ids": []int64{a, c}}, 400, "instructor_ids"},
		"another county whole":  {map[string]any{"instructor_ids": nil, "recipient_region": apitest.CountyA2}, 403, "recipient_region"},
		"ids of the wrong type": {map[string]any{"instructor_ids": "all"}, 400, "instructor_ids"},
	} {
		body := map[string]any{"kind": "visit_care", "given_on": today, "given_by": "李局长", "instructor_ids": []int64{a}}
		for k, v := range tc.body {
			body[k] = v
		}
		if r := county.Must(tc.status, "POST", "/api/v1/support-records", body).Err(t); len(r.Details) == 0 || r.Details[0].Field != tc.field {
			t.Errorf("%s: %+v", name, r)
		}
	}

	// The instructor's file lists both; the neighbour's instructor none of them.
	if l := spRecords(t, county, fmt.Sprintf("instructor_id=%d", a)); !spHas(l, visit.ID) || !spHas(l, papers.ID) {
		t.Fatalf("a's file: %+v", l)
	}
	if l := spRecords(t, county, "kind=periodicals&region_code="+apitest.TownshipA1); !spHas(l, papers.ID) || spHas(l, visit.ID) {
		t.Fatalf("filtered: %+v", l)
	}
	if l := spRecords(t, neighbour, ""); spHas(l, visit.ID) || spHas(l, papers.ID) {
		t.Fatal("the neighbour county lists A1's support")
	}
	if r := neighbour.Must(http.StatusNotFound, "GET", fmt.Sprintf("/api/v1/support-records/%d", visit.ID), nil).Err(t); r.Code != "support_record_not_found" {
		t.Fatalf("neighbour: %+v", r)
	}
	var seen spRecord
	city.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/support-records/%d", visit.ID), nil).JSON(t, &seen)
	if !slices.Equal(seen.recipientIDs(), []int64{a, b}) {
		t.Fatalf("the city sees %+v", seen)
	}

	// The city visits one instructor of each county: each county sees its own only.
	var cityVisit spRecord
	city.Must(http.StatusCreated, "POST", "/api/v1/support-records", map[string]any{
		"kind": "other", "given_on": today, "given_by": "石家庄市民宗局", "note": "邀请参加全市民族团结进步表彰会",
		"instructor_ids": []int64{a, c}}).JSON(t, &cityVisit)
	for _, x := range []struct {
		who  *apitest.Client
		want []int64
	}{{county, []int64{a}}, {neighbour, []int64{c}}, {city, []int64{a, c}}} {
		var v spRecord
		x.who.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/support-records/%d", cityVisit.ID), nil).JSON(t, &v)
		if !slices.Equal(v.recipientIDs(), x.want) || v.RecipientCount != 2 || v.RegionName != "石家庄市" {
			t.Errorf("recipients seen: %+v, want %v", v, x.want)
		}
	}
	if l := spRecords(t, neighbour, fmt.Sprintf("instructor_id=%d", c)); len(l) != 1 || l[0].ID != cityVisit.ID {
		t.Fatalf("c's file: %+v", l)
	}

	// Instructors do not read the departments' records; every write is in the audit log.
	ins, _ := e.InstructorClient(t, county, county.Unit("village", apitest.TownshipA1))
	ins.Must(http.StatusForbidden, "GET", "/api/v1/support-records", nil)
	if l := auditOf(t, county, url.Values{"subject_type": {"support-record"}, "action": {"POST /api/v1/support-records"}, "limit": {"100"}}); !slices.ContainsFunc(l.Items, func(x auditEntry) bool {
		return x.SubjectID != nil && *x.SubjectID == visit.ID
	}) {
		t.Fatal("the support record is not in the audit log")
	}
}

// An instructor sends a suggestion to their county from the phone (retries land once); the
// county is told, answers in the console, and the instructor is told the answer.
func TestSuggestionAnsweredByTheCounty(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA1)
	neighbour := e.Staff(t, "county_staff", apitest.CountyA2)
	city := e.Staff(t, "city_staff", apitest.CityA)
	ins, insID := e.InstructorClient(t, county, county.Unit("village", apitest.TownshipA1))
	other, _ := e.InstructorClient(t, neighbour, neighbour.Unit("village", apitest.CountyA2))
	tpl := e.Config.Notify.Templates["suggestion_answered"].ID
	ins.Must(http.StatusOK, "POST", "/api/v1/subscriptions", map[string]any{"results": map[string]string{tpl: "accept"}})

	content := "建议县里统一印制民族政策宣传手册" + apitest.Unique()
	body := map[string]any{"client_id": apitest.ClientID(), "content": content}
	var s1, s2 spSuggestion
	ins.Must(http.StatusCreated, "POST", "/api/v1/suggestions", body).JSON(t, &s1)
	ins.Must(http.StatusOK, "POST", "/api/v1/suggestions", body).JSON(t, &s2)
	if s1.ID == 0 || s2.ID != s1.ID || s1.Status != "submitted" || s1.StatusName != "待答复" || s1.CountyCode != apitest.CountyA1 ||
		s1.CountyName != "长安区" || s1.InstructorID != insID || s1.InstructorName == "" || s1.AnsweredAt != nil {
		t.Fatalf("submitted %+v, retried %+v", s1, s2)
	}
	if r := ins.Must(http.StatusConflict, "POST", "/api/v1/suggestions", map[string]any{"client_id": body["client_id"], "content": "另一条"}).Err(t); r.Code != "client_id_conflict" || r.Details[0].Field != "client_id" {
		t.Fatalf("reused id: %+v", r)
	}
	for _, bad := range []map[string]any{{"content": "x"}, {"client_id": "123", "content": "x"}, {"client_id": apitest.ClientID(), "content": "  "}} {
		ins.Must(http.StatusBadRequest, "POST", "/api/v1/suggestions", bad)
	}
	county.Must(http.StatusForbidden, "POST", "/api/v1/suggestions", map[string]any{"client_id": apitest.ClientID(), "content": "x"})

	// The county hears of it at once: the event names the county, its staff are the recipients.
	raw := eventPayloads(t, e, "suggestion", s1.ID, "suggestion.submitted")
	var submitted struct {
		CountyCode     string `json:"county_code"`
		InstructorName string `json:"instructor_name"`
		Summary        string `json:"summary"`
	}
	if len(raw) != 1 || json.Unmarshal([]byte(raw[0]), &submitted) != nil || submitted.CountyCode != apitest.CountyA1 || submitted.Summary != content {
		t.Fatalf("suggestion.submitted: %v", raw)
	}
	officer := fmt.Sprint(accountID(t, county))
	ntWait(t, "the county's notice", func() bool {
		var n int64
		e.DB().Raw("SELECT COUNT(*) FROM notifications WHERE event_kind = 'suggestion.submitted' AND subject_id = ? AND target = ?", s1.ID, officer).Scan(&n)
		return n == 1
	})

	path := fmt.Sprintf("/api/v1/suggestions/%d", s1.ID)
	other.Must(http.StatusNotFound, "GET", path, nil)
	neighbour.Must(http.StatusNotFound, "GET", path, nil)
	neighbour.Must(http.StatusNotFound, "POST", path+"/answer", map[string]any{"answer": "收到"})
	city.Must(http.StatusOK, "GET", path, nil)
	if r := city.Must(http.StatusForbidden, "POST", path+"/answer", map[string]any{"answer": "收到"}).Err(t); r.Code != "forbidden" {
		t.Fatalf("the city answered: %+v", r)
	}
	ins.Must(http.StatusForbidden, "POST", path+"/answer", map[string]any{"answer": "收到"})
	if r := county.Must(http.StatusBadRequest, "POST", path+"/answer", map[string]any{"answer": ""}).Err(t); r.Details[0].Field != "answer" {
		t.Fatalf("empty answer: %+v", r)
	}
	var l struct{ Items []spSuggestion }
	county.Must(http.StatusOK, "GET", "/api/v1/suggestions?status=submitted&limit=100", nil).JSON(t, &l)
	if !slices.ContainsFunc(l.Items, func(x spSuggestion) bool { return x.ID == s1.ID }) {
		t.Fatal("not among the county's unanswered suggestions")
	}
	county.Must(http.StatusBadRequest, "GET", "/api/v1/suggestions?status=maybe", nil)

	answer := "已安排县民宗局统一印制,下月发放到各村。"
	var answered spSuggestion
	county.Must(http.StatusOK, "POST", path+"/answer", map[string]any{"answer": answer}).JSON(t, &answered)
	if answered.Status != "answered" || answered.Answer != answer || answered.AnsweredAt == nil {
		t.Fatalf("answered: %+v", answered)
	}
	county.Must(http.StatusOK, "POST", path+"/answer", map[string]any{"answer": answer})
	if r := county.Must(http.StatusConflict, "POST", path+"/answer", map[string]any{"answer": "另一个答复"}).Err(t); r.Code != "suggestion_answered" {
		t.Fatalf("second answer: %+v", r)
	}
	if n := len(eventPayloads(t, e, "suggestion", s1.ID, "suggestion.answered")); n != 1 {
		t.Fatalf("%d suggestion.answered events", n)
	}

	// The instructor sees the answer in the mini-program and was sent it.
	var mine struct{ Items []spSuggestion }
	ins.Must(http.StatusOK, "GET", "/api/v1/suggestions", nil).JSON(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != s1.ID || mine.Items[0].Answer != answer {
		t.Fatalf("the instructor's suggestions: %+v", mine.Items)
	}
	ntWait(t, "the answer's subscribe message", func() bool { return ntSubscribedTo(e, content)[openID(t, e, insID)] == 1 })
	var file struct{ Items []spSuggestion }
	county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/suggestions?instructor_id=%d", insID), nil).JSON(t, &file)
	if len(file.Items) != 1 || file.Items[0].ID != s1.ID {
		t.Fatalf("the instructor's file: %+v", file.Items)
	}
}
