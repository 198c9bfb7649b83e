package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// TestAPIResponsesAreNotCached: answers carrying personal data, successes and errors alike, tell
// every cache not to keep them and browsers not to sniff their type.
func TestAPIResponsesAreNotCached(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins := staff.Instructor(staff.Unit("village", apitest.TownshipA1))
	responses := map[string]*apitest.Response{
		"instructor":      staff.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d", ins), nil),
		"instructor list": staff.Must(http.StatusOK, "GET", "/api/v1/instructors", nil),
		"me":              staff.Must(http.StatusOK, "GET", "/api/v1/me", nil),
		"not found":       staff.Must(http.StatusNotFound, "GET", "/api/v1/instructors/999999999", nil),
		"unauthenticated": e.Anon(t).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil),
		"bad login":       e.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/auth/password/login", map[string]string{"username": "nobody_" + apitest.Unique(), "password": "x"}),
		"unknown route":   e.Anon(t).Do("GET", "/api/v1/nothing-here", nil),
	}
	for name, r := range responses {
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", name, cc)
		}
		if ns := r.Header.Get("X-Content-Type-Options"); ns != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", name, ns)
		}
	}
}

// TestErrorDetailsAreBounded: a review naming 10,000 unknown criteria fails on 10,001 fields; the
// answer lists a bounded number of them and says how many there are.
func TestErrorDetailsAreBounded(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA1)
	n := raNominate(t, county, county.Unit("village", apitest.TownshipA1))
	criteria := make([]map[string]any, 10000)
	for i := range criteria {
		criteria[i] = map[string]any{"code": fmt.Sprintf("bogus_%d", i), "met": true}
	}
	r := county.Must(http.StatusBadRequest, "POST", fmt.Sprintf("/api/v1/nominations/%d/review", n.ID), map[string]any{"criteria": criteria})
	eb := r.Err(t)
	if len(eb.Details) == 0 || len(eb.Details) > 50 {
		t.Fatalf("%d details", len(eb.Details))
	}
	if !strings.Contains(eb.Message, "10001处") {
		t.Fatalf("message does not count the problems: %s", eb.Message)
	}
	if len(r.Body) > 8<<10 {
		t.Fatalf("error body of %d bytes", len(r.Body))
	}
}

// TestImportReportIsBounded: a file wrong in every row answers with the first thousand problems
// and their total.
func TestImportReportIsBounded(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	rows := make([][]string, 1200)
	for i := range rows {
		rows[i] = raRow("界外村"+apitest.Unique(), "110101001000") // outside the county: one error a row
	}
	r := raUpload(t, staff, "/api/v1/roster/import", raWorkbook(t, staff, rows))
	if r.Status != http.StatusBadRequest {
		t.Fatalf("import: %d %.300s", r.Status, r.Body)
	}
	var rep struct {
		raImportErrors
		ErrorsTotal int `json:"errors_total"`
	}
	r.JSON(t, &rep)
	if rep.Code != "import_invalid" || len(rep.Errors) != 1000 || rep.ErrorsTotal < 1200 {
		t.Fatalf("report: %s, %d errors listed of %d", rep.Code, len(rep.Errors), rep.ErrorsTotal)
	}
}

// guessInParallel sends n wrong passwords for username at once and counts the answers by status.
func guessInParallel(t *testing.T, e *apitest.Env, username string, n int) map[int]int {
	t.Helper()
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses <- e.Anon(t).Do("POST", "/api/v1/auth/password/login",
				map[string]string{"username": username, "password": fmt.Sprintf("guess-%d", i)}).Status
		}(i)
	}
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	return got
}

// TestParallelPasswordGuessesAreCounted: 50 wrong passwords sent at once are each counted: only
// the first five are compared, the account is locked and the right password no longer logs in.
// A username nobody has answers the same burst the same way.
// Not parallel: a server 16 minutes ahead runs its sweeps over every test's data.
func TestParallelPasswordGuessesAreCounted(t *testing.T) {
	e := apitest.Shared(t)
	user := "burst_" + apitest.Unique()
	if _, err := e.App.Auth.CreateUser(context.Background(), user, "county_staff", "130102", "right-password-1", ""); err != nil {
		t.Fatal(err)
	}
	known := guessInParallel(t, e, user, 50)
	if known[http.StatusUnauthorized] != 5 || known[http.StatusTooManyRequests] != 45 {
		t.Fatalf("answers to 50 parallel guesses: %v", known)
	}
	locked := e.Anon(t).Must(http.StatusTooManyRequests, "POST", "/api/v1/auth/password/login",
		map[string]string{"username": user, "password": "right-password-1"}).Err(t)

	nobody := "burst_" + apitest.Unique() + "_none"
	unknown := guessInParallel(t, e, nobody, 50)
	if fmt.Sprint(unknown) != fmt.Sprint(known) {
		t.Fatalf("an unknown username answers %v, an account %v", unknown, known)
	}
	ghost := e.Anon(t).Must(http.StatusTooManyRequests, "POST", "/api/v1/auth/password/login",
		map[string]string{"username": nobody, "password": "right-password-1"}).Err(t)
	if ghost.Code != locked.Code || ghost.Message != locked.Message {
		t.Fatalf("locked account %+v, unknown username %+v", locked, ghost)
	}

	// Once the lock is over the right password works, and the unknown username starts afresh.
	later := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(16*time.Minute)))
	later.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/password/login", map[string]string{"username": user, "password": "right-password-1"})
	if r := later.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/auth/password/login", map[string]string{"username": nobody, "password": "x"}).Err(t); r.Code != "invalid_credentials" {
		t.Fatalf("unknown username after the lock: %+v", r)
	}
}

