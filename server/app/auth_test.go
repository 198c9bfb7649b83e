package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/wxfake"
)

func TestHealthRegionsDictionaries(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	anon := e.Anon(t)
	anon.Must(http.StatusOK, "GET", "/healthz", nil)
	if m := string(anon.Must(http.StatusOK, "GET", "/metrics", nil).Body); !strings.Contains(m, "shiliu_http_requests_total") || !strings.Contains(m, `go_sql_open_connections{db_name="shiliu"}`) {
		t.Fatal("metrics lack request or pool series")
	}
	ready := anon.Must(http.StatusOK, "GET", "/readyz", nil).Map(t)
	if ready["status"] != "ok" {
		t.Fatalf("readyz: %v", ready)
	}

	var cities struct {
		Items []struct{ Code, Name, Level string }
	}
	anon.Must(http.StatusOK, "GET", "/api/v1/regions?parent=13", nil).JSON(t, &cities)
	if len(cities.Items) != 11 || cities.Items[0].Name != "石家庄市" || cities.Items[10].Name != "衡水市" || cities.Items[0].Level != "city" {
		t.Fatalf("cities of Hebei: %+v", cities.Items)
	}
	var county struct {
		Code, Name, Level string
		Ancestors         []struct{ Code, Name string }
	}
	anon.Must(http.StatusOK, "GET", "/api/v1/regions/131028", nil).JSON(t, &county)
	if county.Name != "大厂回族自治县" || county.Level != "county" || len(county.Ancestors) != 2 ||
		county.Ancestors[0].Name != "河北省" || county.Ancestors[1].Name != "廊坊市" {
		t.Fatalf("county: %+v", county)
	}
	var towns struct{ Items []struct{ Level string } }
	anon.Must(http.StatusOK, "GET", "/api/v1/regions?parent=131028000000", nil).JSON(t, &towns)
	if len(towns.Items) == 0 || towns.Items[0].Level != "township" {
		t.Fatalf("townships: %+v", towns)
	}
	if e := anon.Must(http.StatusNotFound, "GET", "/api/v1/regions/139999", nil).Err(t); e.Code != "not_found" {
		t.Fatalf("unknown region: %+v", e)
	}
	if e := anon.Must(http.StatusBadRequest, "GET", "/api/v1/regions?parent=abc", nil).Err(t); e.Details[0].Field != "parent" {
		t.Fatalf("bad parent: %+v", e)
	}

	var dict map[string][]struct{ Code, Label string }
	anon.Must(http.StatusOK, "GET", "/api/v1/dictionaries", nil).JSON(t, &dict)
	if len(dict["ethnicity"]) != 58 || len(dict["unit_kind"]) != 13 || len(dict["source_category"]) != 10 || len(dict["role"]) != 7 {
		t.Fatalf("dictionaries: %d ethnicities, %d unit kinds, %d source categories, %d roles",
			len(dict["ethnicity"]), len(dict["unit_kind"]), len(dict["source_category"]), len(dict["role"]))
	}
}

func TestWeChatLoginBindWithInviteCode(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := staff.Unit("village", apitest.TownshipA1)
	insID := staff.Instructor(unit)
	code := staff.Invite(insID)
	if len(code) != 8 {
		t.Fatalf("invite code %q", code)
	}

	// An unknown WeChat user gets a bind ticket, never tokens.
	wxCode := "wxc" + apitest.Unique() + apitest.Unique()
	var login map[string]any
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": wxCode}).JSON(t, &login)
	ticket, _ := login["bind_ticket"].(string)
	if ticket == "" || login["access_token"] != nil || login["session_key"] != nil {
		t.Fatalf("login of an unknown user: %v", login)
	}

	// Wrong code, then the right one (lower case and spaces are forgiven).
	bad := e.Anon(t).Must(http.StatusBadRequest, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": ticket, "invite_code": "ZZZZ2222"}).Err(t)
	if bad.Code != "invite_invalid" || bad.Details[0].Field != "invite_code" {
		t.Fatalf("wrong invite: %+v", bad)
	}
	var tok apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": ticket, "invite_code": " " + strings.ToLower(code) + " "}).JSON(t, &tok)
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn <= 0 {
		t.Fatalf("bind tokens: %+v", tok)
	}

	var me struct {
		User struct {
			Role         string `json:"role"`
			InstructorID int64  `json:"instructor_id"`
		} `json:"user"`
		Instructor struct {
			ID    int64  `json:"id"`
			Bound bool   `json:"bound"`
			Phone string `json:"phone"`
		} `json:"instructor"`
		Unit struct {
			ID      int64  `json:"id"`
			KeyTask string `json:"key_task"`
		} `json:"unit"`
	}
	e.As(t, tok.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil).JSON(t, &me)
	if me.User.Role != "instructor" || me.User.InstructorID != insID || me.Instructor.ID != insID || !me.Instructor.Bound ||
		me.Unit.ID != unit || me.Unit.KeyTask == "" {
		t.Fatalf("/me: %+v", me)
	}

	// The instructor's session refreshes like a staff one (it once deadlocked on SQLite).
	var refreshed apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": tok.RefreshToken}).JSON(t, &refreshed)
	e.As(t, refreshed.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil)

	// A dismissed instructor can no longer refresh: the dismissal ended the session.
	staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", insID), map[string]any{"status": "dismissed"})
	if r := e.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refreshed.RefreshToken}).Err(t); r.Code != "refresh_invalid" {
		t.Fatalf("refresh of a dismissed instructor: %+v", r)
	}
	staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", insID), map[string]any{"status": "active"})

	// The code is spent: another WeChat user cannot use it.
	used := e.Anon(t).Must(http.StatusConflict, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": e.BindTicket(t), "invite_code": code}).Err(t)
	if used.Code != "invite_used" {
		t.Fatalf("reused invite: %+v", used)
	}

	// The bound user logs in again with a new code and gets tokens directly.
	again := "wxc2" + apitest.Unique()
	e.WX.RegisterCode(again, "o_"+wxCode, "")
	var tok2 apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": again}).JSON(t, &tok2)
	if tok2.AccessToken == "" {
		t.Fatalf("second login gave no tokens")
	}

	// A code already used at WeChat is refused with a clear 4xx.
	if e := e.Anon(t).Must(http.StatusBadRequest, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": again}).Err(t); e.Code != "wechat_code_invalid" {
		t.Fatalf("used wechat code: %+v", e)
	}
	// A ticket is good only once it is known.
	if e := e.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": "nope", "invite_code": code}).Err(t); e.Code != "bind_ticket_invalid" {
		t.Fatalf("unknown ticket: %+v", e)
	}
}

