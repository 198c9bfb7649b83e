package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// raDate is the day in China on the server's clock moved by years and days.
func raDate(e *apitest.Env, years, days int) string {
	return e.Clock.Now().In(clock.Shanghai).AddDate(years, 0, days).Format("2006-01-02")
}

type raHistory struct {
	Items []struct {
		Action              string `json:"action"`
		ActionName          string `json:"action_name"`
		ReasonCategory      string `json:"reason_category"`
		Note                string `json:"note"`
		FromUnitID          int64  `json:"from_unit_id"`
		ToUnitID            int64  `json:"to_unit_id"`
		FromStatus          string `json:"from_status"`
		ToStatus            string `json:"to_status"`
		TermEnd             string `json:"term_end"`
		RelatedInstructorID int64  `json:"related_instructor_id"`
		ActorRole           string `json:"actor_role"`
	} `json:"items"`
}

func raHistoryOf(t *testing.T, c *apitest.Client, id int64) raHistory {
	t.Helper()
	var h raHistory
	c.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d/history", id), nil).JSON(t, &h)
	return h
}

func raActive(t *testing.T, c *apitest.Client, unit int64) int {
	t.Helper()
	var u struct {
		ActiveInstructors int `json:"active_instructors"`
	}
	c.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/units/%d", unit), nil).JSON(t, &u)
	return u.ActiveInstructors
}

func raIDsOf(t *testing.T, r *apitest.Response) map[int64]bool {
	t.Helper()
	var l struct{ Items []struct{ ID int64 } }
	r.JSON(t, &l)
	out := map[int64]bool{}
	for _, it := range l.Items {
		out[it.ID] = true
	}
	return out
}

func TestTermsRenewalAndEnd(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA1)
	other := e.Staff(t, "county_staff", apitest.CountyA2)
	u1 := county.Unit("village", apitest.TownshipA1)

	// Entered directly, an instructor in office gets a term from today.
	direct := county.Instructor(u1)
	ins := raGetInstructor(t, county, direct)
	if ins.TermStart != raDate(e, 0, 0) || ins.TermEnd != raDate(e, 3, 0) {
		t.Fatalf("direct entry term: %+v", ins)
	}
	if h := raHistoryOf(t, county, direct); len(h.Items) != 1 || h.Items[0].Action != "create" || h.Items[0].ActorRole != "county_staff" {
		t.Fatalf("direct entry history: %+v", h)
	}

	// A term that started nearly 3 years ago ends within 30 days, not within 10.
	start := e.Clock.Now().In(clock.Shanghai).AddDate(-3, 0, 20)
	ending := raAppointed(t, county, u1, start.Format("2006-01-02"))
	oldEnd := start.AddDate(3, 0, 0).Format("2006-01-02")
	if !raIDsOf(t, county.Must(http.StatusOK, "GET", "/api/v1/terms/ending?within_days=30&limit=100", nil))[ending] {
		t.Fatal("term ending in 20 days not listed within 30 days")
	}
	if got := raIDsOf(t, county.Must(http.StatusOK, "GET", "/api/v1/terms/ending?within_days=10&limit=100", nil)); got[ending] || got[direct] {
		t.Fatalf("listed within 10 days: %v", got)
	}
	if !raIDsOf(t, county.Must(http.StatusOK, "GET", "/api/v1/terms/ending?limit=100&region_code="+apitest.TownshipA1, nil))[ending] {
		t.Fatal("not listed by default (90 days)")
	}
	if raIDsOf(t, other.Must(http.StatusOK, "GET", "/api/v1/terms/ending?within_days=1098&limit=100", nil))[ending] {
		t.Fatal("another county sees the term")
	}
	for _, q := range []string{"-1", "1099", "abc"} {
		if r := county.Must(http.StatusBadRequest, "GET", "/api/v1/terms/ending?within_days="+q, nil).Err(t); r.Details[0].Field != "within_days" {
			t.Fatalf("within_days=%s: %+v", q, r)
		}
	}

	// Renewal: from the end of the current term, 3 more years.
	path := fmt.Sprintf("/api/v1/instructors/%d", ending)
	var v raInstructor
	county.Must(http.StatusOK, "POST", path+"/renew", nil).JSON(t, &v)
	if v.TermStart != oldEnd || v.TermEnd != start.AddDate(6, 0, 0).Format("2006-01-02") || v.Status != "active" {
		t.Fatalf("renewed: %+v (old end %s)", v, oldEnd)
	}
	if r := county.Must(http.StatusBadRequest, "POST", path+"/renew", map[string]any{"term_start": "2020-01-01"}).Err(t); r.Details[0].Field != "term_start" {
		t.Fatalf("renewal going back: %+v", r)
	}
	county.Must(http.StatusBadRequest, "POST", path+"/renew", map[string]any{"term_start": "someday"})

	// End of term: the place is free; a second end is refused; renewal brings them back.
	before := raActive(t, county, u1)
	county.Must(http.StatusBadRequest, "POST", path+"/end-term", map[string]any{"reason": ""})
	county.Must(http.StatusOK, "POST", path+"/end-term", map[string]any{"reason": "本人不再续聘"}).JSON(t, &v)
	if v.Status != "term_ended" || raActive(t, county, u1) != before-1 {
		t.Fatalf("ended: %+v", v)
	}
	if r := county.Must(http.StatusConflict, "POST", path+"/end-term", map[string]any{"reason": "x"}).Err(t); r.Code != "instructor_inactive" {
		t.Fatalf("second end: %+v", r)
	}
	county.Must(http.StatusOK, "POST", path+"/renew", map[string]any{"term_start": raDate(e, 0, 30)}).JSON(t, &v)
	if v.Status != "active" || v.TermStart != raDate(e, 0, 30) || raActive(t, county, u1) != before {
		t.Fatalf("renewed after the end: %+v", v)
	}

	h := raHistoryOf(t, county, ending)
	var actions []string
	for _, it := range h.Items {
		actions = append(actions, it.Action)
	}
	if strings.Join(actions, ",") != "renew,end_term,renew,appoint" || h.Items[1].Note != "本人不再续聘" || h.Items[1].ToStatus != "term_ended" {
		t.Fatalf("history: %v %+v", actions, h.Items)
	}
}

