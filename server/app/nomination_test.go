package app_test

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// raNomination is a nomination as the tests read it.
type raNomination struct {
	ID             int64  `json:"id"`
	Source         string `json:"source"`
	Status         string `json:"status"`
	Name           string `json:"name"`
	Phone          string `json:"phone"`
	IDNumber       string `json:"id_number"`
	UnitID         int64  `json:"unit_id"`
	UnitName       string `json:"unit_name"`
	RegionCode     string `json:"region_code"`
	AllCriteriaMet bool   `json:"all_criteria_met"`
	RejectReason   string `json:"reject_reason"`
	InstructorID   int64  `json:"instructor_id"`
	Criteria       []struct {
		Code  string `json:"code"`
		Label string `json:"label"`
		Met   bool   `json:"met"`
		Note  string `json:"note"`
	} `json:"criteria"`
}

// raInstructor is an instructor with the fields of terms and adjustments.
type raInstructor struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Phone      string `json:"phone"`
	Status     string `json:"status"`
	UnitID     int64  `json:"unit_id"`
	RegionCode string `json:"region_code"`
	Position   string `json:"position"`
	TermStart  string `json:"term_start"`
	TermEnd    string `json:"term_end"`
}

var raCriteria = []string{"political_stance", "loves_ethnic_work", "knows_policies", "knows_area", "law_abiding", "healthy"}

// raPerson is a valid candidate or replacement.
func raPerson() map[string]any {
	return map[string]any{"name": "候选" + apitest.Unique(), "gender": "male", "ethnicity": "03", "phone": apitest.Phone(),
		"political_status": "cpc_member", "position": "村委委员", "source_category": "village_committee"}
}

// raChecks is a review of every criterion; the codes in unmet are not met.
func raChecks(unmet ...string) map[string]any {
	var out []map[string]any
	for _, c := range raCriteria {
		met := true
		for _, u := range unmet {
			met = met && u != c
		}
		out = append(out, map[string]any{"code": c, "met": met, "note": "经核实"})
	}
	return map[string]any{"criteria": out, "note": "符合选聘条件"}
}

// raToday is the current day in China on the server's clock, moved by days.
func raToday(e *apitest.Env, days int) string {
	return e.Clock.Now().In(clock.Shanghai).AddDate(0, 0, days).Format("2006-01-02")
}

// raNominate records a unit's recommendation of a new person for unit.
func raNominate(t *testing.T, staff *apitest.Client, unit int64) raNomination {
	t.Helper()
	body := raPerson()
	body["unit_id"] = unit
	var n raNomination
	staff.Must(http.StatusCreated, "POST", "/api/v1/nominations", body).JSON(t, &n)
	return n
}

// raAppointed puts a new person into unit through recommendation, review and appointment with
// a term from start, and returns the instructor id.
func raAppointed(t *testing.T, staff *apitest.Client, unit int64, start string) int64 {
	t.Helper()
	n := raNominate(t, staff, unit)
	staff.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/nominations/%d/review", n.ID), raChecks())
	staff.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/nominations/%d/appoint", n.ID), map[string]any{"term_start": start}).JSON(t, &n)
	if n.Status != "appointed" || n.InstructorID == 0 {
		t.Fatalf("appointment: %+v", n)
	}
	return n.InstructorID
}

func raGetInstructor(t *testing.T, c *apitest.Client, id int64) raInstructor {
	t.Helper()
	var v raInstructor
	c.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d", id), nil).JSON(t, &v)
	return v
}

