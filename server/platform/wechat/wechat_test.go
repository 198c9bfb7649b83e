package wechat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/util"

	"github.com/shiliu/shiliu/server/platform/wxfake"
)

// These tests share the process-wide routing, so none of them is parallel.

type env struct {
	fake *wxfake.Server
	mr   *miniredis.Miniredis
	c    *Client
}

func newEnv(t *testing.T, opts ...wxfake.Option) *env {
	t.Helper()
	e := &env{fake: wxfake.NewTestServer(t, opts...), mr: miniredis.RunT(t)}
	e.c = e.client(t, time.Second)
	return e
}

func (e *env) client(t *testing.T, timeout time.Duration) *Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: e.mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	c, err := New(Config{
		AppID: "wxtestapp", Secret: "s3cret", APIBase: e.fake.URL(), WeComAPIBase: e.fake.URL(),
		Timeout: timeout, MiniprogramState: "trial",
	}, rdb, "test:wechat:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// A second Client (another app in the same test binary, pointed elsewhere) takes the routing
// while it is open; closing it hands the routing back, so the first Client's calls reach its own
// server again instead of failing against whatever the second one was pointed at.
func TestClosingALaterClientHandsRoutingBack(t *testing.T) {
	first := newEnv(t)
	first.fake.RegisterCode("mine", "openid-first", "")
	second := wxfake.NewTestServer(t)
	second.RegisterCode("mine", "openid-second", "")
	other, err := New(Config{AppID: "wxother", Secret: "s", APIBase: second.URL(), WeComAPIBase: second.URL()}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if s, err := other.Code2Session(ctx, "mine"); err != nil || s.OpenID != "openid-second" {
		t.Fatalf("while the second client is open: %+v %v", s, err)
	}
	other.Close()
	if s, err := first.c.Code2Session(ctx, "mine"); err != nil || s.OpenID != "openid-first" {
		t.Fatalf("after the second client closed, the first one's call went to: %+v %v", s, err)
	}
}

func wantCode(t *testing.T, err error, code int) *APIError {
	t.Helper()
	ae, ok := errors.AsType[*APIError](err)
	if !ok {
		t.Fatalf("want *APIError %d, got %T %v", code, err, err)
	}
	if ae.Code != code {
		t.Fatalf("want errcode %d, got %v", code, ae)
	}
	return ae
}

func TestCode2SessionOK(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	s, err := e.c.Code2Session(ctx, "abc-123_X")
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenID != "o_abc-123_X" || s.UnionID != "" || s.SessionKey == "" {
		t.Fatalf("session %+v", s)
	}

	e.fake.RegisterCode("c2", "openid-2", "union-2")
	s, err = e.c.Code2Session(ctx, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenID != "openid-2" || s.UnionID != "union-2" {
		t.Fatalf("session %+v", s)
	}

	reqs := e.fake.Requests(wxfake.EndpointCode2Session)
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	q := reqs[0].Query
	if q.Get("appid") != "wxtestapp" || q.Get("secret") != "s3cret" || q.Get("js_code") != "abc-123_X" {
		t.Fatalf("query %v", q)
	}
}

func TestCode2SessionErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	if _, err := e.c.Code2Session(ctx, "once"); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.Code2Session(ctx, "once")
	if ae := wantCode(t, err, 40163); ae.Op != OpCode2Session || !IsPermanent(err) || IsTransient(err) {
		t.Fatalf("classification of %v", err)
	}

	e.fake.ExpireCode("old")
	_, err = e.c.Code2Session(ctx, "old")
	wantCode(t, err, 40029)

	e.fake.Inject(wxfake.EndpointCode2Session, 40029, 1)
	_, err = e.c.Code2Session(ctx, "fresh1")
	wantCode(t, err, 40029)
	e.fake.Inject(wxfake.EndpointCode2Session, 40163, 1)
	_, err = e.c.Code2Session(ctx, "fresh2")
	wantCode(t, err, 40163)
	e.fake.Inject(wxfake.EndpointCode2Session, 40226, 1)
	_, err = e.c.Code2Session(ctx, "fresh3")
	if wantCode(t, err, 40226); !IsPermanent(err) {
		t.Fatal("40226 should be permanent")
	}
	e.fake.Inject(wxfake.EndpointCode2Session, 45011, 1)
	_, err = e.c.Code2Session(ctx, "fresh4")
	if wantCode(t, err, 45011); !IsTransient(err) {
		t.Fatal("45011 should be transient")
	}

	// Malformed codes never reach WeChat.
	before := len(e.fake.Requests(wxfake.EndpointCode2Session))
	for _, code := range []string{"", "a&secret=x", "a b", "中文", strings.Repeat("a", 129)} {
		_, err = e.c.Code2Session(ctx, code)
		wantCode(t, err, 40029)
	}
	if after := len(e.fake.Requests(wxfake.EndpointCode2Session)); after != before {
		t.Fatalf("malformed codes were sent: %d -> %d", before, after)
	}
}

func TestCode2SessionRetriesBusyOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	e.fake.Inject(wxfake.EndpointCode2Session, -1, 1)
	s, err := e.c.Code2Session(ctx, "busy1")
	if err != nil || s.OpenID != "o_busy1" {
		t.Fatalf("%+v %v", s, err)
	}
	if n := len(e.fake.Requests(wxfake.EndpointCode2Session)); n != 2 {
		t.Fatalf("want 2 calls, got %d", n)
	}

	e.fake.Inject(wxfake.EndpointCode2Session, -1, 2)
	_, err = e.c.Code2Session(ctx, "busy2")
	if wantCode(t, err, -1); !IsTransient(err) {
		t.Fatal("-1 should be transient")
	}
	if n := len(e.fake.Requests(wxfake.EndpointCode2Session)); n != 4 {
		t.Fatalf("want one retry only, got %d calls", n)
	}
}

func TestPhoneNumber(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	e.fake.SetPhone("pc1", "13800138000")
	phone, err := e.c.PhoneNumber(ctx, "pc1")
	if err != nil || phone != "13800138000" {
		t.Fatalf("%q %v", phone, err)
	}
	_, err = e.c.PhoneNumber(ctx, "pc1") // single use
	wantCode(t, err, 40029)
	_, err = e.c.PhoneNumber(ctx, "unknown")
	wantCode(t, err, 40029)
}

func TestSendSubscribe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	err := e.c.SendSubscribe(ctx, SubscribeMessage{
		ToUser: "o_u1", TemplateID: "tpl-1", Page: "pages/task/detail?id=7",
		Data: map[string]string{"thing1": "消防演练", "time2": "2025-01-02 09:00"},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.SubscribeMessages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.ToUser != "o_u1" || m.TemplateID != "tpl-1" || m.Page != "pages/task/detail?id=7" ||
		m.MiniprogramState != "trial" || m.Lang != "zh_CN" ||
		m.Data["thing1"] != "消防演练" || m.Data["time2"] != "2025-01-02 09:00" {
		t.Fatalf("message %+v", m)
	}
	if n := e.fake.TokenFetches(); n != 1 {
		t.Fatalf("%d token fetches", n)
	}
	if r := e.fake.Requests(wxfake.EndpointToken); r[0].Path != "/cgi-bin/stable_token" {
		t.Fatalf("token via %s, want stable_token", r[0].Path)
	}

	e.fake.RefuseSubscribe("o_refuser")
	err = e.c.SendSubscribe(ctx, SubscribeMessage{ToUser: "o_refuser", TemplateID: "tpl-1", Data: map[string]string{"thing1": "x"}})
	if wantCode(t, err, 43101); !IsPermanent(err) {
		t.Fatal("43101 should be permanent")
	}
	err = e.c.SendSubscribe(ctx, SubscribeMessage{ToUser: "o_u1", TemplateID: "tpl-1", Data: map[string]string{"thing1": strings.Repeat("长", 21)}})
	wantCode(t, err, 47003)
}

func TestSubscribeRefreshesTokenOn40001(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	msg := SubscribeMessage{ToUser: "o_u1", TemplateID: "tpl", Data: map[string]string{"thing1": "x"}}

	if err := e.c.SendSubscribe(ctx, msg); err != nil {
		t.Fatal(err)
	}
	e.fake.InvalidateTokens()
	if err := e.c.SendSubscribe(ctx, msg); err != nil {
		t.Fatalf("want refresh and retry, got %v", err)
	}
	reqs := e.fake.Requests(wxfake.EndpointSubscribe)
	if len(reqs) != 3 {
		t.Fatalf("want 3 subscribe calls, got %d", len(reqs))
	}
	if old, fresh := reqs[1].Query.Get("access_token"), reqs[2].Query.Get("access_token"); old == fresh || fresh == "" {
		t.Fatalf("retry used token %q after %q", fresh, old)
	}
	if n := e.fake.TokenFetches(); n != 2 {
		t.Fatalf("want 2 token fetches, got %d", n)
	}

	// 42001 is handled alike; a second 40001 in a row is returned.
	e.fake.Inject(wxfake.EndpointSubscribe, 42001, 1)
	if err := e.c.SendSubscribe(ctx, msg); err != nil {
		t.Fatal(err)
	}
	e.fake.Inject(wxfake.EndpointSubscribe, 40001, 2)
	wantCode(t, e.c.SendSubscribe(ctx, msg), 40001)
	if got := len(e.fake.SubscribeMessages()); got != 3 {
		t.Fatalf("%d messages accepted", got)
	}
}

func TestPhoneRefreshesTokenOn40001(t *testing.T) {
	e := newEnv(t)
	e.fake.SetPhone("p", "13900000000")
	if _, err := e.c.PhoneNumber(context.Background(), "nope"); err == nil {
		t.Fatal("want error")
	}
	e.fake.InvalidateTokens()
	phone, err := e.c.PhoneNumber(context.Background(), "p")
	if err != nil || phone != "13900000000" {
		t.Fatalf("%q %v", phone, err)
	}
}

func TestTokenErrorsAreAPIErrors(t *testing.T) {
	e := newEnv(t)
	e.fake.Inject(wxfake.EndpointToken, 45009, 1)
	err := e.c.SendSubscribe(context.Background(), SubscribeMessage{ToUser: "o", TemplateID: "t", Data: map[string]string{"thing1": "x"}})
	if ae := wantCode(t, err, 45009); ae.Op != OpToken || !IsTransient(err) {
		t.Fatalf("%v", err)
	}
}

func TestTokenSharedViaRedis(t *testing.T) {
	e := newEnv(t)
	other := e.client(t, time.Second)
	ctx := context.Background()
	msg := SubscribeMessage{ToUser: "o_u1", TemplateID: "tpl", Data: map[string]string{"thing1": "x"}}

	if err := e.c.SendSubscribe(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if err := other.SendSubscribe(ctx, msg); err != nil {
		t.Fatal(err)
	}
	e.fake.SetPhone("p1", "13800000001")
	if _, err := other.PhoneNumber(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.TokenFetches(); n != 1 {
		t.Fatalf("want 1 token fetch shared through Redis, got %d", n)
	}
	keys := e.mr.Keys()
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "test:wechat:") {
		t.Fatalf("redis keys %v", keys)
	}
}

func TestHTTPErrorsAreTransientAndRedacted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	e.fake.InjectHTTPStatus(wxfake.EndpointCode2Session, 502, 1)
	_, err := e.c.Code2Session(ctx, "c502")
	if se, ok := errors.AsType[*HTTPStatusError](err); !ok || se.StatusCode != 502 || !IsTransient(err) {
		t.Fatalf("%T %v", err, err)
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "c502") {
		t.Fatalf("secret in error: %v", err)
	}

	e.fake.InjectHTTPStatus(wxfake.EndpointRobot, 503, 1)
	err = e.c.SendRobot(ctx, "robot-key-1", RobotMessage{Content: "hi"})
	if !IsTransient(err) || strings.Contains(err.Error(), "robot-key-1") {
		t.Fatalf("%v", err)
	}
}

func TestTimeout(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, 200*time.Millisecond)
	e.fake.SetDelay(wxfake.EndpointRobot, 2*time.Second)
	start := time.Now()
	err := c.SendRobot(context.Background(), "k", RobotMessage{Content: "slow"})
	if err == nil || !IsTransient(err) || IsPermanent(err) {
		t.Fatalf("want transient timeout, got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if strings.Contains(err.Error(), "key=") {
		t.Fatalf("key in error: %v", err)
	}
}

func TestRobot(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	err := e.c.SendRobot(ctx, "key-1", RobotMessage{MsgType: MsgTypeText, Content: "明天 9:00 演练", MentionedMobiles: []string{"13800138000"}})
	if err != nil {
		t.Fatal(err)
	}
	err = e.c.SendRobot(ctx, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=key-2", RobotMessage{MsgType: MsgTypeMarkdown, Content: "# 通知"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.RobotMessages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	if m := msgs[0]; m.Key != "key-1" || m.MsgType != "text" || m.Content != "明天 9:00 演练" ||
		len(m.MentionedMobiles) != 1 || m.MentionedMobiles[0] != "13800138000" {
		t.Fatalf("%+v", m)
	}
	if m := msgs[1]; m.Key != "key-2" || m.MsgType != "markdown" || m.Content != "# 通知" {
		t.Fatalf("%+v", m)
	}

	// The SDK returns a nil error for errcode != 0; we must not.
	e.fake.Inject(wxfake.EndpointRobot, 93000, 1)
	err = e.c.SendRobot(ctx, "key-1", RobotMessage{Content: "x"})
	if ae := wantCode(t, err, 93000); ae.Op != OpRobot || !IsPermanent(err) {
		t.Fatalf("%v", err)
	}
	e.fake.DisableRobot("gone")
	wantCode(t, e.c.SendRobot(ctx, "gone", RobotMessage{Content: "x"}), 93000)

	// Local checks: no call made.
	before := len(e.fake.Requests(wxfake.EndpointRobot))
	wantCode(t, e.c.SendRobot(ctx, "bad key!", RobotMessage{Content: "x"}), 93000)
	wantCode(t, e.c.SendRobot(ctx, "k", RobotMessage{Content: strings.Repeat("字", 683)}), 40058)
	wantCode(t, e.c.SendRobot(ctx, "k", RobotMessage{MsgType: "markdown", Content: strings.Repeat("a", 4097)}), 40058)
	wantCode(t, e.c.SendRobot(ctx, "k", RobotMessage{MsgType: "image", Content: "x"}), 40008)
	wantCode(t, e.c.SendRobot(ctx, "k", RobotMessage{}), 44004)
	if after := len(e.fake.Requests(wxfake.EndpointRobot)); after != before {
		t.Fatalf("invalid messages were sent")
	}
	// Exactly at the limit is fine (682 * 3 = 2046 bytes).
	if err := e.c.SendRobot(ctx, "k", RobotMessage{Content: strings.Repeat("字", 682)}); err != nil {
		t.Fatal(err)
	}
}

func TestRobotRateLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range wxfake.DefaultRobotRateLimit {
		if err := e.c.SendRobot(ctx, "busy", RobotMessage{Content: fmt.Sprint(i)}); err != nil {
			t.Fatal(i, err)
		}
	}
	err := e.c.SendRobot(ctx, "busy", RobotMessage{Content: "one too many"})
	if wantCode(t, err, 45009); !IsTransient(err) {
		t.Fatal("45009 should be transient")
	}
	if err := e.c.SendRobot(ctx, "other", RobotMessage{Content: "x"}); err != nil {
		t.Fatal("limit is per key:", err)
	}
}

func TestParseWebhookKey(t *testing.T) {
	ok := map[string]string{
		"693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa": "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
		"  abc  ":                              "abc",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-1":              "abc-1",
		"http://127.0.0.1:8089/cgi-bin/webhook/send?key=abc_2&debug=1":            "abc_2",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?debug=1&key=abc-3#frag": "abc-3",
	}
	for in, want := range ok {
		got, err := ParseWebhookKey(in)
		if err != nil || got != want {
			t.Errorf("%q: got %q %v", in, got, err)
		}
	}
	for _, in := range []string{"", "a b", "k&x=1", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
		"https://qyapi.weixin.qq.com/other?key=abc", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a%26b"} {
		if got, err := ParseWebhookKey(in); !errors.Is(err, ErrInvalidWebhookKey) {
			t.Errorf("%q: want error, got %q %v", in, got, err)
		}
	}
}

func TestConcurrentSends(t *testing.T) {
	e := newEnv(t, wxfake.WithRobotRateLimit(0))
	other := e.client(t, time.Second)
	ctx := context.Background()
	e.fake.InvalidateTokens()

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 25 {
		c := e.c
		if i%2 == 1 {
			c = other
		}
		wg.Go(func() {
			errs <- c.SendSubscribe(ctx, SubscribeMessage{ToUser: fmt.Sprintf("o_%d", i), TemplateID: "t", Data: map[string]string{"thing1": "x"}})
			errs <- c.SendRobot(ctx, "k", RobotMessage{Content: fmt.Sprint(i)})
			_, err := c.Code2Session(ctx, fmt.Sprintf("code%d", i))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(e.fake.SubscribeMessages()); n != 25 {
		t.Fatalf("%d subscribe messages", n)
	}
	if n := len(e.fake.RobotMessages()); n != 25 {
		t.Fatalf("%d robot messages", n)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{APIBase: "ftp://x"},
		{WeComAPIBase: "not a url"},
		{MiniprogramState: "beta"},
	} {
		if _, err := New(cfg, nil, ""); err == nil {
			t.Errorf("%+v: want error", cfg)
		}
	}
}

func TestNotConfigured(t *testing.T) {
	fake := wxfake.NewTestServer(t)
	c, err := New(Config{APIBase: fake.URL(), WeComAPIBase: fake.URL()}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Code2Session(context.Background(), "x"); !errors.Is(err, ErrNotConfigured) {
		t.Fatal(err)
	}
	// Robots need no app credentials, and the in-process cache is enough.
	if err := c.SendRobot(context.Background(), "k", RobotMessage{Content: "x"}); err != nil {
		t.Fatal(err)
	}
}

func TestRedisCache(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	c := NewRedisCache(rdb, "p:")
	ctx := context.Background()

	if c.Get("k") != nil || c.IsExist("k") {
		t.Fatal("want miss")
	}
	if err := c.Set("k", "v", time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("k").(string); !ok || v != "v" || !c.IsExist("k") {
		t.Fatalf("%v", c.Get("k"))
	}
	if ttl := mr.TTL("p:k"); ttl != time.Minute {
		t.Fatalf("ttl %v", ttl)
	}
	if err := c.deleteIfEqual(ctx, "k", "other"); err != nil || !c.IsExist("k") {
		t.Fatal("deleted a different value", err)
	}
	if err := c.deleteIfEqual(ctx, "k", "v"); err != nil || c.IsExist("k") {
		t.Fatal("did not delete", err)
	}
	if err := c.deleteIfEqual(ctx, "missing", "v"); err != nil {
		t.Fatal(err)
	}
	_ = c.Set("n", 42, 0)
	if v := c.Get("n"); v != "42" {
		t.Fatalf("%#v", v)
	}
	if err := c.Delete("n"); err != nil || c.IsExist("n") {
		t.Fatal(err)
	}
}

func TestDefaultClientUntouched(t *testing.T) {
	newEnv(t)
	if util.DefaultHTTPClient == http.DefaultClient || http.DefaultClient.Transport != nil || http.DefaultClient.Timeout != 0 {
		t.Fatal("http.DefaultClient must stay as it is")
	}
}

// Through a gateway, an error names the host that was called, not the WeChat host the SDK asked
// for: an operator reading the log must see where the call really went.
func TestErrorsNameTheHostCalled(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fakeHost := strings.TrimPrefix(e.fake.URL(), "http://")

	e.fake.InjectHTTPStatus(wxfake.EndpointRobot, 502, 1)
	err := e.c.SendRobot(ctx, "robot-key-1", RobotMessage{Content: "hi"})
	if err == nil || !strings.Contains(err.Error(), fakeHost) || strings.Contains(err.Error(), "weixin.qq.com") {
		t.Fatalf("HTTP status error should name %s: %v", fakeHost, err)
	}

	// A gateway that is down: nothing listens on its port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	rdb := redis.NewClient(&redis.Options{Addr: e.mr.Addr()})
	defer rdb.Close()
	c, err := New(Config{AppID: "wxtestapp", Secret: "s3cret", APIBase: "http://" + down, WeComAPIBase: "http://" + down,
		Timeout: time.Second}, rdb, "test:wechat:")
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"robot": func() error { return c.SendRobot(ctx, "robot-key-1", RobotMessage{Content: "hi"}) },
		"subscribe": func() error {
			return c.SendSubscribe(ctx, SubscribeMessage{ToUser: "o", TemplateID: "t", Data: map[string]string{"thing1": "x"}})
		},
		"login": func() error { _, err := c.Code2Session(ctx, "code1"); return err },
	} {
		err := call()
		if err == nil || !IsTransient(err) {
			t.Fatalf("%s: want a transient error, got %v", name, err)
		}
		if msg := err.Error(); !strings.Contains(msg, down) || strings.Contains(msg, "weixin.qq.com") ||
			strings.Contains(msg, "s3cret") || strings.Contains(msg, "robot-key-1") {
			t.Fatalf("%s: error should name the gateway %s and no secret: %v", name, down, msg)
		}
	}
}

// A Redis outage does not stop sends: the token fetched while Redis is down is kept in this
// process and reused (one fetch for several sends); when Redis is back it is shared again.
func TestTokenCacheFallsBackToMemoryWithoutRedis(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	msg := SubscribeMessage{ToUser: "o_u1", TemplateID: "tpl", Data: map[string]string{"thing1": "x"}}
	// Redis is left alone for a while after a failure: 5 s in service, a fifth of a second here.
	shared := e.c.store.(*sharedCache)
	shared.pause = 200 * time.Millisecond
	e.mr.Close()
	for i := range 3 {
		if err := e.c.SendSubscribe(ctx, msg); err != nil {
			t.Fatalf("send %d with Redis down: %v", i, err)
		}
	}
	if n := e.fake.TokenFetches(); n != 1 {
		t.Fatalf("%d token fetches with Redis down, want 1 kept in memory", n)
	}
	if len(e.fake.SubscribeMessages()) != 3 {
		t.Fatalf("subscribe messages: %d", len(e.fake.SubscribeMessages()))
	}
	// A token WeChat refuses is dropped from the copy too, and a fresh one fetched.
	e.fake.InvalidateTokens()
	if err := e.c.SendSubscribe(ctx, msg); err != nil {
		t.Fatalf("send after 40001 with Redis down: %v", err)
	}
	if err := e.mr.Restart(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(shared.pause)
	if err := e.c.SendSubscribe(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if keys := e.mr.Keys(); len(keys) != 1 || !strings.HasPrefix(keys[0], "test:wechat:") {
		t.Fatalf("token not shared through Redis again: keys %v", keys)
	}
}
