package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/platform/cache"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/platform/wechat"
	"github.com/shiliu/shiliu/server/platform/wxfake"
)

// testEnv is a database with the whole schema, a Redis, a fake WeChat/WeCom server and a fake
// clock both the fake and the dispatchers read. Each test gets its own: dispatchers deliver
// whatever is due in their database.
//
// The backend follows the environment like server/apitest: SQLite by default, MariaDB and Redis
// with SHILIU_TEST_DATABASE_DSN and SHILIU_TEST_REDIS_URL.
type testEnv struct {
	t      *testing.T
	db     *database.DB
	rdb    redis.UniversalClient
	prefix string
	wx     *wxfake.Server
	client *wechat.Client
	clock  *clock.Fake
	box    *secret.Box
	log    *slog.Logger
	tpl    map[string]Template
}

// opts adjust the fake WeChat server after it takes the test clock (a later WithClock wins).
func newTestEnv(t *testing.T, opts ...wxfake.Option) *testEnv {
	t.Helper()
	ctx := context.Background()
	e := &testEnv{t: t, clock: clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), log: testLogger()}
	db, err := database.Open(ctx, dbtest.DSN(t, "nt"), database.Options{MaxOpenConns: 20, Logger: e.log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, migrations.All); err != nil {
		t.Fatal(err)
	}
	e.db = db
	r, err := cache.Open(ctx, os.Getenv("SHILIU_TEST_REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	e.rdb, e.prefix = r, "shiliu_nt_"+randomHex(4)+":"
	e.wx = wxfake.NewTestServer(t, append([]wxfake.Option{wxfake.WithClock(e.clock.Now)}, opts...)...)
	e.client, err = wechat.New(wechat.Config{AppID: "wx-notify-test", Secret: "secret", APIBase: e.wx.URL(),
		WeComAPIBase: e.wx.URL(), Timeout: 5 * time.Second}, r, e.prefix+"wx:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.client.Close)
	e.box, err = secret.NewBox(config.DevDataKey())
	if err != nil {
		t.Fatal(err)
	}
	e.tpl = map[string]Template{
		"tip_submitted":      {ID: "TPL_TIP", Page: "pages/tip/detail?id={subject_id}", Data: map[string]string{"thing1": "title", "phrase2": "level", "thing3": "region", "time4": "time"}},
		"tip_escalated":      {ID: "TPL_TIP", Page: "pages/tip/detail?id={subject_id}", Data: map[string]string{"thing1": "title", "phrase2": "level", "thing3": "region", "time4": "time"}},
		"sentiment_answered": {ID: "TPL_SENT", Data: map[string]string{"thing1": "title", "thing2": "answer", "time3": "time"}},
		"group_disabled":     {ID: "TPL_GROUP", Data: map[string]string{"thing1": "group", "thing2": "reason", "time3": "time"}},
	}
	return e
}

func testLogger() *slog.Logger {
	w := io.Discard
	if os.Getenv("SHILIU_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// mysqlDatabase creates a database of its own for one test and drops it afterwards.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var testOptions = Options{
	PollInterval: 10 * time.Millisecond, Lease: time.Minute, SendTimeout: 7 * time.Second, BatchSize: 20,
	Concurrency: 4, MaxAttempts: 4, RetryBase: 5 * time.Second, RetryMax: 10 * time.Minute,
}

// dispatcher builds a dispatcher on the env with the usual senders.
func (e *testEnv) dispatcher(opt Options) *Dispatcher {
	senders := []Sender{
		&RobotSender{db: e.db.DB, box: e.box, wx: e.client, baseURL: "https://shiliu.example.gov.cn", clock: e.clock, log: e.log,
			pacer: NewPacer(e.rdb, e.prefix, 20, 20, time.Minute, e.clock)},
		&SubscribeSender{db: e.db.DB, wx: e.client, templates: e.tpl, clock: e.clock, log: e.log},
	}
	return NewDispatcher(e.db.DB, nil, senders, e.clock, e.log, opt, nil)
}

// testAccount is an accounts row with what a test sets.
type testAccount struct {
	ID           int64
	Role         string
	RegionCode   string
	InstructorID *int64
	OpenID       *string `gorm:"column:openid"`
	DisplayName  string
	Status       string
	OnDuty       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (testAccount) TableName() string { return "accounts" }

// account creates an account; openid "" leaves WeChat unbound. Staff with an openid get
// grants for the test templates.
func (e *testEnv) account(role, regionCode, openid string, onDuty bool) int64 {
	e.t.Helper()
	a := testAccount{Role: role, RegionCode: regionCode, DisplayName: role + randomHex(2), Status: "active", OnDuty: onDuty,
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if openid != "" {
		a.OpenID = &openid
	}
	if err := e.db.Create(&a).Error; err != nil {
		e.t.Fatal(err)
	}
	return a.ID
}

func (e *testEnv) grant(accountID int64, templateID string, kind string, remaining int) {
	e.t.Helper()
	now := e.clock.Now()
	if err := e.db.Create(&Subscription{AccountID: accountID, TemplateID: templateID, Kind: kind, Remaining: remaining,
		Status: SubActive, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		e.t.Fatal(err)
	}
}

// group registers a robot group with this webhook key.
func (e *testEnv) group(regionCode, audience, key string) int64 {
	e.t.Helper()
	enc, err := e.box.Encrypt(key)
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.Now()
	g := Group{Name: "群" + key, RegionCode: regionCode, Audience: audience, WebhookKeyEnc: enc,
		WebhookKeyHash: e.box.Hash(key), WebhookHint: key[len(key)-4:], Status: GroupActive, CreatedAt: now, UpdatedAt: now}
	if err := e.db.Create(&g).Error; err != nil {
		e.t.Fatal(err)
	}
	return g.ID
}

// event writes an outbox event as the records service does.
func (e *testEnv) event(kind, regionCode string, subjectID int64, payload map[string]any) int64 {
	e.t.Helper()
	b, _ := json.Marshal(payload)
	ev := Event{Kind: kind, SubjectType: "tip", SubjectID: subjectID, RegionCode: regionCode, Payload: string(b), CreatedAt: e.clock.Now()}
	if err := e.db.Create(&ev).Error; err != nil {
		e.t.Fatal(err)
	}
	return ev.ID
}

func (e *testEnv) notifications(where string, args ...any) []Notification {
	e.t.Helper()
	var out []Notification
	q := e.db.DB.Order("id")
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Find(&out).Error; err != nil {
		e.t.Fatal(err)
	}
	return out
}

// drain runs d until nothing is due, at most n rounds.
func (e *testEnv) drain(d *Dispatcher, n int) {
	e.t.Helper()
	for range n {
		var events int64
		e.db.Model(&Event{}).Where("consumed_at IS NULL").Count(&events)
		if !d.RunOnce(context.Background()) && events == 0 && len(e.notifications("status IN ? AND next_attempt_at <= ?",
			[]string{StatusPending, StatusSending}, e.clock.Now())) == 0 {
			return
		}
	}
}

// waitFor polls cond for up to d of real time.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// run starts d in the background and returns its stop function, which waits for it.
func run(d *Dispatcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

const (
	county  = "130102000000" // 长安区
	town    = "130102001000"
	city    = "130100000000"
	county2 = "130104000000"
)

func id(n int64) string { return strconv.FormatInt(n, 10) }
