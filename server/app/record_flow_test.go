package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

func TestSentimentLoopReachesTheReporter(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	id := w.author.Submit("sentiment", apitest.RecordBody("sentiment", phoneTime(e, -time.Hour)))
	path := recordPath("sentiment", id)

	w.staff.Must(http.StatusConflict, "POST", path+"/close", nil) // not answered yet
	if r := w.staff.Must(http.StatusBadRequest, "POST", path+"/forward", map[string]any{}).Err(t); r.Details[0].Field != "department" {
		t.Fatalf("forward without department: %+v", r)
	}
	var v recordView
	w.staff.Must(http.StatusOK, "POST", path+"/forward", map[string]any{"department": "县水务局", "note": "请一周内答复"}).JSON(t, &v)
	if v.Status != "forwarded" || v.Sentiment.ForwardedTo != "县水务局" {
		t.Fatalf("forwarded: %+v", v)
	}
	w.staff.Must(http.StatusOK, "POST", path+"/answer", map[string]any{"answer": "已安排下周更换管道"})
	w.staff.Must(http.StatusOK, "POST", path+"/close", map[string]any{"note": "群众满意"})

	// The reporting instructor reads the answer: the loop is closed.
	v = getRecord(t, w.author, "sentiment", id)
	if v.Status != "closed" || v.Sentiment.Answer != "已安排下周更换管道" || v.Sentiment.ForwardedTo != "县水务局" {
		t.Fatalf("instructor's view: %+v %+v", v, v.Sentiment)
	}
	if got := v.actions(); !slices.Equal(got, []string{"submit", "forward", "answer", "close"}) {
		t.Fatalf("timeline %v", got)
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM events WHERE subject_id = ? AND kind = 'sentiment.answered'", id); n != 1 {
		t.Fatalf("sentiment.answered events: %d", n)
	}
}

func TestMediationFollowupsAndUnsettledList(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	body := apitest.RecordBody("mediation", phoneTime(e, -3*24*time.Hour))
	partly := w.author.Submit("mediation", body)
	settledBody := apitest.RecordBody("mediation", phoneTime(e, -time.Hour))
	settledBody["mediation"].(map[string]any)["outcome"] = "settled"
	settled := w.author.Submit("mediation", settledBody)

	var list recordList
	w.staff.Must(http.StatusOK, "GET", "/api/v1/mediations?unsettled=true&limit=100", nil).JSON(t, &list)
	if !list.has(partly) || list.has(settled) {
		t.Fatalf("unsettled list: %+v", list.Items)
	}
	w.staff.Must(http.StatusBadRequest, "GET", "/api/v1/mediations?unsettled=maybe", nil)

	// The mediator returns a week later; then the county visits and finds it settled.
	path := recordPath("mediation", partly, "followups")
	var v recordView
	w.author.Must(http.StatusCreated, "POST", path, map[string]any{"visited_at": phoneTime(e, 0), "content": "回访:双方关系缓和"}).JSON(t, &v)
	if len(v.Mediation.Followups) != 1 || v.Mediation.Outcome != "partly_settled" {
		t.Fatalf("first follow-up: %+v", v.Mediation)
	}
	if r := w.author.Must(http.StatusBadRequest, "POST", path, map[string]any{"visited_at": phoneTime(e, time.Hour), "content": "x"}).Err(t); r.Details[0].Field != "visited_at" {
		t.Fatalf("follow-up in the future: %+v", r)
	}
	w.callers["county_out"].Must(http.StatusNotFound, "POST", path, map[string]any{"visited_at": phoneTime(e, 0), "content": "x"})
	w.callers["instructor_other"].Must(http.StatusNotFound, "POST", path, map[string]any{"visited_at": phoneTime(e, 0), "content": "x"})
	w.staff.Must(http.StatusCreated, "POST", path, map[string]any{"visited_at": phoneTime(e, 0), "content": "县里回访,已签订协议", "outcome": "settled"}).JSON(t, &v)
	if len(v.Mediation.Followups) != 2 || !v.Mediation.Settled || v.Mediation.Followups[1].Actor.Role != "county_staff" {
		t.Fatalf("second follow-up: %+v", v.Mediation)
	}
	list = recordList{}
	w.staff.Must(http.StatusOK, "GET", "/api/v1/mediations?unsettled=true&limit=100", nil).JSON(t, &list)
	if list.has(partly) {
		t.Fatal("a settled dispute is still listed as unsettled")
	}
}