func TestInTermAdjustments(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA1)
	other := e.Staff(t, "county_staff", apitest.CountyA2)
	u1 := county.Unit("village", apitest.TownshipA1)
	u2 := county.Unit("community", apitest.TownshipA1)
	full := county.Unit("school", apitest.TownshipA1)
	county.Instructor(full)
	county.Instructor(full)
	outUnit := other.Unit("village", apitest.CountyA2)

	adjust := func(id int64, body map[string]any, want int) *apitest.Response {
		t.Helper()
		return county.Must(want, "POST", fmt.Sprintf("/api/v1/instructors/%d/adjust", id), body)
	}

	// Validation: the action and the reason are required; a replacement is one of two kinds.
	x := county.Instructor(u1)
	r := adjust(x, map[string]any{"action": "fire"}, http.StatusBadRequest).Err(t)
	if f := fieldsOf(r); !f["action"] || !f["reason_category"] {
		t.Fatalf("bad adjustment: %+v", r)
	}
	r = adjust(x, map[string]any{"action": "replace", "reason_category": "health", "replacement": raPerson(), "replacement_instructor_id": x}, http.StatusBadRequest).Err(t)
	if f := fieldsOf(r); !f["replacement"] || !f["replacement_instructor_id"] {
		t.Fatalf("two replacements: %+v", r)
	}
	bad := raPerson()
	bad["phone"] = "1"
	if r := adjust(x, map[string]any{"action": "replace", "reason_category": "health", "replacement": bad}, http.StatusBadRequest).Err(t); !fieldsOf(r)["replacement.phone"] {
		t.Fatalf("bad replacement: %+v", r)
	}

	// Transfer: not to a full unit, not out of scope; then to u2, region and term kept.
	xv := raGetInstructor(t, county, x)
	if r := adjust(x, map[string]any{"action": "transfer", "reason_category": "job_change", "to_unit_id": full}, http.StatusConflict).Err(t); r.Code != "unit_full" {
		t.Fatalf("transfer to a full unit: %+v", r)
	}
	if r := adjust(x, map[string]any{"action": "transfer", "reason_category": "job_change", "to_unit_id": outUnit}, http.StatusNotFound).Err(t); r.Details[0].Field != "to_unit_id" {
		t.Fatalf("transfer out of scope: %+v", r)
	}
	var res struct {
		Instructor  raInstructor  `json:"instructor"`
		Replacement *raInstructor `json:"replacement"`
	}
	adjust(x, map[string]any{"action": "transfer", "reason_category": "job_change", "note": "调任社区"}, http.StatusBadRequest)
	adjust(x, map[string]any{"action": "transfer", "reason_category": "job_change", "note": "调任社区", "to_unit_id": u2}, http.StatusOK).JSON(t, &res)
	if res.Instructor.UnitID != u2 || res.Instructor.TermEnd != xv.TermEnd || res.Replacement != nil || raActive(t, county, u1) != 0 || raActive(t, county, u2) != 1 {
		t.Fatalf("transfer: %+v", res)
	}

	// Replace with a new person: the outgoing instructor is dismissed, the replacement takes the
	// same unit with a new term.
	rep := raPerson()
	adjust(x, map[string]any{"action": "replace", "reason_category": "health", "note": "因病", "replacement": rep}, http.StatusOK).JSON(t, &res)
	if res.Instructor.Status != "dismissed" || res.Replacement == nil || res.Replacement.UnitID != u2 || res.Replacement.Status != "active" ||
		res.Replacement.Phone != rep["phone"] || res.Replacement.TermEnd != raDate(e, 3, 0) || raActive(t, county, u2) != 1 {
		t.Fatalf("replacement: %+v %+v", res.Instructor, res.Replacement)
	}
	newcomer := res.Replacement.ID
	hx, hn := raHistoryOf(t, county, x), raHistoryOf(t, county, newcomer)
	if hx.Items[0].Action != "replaced" || hx.Items[0].RelatedInstructorID != newcomer || hx.Items[0].ReasonCategory != "health" ||
		hx.Items[1].Action != "transfer" || hx.Items[1].FromUnitID != u1 || hx.Items[1].ToUnitID != u2 {
		t.Fatalf("history of the replaced: %+v", hx)
	}
	if hn.Items[0].Action != "replacement" || hn.Items[0].RelatedInstructorID != x || hn.Items[0].Note != "因病" {
		t.Fatalf("history of the replacement: %+v", hn)
	}
	if r := adjust(x, map[string]any{"action": "dismiss", "reason_category": "other"}, http.StatusConflict).Err(t); r.Code != "instructor_inactive" {
		t.Fatalf("adjusting someone dismissed: %+v", r)
	}
	if r := county.Must(http.StatusConflict, "POST", fmt.Sprintf("/api/v1/instructors/%d/renew", x), nil).Err(t); r.Code != "instructor_inactive" {
		t.Fatalf("renewing someone dismissed: %+v", r)
	}

	// Replace with someone already on the roster: an instructor in office elsewhere moves in with
	// their term, and their old unit gets its place back.
	u3 := county.Unit("enterprise", apitest.TownshipA1)
	y := raAppointed(t, county, u3, raDate(e, -1, 0))
	mover := raGetInstructor(t, county, y)
	adjust(newcomer, map[string]any{"action": "replace", "reason_category": "own_wish", "replacement_instructor_id": y}, http.StatusOK).JSON(t, &res)
	if res.Replacement == nil || res.Replacement.ID != y || res.Replacement.UnitID != u2 || res.Replacement.TermEnd != mover.TermEnd ||
		raActive(t, county, u3) != 0 || raActive(t, county, u2) != 1 {
		t.Fatalf("replacement by a moved instructor: %+v", res.Replacement)
	}
	if r := adjust(y, map[string]any{"action": "replace", "reason_category": "own_wish", "replacement_instructor_id": x + 1000000}, http.StatusNotFound).Err(t); r.Details[0].Field != "replacement_instructor_id" {
		t.Fatalf("unknown replacement: %+v", r)
	}

	// Dismissal frees the place; the reason is kept.
	adjust(y, map[string]any{"action": "dismiss", "reason_category": "performance", "note": "长期未履职"}, http.StatusOK).JSON(t, &res)
	if res.Instructor.Status != "dismissed" || raActive(t, county, u2) != 0 {
		t.Fatalf("dismissal: %+v", res.Instructor)
	}
	if h := raHistoryOf(t, county, y); h.Items[0].Action != "dismiss" || h.Items[0].ReasonCategory != "performance" || h.Items[0].FromStatus != "active" {
		t.Fatalf("dismissal history: %+v", h.Items[0])
	}

	// Nothing is deleted: everyone is still on the roster with their status.
	for id, status := range map[int64]string{x: "dismissed", newcomer: "dismissed", y: "dismissed"} {
		if v := raGetInstructor(t, county, id); v.Status != status {
			t.Errorf("instructor %d: %s, want %s", id, v.Status, status)
		}
	}
}

