package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// forgetSessionCache deletes what Redis caches about sessions, as a flush or a restart of Redis
// would: revocations must survive it because they live in the database.
func forgetSessionCache(t *testing.T, e *apitest.Env) {
	t.Helper()
	ctx := context.Background()
	// Every master of a cluster holds a part of the keys; the keys are deleted one by one, as
	// they live in different slots.
	forget := func(ctx context.Context, r redis.UniversalClient) error {
		iter := r.Scan(ctx, 0, e.Config.Redis.Prefix+"sess:*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return err
		}
		for _, k := range keys {
			if err := r.Del(ctx, k).Err(); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if cc, ok := e.App.Redis.UniversalClient.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return forget(ctx, c) })
	} else {
		err = forget(ctx, e.App.Redis)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestLoggedOutTokenStaysDeadWhenRedisForgets: a logged-out access token and a disabled
// account's token stay refused after Redis lost its keys (flushed or restarted), and, on the
// embedded Redis, while Redis is down; a live token keeps working throughout. (ASVS V3.3.1,
// V3.5.2; 等保2.0 身份鉴别)
// Not parallel: it deletes the session cache of the shared Redis.
func TestLoggedOutTokenStaysDeadWhenRedisForgets(t *testing.T) {
	e := apitest.Shared(t)
	user := "flush_" + strings.ToLower(apitest.Unique())
	if _, err := e.App.Auth.CreateUser(context.Background(), user, "county_staff", apitest.CountyA1, "Flush-pass-123", ""); err != nil {
		t.Fatal(err)
	}
	out := passwordLogin(t, e, user, "Flush-pass-123")
	live := passwordLogin(t, e, user, "Flush-pass-123")
	gone := e.As(t, out.AccessToken)
	gone.Must(http.StatusOK, "GET", "/api/v1/me", nil)
	gone.Must(http.StatusNoContent, "POST", "/api/v1/auth/logout", nil)
	gone.Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)

	forgetSessionCache(t, e)
	if r := gone.Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil).Err(t); r.Code != "token_invalid" {
		t.Fatalf("after the flush: %+v", r)
	}
	e.As(t, live.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil)

	// A disabled account's tokens too.
	admin := e.Staff(t, "admin", apitest.Province)
	created := createAccount(t, admin, "county_staff", apitest.CountyA1)
	tok := passwordLogin(t, e, created.Account.Username, created.OneTimePassword)
	admin.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/accounts/%d/disable", created.Account.ID), nil)
	forgetSessionCache(t, e)
	e.As(t, tok.AccessToken).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)

	if apitest.Backend() != "sqlite" || e.App.Redis.Mini() == nil {
		return // the outage below stops the embedded Redis of an instance of its own
	}
	own := apitest.Another(t, e.Clock)
	own.App.Redis.Mini().Close()
	own.As(t, out.AccessToken).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
	own.As(t, tok.AccessToken).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
	own.As(t, live.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil)
}

// TestLogoutWhileRedisIsDownReachesTheCache: a logout while Redis is away (down, or failing over
// to a replica) is stored in the database at once and written into Redis when it is back, over the
// "still valid" it had cached for the token; otherwise that cached answer would let the logged-out
// token in for up to 5 minutes. (ASVS V3.3.1)
func TestLogoutWhileRedisIsDownReachesTheCache(t *testing.T) {
	t.Parallel()
	if apitest.Backend() != "sqlite" || apitest.Shared(t).App.Redis.Mini() == nil {
		t.Skip("stops the embedded Redis of an instance of its own")
	}
	e := apitest.Another(t, apitest.Shared(t).Clock)
	user := "outage_" + strings.ToLower(apitest.Unique())
	if _, err := e.App.Auth.CreateUser(context.Background(), user, "county_staff", apitest.CountyA1, "Outage-pass-123", ""); err != nil {
		t.Fatal(err)
	}
	tok := passwordLogin(t, e, user, "Outage-pass-123")
	c := e.As(t, tok.AccessToken)
	c.Must(http.StatusOK, "GET", "/api/v1/me", nil) // cached as valid

	mini := e.App.Redis.Mini()
	mini.Close()
	c.Must(http.StatusNoContent, "POST", "/api/v1/auth/logout", nil)
	if err := mini.Restart(); err != nil {
		t.Fatal(err)
	}
	// Redis is back with its old keys, the "still valid" among them, until the retry overwrites it.
	deadline := time.Now().Add(5 * time.Second)
	for c.Do("GET", "/api/v1/me", nil).Status != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("the logged-out token is still accepted 5 s after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 5 {
		c.Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
	}
}

// TestLeavingOfficeEndsInstructorSessions: an instructor dismissed, or suspended, is refused on
// the very next request, not when the access token expires. (ASVS V3.3.1)
func TestLeavingOfficeEndsInstructorSessions(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := county.Unit("village", apitest.TownshipA1)

	dismissed, id := e.InstructorClient(t, county, unit)
	dismissed.Must(http.StatusOK, "GET", "/api/v1/me", nil)
	county.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/instructors/%d/adjust", id), map[string]any{
		"action": "dismiss", "reason_category": "performance", "note": "长期不履职"})
	if r := dismissed.Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil).Err(t); r.Code != "token_invalid" {
		t.Fatalf("dismissed: %+v", r)
	}

	suspended, id2 := e.InstructorClient(t, county, unit)
	suspended.Must(http.StatusOK, "GET", "/api/v1/me", nil)
	county.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", id2), map[string]any{"status": "suspended"})
	suspended.Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
}

