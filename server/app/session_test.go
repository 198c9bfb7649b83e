package app_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// Not parallel: a server 16 minutes ahead runs its sweeps over every test's data.
func TestPasswordLoginLockout(t *testing.T) {
	e := apitest.Shared(t)
	user := "locktest_" + apitest.Unique()
	if _, err := e.App.Auth.CreateUser(context.Background(), user, "county_staff", "130102", "right-password-1", ""); err != nil {
		t.Fatal(err)
	}
	anon := e.Anon(t)
	if r := anon.Must(http.StatusUnauthorized, "POST", "/api/v1/auth/password/login", map[string]string{"username": "nobody_" + apitest.Unique(), "password": "x"}).Err(t); r.Code != "invalid_credentials" {
		t.Fatalf("unknown user: %+v", r)
	}
	for i := 0; i < 5; i++ {
		anon.Must(http.StatusUnauthorized, "POST", "/api/v1/auth/password/login", map[string]string{"username": user, "password": "wrong"})
	}
	// Locked now: even the right password is refused, with a message that says for how long.
	r := anon.Must(http.StatusTooManyRequests, "POST", "/api/v1/auth/password/login", map[string]string{"username": user, "password": "right-password-1"}).Err(t)
	if r.Code != "account_locked" {
		t.Fatalf("locked: %+v", r)
	}
	// Sixteen minutes later the lock has passed.
	later := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(16*60e9)))
	later.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/password/login", map[string]string{"username": user, "password": "right-password-1"})
	// Missing fields name themselves.
	if r := anon.Must(http.StatusBadRequest, "POST", "/api/v1/auth/password/login", map[string]string{"username": user}).Err(t); r.Details[0].Field != "password" {
		t.Fatalf("missing password: %+v", r)
	}
}

// Not parallel: a server 20 minutes ahead runs its sweeps over every test's data.
func TestRefreshRotationReuseAndLogout(t *testing.T) {
	e := apitest.Shared(t)
	user := "rot_" + apitest.Unique()
	if _, err := e.App.Auth.CreateUser(context.Background(), user, "city_staff", "130100000000", "right-password-1", "石家庄市民宗局"); err != nil {
		t.Fatal(err)
	}
	anon := e.Anon(t)
	var first apitest.Tokens
	anon.Must(http.StatusOK, "POST", "/api/v1/auth/password/login", map[string]string{"username": user, "password": "right-password-1"}).JSON(t, &first)
	var second apitest.Tokens
	anon.Must(http.StatusOK, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": first.RefreshToken}).JSON(t, &second)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
		t.Fatal("refresh did not rotate")
	}
	e.As(t, second.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil)

	// The spent token comes back from another client: someone copied it. The whole family dies,
	// including the tokens the legitimate refresh produced.
	thief := anon.With("User-Agent", "copied-token/1.0")
	if r := thief.Must(http.StatusUnauthorized, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": first.RefreshToken}).Err(t); r.Code != "refresh_reused" {
		t.Fatalf("reuse: %+v", r)
	}
	anon.Must(http.StatusUnauthorized, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": second.RefreshToken})
	e.As(t, second.AccessToken).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)

	// Logout ends a session at once.
	var third apitest.Tokens
	anon.Must(http.StatusOK, "POST", "/api/v1/auth/password/login", map[string]string{"username": user, "password": "right-password-1"}).JSON(t, &third)
	c := e.As(t, third.AccessToken)
	c.Must(http.StatusOK, "GET", "/api/v1/me", nil)
	c.Must(http.StatusNoContent, "POST", "/api/v1/auth/logout", nil)
	c.Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
	anon.Must(http.StatusUnauthorized, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": third.RefreshToken})

	// Access tokens are short-lived.
	var fourth apitest.Tokens
	anon.Must(http.StatusOK, "POST", "/api/v1/auth/password/login", map[string]string{"username": user, "password": "right-password-1"}).JSON(t, &fourth)
	if fourth.ExpiresIn > 3600 {
		t.Fatalf("access token lives %d s", fourth.ExpiresIn)
	}
	later := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(20*60e9)))
	if r := later.As(t, fourth.AccessToken).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil).Err(t); r.Code != "token_invalid" {
		t.Fatalf("expired token: %+v", r)
	}
	anon.Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
	e.As(t, "not-a-token").Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
}

func TestRedisOutageDegradesAndRecovers(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	mini := restartableRedis(t) // its own Redis, so the others are unaffected
	own := apitest.Another(t, e.Clock, func(c *config.Config) { c.Redis.URL = "redis://" + mini.Addr() })
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	c := own.As(t, staff.Token)

	mini.Close()
	// Degraded, still worth sending traffic to.
	r := own.Anon(t).Must(http.StatusOK, "GET", "/readyz", nil).Map(t)
	if r["status"] != "degraded" || r["checks"].(map[string]any)["redis"] != "down" || r["checks"].(map[string]any)["database"] != "ok" {
		t.Fatalf("readyz during outage: %v", r)
	}
	// Logins that need Redis say so; work that does not need it goes on.
	if e := own.Anon(t).Must(http.StatusServiceUnavailable, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": "down" + apitest.Unique()}).Err(t); e.Code != "unavailable" {
		t.Fatalf("wechat login during outage: %+v", e)
	}
	c.Must(http.StatusOK, "GET", "/api/v1/units", nil)

	if err := mini.Restart(); err != nil {
		t.Fatal(err)
	}
	own.Anon(t).Must(http.StatusOK, "GET", "/readyz", nil)
	own.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": "up" + apitest.Unique()})
}

// TestStaffLinksWeChat: an officer logged in by password links WeChat, then logs in with WeChat
// alone; an instructor cannot use this route, and one WeChat user cannot hold two accounts.
func TestStaffLinksWeChat(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	code := "lnk" + apitest.Unique() + apitest.Unique()
	var v struct {
		Role string `json:"role"`
	}
	staff.Must(http.StatusOK, "POST", "/api/v1/me/wechat", map[string]string{"code": code}).JSON(t, &v)
	if v.Role != "county_staff" {
		t.Fatalf("linked account: %+v", v)
	}
	again := "lnk2" + apitest.Unique()
	e.WX.RegisterCode(again, "o_"+code, "")
	var tok apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": again}).JSON(t, &tok)
	me := e.As(t, tok.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil).Map(t)
	if me["user"].(map[string]any)["role"] != "county_staff" {
		t.Fatalf("wechat login of a linked officer: %v", me)
	}
	// The same WeChat user cannot be linked to a second account.
	other := e.Staff(t, "county_staff", apitest.CountyA1)
	third := "lnk3" + apitest.Unique()
	e.WX.RegisterCode(third, "o_"+code, "")
	if r := other.Must(http.StatusConflict, "POST", "/api/v1/me/wechat", map[string]string{"code": third}).Err(t); r.Code != "wechat_already_bound" {
		t.Fatalf("second link: %+v", r)
	}
	instructor, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	instructor.Must(http.StatusForbidden, "POST", "/api/v1/me/wechat", map[string]string{"code": "x" + apitest.Unique()})
	staff.Must(http.StatusBadRequest, "POST", "/api/v1/me/wechat", map[string]string{"code": ""})
}