// bind tries an invite code with a bind ticket.
func bind(t *testing.T, e *apitest.Env, ticket, code string) *apitest.Response {
	t.Helper()
	return e.Anon(t).Do("POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": ticket, "invite_code": code})
}

// ticketOf logs the WeChat user openid in with a fresh code and returns the bind ticket.
func ticketOf(t *testing.T, e *apitest.Env, openid string) string {
	t.Helper()
	code := "bf" + apitest.Unique() + apitest.Unique()
	e.WX.RegisterCode(code, openid, "")
	var v struct {
		BindTicket string `json:"bind_ticket"`
	}
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": code}).JSON(t, &v)
	return v.BindTicket
}

// TestBindTicketIsBurntAfterWrongCodes: twenty codes tried at once with one ticket get five
// tries between them; the ticket is then burnt, and even the right code needs a new one.
func TestBindTicketIsBurntAfterWrongCodes(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	code := staff.Invite(staff.Instructor(staff.Unit("village", apitest.TownshipA1)))
	ticket := e.BindTicket(t)
	statuses := make(chan int, 20)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses <- bind(t, e, ticket, fmt.Sprintf("ZZZZ%04d", i)).Status
		}(i)
	}
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	if got[http.StatusBadRequest] != 5 || got[http.StatusUnauthorized] != 15 {
		t.Fatalf("answers to 20 parallel codes on one ticket: %v", got)
	}
	if r := bind(t, e, ticket, code); r.Status != http.StatusUnauthorized || r.Err(t).Code != "bind_ticket_invalid" {
		t.Fatalf("right code on a burnt ticket: %d %s", r.Status, r.Body)
	}
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": e.BindTicket(t), "invite_code": code})
}

// TestBindFailuresAreLimitedPerWeChatUser: a WeChat user who fetches new tickets still gets only
// ten wrong codes an hour, then waits as Retry-After says; other users are not held up.
func TestBindFailuresAreLimitedPerWeChatUser(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	code := staff.Invite(staff.Instructor(staff.Unit("village", apitest.TownshipA1)))
	openid := "o_guesser" + apitest.Unique()
	for i := 0; i < 10; i++ {
		ticket := ticketOf(t, e, openid)
		if r := bind(t, e, ticket, fmt.Sprintf("YYYY%04d", i)); r.Status != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := bind(t, e, ticketOf(t, e, openid), code)
	if r.Status != http.StatusTooManyRequests || r.Err(t).Code != "rate_limited" {
		t.Fatalf("eleventh try: %d %s", r.Status, r.Body)
	}
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": e.BindTicket(t), "invite_code": code})
}

// TestBindFailuresAreLimitedPerAddress: many WeChat users behind one address share its limit.
func TestBindFailuresAreLimitedPerAddress(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	own := apitest.Another(t, e.Clock, func(c *config.Config) {
		c.Redis.Prefix = "bindip_" + apitest.Unique() + ":" // its own counters
		c.Security.BindFailuresPerIP = 3
	})
	staff := own.Staff(t, "county_staff", apitest.CountyA1)
	code := staff.Invite(staff.Instructor(staff.Unit("village", apitest.TownshipA1)))
	for i := 0; i < 3; i++ {
		if r := bind(t, own, own.BindTicket(t), "XXXX2345"); r.Status != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := bind(t, own, own.BindTicket(t), code)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth user from the address: %d %s %v", r.Status, r.Body, r.Header)
	}
}

// What held when probed stays covered: an access token is only what this server signed. A
// county token with its role raised, one signed with the development secret once published in
// the source (what forged a province token on trial servers), one with no signature at all, and
// a truncated one are all refused, on a dev-mode server too.
func TestForgedAccessTokensAreRefused(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	staff.Must(http.StatusOK, "GET", "/api/v1/me", nil)

	parts := strings.Split(staff.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", staff.Token)
	}
	var claims map[string]any
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &claims) != nil {
		t.Fatalf("claims: %v", err)
	}
	claims["role"], claims["region"] = "province_staff", "130000000000"
	raised, _ := json.Marshal(claims)
	published, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(config.DevTokenSecret))
	if err != nil {
		t.Fatal(err)
	}
	unsigned, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(claims)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"role raised, old signature":           parts[0] + "." + base64.RawURLEncoding.EncodeToString(raised) + "." + parts[2],
		"signed with the published dev secret": published,
		"alg none":                             unsigned,
		"truncated":                            parts[0] + "." + parts[1],
	} {
		r := e.As(t, tok).Do("GET", "/api/v1/instructors?limit=1", nil)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, r.Status)
		}
	}
}
