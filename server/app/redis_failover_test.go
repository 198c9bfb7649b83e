package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/notify"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// sentinelURL is the Sentinel set the failover test runs against (.ci/redis-ha.sh starts one:
// a master, a replica and three sentinels on this machine).
func sentinelURL(t *testing.T) string {
	u := os.Getenv("SHILIU_TEST_SENTINEL_URL")
	if u == "" {
		t.Skip("SHILIU_TEST_SENTINEL_URL not set: the Redis failover test needs a real Sentinel set " +
			"(bash .ci/redis-ha.sh sentinel, then SHILIU_TEST_SENTINEL_URL=redis-sentinel://127.0.0.1:26479,127.0.0.1:26480,127.0.0.1:26481/shiliu/0)")
	}
	return u
}

// sentinelAddrs and master name from a redis-sentinel:// URL (no password in the test set).
func sentinelParts(t *testing.T, u string) ([]string, string) {
	rest := strings.TrimPrefix(u, "redis-sentinel://")
	hosts, path, _ := strings.Cut(rest, "/")
	master, _, _ := strings.Cut(path, "/")
	return strings.Split(hosts, ","), master
}

// masterNode asks a sentinel which node is the master and reads that node's pid and config file.
func masterNode(t *testing.T, ctx context.Context, sentinels []string, name string) (addr string, pid int, conf string) {
	t.Helper()
	s := redis.NewSentinelClient(&redis.Options{Addr: sentinels[0]})
	defer s.Close()
	hp, err := s.GetMasterAddrByName(ctx, name).Result()
	if err != nil {
		t.Fatalf("sentinel: %v", err)
	}
	addr = hp[0] + ":" + hp[1]
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		t.Fatalf("master %s: %v", addr, err)
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(l, "config_file:"); ok {
			conf = v
		}
	}
	if pid == 0 || conf == "" {
		t.Fatalf("master %s: no process_id or config_file in INFO server", addr)
	}
	return addr, pid, conf
}

// replicaOnline waits until the master at addr has a replica in step (INFO replication).
func replicaOnline(t *testing.T, ctx context.Context, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		info, err := c.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(info, "state=online") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("master %s has no replica online after 30 s: %v %s", addr, err, info)
		}
	}
}

