package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
)

// wechatLogin logs in to the mini-program with a fresh code for openid: tokens when the WeChat
// user is bound, a bind ticket when not.
func wechatLogin(t *testing.T, e *apitest.Env, openid string) map[string]any {
	t.Helper()
	code := "uc" + apitest.Unique() + apitest.Unique()
	e.WX.RegisterCode(code, openid, "")
	return e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": code}).Map(t)
}

// TestUnbindInstructorWeChat: a county officer unbinds an instructor's WeChat (a lost phone, a
// WeChat account that is not theirs). The link is gone, the phone's sessions end at once, the
// action is in the audit trail; other counties, instructors and the unbound are refused; the
// instructor can bind again by invite code or by phone number.
func TestUnbindInstructorWeChat(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA2)
	other := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := county.Unit("village", apitest.CountyA2)
	body := apitest.InstructorBody(unit)
	id := apitest.ID(t, county.Must(http.StatusCreated, "POST", "/api/v1/instructors", body))
	path := fmt.Sprintf("/api/v1/instructors/%d/unbind", id)

	// Not bound yet: nothing to unbind.
	if r := county.Must(http.StatusConflict, "POST", path, nil).Err(t); r.Code != "instructor_not_bound" {
		t.Fatalf("unbound: %+v", r)
	}

	openid := "o_unbind_" + apitest.Unique()
	ticket := wechatLogin(t, e, openid)["bind_ticket"].(string)
	var phone apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{
		"bind_ticket": ticket, "invite_code": county.Invite(id)}).JSON(t, &phone)
	ins := e.As(t, phone.AccessToken)
	ins.Must(http.StatusOK, "GET", "/api/v1/me", nil)
	if got := county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d", id), nil).Map(t); got["bound"] != true {
		t.Fatalf("after binding: %v", got["bound"])
	}

	// Another county does not see the instructor; the instructor is no officer.
	if r := other.Must(http.StatusNotFound, "POST", path, nil).Err(t); r.Code != "instructor_not_found" {
		t.Fatalf("other county: %+v", r)
	}
	ins.Must(http.StatusForbidden, "POST", path, nil)

	done := county.Must(http.StatusOK, "POST", path, nil)
	if got := done.Map(t); got["bound"] != false || got["id"] != float64(id) {
		t.Fatalf("unbind answered %s", done.Body)
	}
	// The phone's sessions ended at once: its access token and its refresh token are refused.
	ins.Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
	e.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": phone.RefreshToken})
	// The same WeChat user logging in again is a stranger: it gets a bind ticket, not a login.
	if again := wechatLogin(t, e, openid); again["bind_ticket"] == nil || again["access_token"] != nil {
		t.Fatalf("login after unbind: %v", again)
	}
	if got := county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d", id), nil).Map(t); got["bound"] != false {
		t.Fatalf("detail after unbind: bound %v", got["bound"])
	}
	if r := county.Must(http.StatusConflict, "POST", path, nil).Err(t); r.Code != "instructor_not_bound" {
		t.Fatalf("second unbind: %+v", r)
	}

	// Audited under the instructor.
	l := auditOf(t, county, url.Values{"subject_type": {"instructor"}, "subject_id": {fmt.Sprint(id)}})
	found := false
	for _, en := range l.Items {
		if en.Action == "POST /api/v1/instructors/{id}/unbind" && en.Status == http.StatusOK && en.RequestID == done.Header.Get("X-Request-ID") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit entry of the unbind: %+v", l.Items)
	}

	// The instructor binds again with the phone number WeChat confirms, from a new phone.
	phoneCode := "pc" + apitest.Unique()
	e.WX.SetPhone(phoneCode, body["phone"].(string))
	var fresh apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{
		"bind_ticket": wechatLogin(t, e, "o_new_"+apitest.Unique())["bind_ticket"].(string), "phone_code": phoneCode}).JSON(t, &fresh)
	e.As(t, fresh.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil)
	if got := county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d", id), nil).Map(t); got["bound"] != true {
		t.Fatalf("after binding again: bound %v", got["bound"])
	}
}