// TestRebindEndsOldPhoneSessions: a fresh invite code moves the binding to a new phone; the old
// phone's access and refresh tokens stop at once. (ASVS V3.3.1)
func TestRebindEndsOldPhoneSessions(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Staff(t, "county_staff", apitest.CountyA2)
	unit := county.Unit("village", apitest.CountyA2)
	id := county.Instructor(unit)
	var old apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{
		"bind_ticket": e.BindTicket(t), "invite_code": county.Invite(id)}).JSON(t, &old)
	e.As(t, old.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil)

	var fresh apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{
		"bind_ticket": e.BindTicket(t), "invite_code": county.Invite(id)}).JSON(t, &fresh)
	e.As(t, old.AccessToken).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
	e.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": old.RefreshToken})
	e.As(t, fresh.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil)
}

// TestRefreshRetryWithinGrace: a refresh whose answer was lost is retried with the same token by
// the same client: it gets the same new pair, even when the retries race; the pair still works.
// Past the grace period, or once the new pair has been used, the old token is a copy again and
// ends the whole login. (ASVS V3.5.2 with availability; 等保2.0 身份鉴别)
// Not parallel: a server 30 seconds ahead runs its sweeps over every test's data.
func TestRefreshRetryWithinGrace(t *testing.T) {
	e := apitest.Shared(t)
	user := "grace_" + strings.ToLower(apitest.Unique())
	if _, err := e.App.Auth.CreateUser(context.Background(), user, "county_staff", apitest.CountyA1, "Grace-pass-123", ""); err != nil {
		t.Fatal(err)
	}
	phone := e.Anon(t).With("User-Agent", "shiliu-miniprogram/1 (phone A)")
	first := passwordLogin(t, e, user, "Grace-pass-123")

	// Five retries at once, as a phone on a bad network might send them.
	var wg sync.WaitGroup
	answers := make([]*apitest.Response, 5)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = phone.Do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": first.RefreshToken})
		}()
	}
	wg.Wait()
	var pair apitest.Tokens
	for i, r := range answers {
		if r.Status != http.StatusOK {
			t.Fatalf("retry %d: %d %s", i, r.Status, r.Body)
		}
		var p apitest.Tokens
		r.JSON(t, &p)
		if i == 0 {
			pair = p
		} else if p.AccessToken != pair.AccessToken || p.RefreshToken != pair.RefreshToken {
			t.Fatalf("retry %d got another pair", i)
		}
	}
	if pair.RefreshToken == first.RefreshToken {
		t.Fatal("not rotated")
	}
	e.As(t, pair.AccessToken).Must(http.StatusOK, "GET", "/api/v1/me", nil)

	// The new pair is used: the old token is no retry any more.
	var third apitest.Tokens
	phone.Must(http.StatusOK, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": pair.RefreshToken}).JSON(t, &third)
	if r := phone.Must(http.StatusUnauthorized, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": first.RefreshToken}).Err(t); r.Code != "refresh_reused" {
		t.Fatalf("after the pair was used: %+v", r)
	}
	e.As(t, third.AccessToken).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)

	// Past the grace period the same client's retry ends the login too.
	second := passwordLogin(t, e, user, "Grace-pass-123")
	var next apitest.Tokens
	phone.Must(http.StatusOK, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": second.RefreshToken}).JSON(t, &next)
	later := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(30*time.Second)))
	if r := later.Anon(t).With("User-Agent", "shiliu-miniprogram/1 (phone A)").Must(http.StatusUnauthorized, "POST", "/api/v1/auth/refresh",
		map[string]string{"refresh_token": second.RefreshToken}).Err(t); r.Code != "refresh_reused" {
		t.Fatalf("after the grace: %+v", r)
	}
	later.As(t, next.AccessToken).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
}

// hungRedis accepts connections and never answers, as a Redis stopped with SIGSTOP or stuck in
// a long command does; it counts the commands it was sent.
type hungRedis struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	mgets atomic.Int64
}

func startHungRedis(t *testing.T) *hungRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hungRedis{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			go func() {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						h.mgets.Add(int64(bytes.Count(bytes.ToLower(buf[:n]), []byte("mget"))))
					}
					if err == io.EOF || err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		for _, c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
	})
	return h
}

// TestHungRedisTripsTheBreaker: with a Redis that accepts connections and never answers, the
// token check stops asking it after a few tries (the breaker opens) and answers from the
// database: requests succeed, a logged-out token is still refused, and Redis is asked about once
// per cool-down, not once per request. (等保2.0 可用性; ASVS V11.1.4 resource exhaustion)
func TestHungRedisTripsTheBreaker(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	hung := startHungRedis(t)
	own := apitest.Another(t, e.Clock, func(c *config.Config) { c.Redis.URL = "redis://" + hung.ln.Addr().String() + "/0" })
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	user := "hung_" + strings.ToLower(apitest.Unique())
	if _, err := e.App.Auth.CreateUser(context.Background(), user, "county_staff", apitest.CountyA1, "Hung-pass-1234", ""); err != nil {
		t.Fatal(err)
	}
	out := passwordLogin(t, e, user, "Hung-pass-1234")
	e.As(t, out.AccessToken).Must(http.StatusNoContent, "POST", "/api/v1/auth/logout", nil)

	c := own.As(t, staff.Token)
	start := time.Now()
	const requests = 40
	for range requests {
		c.Must(http.StatusOK, "GET", "/api/v1/me", nil)
	}
	own.As(t, out.AccessToken).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
	elapsed := time.Since(start)
	// Three failures open the breaker; after that one probe per 5 s cool-down at most.
	allowed := int64(3 + 1 + elapsed/(5*time.Second))
	if n := hung.mgets.Load(); n > allowed {
		t.Fatalf("Redis was asked %d times in %d requests over %v (allowed %d): the breaker did not open", n, requests+1, elapsed, allowed)
	}
}
