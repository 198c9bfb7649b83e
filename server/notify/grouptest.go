package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// Test message outcomes.
const (
	TestSent        = "sent"
	TestFailed      = "failed"
	TestRateLimited = "rate_limited"
)

// TestResult is what became of a test message sent to a group's robot: WeCom's answer, and the
// group as it is afterwards (an invalid webhook disables it, as a notification would).
type TestResult struct {
	Status    string     `json:"status"`
	Reason    string     `json:"reason"`
	ErrorCode int        `json:"error_code"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	RetryAt   *time.Time `json:"retry_at,omitempty"`
	Group     GroupView  `json:"group"`
}

var errGroupDisabled = apperr.New(http.StatusConflict, "notification_group_disabled",
	"通知群已停用,不能发送测试消息;请先启用或更换 webhook 地址")

// TestGroup sends a test message to a group in the caller's scope at once, through the robot
// sender the dispatcher uses (the robot's pace, WeCom's answer and its effect on the group are the
// same), and answers how it went. It is not a notification: nothing enters the queue or the
// delivery log, and a failure is not retried.
func (s *Service) TestGroup(ctx context.Context, p *access.Principal, id int64) (TestResult, error) {
	if err := requireGroupManager(p); err != nil {
		return TestResult{}, err
	}
	g, err := s.findGroup(ctx, p, id)
	if err != nil {
		return TestResult{}, err
	}
	if g.Status != GroupActive {
		return TestResult{}, errGroupDisabled
	}
	if s.robot == nil {
		return TestResult{}, apperr.Unavailable("通知发送未配置,无法发送测试消息")
	}
	var who account
	if err := s.db.WithContext(ctx).Select("id", "display_name", "username").Where("id = ?", p.AccountID).Take(&who).Error; err != nil {
		return TestResult{}, err
	}
	now := s.clock.Now()
	region := s.groupView(ctx, g).RegionName
	msg := Message{Title: "测试消息", Text: fmt.Sprintf("【石榴】测试消息:通知群“%s”(%s,%s)已与石榴平台连通,"+
		"以后的通知会发到本群。\n发送人:%s\n时间:%s", g.Name, region, audienceName(g.Audience), who.name(),
		clock.Local(now).Format("2006-01-02 15:04:05"))}
	// The officer waits for the answer: bounded like a dispatcher's send, and finished (with its
	// effect on the group recorded) even if the browser gives up first.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.sendTimeout)
	err = s.robot.send(sctx, g, nil, msg)
	cancel()
	res := TestResult{Status: TestSent}
	var def *DeferError
	switch {
	case err == nil:
		at := clock.Local(s.clock.Now())
		res.SentAt = &at
	case errors.As(err, &def):
		until := clock.Local(def.Until)
		res.Status, res.RetryAt, res.ErrorCode = TestRateLimited, &until, def.Code
		res.Reason = fmt.Sprintf("该群机器人本分钟的发送次数已用完(每分钟最多%d条,含其他通知),请于%s后再试", s.robotPerMinute, until.Format("15:04:05"))
		if def.Code != 0 {
			res.Reason = def.Reason + ";请于" + until.Format("15:04:05") + "后再试"
		}
	default:
		res.Status, res.Reason, res.ErrorCode = TestFailed, reason(err), errorCode(err)
	}
	// 93000 has just disabled the group: show it as it is now.
	if after, ferr := s.findGroup(ctx, p, id); ferr == nil {
		g = after
	}
	res.Group = s.groupView(ctx, g)
	return res, nil
}

func audienceName(code string) string {
	for _, a := range Audiences {
		if a.Code == code {
			return a.Label
		}
	}
	return code
}