func TestReturnFixResubmitAndWithdraw(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	id := w.author.Submit("visit", apitest.RecordBody("visit", phoneTime(e, -time.Hour)))
	path := recordPath("visit", id)

	// Before staff act, the author corrects freely.
	var v recordView
	w.author.Must(http.StatusOK, "PATCH", path, map[string]any{"title": "入户走访马家", "visit": map[string]any{"people": 3}}).JSON(t, &v)
	if v.Title != "入户走访马家" || v.Version != 2 || v.Visit.Content == "" {
		t.Fatalf("patched: %+v", v)
	}
	w.staff.Must(http.StatusForbidden, "PATCH", path, map[string]any{"title": "x"})
	w.callers["instructor_other"].Must(http.StatusNotFound, "PATCH", path, map[string]any{"title": "x"})

	// Staff return it with a note the author sees.
	if r := w.staff.Must(http.StatusBadRequest, "POST", path+"/return", map[string]any{}).Err(t); r.Details[0].Field != "note" {
		t.Fatalf("return without a note: %+v", r)
	}
	w.author.Must(http.StatusForbidden, "POST", path+"/return", map[string]any{"note": "x"})
	w.staff.Must(http.StatusOK, "POST", path+"/return", map[string]any{"note": "请补充走访的具体内容"})
	v = getRecord(t, w.author, "visit", id)
	if v.Status != "returned" || v.ReturnNote != "请补充走访的具体内容" || !v.Editable {
		t.Fatalf("returned: %+v", v)
	}
	w.staff.Must(http.StatusForbidden, "POST", path+"/resubmit", nil)
	w.author.Must(http.StatusOK, "PATCH", path, map[string]any{"visit": map[string]any{"content": "宣讲了民族团结政策,了解了家庭困难"}})
	v = recordView{}
	w.author.Must(http.StatusOK, "POST", path+"/resubmit", map[string]any{"note": "已补充"}).JSON(t, &v)
	if v.Status != "submitted" || v.ReturnNote != "" || v.Visit.Content != "宣讲了民族团结政策,了解了家庭困难" || !v.Editable {
		t.Fatalf("resubmitted: %+v", v)
	}
	w.author.Must(http.StatusConflict, "POST", path+"/resubmit", nil)

	// Every change is a version with a full snapshot.
	var versions struct {
		Items []struct {
			Version  int             `json:"version"`
			Action   string          `json:"action"`
			Snapshot json.RawMessage `json:"snapshot"`
		} `json:"items"`
	}
	w.author.Must(http.StatusOK, "GET", path+"/versions", nil).JSON(t, &versions)
	var actions []string
	for _, it := range versions.Items {
		actions = append(actions, it.Action)
	}
	if !slices.Equal(actions, []string{"submit", "edit", "return", "edit", "resubmit"}) {
		t.Fatalf("versions %v", actions)
	}
	var first recordView
	if err := json.Unmarshal(versions.Items[0].Snapshot, &first); err != nil || first.Visit == nil || first.Visit.Content != "入户走访,宣讲民族政策" {
		t.Fatalf("first snapshot: %s", versions.Items[0].Snapshot)
	}
	w.callers["county_out"].Must(http.StatusNotFound, "GET", path+"/versions", nil)

	// Withdrawn with a reason, never deleted.
	if r := w.author.Must(http.StatusBadRequest, "POST", path+"/withdraw", map[string]any{}).Err(t); r.Details[0].Field != "reason" {
		t.Fatalf("withdraw without a reason: %+v", r)
	}
	v = recordView{}
	w.author.Must(http.StatusOK, "POST", path+"/withdraw", map[string]any{"reason": "重复填报"}).JSON(t, &v)
	if v.Status != "withdrawn" || v.WithdrawReason != "重复填报" || v.Editable {
		t.Fatalf("withdrawn: %+v", v)
	}
	w.author.Must(http.StatusConflict, "PATCH", path, map[string]any{"title": "x"})
	w.staff.Must(http.StatusConflict, "POST", path+"/return", map[string]any{"note": "x"})
	if getRecord(t, w.staff, "visit", id).Status != "withdrawn" {
		t.Fatal("staff lost sight of the withdrawn record")
	}
}

func TestMySummaryCountsThisMonthAndYear(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	loc := time.FixedZone("CST", 8*3600)
	now := e.Clock.Now().In(loc)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	lastMonth := monthStart.Add(-time.Hour)

	w.author.Submit("visit", apitest.RecordBody("visit", now.Format(time.RFC3339)))
	w.author.Submit("visit", apitest.RecordBody("visit", now.Format(time.RFC3339)))
	w.author.Submit("tip", apitest.RecordBody("tip", now.Format(time.RFC3339)))
	w.author.Submit("visit", apitest.RecordBody("visit", lastMonth.Format(time.RFC3339)))
	gone := w.author.Submit("sentiment", apitest.RecordBody("sentiment", now.Format(time.RFC3339)))
	w.author.Must(http.StatusOK, "POST", recordPath("sentiment", gone, "withdraw"), map[string]any{"reason": "填错了"})

	var s struct {
		Month, Year struct {
			From   time.Time        `json:"from"`
			Counts map[string]int64 `json:"counts"`
			Total  int64            `json:"total"`
		}
	}
	w.author.Must(http.StatusOK, "GET", "/api/v1/me/summary", nil).JSON(t, &s)
	if s.Month.Counts["visit"] != 2 || s.Month.Counts["tip"] != 1 || s.Month.Counts["sentiment"] != 0 || s.Month.Counts["mediation"] != 0 || s.Month.Total != 3 {
		t.Fatalf("month: %+v", s.Month)
	}
	wantYearVisits := int64(2)
	if lastMonth.Year() == now.Year() {
		wantYearVisits = 3
	}
	if s.Year.Counts["visit"] != wantYearVisits || !s.Month.From.Equal(monthStart) {
		t.Fatalf("year: %+v, month from %v", s.Year, s.Month.From)
	}
	w.staff.Must(http.StatusForbidden, "GET", "/api/v1/me/summary", nil)
}