// TestTermScopeMatrix: the term and adjustment routes for every caller.
func TestTermScopeMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	owner := w.callers["county_in"]
	inScope := map[string]bool{"county_in": true, "city_in": true, "province": true}
	want := func(who string, ok int) int {
		switch {
		case who == "anonymous":
			return http.StatusUnauthorized
		case strings.HasPrefix(who, "instructor"):
			return http.StatusForbidden
		case inScope[who]:
			return ok
		}
		return http.StatusNotFound
	}
	for who, c := range w.callers {
		// Each caller acts on an instructor of their own, in the area, in a unit of its own.
		unit := owner.Unit("village", w.area.Township())
		id := owner.Instructor(unit)
		name := raGetInstructor(t, owner, id).Name
		for _, req := range []struct {
			method, path string
			body         any
		}{
			{"GET", fmt.Sprintf("/api/v1/instructors/%d/history", id), nil},
			{"POST", fmt.Sprintf("/api/v1/instructors/%d/renew", id), nil},
			{"POST", fmt.Sprintf("/api/v1/instructors/%d/adjust", id), map[string]any{"action": "transfer", "reason_category": "other",
				"to_unit_id": owner.Unit("village", w.area.Township())}},
			{"POST", fmt.Sprintf("/api/v1/instructors/%d/end-term", id), map[string]any{"reason": "任期届满"}},
			{"POST", fmt.Sprintf("/api/v1/instructors/%d/adjust", id), map[string]any{"action": "dismiss", "reason_category": "other"}},
		} {
			wantStatus := want(who, http.StatusOK)
			if req.method == "POST" && strings.HasSuffix(req.path, "adjust") && wantStatus == http.StatusOK {
				if b := req.body.(map[string]any); b["action"] == "dismiss" {
					wantStatus = http.StatusConflict // the term has ended by then
				}
			}
			r := c.Do(req.method, req.path, req.body)
			if r.Status != wantStatus {
				t.Errorf("%s %s %s: %d, want %d: %s", who, req.method, req.path, r.Status, wantStatus, r.Body)
				continue
			}
			if r.Status >= 400 {
				r.Err(t)
				if strings.Contains(string(r.Body), name) {
					t.Errorf("%s %s leaked data: %s", who, req.path, r.Body)
				}
			}
		}
		if inScope[who] {
			if v := raGetInstructor(t, owner, id); v.Status != "term_ended" {
				t.Errorf("%s: instructor %d is %s after the calls", who, id, v.Status)
			}
		} else if v := raGetInstructor(t, owner, id); v.Status != "active" || v.UnitID != unit {
			t.Errorf("%s changed an instructor out of scope: %+v", who, v)
		}

		listWant := http.StatusOK
		if who == "anonymous" {
			listWant = http.StatusUnauthorized
		} else if strings.HasPrefix(who, "instructor") {
			listWant = http.StatusForbidden
		}
		r := c.Do("GET", "/api/v1/terms/ending?within_days=1098&limit=100", nil)
		if r.Status != listWant {
			t.Errorf("%s terms ending: %d, want %d", who, r.Status, listWant)
		} else if r.Status == http.StatusOK && raIDsOf(t, r)[w.ins] != inScope[who] {
			t.Errorf("%s terms ending: sees %d = %v", who, w.ins, !inScope[who])
		}
	}
}

