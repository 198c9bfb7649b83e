package app_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/app"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/upload"
)

// readiness is the /readyz body.
type readiness struct {
	Status   string            `json:"status"`
	Checks   map[string]string `json:"checks"`
	Degraded []string          `json:"degraded"`
}

func ready(t *testing.T, e *apitest.Env, want int) readiness {
	t.Helper()
	var r readiness
	e.Anon(t).Must(want, "GET", "/readyz", nil).JSON(t, &r)
	return r
}

// metric is the line of one series in /metrics, "" when absent.
func metric(t *testing.T, e *apitest.Env, series string) string {
	t.Helper()
	for _, l := range strings.Split(string(e.Anon(t).Must(http.StatusOK, "GET", "/metrics", nil).Body), "\n") {
		if strings.HasPrefix(l, series+" ") {
			return l
		}
	}
	return ""
}

// unavailable checks a temporary-outage answer: 503, code unavailable, a Retry-After, and a
// message that says to try again later.
func unavailable(t *testing.T, r *apitest.Response, retryAfter string) apitest.ErrorBody {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("want 503, got %d: %s", r.Status, r.Body)
	}
	e := r.Err(t)
	if e.Code != "unavailable" || !strings.Contains(e.Message, "暂时") || !strings.Contains(e.Message, "稍后重试") {
		t.Fatalf("outage answer: %+v", e)
	}
	if got := r.Header.Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After %q, want %q", got, retryAfter)
	}
	return e
}

// restartableRedis is a Redis of the test's own that can go down and come back on the same
// address. Its port lies below the range the kernel hands out to outgoing connections and to
// listeners on port 0 (ip_local_port_range), so that while it is down nothing running beside the
// test takes the port it comes back on.
func restartableRedis(t *testing.T) *miniredis.Miniredis {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		fmt.Sscan(string(b), &low)
	}
	mini := miniredis.NewMiniRedis()
	for range 100 {
		if low <= 11000 {
			break
		}
		if err := mini.StartAddr(fmt.Sprintf("127.0.0.1:%d", 10000+rand.IntN(low-10000))); err == nil {
			t.Cleanup(mini.Close)
			return mini
		}
	}
	t.Fatal("no free port below the ephemeral range for a Redis that goes down and comes back")
	return nil
}

