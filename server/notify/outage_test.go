package notify

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/platform/wechat"
	"github.com/shiliu/shiliu/server/platform/wxfake"
)

// While the gateway to WeChat is down (it answers 503 itself), attempts are not used up: an
// alert outlives an outage longer than max_attempts retries and goes out when it ends. An answer
// from WeChat (-1, busy) still counts (TestTransientFailureGivesUpAfterMaxAttempts).
func TestOutageDoesNotUseUpAttempts(t *testing.T) {
	e := newTestEnv(t)
	e.group(county, "county_staff", "outagekey001")
	e.event("tip.submitted", town, 1, map[string]any{"title": "t", "level": "general"})
	e.wx.InjectHTTPStatus(wxfake.EndpointRobot, http.StatusServiceUnavailable, 7)
	d := e.dispatcher(testOptions) // 4 attempts
	for i := range 7 {
		d.RunOnce(context.Background())
		n := e.notifications("")[0]
		if n.Status != StatusPending || n.Attempts != i+1 || n.ErrorCode != 503 || !strings.Contains(n.LastError, "恢复后自动重发") {
			t.Fatalf("attempt %d during the outage: %+v", i+1, n)
		}
		if wait := n.NextAttemptAt.Sub(e.clock.Now()); wait > testOptions.RetryMax {
			t.Fatalf("attempt %d: next try in %v, more than retry_max", i+1, wait)
		}
		e.clock.Advance(time.Hour)
	}
	d.RunOnce(context.Background())
	if n := e.notifications("")[0]; n.Status != StatusSent || n.Attempts != 8 || n.LastError != "" {
		t.Fatalf("not sent when the outage ended: %+v", n)
	}
}

// With Redis stopped, a tip's alerts still go out: the subscribe message (its access token kept
// in memory) and the robot message (unpaced; WeCom enforces its own limit). Its own Redis, on
// either backend.
func TestAlertsGoOutWithoutRedis(t *testing.T) {
	e := newTestEnv(t)
	mini := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mini.Addr()})
	t.Cleanup(func() { rdb.Close() })
	client, err := wechat.New(wechat.Config{AppID: "wx-notify-test", Secret: "secret", APIBase: e.wx.URL(),
		WeComAPIBase: e.wx.URL(), Timeout: 5 * time.Second}, rdb, e.prefix+"wx:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	e.client, e.rdb = client, rdb
	e.group(county, "county_staff", "noredis00001")
	officer := e.account("county_staff", county, "o_noredis", true)
	e.grant(officer, "TPL_TIP", SubOneTime, 1)
	e.event("tip.submitted", town, 9, map[string]any{"title": "无Redis时的线索", "level": "general"})

	mini.Close()
	e.drain(e.dispatcher(testOptions), 5)
	for _, n := range e.notifications("") {
		if n.Status != StatusSent || n.Attempts != 1 {
			t.Fatalf("%s not sent with Redis down: %+v", n.Channel, n)
		}
	}
	if len(e.wx.SubscribeMessages()) != 1 || len(e.wx.RobotMessages()) != 1 {
		t.Fatalf("subscribe %d, robot %d", len(e.wx.SubscribeMessages()), len(e.wx.RobotMessages()))
	}
}
