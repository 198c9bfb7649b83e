// Package apitest starts a real Shiliu (real router, real database, real Redis protocol, the real
// WeChat SDK pointed at the fake WeChat server) for end-to-end tests, and drives it over HTTP.
//
// The backend comes from the environment: by default a SQLite file and an embedded Redis; with
// SHILIU_TEST_DATABASE_DSN (a MySQL/MariaDB DSN whose user may create databases) and
// SHILIU_TEST_REDIS_URL the same tests run against real servers. Each test binary gets a database
// and a Redis key prefix of its own, so packages can run in parallel.
package apitest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/app"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
	"github.com/shiliu/shiliu/server/platform/wxfake"
	"gorm.io/gorm"
)

// Env is one running server.
type Env struct {
	App    *app.App
	URL    string
	WX     *wxfake.Server
	Clock  *clock.Fake
	Config config.Config
	cancel context.CancelFunc
	done   chan struct{}
}

// Backend names the database the tests run on ("sqlite" or "mysql").
func Backend() string {
	if os.Getenv("SHILIU_TEST_DATABASE_DSN") != "" {
		return "mysql"
	}
	return "sqlite"
}

var (
	sharedOnce sync.Once
	shared     *Env
	sharedErr  error
	baseDSN    string
	dropDB     func()
	wx         *wxfake.Server
	prefix     string
	uploadsDir string
)

// Shared returns the server shared by the tests of this binary. Tests sharing it create their
// own units and people, so they do not depend on each other.
func Shared(t testing.TB) *Env {
	t.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = start(clock.NewFake(time.Now()))
	})
	if sharedErr != nil {
		t.Fatalf("start server: %v", sharedErr)
	}
	return shared
}

// Started is the shared server if a test started it, else nil: for TestMain's checks after the
// tests, which have no *testing.T.
func Started() *Env { return shared }

// Isolated starts a server on a database of its own, dropped when the test ends, with its own
// Redis key prefix: for a test whose load would hold up the tests sharing the database (the
// shared server's dispatcher would be working through its events while they wait for theirs).
func Isolated(t testing.TB, configure ...func(*config.Config)) *Env {
	t.Helper()
	Shared(t)
	dsn := dbtest.DSN(t, "iso")
	own := "shiliu_iso_" + randomHex(4) + ":"
	return Another(t, clock.NewFake(time.Now()), append(configure, func(c *config.Config) {
		c.Database.DSN, c.Redis.Prefix = dsn, own
	})...)
}

// UseDatabase makes the servers of this binary use the database at dsn, which exists already and
// which they do not drop: that of a test that starts this binary as a server it then kills, and
// reads the database afterwards. Call it before anything starts a server.
func UseDatabase(dsn string) { baseDSN = dsn }

// Another starts a second server on the same database and Redis with its own clock: a second
// instance behind the load balancer, or the same system seen at another time. configure, if
// given, adjusts its configuration (a smaller limit, say) before it starts.
func Another(t testing.TB, clk *clock.Fake, configure ...func(*config.Config)) *Env {
	t.Helper()
	Shared(t)
	e, err := start(clk, configure...)
	if err != nil {
		t.Fatalf("start another server: %v", err)
	}
	t.Cleanup(e.Stop)
	return e
}

// AnotherWith is Another with options for app.Open too (a wrapped upload store, say).
func AnotherWith(t testing.TB, clk *clock.Fake, opts []app.Option, configure ...func(*config.Config)) *Env {
	t.Helper()
	Shared(t)
	e, err := startWith(clk, nil, opts, configure...)
	if err != nil {
		t.Fatalf("start another server: %v", err)
	}
	t.Cleanup(e.Stop)
	return e
}

// Secrets of every server a test process starts, random so that no test depends on a
// published value.
var testTokenSecret, testDataKey = config.NewSecrets()

// Cleanup stops the shared server and drops the test database; call it from TestMain.
func Cleanup() {
	if shared != nil {
		shared.Stop()
	}
	if dropDB != nil {
		dropDB()
	}
	if uploadsDir != "" {
		os.RemoveAll(uploadsDir)
	}
}

// Logged is Another whose log (every level) goes to w, for tests of what reaches the logs.
func Logged(t testing.TB, clk *clock.Fake, w io.Writer, configure ...func(*config.Config)) *Env {
	t.Helper()
	Shared(t)
	e, err := startWith(clk, w, nil, configure...)
	if err != nil {
		t.Fatalf("start logged server: %v", err)
	}
	t.Cleanup(e.Stop)
	return e
}