// Redis down leaves the instance worth sending traffic to: /readyz answers 200 "degraded" naming
// Redis, the metrics say the same, and work that does not need Redis goes on; back to "ok" when
// Redis returns. Its own Redis, on either backend, so the outage touches no other test.
func TestReadinessDegradesWithoutRedis(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	mini := restartableRedis(t)
	own := apitest.Another(t, e.Clock, func(c *config.Config) { c.Redis.URL = "redis://" + mini.Addr() })
	staff := own.As(t, e.Staff(t, "county_staff", apitest.CountyA1).Token)

	r := ready(t, own, http.StatusOK)
	if r.Status != "ok" || len(r.Degraded) != 0 {
		t.Fatalf("readyz before: %+v", r)
	}
	for _, dep := range []string{"database", "redis", "uploads", "dispatcher"} {
		if r.Checks[dep] != "ok" {
			t.Fatalf("readyz before: %s is %q: %+v", dep, r.Checks[dep], r)
		}
	}

	mini.Close()
	r = ready(t, own, http.StatusOK)
	if r.Status != "degraded" || r.Checks["redis"] != "down" || r.Checks["database"] != "ok" || !slices.Equal(r.Degraded, []string{"redis"}) {
		t.Fatalf("readyz with Redis down: %+v", r)
	}
	if m := metric(t, own, `shiliu_dependency_up{critical="false",dependency="redis"}`); !strings.HasSuffix(m, " 0") {
		t.Fatalf("redis gauge during the outage: %q", m)
	}
	if m := metric(t, own, "shiliu_ready"); m != "shiliu_ready 1" {
		t.Fatalf("readiness gauge during the outage: %q", m)
	}
	staff.Must(http.StatusOK, "GET", "/api/v1/units", nil)

	if err := mini.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r = ready(t, own, http.StatusOK); r.Status != "ok"; r = ready(t, own, http.StatusOK) {
		if time.Now().After(deadline) {
			t.Fatalf("readyz after Redis came back: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m := metric(t, own, "shiliu_ready"); m != "shiliu_ready 2" {
		t.Fatalf("readiness gauge after the outage: %q", m)
	}
}

// Without its database an instance is useless: /readyz fails, and requests answer 503
// "unavailable" with Retry-After and a message saying it is temporary, not 500 "internal".
func TestDatabaseLossAnswersUnavailable(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	own := apitest.Another(t, e.Clock)
	staff := own.As(t, e.Staff(t, "county_staff", apitest.CountyA1).Token)
	staff.Must(http.StatusOK, "GET", "/api/v1/units", nil)

	// The pool closed under the server: every query fails as when the connection is lost.
	if err := own.App.DB.Close(); err != nil {
		t.Fatal(err)
	}
	r := ready(t, own, http.StatusServiceUnavailable)
	if r.Status != "unavailable" || r.Checks["database"] != "down" {
		t.Fatalf("readyz without the database: %+v", r)
	}
	unavailable(t, staff.Do("GET", "/api/v1/units", nil), "10")
	unavailable(t, staff.Do("POST", "/api/v1/units", map[string]any{"name": "停机时新建" + apitest.Unique(), "kind": "village", "region_code": apitest.TownshipA1}), "10")
	unavailable(t, own.Anon(t).Do("POST", "/api/v1/auth/password/login", map[string]string{"username": "nobody", "password": "x"}), "10")
}

// faultyStore wraps the upload store with the faults a test machine cannot produce on demand:
// "full" writes to /dev/full, which the kernel refuses with ENOSPC as it does on a full disk;
// "read_only" answers EROFS as a read-only mount does (tests run as root, whom directory
// permissions do not stop).
type faultyStore struct {
	upload.Storage
	fault atomic.Value // "", "full" or "read_only"
}

func (f *faultyStore) refuse(r io.Reader) error {
	switch f.fault.Load() {
	case "full":
		w, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer w.Close()
		_, err = io.Copy(w, r)
		return err
	case "read_only":
		return &fs.PathError{Op: "open", Path: "uploads/.put-0", Err: syscall.EROFS}
	}
	return nil
}

func (f *faultyStore) Put(ctx context.Context, key string, r io.Reader) error {
	if v := f.fault.Load(); v != nil && v != "" {
		return f.refuse(r)
	}
	return f.Storage.Put(ctx, key, r)
}

func (f *faultyStore) CheckWritable(ctx context.Context) error {
	if v := f.fault.Load(); v != nil && v != "" {
		return f.refuse(strings.NewReader("shiliu"))
	}
	return f.Storage.CheckWritable(ctx)
}

// A full or read-only upload store refuses attachments with 503 and Retry-After, and /readyz
// reports the instance degraded (records without attachments still go in); all is back once the
// store takes writes again.
func TestUploadStorageFullOrReadOnly(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	store := &faultyStore{}
	own := apitest.AnotherWith(t, e.Clock, []app.Option{app.WithStorage(func(s upload.Storage) upload.Storage {
		store.Storage = s
		return store
	})})
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	c, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	instr := own.As(t, c.Token)
	photo := pngImage(t)
	if r := uploadFile(t, instr, "a.png", photo); r.Status != http.StatusCreated {
		t.Fatalf("upload before: %d %s", r.Status, r.Body)
	}

	for fault, words := range map[string]string{"full": "已满", "read_only": "无法写入"} {
		store.fault.Store(fault)
		r := ready(t, own, http.StatusOK)
		if r.Status != "degraded" || r.Checks["uploads"] != "down" || r.Checks["database"] != "ok" {
			t.Fatalf("%s: readyz: %+v", fault, r)
		}
		if m := unavailable(t, uploadFile(t, instr, "b.png", photo), "60"); !strings.Contains(m.Message, words) {
			t.Fatalf("%s: message %q should say %s", fault, m.Message, words)
		}
		instr.Submit("visit", apitest.RecordBody("visit", phoneTime(e, -time.Hour)))
	}

	store.fault.Store("")
	if r := ready(t, own, http.StatusOK); r.Status != "ok" || r.Checks["uploads"] != "ok" {
		t.Fatalf("readyz after: %+v", r)
	}
	if r := uploadFile(t, instr, "c.png", photo); r.Status != http.StatusCreated {
		t.Fatalf("upload after: %d %s", r.Status, r.Body)
	}
}