// TestSelfNominationToLogin is the whole path of a self-nominee: a WeChat user not on the roster nominates
// themselves from the mini-program, the county reviews and appoints, and the person binds with
// their phone and logs in.
func TestSelfNominationToLogin(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA1)
	unitName := "自荐村" + apitest.Unique()
	var unit struct{ ID int64 }
	county.Must(http.StatusCreated, "POST", "/api/v1/units", map[string]any{"name": unitName, "kind": "village", "region_code": apitest.TownshipA1}).JSON(t, &unit)

	// The mini-program: wx.login of someone not on the roster gives a bind ticket.
	wxCode := "self" + apitest.Unique() + apitest.Unique()
	var login struct {
		BindTicket string `json:"bind_ticket"`
	}
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": wxCode}).JSON(t, &login)

	body := raPerson()
	phone := body["phone"].(string)
	idNumber := raIDNumber()
	body["id_number"] = idNumber
	body["region_code"] = apitest.TownshipA1
	body["unit_name"] = unitName
	body["statement"] = "在村里做了十年调解工作,愿意为民族团结出力"

	// Neither token nor ticket; an unknown ticket; a bad phone.
	if r := e.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/nominations", body).Err(t); r.Code != "unauthenticated" {
		t.Fatalf("no credentials: %+v", r)
	}
	body["bind_ticket"] = "nope"
	if r := e.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/nominations", body).Err(t); r.Code != "bind_ticket_invalid" {
		t.Fatalf("unknown ticket: %+v", r)
	}
	body["bind_ticket"] = login.BindTicket
	bad := map[string]any{}
	for k, v := range body {
		bad[k] = v
	}
	bad["phone"], bad["region_code"] = "123", "130102999999"
	r := e.Anon(t).Must(http.StatusBadRequest, "POST", "/api/v1/nominations", bad).Err(t)
	if fields := fieldsOf(r); !fields["phone"] || !fields["region_code"] {
		t.Fatalf("bad self-nomination: %+v", r)
	}

	var n raNomination
	e.Anon(t).Must(http.StatusCreated, "POST", "/api/v1/nominations", body).JSON(t, &n)
	if n.Source != "self_nomination" || n.Status != "pending" || n.UnitID != unit.ID || n.Phone != phone || len(n.Criteria) != 0 {
		t.Fatalf("self-nomination: %+v", n)
	}
	if strings.Contains(string(e.Anon(t).Must(http.StatusConflict, "POST", "/api/v1/nominations", body).Body), "o_") {
		t.Fatal("openid shown")
	}
	// The openid is kept for the person who will bind, never shown.
	if got := countRows(t, e, "SELECT COUNT(*) FROM nominations WHERE id = ? AND openid = ?", n.ID, "o_"+wxCode); got != 1 {
		t.Fatalf("openid not kept: %d", got)
	}

	// The county sees it, masked in the list and whole in the detail.
	var l struct{ Items []raNomination }
	county.Must(http.StatusOK, "GET", "/api/v1/nominations?status=pending&source=self_nomination&limit=100", nil).JSON(t, &l)
	found := false
	for _, it := range l.Items {
		if it.ID == n.ID {
			found = true
			if it.Phone == phone || !strings.Contains(it.Phone, "****") || it.IDNumber != idNumber[:6]+"********"+idNumber[14:] {
				t.Fatalf("list not masked: %+v", it)
			}
		}
	}
	if !found {
		t.Fatalf("nomination %d not listed", n.ID)
	}
	// Several statuses at once: the ones still to decide hold it, the decided ones do not.
	for q, want := range map[string]bool{"status=pending&status=reviewed": true, "status=appointed&status=rejected": false} {
		var ll struct{ Items []raNomination }
		county.Must(http.StatusOK, "GET", "/api/v1/nominations?limit=100&"+q, nil).JSON(t, &ll)
		if slices.ContainsFunc(ll.Items, func(it raNomination) bool { return it.ID == n.ID }) != want {
			t.Errorf("nominations?%s: listed %v, want %v", q, !want, want)
		}
	}
	if r := county.Do("GET", "/api/v1/nominations?status=pending&status=lost", nil); r.Status != http.StatusBadRequest || !hasDetail(r.Err(t), "status") {
		t.Errorf("a bad status among several: %d %s", r.Status, r.Body)
	}
	path := fmt.Sprintf("/api/v1/nominations/%d", n.ID)
	var got raNomination
	county.Must(http.StatusOK, "GET", path, nil).JSON(t, &got)
	if got.Phone != phone || got.IDNumber != idNumber {
		t.Fatalf("detail: %+v", got)
	}

	// Not before a review; every criterion must be checked; not if one is unmet.
	if r := county.Must(http.StatusConflict, "POST", path+"/appoint", map[string]any{"term_start": raToday(e, 0)}).Err(t); r.Code != "nomination_not_reviewed" {
		t.Fatalf("appoint unreviewed: %+v", r)
	}
	partial := raChecks()
	partial["criteria"] = partial["criteria"].([]map[string]any)[:5]
	if r := county.Must(http.StatusBadRequest, "POST", path+"/review", partial).Err(t); r.Details[0].Field != "criteria" {
		t.Fatalf("partial review: %+v", r)
	}
	county.Must(http.StatusOK, "POST", path+"/review", raChecks("healthy")).JSON(t, &got)
	if got.Status != "reviewed" || got.AllCriteriaMet || len(got.Criteria) != 6 || got.Criteria[5].Label != "身体健康" {
		t.Fatalf("review: %+v", got)
	}
	if r := county.Must(http.StatusConflict, "POST", path+"/appoint", map[string]any{"term_start": raToday(e, 0)}).Err(t); r.Code != "criteria_not_met" {
		t.Fatalf("appoint with an unmet criterion: %+v", r)
	}
	county.Must(http.StatusOK, "POST", path+"/review", raChecks()).JSON(t, &got)
	if !got.AllCriteriaMet {
		t.Fatalf("second review: %+v", got)
	}
	if r := county.Must(http.StatusBadRequest, "POST", path+"/appoint", map[string]any{"term_start": "2024-13-01"}).Err(t); r.Details[0].Field != "term_start" {
		t.Fatalf("bad date: %+v", r)
	}

	county.Must(http.StatusOK, "POST", path+"/appoint", map[string]any{"term_start": "2024-05-01"}).JSON(t, &got)
	if got.Status != "appointed" || got.InstructorID == 0 {
		t.Fatalf("appointed: %+v", got)
	}
	ins := raGetInstructor(t, county, got.InstructorID)
	if ins.Status != "active" || ins.UnitID != unit.ID || ins.TermStart != "2024-05-01" || ins.TermEnd != "2027-05-01" || ins.Phone != phone {
		t.Fatalf("instructor: %+v", ins)
	}
	if r := county.Must(http.StatusConflict, "POST", path+"/reject", map[string]any{"reason": "x"}).Err(t); r.Code != "nomination_decided" {
		t.Fatalf("reject after appointment: %+v", r)
	}
	var hist struct {
		Items []struct {
			Action       string `json:"action"`
			NominationID int64  `json:"nomination_id"`
			ToUnitID     int64  `json:"to_unit_id"`
		}
	}
	county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d/history", ins.ID), nil).JSON(t, &hist)
	if len(hist.Items) != 1 || hist.Items[0].Action != "appoint" || hist.Items[0].NominationID != n.ID || hist.Items[0].ToUnitID != unit.ID {
		t.Fatalf("history: %+v", hist)
	}

	// The appointed person opens the mini-program again, binds with the phone WeChat confirms, and
	// from then on logs in directly.
	again := "selfagain" + apitest.Unique()
	e.WX.RegisterCode(again, "o_"+wxCode, "")
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": again}).JSON(t, &login)
	if login.BindTicket == "" {
		t.Fatal("no bind ticket before binding")
	}
	phoneCode := "pc" + apitest.Unique()
	e.WX.SetPhone(phoneCode, phone)
	var tok apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": login.BindTicket, "phone_code": phoneCode}).JSON(t, &tok)
	var me struct {
		User struct {
			Role         string `json:"role"`
			InstructorID int64  `json:"instructor_id"`
		} `json:"user"`
		Instructor raInstructor `json:"instructor"`
	}
	e.As(t, tok.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil).JSON(t, &me)
	if me.User.Role != "instructor" || me.User.InstructorID != ins.ID || me.Instructor.TermEnd != "2027-05-01" {
		t.Fatalf("/me: %+v", me)
	}
	third := "selfthird" + apitest.Unique()
	e.WX.RegisterCode(third, "o_"+wxCode, "")
	var direct apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": third}).JSON(t, &direct)
	if direct.AccessToken == "" {
		t.Fatal("the bound instructor does not log in directly")
	}
}

