package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/app"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/cache"
)

// Errors a newcomer meets in the first hour say what to do, naming the setting to change.

// A server without a mini-program answers WeChat login with 503 and the settings to set, not a
// "try again later" that no wait will fix.
func TestWeChatLoginWithoutAppIDSaysItIsNotConfigured(t *testing.T) {
	t.Parallel()
	e := apitest.Another(t, apitest.Shared(t).Clock, func(c *config.Config) { c.WeChat.AppID, c.WeChat.Secret = "", "" })
	r := e.Anon(t).Must(http.StatusServiceUnavailable, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": "c" + apitest.Unique()}).Err(t)
	if r.Code != "wechat_not_configured" || !strings.Contains(r.Message, "SHILIU_WECHAT_APPID") || strings.Contains(r.Message, "稍后") {
		t.Fatalf("login without WeChat configured: %+v", r)
	}
}

// A bind ticket that already bound someone says so: it did not time out.
func TestUsedBindTicketSaysUsed(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := staff.Unit("village", apitest.TownshipA1)
	ticket := e.BindTicket(t)
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{
		"bind_ticket": ticket, "invite_code": staff.Invite(staff.Instructor(unit))})
	r := e.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/auth/wechat/bind", map[string]string{
		"bind_ticket": ticket, "invite_code": staff.Invite(staff.Instructor(unit))}).Err(t)
	if !strings.Contains(r.Message, "已使用") || strings.Contains(r.Message, "超时") {
		t.Fatalf("a used ticket: %+v", r)
	}
	// An unknown (or expired) ticket still says it timed out.
	r = e.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/auth/wechat/bind", map[string]string{
		"bind_ticket": "unknown" + apitest.Unique(), "invite_code": "123456"}).Err(t)
	if !strings.Contains(r.Message, "超时") {
		t.Fatalf("an unknown ticket: %+v", r)
	}
}

// An invalid code value names the allowed codes, or where to find them when there are many.
func TestInvalidCodeValueListsTheAllowedOnes(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := staff.Unit("village", apitest.TownshipA1)
	author, _ := e.InstructorClient(t, staff, unit)

	body := apitest.RecordBody("tip", phoneTime(e, -time.Hour))
	body["tip"].(map[string]any)["level"] = "urgent"
	r := author.Must(http.StatusBadRequest, "POST", "/api/v1/tips", body).Err(t)
	if len(r.Details) == 0 || r.Details[0].Field != "tip.level" || !strings.Contains(r.Details[0].Message, "general") {
		t.Fatalf("tip level urgent: %+v", r)
	}
	in := apitest.InstructorBody(unit)
	in["ethnicity"] = "99"
	r = staff.Must(http.StatusBadRequest, "POST", "/api/v1/instructors", in).Err(t)
	if len(r.Details) == 0 || r.Details[0].Field != "ethnicity" || !strings.Contains(r.Details[0].Message, "/api/v1/dictionaries") {
		t.Fatalf("ethnicity 99: %+v", r)
	}
}

// openConfig is the embedded default with its files in a temporary directory, and WeChat pointed
// at the tests' fake: WeChat routing is process-wide (the SDK has one HTTP client), so an App
// with the real WeChat hosts would point every other test at them while it is open.
func openConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	shared := apitest.Shared(t).Config.WeChat
	cfg.WeChat.APIBase, cfg.WeChat.WeComAPIBase, cfg.WeChat.Timeout = shared.APIBase, shared.WeComAPIBase, shared.Timeout
	dir := t.TempDir()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Database.DSN = "sqlite:" + filepath.Join(dir, "shiliu.db")
	cfg.Uploads.Dir = filepath.Join(dir, "uploads")
	cfg.Log.Level = "error"
	cfg.Security.TokenSecret, cfg.Security.DataKey = config.NewSecrets()
	// What these tests check comes before or beside the region table; loading its 50,000 rows
	// into a fresh database is most of the time a start takes.
	cfg.Database.LoadRegions = false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A taken address names SHILIU_HTTP_ADDR.