func TestRecordListsFilterAndPage(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	other, otherID := e.InstructorClient(t, w.staff, w.staff.Unit("school", w.area.County))
	var mine []int64
	for i := 0; i < 5; i++ {
		mine = append(mine, w.author.Submit("visit", apitest.RecordBody("visit", phoneTime(e, -time.Duration(i)*24*time.Hour))))
	}
	theirs := other.Submit("visit", apitest.RecordBody("visit", phoneTime(e, -time.Hour)))
	keyword := "关键词" + apitest.Unique()
	body := apitest.RecordBody("tip", phoneTime(e, -time.Hour))
	body["tip"].(map[string]any)["description"] = "村民反映" + keyword
	body["tip"].(map[string]any)["level"] = "major"
	tip := w.author.Submit("tip", body)

	// An instructor lists only their own records.
	var page recordList
	w.author.Must(http.StatusOK, "GET", "/api/v1/records?limit=100", nil).JSON(t, &page)
	if !page.has(tip) || page.has(theirs) {
		t.Fatalf("instructor list: %d items", len(page.Items))
	}
	for _, it := range page.Items {
		if it.AuthorID != w.ins {
			t.Fatalf("someone else's record %d in the list", it.ID)
		}
	}

	// Pages stay stable while new records arrive, newest first.
	seen := []int64{}
	path := fmt.Sprintf("/api/v1/visits?author_id=%d&limit=2", w.ins)
	page = recordList{}
	w.staff.Must(http.StatusOK, "GET", path, nil).JSON(t, &page)
	w.author.Submit("visit", apitest.RecordBody("visit", phoneTime(e, 0)))
	for {
		for _, it := range page.Items {
			seen = append(seen, it.ID)
		}
		if page.NextCursor == "" {
			break
		}
		next := page.NextCursor
		page = recordList{}
		w.staff.Must(http.StatusOK, "GET", path+"&cursor="+next, nil).JSON(t, &page)
	}
	want := slices.Clone(mine)
	slices.Reverse(want)
	if !slices.Equal(seen, want) {
		t.Fatalf("pages %v, want %v", seen, want)
	}

	// Filters.
	cases := []struct {
		query string
		has   []int64
		lacks []int64
	}{
		{"/api/v1/records?kind=tip&limit=100", []int64{tip}, []int64{mine[0]}},
		{"/api/v1/tips?level=major&limit=100", []int64{tip}, nil},
		{"/api/v1/tips?level=general&limit=100", nil, []int64{tip}},
		{"/api/v1/records?q=" + keyword, []int64{tip}, []int64{mine[0]}},
		{fmt.Sprintf("/api/v1/visits?unit_id=%d&limit=100", w.unit), []int64{mine[0]}, []int64{theirs}},
		{fmt.Sprintf("/api/v1/visits?author_id=%d&limit=100", otherID), []int64{theirs}, []int64{mine[0]}},
		{"/api/v1/visits?region_code=" + w.area.Township() + "&limit=100", []int64{mine[0]}, nil},
		{"/api/v1/visits?region_code=" + w.area.Neighbour + "&limit=100", nil, []int64{mine[0]}},
		{"/api/v1/visits?status=submitted&limit=100", []int64{mine[0]}, nil},
		{"/api/v1/visits?status=returned&limit=100", nil, []int64{mine[0]}},
		{fmt.Sprintf("/api/v1/visits?author_id=%d&from=%s&limit=100", w.ins, e.Clock.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -2).Format("2006-01-02")),
			[]int64{mine[0], mine[1]}, []int64{mine[4]}},
		{fmt.Sprintf("/api/v1/visits?author_id=%d&to=%s&limit=100", w.ins, url.QueryEscape(phoneTime(e, -36*time.Hour))), []int64{mine[2], mine[4]}, []int64{mine[0], mine[1]}},
	}
	for _, c := range cases {
		var l recordList
		w.staff.Must(http.StatusOK, "GET", c.query, nil).JSON(t, &l)
		for _, id := range c.has {
			if !l.has(id) {
				t.Errorf("%s: lacks %d", c.query, id)
			}
		}
		for _, id := range c.lacks {
			if l.has(id) {
				t.Errorf("%s: has %d", c.query, id)
			}
		}
	}
	for _, bad := range []string{"/api/v1/tips?level=huge", "/api/v1/records?kind=poem", "/api/v1/visits?status=resolved",
		"/api/v1/visits?from=yesterday", "/api/v1/visits?region_code=13", "/api/v1/visits?author_id=x", "/api/v1/visits?cursor=zzz",
		"/api/v1/tips?escalated_to=moon", "/api/v1/visits?visit_kind=party"} {
		w.staff.Must(http.StatusBadRequest, "GET", bad, nil)
	}
}