func start(clk *clock.Fake, configure ...func(*config.Config)) (*Env, error) {
	return startWith(clk, nil, nil, configure...)
}

// startWith starts a server; logTo, when set, receives its whole log; opts go to app.Open.
func startWith(clk *clock.Fake, logTo io.Writer, opts []app.Option, configure ...func(*config.Config)) (*Env, error) {
	if wx == nil { // the first server of this binary
		if baseDSN == "" {
			dsn, drop, err := dbtest.New("t")
			if err != nil {
				return nil, err
			}
			baseDSN, dropDB = dsn, drop
		}
		// Uploaded files go to a directory of this test binary's own, not ./data under the
		// package, where parallel test runs in one checkout would delete each other's files.
		dir, err := os.MkdirTemp("", "shiliu-uploads-")
		if err != nil {
			return nil, err
		}
		uploadsDir = dir
		wx = wxfake.New()
		prefix = "shiliu_t_" + randomHex(4) + ":"
	}
	cfg := config.Default()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Database.DSN = baseDSN
	cfg.Redis.URL = os.Getenv("SHILIU_TEST_REDIS_URL")
	cfg.Redis.Prefix = prefix
	cfg.Uploads.Dir = uploadsDir
	cfg.Security.BcryptCost = 4 // tests create many accounts; cost is not what they check
	// One pair per test process: every server a test starts shares the database, and a token
	// one signs may be used against another.
	cfg.Security.TokenSecret, cfg.Security.DataKey = testTokenSecret, testDataKey
	cfg.Security.LoginPerMinute = 1000
	cfg.Security.BindFailuresPerIP = 1000 // every test binds from 127.0.0.1
	// Parallel tests import workbooks into the one shared server (one of 10,000 rows takes seconds);
	// the gate itself is tested on a server of its own (limits_test.go).
	cfg.Uploads.ImportMaxConcurrent = 100
	cfg.WeChat.AppID, cfg.WeChat.Secret = "wx-test-appid", "wx-test-secret"
	// Notifications: poll often, and a template id for every template (TPL_TIP_SUBMITTED…).
	cfg.Notify.PollInterval = 20 * time.Millisecond
	cfg.Notify.PublicBaseURL = "https://shiliu.test"
	for name, tpl := range cfg.Notify.Templates {
		tpl.ID = "TPL_" + strings.ToUpper(name)
		cfg.Notify.Templates[name] = tpl
	}
	for _, f := range configure {
		f(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	wxURL, err := wxListen()
	if err != nil {
		return nil, err
	}
	cfg.WeChat.APIBase, cfg.WeChat.WeComAPIBase = wxURL, wxURL
	level := slog.LevelWarn
	if os.Getenv("SHILIU_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	w := testLogWriter()
	if logTo != nil {
		w, level = logTo, slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, append([]app.Option{app.WithClock(clk), app.WithLogger(log)}, opts...)...)
	if err != nil {
		cancel()
		return nil, err
	}
	addr, err := a.Listen()
	if err != nil {
		cancel()
		a.Close()
		return nil, err
	}
	e := &Env{App: a, URL: "http://" + addr.String(), WX: wx, Clock: clk, Config: cfg, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = a.Run(ctx)
	}()
	return e, nil
}

var (
	wxOnce sync.Once
	wxURL  string
)

// wxListen serves the one fake WeChat server of this binary.
func wxListen() (string, error) {
	wxOnce.Do(func() { wxURL = httptest.NewServer(wx).URL })
	return wxURL, nil
}

// Stop shuts the server down.
func (e *Env) Stop() {
	e.cancel()
	<-e.done
	e.App.Close()
}

// DB is the server's database handle, for assertions that look underneath the API.
func (e *Env) DB() *gorm.DB { return e.App.DB.DB }

func testLogWriter() io.Writer {
	if os.Getenv("SHILIU_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Unique returns a short suffix for names in tests sharing a database: six hex digits, never the
// same twice in one test binary (a counter from a random start), so that two tests running at
// once cannot pick the same username, unit name or code by chance.
func Unique() string { return fmt.Sprintf("%06X", uniqueNext.Add(1)&0xFFFFFF) }

var uniqueNext atomic.Uint32

func init() {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	uniqueNext.Store(binary.BigEndian.Uint32(b))
}