// TestUnitRecommendationBindsWithInvite: a unit's recommendation entered by staff, appointed to
// another unit than recommended, bound with an invite code; rejection and the unit limit.
func TestUnitRecommendationBindsWithInvite(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := county.Unit("village", apitest.TownshipA1)
	other := county.Unit("school", apitest.TownshipA1)

	n := raNominate(t, county, unit)
	if n.Source != "unit_recommendation" || n.UnitID != unit {
		t.Fatalf("recommendation: %+v", n)
	}
	// The same phone cannot be nominated twice while the first is open.
	dup := raPerson()
	dup["phone"], dup["unit_id"] = n.Phone, unit
	if r := county.Must(http.StatusConflict, "POST", "/api/v1/nominations", dup).Err(t); r.Code != "nomination_pending" {
		t.Fatalf("duplicate: %+v", r)
	}
	path := fmt.Sprintf("/api/v1/nominations/%d", n.ID)
	county.Must(http.StatusOK, "POST", path+"/review", raChecks())
	county.Must(http.StatusOK, "POST", path+"/appoint", map[string]any{"term_start": raToday(e, 0), "unit_id": other}).JSON(t, &n)
	if n.UnitID != other {
		t.Fatalf("appointed elsewhere: %+v", n)
	}
	code := county.Invite(n.InstructorID)
	var tok apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": e.BindTicket(t), "invite_code": code}).JSON(t, &tok)
	e.As(t, tok.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil)

	// Rejection, with its reason; no reason is refused.
	rej := raNominate(t, county, unit)
	rpath := fmt.Sprintf("/api/v1/nominations/%d/reject", rej.ID)
	county.Must(http.StatusBadRequest, "POST", rpath, map[string]any{"reason": " "})
	county.Must(http.StatusOK, "POST", rpath, map[string]any{"reason": "本人工作调动"}).JSON(t, &rej)
	if rej.Status != "rejected" || rej.RejectReason != "本人工作调动" {
		t.Fatalf("rejected: %+v", rej)
	}
	if r := county.Must(http.StatusConflict, "POST", fmt.Sprintf("/api/v1/nominations/%d/review", rej.ID), raChecks()).Err(t); r.Code != "nomination_decided" {
		t.Fatalf("review after rejection: %+v", r)
	}

	// 1 to 2 per unit: the third appointment to a unit is refused and nothing changes.
	raAppointed(t, county, other, raToday(e, 0))
	third := raNominate(t, county, other)
	tpath := fmt.Sprintf("/api/v1/nominations/%d", third.ID)
	county.Must(http.StatusOK, "POST", tpath+"/review", raChecks())
	if r := county.Must(http.StatusConflict, "POST", tpath+"/appoint", map[string]any{"term_start": raToday(e, 0)}).Err(t); r.Code != "unit_full" {
		t.Fatalf("third appointment: %+v", r)
	}
	county.Must(http.StatusOK, "GET", tpath, nil).JSON(t, &third)
	if third.Status != "reviewed" || third.InstructorID != 0 {
		t.Fatalf("refused appointment changed the nomination: %+v", third)
	}
	if got := countRows(t, e, "SELECT COUNT(*) FROM instructors WHERE phone_hash IN (SELECT phone_hash FROM nominations WHERE id = ?)", third.ID); got != 0 {
		t.Fatalf("refused appointment left an instructor")
	}

	// Someone on the roster but out of office (same phone) is appointed again, not duplicated.
	gone := raAppointed(t, county, unit, raToday(e, 0))
	county.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/instructors/%d/end-term", gone), map[string]any{"reason": "任期届满"})
	back := raPerson()
	back["phone"], back["unit_id"] = raGetInstructor(t, county, gone).Phone, unit
	var bn raNomination
	county.Must(http.StatusCreated, "POST", "/api/v1/nominations", back).JSON(t, &bn)
	county.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/nominations/%d/review", bn.ID), raChecks())
	county.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/nominations/%d/appoint", bn.ID), map[string]any{"term_start": raToday(e, 1)}).JSON(t, &bn)
	if bn.InstructorID != gone || raGetInstructor(t, county, gone).Status != "active" {
		t.Fatalf("re-appointment made a new instructor: %+v", bn)
	}
	// Someone in office cannot be appointed twice.
	twice := raPerson()
	twice["phone"], twice["unit_id"] = back["phone"], other
	var tn raNomination
	county.Must(http.StatusCreated, "POST", "/api/v1/nominations", twice).JSON(t, &tn)
	county.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/nominations/%d/review", tn.ID), raChecks())
	if r := county.Must(http.StatusConflict, "POST", fmt.Sprintf("/api/v1/nominations/%d/appoint", tn.ID), map[string]any{"term_start": raToday(e, 0)}).Err(t); r.Code != "instructor_active" {
		t.Fatalf("appointing someone in office: %+v", r)
	}

	// The criteria are in the dictionaries.
	var dict map[string][]struct{ Code, Label string }
	e.Anon(t).Must(http.StatusOK, "GET", "/api/v1/dictionaries", nil).JSON(t, &dict)
	if len(dict["nomination_criterion"]) != 6 || dict["nomination_criterion"][0].Code != "political_stance" || len(dict["adjust_reason"]) != 5 || len(dict["filing_status"]) != 3 {
		t.Fatalf("dictionaries: %v", dict["nomination_criterion"])
	}
}