func TestAddressInUseNamesTheSetting(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := openConfig(t)
	cfg.HTTP.Addr = taken.Addr().String()
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.Listen()
	if err == nil || !strings.Contains(err.Error(), "SHILIU_HTTP_ADDR") || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("listen on a taken address: %v", err)
	}
}

// logBuffer collects log lines written from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A database that does not answer is tried again, with a line per try, for a bounded time; the
// error then names SHILIU_DATABASE_DSN (without its password).
func TestUnreachableDatabaseIsRetriedThenNamed(t *testing.T) {
	t.Parallel()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	free.Close() // nothing listens there now
	var logs logBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := config.Default().Database
	cfg.DSN = "mysql://shiliu:hunter2@" + addr + "/shiliu"
	cfg.ConnectWait = 3 * time.Second
	_, err = app.OpenDatabase(context.Background(), cfg, log)
	if err == nil || !strings.Contains(err.Error(), "SHILIU_DATABASE_DSN") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("unreachable database: %v", err)
	}
	if tries := strings.Count(logs.String(), "database not reachable yet"); tries < 2 {
		t.Fatalf("%d retry lines:\n%s", tries, logs.String())
	}
	// A database that answers with a refusal is not waited for.
	cfg.DSN = "sqlite:" + filepath.Join(unwritableDir(t), "shiliu.db")
	before := strings.Count(logs.String(), "database not reachable yet")
	_, err = app.OpenDatabase(context.Background(), cfg, log)
	if err == nil || !strings.Contains(err.Error(), "SHILIU_DATABASE_DSN") || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("unwritable database directory: %v", err)
	}
	if after := strings.Count(logs.String(), "database not reachable yet"); after != before {
		t.Fatalf("an unwritable directory was waited for:\n%s", logs.String())
	}
}

// An unwritable uploads directory stops the start, naming the directory and the setting; one that
// goes bad later fails /readyz instead of the next upload.
func TestUploadsDirectoryIsCheckedAtStartAndInReadyz(t *testing.T) {
	t.Parallel()
	cfg := openConfig(t)
	cfg.Uploads.Dir = filepath.Join(unwritableDir(t), "uploads")
	if _, err := app.Open(context.Background(), cfg); err == nil ||
		!strings.Contains(err.Error(), cfg.Uploads.Dir) || !strings.Contains(err.Error(), "SHILIU_UPLOADS_DIR") {
		t.Fatalf("start with an unwritable uploads directory: %v", err)
	}

	cfg = openConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := a.Listen()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	var body []byte
	ready := func() int {
		resp, err := http.Get("http://" + addr.String() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ = io.ReadAll(resp.Body)
		return resp.StatusCode
	}
	if st := ready(); st != http.StatusOK || !strings.Contains(string(body), `"status":"ok"`) {
		t.Fatalf("readyz %d %s", st, body)
	}
	// The directory goes: a file now stands where it was.
	if err := os.RemoveAll(cfg.Uploads.Dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.Uploads.Dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Uploads share a volume across instances: a broken one degrades the instance (the body says
	// which dependency), it does not take it out of the load balancer.
	if st := ready(); st != http.StatusOK || !strings.Contains(string(body), `"status":"degraded"`) || !strings.Contains(string(body), `"uploads"`) {
		t.Fatalf("readyz with the uploads directory gone: %d %s", st, body)
	}
}

// A Redis URL that is not one shows the expected form, and not the password.
func TestRedisURLErrorShowsTheForm(t *testing.T) {
	t.Parallel()
	_, err := cache.Open(context.Background(), "127.0.0.1:6379 with password hunter2")
	if err == nil || !strings.Contains(err.Error(), "redis://") || !strings.Contains(err.Error(), "SHILIU_REDIS_URL") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad redis url: %v", err)
	}
}

// unwritableDir is a directory the test process cannot create files in: a read-only directory,
// or /sys for root (whom file permissions do not stop).
func unwritableDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		return dir
	}
	if f, err := os.CreateTemp("/sys", "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip("no unwritable directory for root here")
	} else if !os.IsPermission(err) {
		t.Skipf("no unwritable directory for root here: %v", err)
	}
	return "/sys"
}