// TestSentinelFailoverUnderLoad kills the Redis master (SIGKILL) while instructors sign in, call
// the API, log out and a robot's sends are paced, and checks that after the sentinels promote
// the replica: sign-in never failed, every logged-out token stays refused (the revocation
// written just before the kill included), the lockout of unknown usernames still counts, and the
// robot's pacer lost no reservation (exactly its limit granted across the failover). The killed
// node is started again and becomes the new master's replica, so the set is whole for the next run.
func TestSentinelFailoverUnderLoad(t *testing.T) {
	url := sentinelURL(t)
	ctx := context.Background()
	sentinels, name := sentinelParts(t, url)
	e := apitest.Isolated(t, func(c *config.Config) {
		c.Redis.URL = url
		c.Security.LoginPerMinute = 1_000_000
	})
	if e.App.Redis.Kind != "sentinel" || e.App.Redis.WaitReplicas != 1 {
		t.Fatalf("redis kind %q, wait replicas %d", e.App.Redis.Kind, e.App.Redis.WaitReplicas)
	}
	const users = 4
	names := make([]string, users)
	for i := range names {
		names[i] = "ha_" + strings.ToLower(apitest.Unique())
		if _, err := e.App.Auth.CreateUser(ctx, names[i], "county_staff", apitest.CountyA1, "Failover-pass-1", ""); err != nil {
			t.Fatal(err)
		}
	}

	// The robot's pacer on its own fake clock: the window never passes during the test, so the
	// number of sends it grants is exactly its limit unless a reservation was lost.
	const limit = 20
	pclk := clock.NewFake(time.Now())
	pacer := notify.NewPacer(e.App.Redis, e.Config.Redis.Prefix, limit, limit, time.Minute, pclk)
	pacer.WaitReplicas = e.App.Redis.WaitReplicas
	robot := "robot_" + apitest.Unique()
	granted := 0
	take := func() {
		for {
			ok, _, err := pacer.Take(ctx, robot, false)
			if err == nil {
				if ok {
					granted++
				}
				return
			}
			time.Sleep(50 * time.Millisecond) // Redis away: the dispatcher retries likewise
		}
	}
	for i := 0; i < limit/2; i++ {
		take()
	}

	var (
		stop                       atomic.Bool
		logins, failures, requests atomic.Int64
		mu                         sync.Mutex
		revoked                    []string
		revokedAt                  []time.Time
		failed                     []string
		wg                         sync.WaitGroup
	)
	for i := 0; i < users; i++ {
		wg.Add(1)
		go func(user string) {
			defer wg.Done()
			for !stop.Load() {
				r := e.Anon(t).Do("POST", "/api/v1/auth/password/login", map[string]string{"username": user, "password": "Failover-pass-1"})
				logins.Add(1)
				if r.Status != http.StatusOK {
					failures.Add(1)
					mu.Lock()
					failed = append(failed, fmt.Sprintf("login %d %s", r.Status, r.Body))
					mu.Unlock()
					continue
				}
				var tok apitest.Tokens
				r.JSON(t, &tok)
				c := e.As(t, tok.AccessToken)
				for _, want := range []int{http.StatusOK, http.StatusOK} {
					requests.Add(1)
					if got := c.Do("GET", "/api/v1/me", nil).Status; got != want {
						failures.Add(1)
						mu.Lock()
						failed = append(failed, fmt.Sprintf("me %d", got))
						mu.Unlock()
					}
				}
				if got := c.Do("POST", "/api/v1/auth/logout", nil).Status; got != http.StatusNoContent {
					failures.Add(1)
					mu.Lock()
					failed = append(failed, fmt.Sprintf("logout %d", got))
					mu.Unlock()
					continue
				}
				mu.Lock()
				revoked = append(revoked, tok.AccessToken)
				revokedAt = append(revokedAt, time.Now())
				mu.Unlock()
			}
		}(names[i])
	}

	time.Sleep(1500 * time.Millisecond)
	before := logins.Load()
	addr, pid, conf := masterNode(t, ctx, sentinels, name)
	// A replica restarted by an earlier run may still be syncing: the writes that wait for a
	// replica (WAIT) would then stay on the master alone and be lost with it.
	replicaOnline(t, ctx, addr)
	killedAt := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill master %s (pid %d): %v", addr, pid, err)
	}
	t.Cleanup(func() { restartAsReplica(t, sentinels, name, conf) })
	// The failover as the server sees it: until a write through its client succeeds again.
	var back time.Duration
	for {
		c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := e.App.Redis.Set(c, e.Config.Redis.Prefix+"failover-probe", "1", time.Minute).Err()
		cancel()
		if err == nil {
			back = time.Since(killedAt)
			break
		}
		if time.Since(killedAt) > 60*time.Second {
			t.Fatalf("no Redis master 60 s after killing %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The sentinel asked may name the new master a moment after the one the server's client
	// asked: wait for it (it fails below if it never does).
	newAddr := addr
	for deadline := time.Now().Add(10 * time.Second); newAddr == addr && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		s := redis.NewSentinelClient(&redis.Options{Addr: sentinels[0]})
		if hp, err := s.GetMasterAddrByName(ctx, name).Result(); err == nil {
			newAddr = hp[0] + ":" + hp[1]
		}
		s.Close()
	}
	t.Logf("master %s killed; %s promoted; the server wrote to Redis again after %v", addr, newAddr, back.Round(time.Millisecond))
	if newAddr == addr {
		t.Fatalf("the sentinels still name %s the master", addr)
	}
	time.Sleep(1500 * time.Millisecond) // load on the new master
	stop.Store(true)
	wg.Wait()
	t.Logf("%d logins (%d before the kill), %d API calls, %d failures", logins.Load(), before, requests.Load(), failures.Load())
	if failures.Load() > 0 {
		t.Errorf("requests failed across the failover: %d, first %v", failures.Load(), failed[:min(5, len(failed))])
	}
	if logins.Load() <= before {
		t.Errorf("no login after the kill")
	}

	// Every logged-out token stays dead, read through the new master's cache.
	// A logout's revocation is in the database at once, and in the cache of the new master when
	// it was replicated before the kill (WAIT) or when the retrier has written it there (a logout
	// during the failover, or one no replica acknowledged in time): refused within seconds.
	settled := time.Now().Add(5 * time.Second)
	for i, tok := range revoked {
		for {
			got := e.As(t, tok).Do("GET", "/api/v1/me", nil).Status
			if got == http.StatusUnauthorized {
				break
			}
			if time.Now().After(settled) {
				t.Fatalf("a logged-out token (%d of %d, logged out %v after the kill) answered %d after the failover",
					i+1, len(revoked), revokedAt[i].Sub(killedAt).Round(time.Millisecond), got)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The revocations are in the new master's cache (written there or waited for before the
	// kill), not merely re-read from the database.
	// (Each logout's own family key is what tokenAlive reads first.)

	// The pacer lost nothing: exactly limit sends in the window across the failover.
	for i := 0; i < limit; i++ {
		take()
	}
	if granted != limit {
		t.Errorf("the pacer granted %d sends in one window across the failover, want %d", granted, limit)
	}

	// The lockout of unknown usernames still counts on the new master.
	ghost := "ghost_" + apitest.Unique()
	var last int
	for i := 0; i < e.Config.Security.MaxLoginFails+1; i++ {
		last = e.Anon(t).Do("POST", "/api/v1/auth/password/login", map[string]string{"username": ghost, "password": "wrong-pass-1"}).Status
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("unknown username after %d failures on the new master: %d, want 429", e.Config.Security.MaxLoginFails+1, last)
	}
}

// restartAsReplica starts the killed node again from its config file and waits until the
// sentinels made it a replica of the new master, so the set is whole again.
func restartAsReplica(t *testing.T, sentinels []string, name, conf string) {
	ctx := context.Background()
	if out, err := exec.Command("redis-server", conf).CombinedOutput(); err != nil {
		t.Errorf("restart %s: %v %s", conf, err, out)
		return
	}
	s := redis.NewSentinelClient(&redis.Options{Addr: sentinels[0]})
	defer s.Close()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if hp, err := s.GetMasterAddrByName(ctx, name).Result(); err == nil {
			m := redis.NewClient(&redis.Options{Addr: hp[0] + ":" + hp[1]})
			info, _ := m.Info(ctx, "replication").Result()
			m.Close()
			if strings.Contains(info, "connected_slaves:1") {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("the restarted node did not become a replica within 30 s")
}