// TestNominationScopeMatrix: every nomination route for every caller; out of scope is 404 or
// 403 and never data.
func TestNominationScopeMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := apitest.Shared(t)
	owner := w.callers["county_in"]
	n := raNominate(t, owner, w.unit)
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
	check := func(who, what string, r *apitest.Response, wantStatus int) {
		t.Helper()
		if r.Status != wantStatus {
			t.Errorf("%s %s: %d, want %d: %s", who, what, r.Status, wantStatus, r.Body)
			return
		}
		if r.Status >= 400 {
			r.Err(t)
			if strings.Contains(string(r.Body), n.Name) {
				t.Errorf("%s %s leaked data: %s", who, what, r.Body)
			}
		}
	}
	for who, c := range w.callers {
		check(who, "get", c.Do("GET", fmt.Sprintf("/api/v1/nominations/%d", n.ID), nil), want(who, 200))
		check(who, "review", c.Do("POST", fmt.Sprintf("/api/v1/nominations/%d/review", n.ID), raChecks()), want(who, 200))

		// A recommendation for the unit in the area.
		body := raPerson()
		body["unit_id"] = w.unit
		check(who, "create", c.Do("POST", "/api/v1/nominations", body), want(who, 201))

		// Appointment and rejection, each on a fresh reviewed nomination for a fresh unit.
		unit := owner.Unit("village", w.area.Township())
		fresh := raNominate(t, owner, unit)
		owner.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/nominations/%d/review", fresh.ID), raChecks())
		check(who, "appoint", c.Do("POST", fmt.Sprintf("/api/v1/nominations/%d/appoint", fresh.ID), map[string]any{"term_start": raToday(e, 0)}), want(who, 200))
		fresh = raNominate(t, owner, unit)
		check(who, "reject", c.Do("POST", fmt.Sprintf("/api/v1/nominations/%d/reject", fresh.ID), map[string]any{"reason": "不符合条件"}), want(who, 200))

		listWant := http.StatusOK
		if who == "anonymous" {
			listWant = http.StatusUnauthorized
		} else if strings.HasPrefix(who, "instructor") {
			listWant = http.StatusForbidden
		}
		r := c.Do("GET", "/api/v1/nominations?limit=100", nil)
		check(who, "list", r, listWant)
		if r.Status == http.StatusOK && strings.Contains(string(r.Body), fmt.Sprintf(`"id":%d,`, n.ID)) != inScope[who] {
			t.Errorf("%s list: sees %d = %v", who, n.ID, !inScope[who])
		}
		if r.Status == http.StatusOK {
			// A region filter outside the caller's scope never widens it.
			body := string(c.Must(http.StatusOK, "GET", "/api/v1/nominations?limit=100&region_code="+w.area.County, nil).Body)
			if strings.Contains(body, fmt.Sprintf(`"id":%d,`, n.ID)) != inScope[who] {
				t.Errorf("%s list by region widened scope", who)
			}
		}
	}
}

// raIDNumber returns a random valid 18-digit ID number (check digit per GB 11643).
func raIDNumber() string {
	r, _ := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	n := r.Int64()
	body := fmt.Sprintf("130102%04d%02d%02d%03d", 1960+n%40, 1+n/40%12, 1+n/480%28, n/13440%1000)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * weights[i]
	}
	return body + string("10X98765432"[sum%11])
}

// fieldsOf returns the fields an error names.
func fieldsOf(e apitest.ErrorBody) map[string]bool {
	out := map[string]bool{}
	for _, d := range e.Details {
		out[d.Field] = true
	}
	return out
}