// Not parallel: a server eight days ahead runs its sweeps over every test's data.
func TestInviteCodeExpires(t *testing.T) {
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	insID := staff.Instructor(staff.Unit("village", apitest.TownshipA1))
	code := staff.Invite(insID)

	// The same system eight days later, seen through a second instance.
	later := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(8*24*time.Hour)))
	res := later.Anon(t).Must(http.StatusBadRequest, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": later.BindTicket(t), "invite_code": code}).Err(t)
	if res.Code != "invite_expired" {
		t.Fatalf("expired invite: %+v", res)
	}
	// A new invite replaces the old one, which stops working.
	fresh := staff.Invite(insID)
	if fresh == code {
		t.Fatal("same code twice")
	}
	res = e.Anon(t).Must(http.StatusBadRequest, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": e.BindTicket(t), "invite_code": code}).Err(t)
	if res.Code != "invite_invalid" {
		t.Fatalf("replaced invite: %+v", res)
	}
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": e.BindTicket(t), "invite_code": fresh})
}

func TestInviteCodeSpentOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	code := staff.Invite(staff.Instructor(staff.Unit("village", apitest.TownshipA1)))
	const n = 8
	tickets := make([]string, n)
	for i := range tickets {
		tickets[i] = e.BindTicket(t)
	}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = e.Anon(t).Do("POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": tickets[i], "invite_code": code}).Status
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
		default:
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("%d binds succeeded with one invite code, want 1 (%v)", ok, statuses)
	}
}

func TestBindWithPhoneNumber(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := staff.Unit("community", apitest.TownshipA1)
	body := apitest.InstructorBody(unit)
	phone := body["phone"].(string)
	staff.Must(http.StatusCreated, "POST", "/api/v1/instructors", body)

	phoneCode := "pc" + apitest.Unique()
	e.WX.SetPhone(phoneCode, phone)
	var tok apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": e.BindTicket(t), "phone_code": phoneCode}).JSON(t, &tok)
	me := e.As(t, tok.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil).Map(t)
	if me["user"].(map[string]any)["role"] != "instructor" {
		t.Fatalf("/me: %v", me)
	}

	// A phone number that is not on the roster is told so.
	other := "pc" + apitest.Unique()
	e.WX.SetPhone(other, apitest.Phone())
	if r := e.Anon(t).Must(http.StatusNotFound, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": e.BindTicket(t), "phone_code": other}).Err(t); r.Code != "phone_not_on_roster" {
		t.Fatalf("unknown phone: %+v", r)
	}
	// Neither or both ways at once is a 400 naming the field.
	if r := e.Anon(t).Must(http.StatusBadRequest, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": e.BindTicket(t)}).Err(t); r.Details[0].Field != "invite_code" {
		t.Fatalf("no code: %+v", r)
	}
}

// Not parallel: injects failures into the shared fake WeChat and counts all its requests.
func TestWeChatFailuresAreClear(t *testing.T) {
	e := apitest.Shared(t)
	cases := []struct {
		errcode int
		status  int
		code    string
	}{
		{40029, http.StatusBadRequest, "wechat_code_invalid"},
		{40163, http.StatusBadRequest, "wechat_code_invalid"},
		{45011, http.StatusTooManyRequests, "rate_limited"},
		{40226, http.StatusForbidden, "wechat_user_blocked"},
	}
	for _, c := range cases {
		e.WX.Inject(wxfake.EndpointCode2Session, c.errcode, 1)
		r := e.Anon(t).Must(c.status, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": "inj" + apitest.Unique()}).Err(t)
		if r.Code != c.code {
			t.Errorf("errcode %d: got %+v", c.errcode, r)
		}
	}
	// System busy once is retried by the gateway; twice reaches the user as a 502.
	e.WX.Inject(wxfake.EndpointCode2Session, -1, 1)
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": "busy" + apitest.Unique()})
	e.WX.Inject(wxfake.EndpointCode2Session, -1, 2)
	if r := e.Anon(t).Must(http.StatusBadGateway, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": "busy" + apitest.Unique()}).Err(t); r.Code != "wechat_unavailable" {
		t.Fatalf("busy twice: %+v", r)
	}
	// A code with characters WeChat never issues does not reach WeChat at all.
	before := len(e.WX.Requests(wxfake.EndpointCode2Session))
	e.Anon(t).Must(http.StatusBadRequest, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": "a&b=c"})
	if after := len(e.WX.Requests(wxfake.EndpointCode2Session)); after != before {
		t.Fatalf("malformed code was sent to WeChat")
	}
}