// TestRosterAdminBadInput sends the JSON routes of nominations, filings, terms and adjustments
// malformed, mistyped, unknown and oversized input: each answer is a 4xx in the error format.
func TestRosterAdminBadInput(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := staff.Unit("village", apitest.TownshipA1)
	ins := staff.Instructor(unit)
	n := raNominate(t, staff, unit)
	big := strings.Repeat("长", 400_000)
	type tc struct {
		body   any
		status int
		field  string
	}
	base := func(optional bool, wrongType map[string]any, field string) []tc {
		cs := []tc{{`{"name": "x",`, 400, ""}, {`[1,2,3]`, 400, ""}, {`{} {}`, 400, ""}, {map[string]any{"note": big}, 413, ""},
			{wrongType, 400, field}}
		if !optional {
			cs = append(cs, tc{``, 400, ""})
		}
		return cs
	}
	np := fmt.Sprintf("/api/v1/nominations/%d", n.ID)
	ip := fmt.Sprintf("/api/v1/instructors/%d", ins)
	routes := []struct {
		client       *apitest.Client
		method, path string
		cases        []tc
	}{
		{staff, "POST", "/api/v1/nominations", append(base(false, map[string]any{"unit_id": "one"}, "unit_id"),
			tc{map[string]any{"name": "王五", "gender": "other", "ethnicity": "99", "phone": "12345", "source_category": "x", "unit_id": unit}, 400, ""})},
		{e.Anon(t), "POST", "/api/v1/nominations", base(false, map[string]any{"bind_ticket": 1}, "bind_ticket")},
		{staff, "POST", np + "/review", append(base(false, map[string]any{"criteria": "all"}, "criteria"),
			tc{map[string]any{"criteria": []map[string]any{{"code": "rich", "met": true}}}, 400, ""})},
		{staff, "POST", np + "/appoint", append(base(false, map[string]any{"term_start": 20240501}, "term_start"),
			tc{map[string]any{}, 400, "term_start"})},
		{staff, "POST", np + "/reject", append(base(false, map[string]any{"reason": 5}, "reason"), tc{map[string]any{}, 400, "reason"})},
		{staff, "POST", "/api/v1/filings", base(true, map[string]any{"note": 5}, "note")},
		{staff, "POST", "/api/v1/filings/1/return", base(false, map[string]any{"reason": []int{1}}, "reason")},
		{staff, "POST", "/api/v1/filings/1/accept", base(true, map[string]any{}, "")[:4]},
		{staff, "POST", ip + "/renew", append(base(true, map[string]any{"term_start": true}, "term_start"), tc{map[string]any{"term_start": "2024-02-30"}, 400, "term_start"})},
		{staff, "POST", ip + "/end-term", append(base(false, map[string]any{"reason": 1}, "reason"), tc{map[string]any{}, 400, "reason"})},
		{staff, "POST", ip + "/adjust", append(base(false, map[string]any{"replacement": "someone"}, "replacement"),
			tc{map[string]any{"action": "promote", "reason_category": "luck"}, 400, "action"},
			tc{map[string]any{"action": "transfer", "reason_category": "other"}, 400, "to_unit_id"})},
	}
	for _, r := range routes {
		for i, c := range r.cases {
			if c.body == nil {
				continue
			}
			res := r.client.Do(r.method, r.path, c.body)
			if res.Status != c.status {
				t.Errorf("%s %s case %d: %d, want %d: %.200s", r.method, r.path, i, res.Status, c.status, res.Body)
				continue
			}
			eb := res.Err(t)
			if c.field != "" && (len(eb.Details) == 0 || eb.Details[0].Field != c.field) {
				t.Errorf("%s %s case %d: details %+v, want field %s", r.method, r.path, i, eb.Details, c.field)
			}
		}
	}
	staff.Must(http.StatusNotFound, "GET", "/api/v1/nominations/abc", nil)
	staff.Must(http.StatusNotFound, "GET", "/api/v1/filings/0", nil)
	staff.Must(http.StatusBadRequest, "GET", "/api/v1/nominations?status=lost", nil)
	staff.Must(http.StatusBadRequest, "GET", "/api/v1/filings?level=village", nil)
	staff.Must(http.StatusBadRequest, "GET", "/api/v1/filings/overview?region_code=13", nil)
	staff.Must(http.StatusBadRequest, "GET", fmt.Sprintf("/api/v1/instructors/%d/history?limit=0", ins), nil)
	if r := staff.DoRaw("POST", "/api/v1/nominations", "text/plain", []byte("name=x")); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain nomination: %d", r.Status)
	}
}
