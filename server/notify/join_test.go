package notify

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/platform/wxfake"
)

// floodDispatcher is a dispatcher with the production robot settings: 20 a minute, 10 at once,
// waiting tip alerts joined.
func (e *testEnv) floodDispatcher() *Dispatcher {
	senders := []Sender{
		&RobotSender{db: e.db.DB, box: e.box, wx: e.client, baseURL: "https://shiliu.example.gov.cn", clock: e.clock, log: e.log,
			pacer: NewPacer(e.rdb, e.prefix, 20, 10, time.Minute, e.clock), joinLease: time.Minute},
		&SubscribeSender{db: e.db.DB, wx: e.client, templates: e.tpl, clock: e.clock, log: e.log},
	}
	opt := testOptions
	opt.BatchSize = 50
	return NewDispatcher(e.db.DB, nil, senders, e.clock, e.log, opt, nil)
}

var joinedCount = regexp.MustCompile(`<font color="warning">(\d+) 条待签收</font>`)

// 400 tips in 40 s to one county (a flood, a mass incident). One at a time the county group's
// alerts would trail their tips by minutes (20 a minute); joined, every tip's robot alert goes
// out within 10 s of the tip, each tip is counted in exactly one message, the robot never gets
// more than 20 in a minute (WeCom never refuses), and the on-duty officer still gets one
// subscribe message per tip.
func TestTipAlertsJoinedInAFlood(t *testing.T) {
	e := newTestEnv(t)
	e.group(county, "county_staff", "floodkey0001")
	officer := e.account("county_staff", county, "o_flood", true)
	e.grant(officer, "TPL_TIP", SubLongTerm, 0)
	d := e.floodDispatcher()
	start := e.clock.Now()
	levels := []string{"general", "serious", "major", "critical"}
	for s := 0; s < 110; s++ {
		if s < 40 {
			for i := range 10 {
				id := int64(s*10 + i + 1)
				e.event("tip.submitted", town, id, map[string]any{"title": "洪水围堵" + strconv.FormatInt(id, 10), "level": levels[id%4]})
			}
		}
		e.drain(d, 20)
		e.clock.Advance(time.Second)
	}

	robot := e.wx.RobotMessages()
	covered := 0
	for _, m := range robot {
		if n := joinedCount.FindStringSubmatch(m.Content); n != nil {
			k, _ := strconv.Atoi(n[1])
			covered += k
			if !strings.Contains(m.Content, "线索台") || !strings.Contains(m.Content, "1. 【") {
				t.Fatalf("a joined message without its titles or where to open them: %s", m.Content)
			}
		} else {
			covered++
		}
	}
	if covered != 400 {
		t.Fatalf("%d robot messages cover %d tips, want each of the 400 once", len(robot), covered)
	}
	if len(robot) >= 400/2 {
		t.Fatalf("%d robot messages for 400 tips: the waiting alerts were not joined", len(robot))
	}
	if reqs := e.wx.Requests(wxfake.EndpointRobot); len(reqs) != len(robot) {
		t.Fatalf("%d robot requests for %d messages: WeCom refused some", len(reqs), len(robot))
	}
	for i := range robot {
		j := i
		for j+1 < len(robot) && robot[j+1].Time.Sub(robot[i].Time) < time.Minute {
			j++
		}
		if j-i+1 > 20 {
			t.Fatalf("%d robot messages within a minute from %v", j-i+1, robot[i].Time.Sub(start))
		}
	}
	var worst time.Duration
	for _, n := range e.notifications("channel = ?", ChannelRobot) {
		if n.Status != StatusSent || n.SentAt == nil {
			t.Fatalf("robot alert not sent: %+v", n)
		}
		worst = max(worst, n.SentAt.Sub(n.CreatedAt))
	}
	if worst > 10*time.Second {
		t.Fatalf("a tip's robot alert went out %v after the tip, want ≤ 10 s", worst)
	}
	if subs := e.wx.SubscribeMessages(); len(subs) != 400 {
		t.Fatalf("%d subscribe messages to the officer on duty, want one per tip (400)", len(subs))
	}
	t.Logf("400 tips in 40 s: %d robot messages, the longest wait %v", len(robot), worst)
}
