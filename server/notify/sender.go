package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/platform/wechat"
	"gorm.io/gorm"
)

// Sender delivers notifications of one channel. Besides nil and WeChat's own errors it may
// return *SkipError (the target cannot be reached on this channel: final, not a failure),
// *DeferError (not now: try again at a time, without counting an attempt) or *PermanentError.
type Sender interface {
	Channel() string
	Send(ctx context.Context, n *Notification, msg Message) error
}

// WeChat is what the senders need from the gateway (*wechat.Client).
type WeChat interface {
	SendRobot(ctx context.Context, webhookKey string, msg wechat.RobotMessage) error
	SendSubscribe(ctx context.Context, msg wechat.SubscribeMessage) error
}

// SkipError ends a notification as skipped.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// DeferError puts a notification back in the queue until Until, as if it had not been tried.
// With a Code (WeCom's 45009) the answer that made it wait is kept as the row's last error.
type DeferError struct {
	Until  time.Time
	Reason string
	Code   int
}

func (e *DeferError) Error() string { return "deferred: " + e.Reason }

// PermanentError fails a notification without retrying.
type PermanentError struct {
	Reason string
	Code   int
}

func (e *PermanentError) Error() string { return e.Reason }

// ---- WeCom group robot ----

// RobotSender sends to notification groups through their WeCom robot, paced per robot.
type RobotSender struct {
	db      *gorm.DB
	box     *secret.Box
	wx      WeChat
	pacer   *Pacer
	baseURL string
	clock   clock.Clock
	log     *slog.Logger
	// joinLease, when set, lets a tip alert take the other alerts waiting for its robot along
	// (join.go); it is how long the rows taken along are leased to that send.
	joinLease time.Duration
}

func (s *RobotSender) Channel() string { return ChannelRobot }

func (s *RobotSender) Send(ctx context.Context, n *Notification, msg Message) error {
	var g Group
	err := s.db.WithContext(ctx).Where("id = ?", n.targetID()).Take(&g).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &SkipError{Reason: "通知群不存在"}
	}
	if err != nil {
		return err
	}
	return s.send(ctx, g, n, msg)
}

// send delivers a message to a group's robot: the pacing, WeCom's answer and what it does to the
// group (93000 disables it, 45009 holds the robot) are the same for a notification and for a test
// message. n is the notification being sent (nil for a test message).
func (s *RobotSender) send(ctx context.Context, g Group, n *Notification, msg Message) error {
	if g.Status != GroupActive {
		return &PermanentError{Reason: "通知群已停用:" + g.DisabledReason}
	}
	key, err := s.box.Decrypt(g.WebhookKeyEnc)
	if err != nil {
		return &PermanentError{Reason: "通知群的 webhook 无法解密,请重新填写"}
	}
	if s.pacer != nil {
		ok, until, err := s.pacer.Take(ctx, g.WebhookKeyHash, n != nil && s.flooded(ctx, n))
		switch {
		case err != nil:
			// WeCom enforces the limit itself (45009, retried); an alert should not wait for Redis.
			s.log.WarnContext(ctx, "robot pacing unavailable, sending unpaced", "group_id", g.ID, "err", err)
		case !ok:
			return &DeferError{Until: until, Reason: "robot rate limit"}
		}
	}
	post := func(m Message) error { return s.post(ctx, g, key, m) }
	if n != nil {
		if done, err := s.join(ctx, g, n, msg, post); done {
			return err
		}
	}
	return post(msg)
}

// post sends one message through the group's robot and handles what WeCom answers.
func (s *RobotSender) post(ctx context.Context, g Group, key string, msg Message) error {
	err := s.wx.SendRobot(ctx, key, robotContent(msg, s.baseURL))
	if ae, ok := errors.AsType[*wechat.APIError](err); ok {
		switch ae.Code {
		case 93000:
			s.disable(ctx, g, "企业微信返回93000:webhook地址无效或机器人已被移除")
		case 45009:
			// WeCom counted more than we did (another sender on the same robot, or Redis was away):
			// hold the robot for a whole window and send this again when it ends. Trying sooner
			// would only be refused again; it is a wait, not a failed attempt.
			until := s.clock.Now().Add(time.Minute + PaceMargin)
			if s.pacer != nil {
				if u, ferr := s.pacer.Fill(ctx, g.WebhookKeyHash); ferr == nil {
					until = u
				}
			}
			return &DeferError{Until: until, Reason: reason(err), Code: ae.Code}
		}
	}
	return err
}

// disable turns the group off and, in the same transaction, writes a group.disabled event so
// that the admins and the group's creator are told through the outbox.
func (s *RobotSender) disable(ctx context.Context, g Group, reason string) {
	now := s.clock.Now()
	err := database.Transact(context.WithoutCancel(ctx), s.db, func(tx *gorm.DB) error {
		res := tx.Model(&Group{}).Where("id = ? AND status = ?", g.ID, GroupActive).Updates(map[string]any{
			"status": GroupDisabled, "disabled_reason": reason, "disabled_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return outbox.Write(tx, outbox.Entry{SubjectType: "notification_group", SubjectID: g.ID, RegionCode: g.RegionCode, At: now,
			Payload: outbox.GroupDisabled{GroupID: g.ID, GroupName: g.Name, Reason: reason, CreatedBy: g.CreatedBy, Audience: g.Audience}})
	})
	if err != nil {
		s.log.ErrorContext(ctx, "could not disable notification group", "group_id", g.ID, "err", err)
		return
	}
	s.log.ErrorContext(ctx, "notification group disabled: its robot webhook is invalid; an admin must replace it",
		"group_id", g.ID, "region_code", g.RegionCode, "hint", g.WebhookHint)
}

// ---- mini-program subscribe message ----

// Template is a subscribe-message template of one event kind.
type Template struct {
	ID       string
	LongTerm bool
	Page     string            // {subject_id} and {subject_type} (tip, visit…) are replaced
	Data     map[string]string // keyword → message field
}

// SubscribeSender sends subscribe messages to accounts, spending their one-time grants.
type SubscribeSender struct {
	db        *gorm.DB
	wx        WeChat
	templates map[string]Template // by template name (tip_submitted, record_returned)
	clock     clock.Clock
	log       *slog.Logger
}

func (s *SubscribeSender) Channel() string { return ChannelSubscribe }

func (s *SubscribeSender) Send(ctx context.Context, n *Notification, msg Message) error {
	tpl, ok := s.templates[subscribeTemplate(n.EventKind)]
	if !ok || tpl.ID == "" {
		return &SkipError{Reason: "未配置该类消息的订阅消息模板"}
	}
	var a account
	err := s.db.WithContext(ctx).Where("id = ?", n.targetID()).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &SkipError{Reason: "账号不存在"}
	}
	if err != nil {
		return err
	}
	switch {
	case a.Status != "active":
		return &SkipError{Reason: "账号已停用"}
	case a.OpenID == nil || *a.OpenID == "":
		return &SkipError{Reason: "账号未绑定微信,无法发送订阅消息"}
	}
	var sub Subscription
	err = s.db.WithContext(ctx).Where("account_id = ? AND template_id = ?", a.ID, tpl.ID).Take(&sub).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !sub.usable()) {
		return &SkipError{Reason: "用户未订阅该消息或订阅次数已用完"}
	}
	if err != nil {
		return err
	}
	spent := false
	if sub.Kind != SubLongTerm {
		// Reserve the grant before sending, so that two messages racing for the last one do
		// not both go out; it is given back if WeChat did not take the message.
		res := s.db.WithContext(ctx).Model(&Subscription{}).Where("id = ? AND remaining > 0", sub.ID).
			Updates(map[string]any{"remaining": gorm.Expr("remaining - 1"), "updated_at": s.clock.Now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return &SkipError{Reason: "用户未订阅该消息或订阅次数已用完"}
		}
		spent = true
	}
	data := make(map[string]string, len(tpl.Data))
	for kw, field := range tpl.Data {
		data[kw] = KeywordValue(kw, fieldValue(msg, field))
	}
	page := strings.NewReplacer("{subject_id}", strconv.FormatInt(n.SubjectID, 10), "{subject_type}", n.SubjectType).Replace(tpl.Page)
	err = s.wx.SendSubscribe(ctx, wechat.SubscribeMessage{ToUser: *a.OpenID, TemplateID: tpl.ID, Page: page, Data: data})
	if err == nil {
		return nil
	}
	bg := context.WithoutCancel(ctx)
	if ae, ok := errors.AsType[*wechat.APIError](err); ok && ae.Code == 43101 {
		// The user has no grant left (or refused): stop until they accept again.
		if uerr := s.db.WithContext(bg).Model(&Subscription{}).Where("id = ?", sub.ID).Updates(map[string]any{
			"remaining": 0, "status": SubRevoked, "updated_at": s.clock.Now()}).Error; uerr != nil {
			s.log.ErrorContext(ctx, "could not mark subscription revoked", "subscription_id", sub.ID, "err", uerr)
		}
		return err
	}
	if spent {
		if uerr := s.db.WithContext(bg).Model(&Subscription{}).Where("id = ?", sub.ID).
			Update("remaining", gorm.Expr("remaining + 1")).Error; uerr != nil {
			s.log.ErrorContext(ctx, "could not give back a subscription grant", "subscription_id", sub.ID, "err", uerr)
		}
	}
	return err
}

func fieldValue(m Message, field string) string {
	if field == "title" && m.Fields["title"] == "" {
		return m.Title
	}
	return m.Fields[field]
}

// errorCode is the number shown and counted for a failure: WeChat's errcode, the HTTP status,
// or 0.
func errorCode(err error) int {
	if ae, ok := errors.AsType[*wechat.APIError](err); ok {
		return ae.Code
	}
	if se, ok := errors.AsType[*wechat.HTTPStatusError](err); ok {
		return se.StatusCode
	}
	if pe, ok := errors.AsType[*PermanentError](err); ok {
		return pe.Code
	}
	return 0
}

// reason explains a failure in the delivery log, in Chinese where we know the cause.
func reason(err error) string {
	code := errorCode(err)
	known := map[int]string{
		93000: "群机器人 webhook 地址无效(93000),该群已停用",
		43101: "用户未订阅或已拒收(43101),已标记订阅失效",
		40003: "openid 无效(40003)",
		45009: "接口调用超过频率限制(45009)",
		45011: "接口调用超过频率限制(45011)",
		-1:    "微信系统繁忙(-1)",
		47003: "模板参数不正确(47003)",
		40037: "订阅消息模板 id 无效(40037)",
		40058: "消息内容超过长度限制(40058)",
	}
	msg := err.Error()
	if _, ok := errors.AsType[*wechat.APIError](err); ok {
		if k, ok := known[code]; ok {
			msg = k + ":" + msg
		}
	} else if _, ok := errors.AsType[*wechat.HTTPStatusError](err); ok {
		msg = fmt.Sprintf("微信接口返回HTTP %d:%s", code, msg)
	} else if errors.Is(err, context.DeadlineExceeded) {
		msg = "调用微信接口超时:" + msg
	}
	if len(msg) > 480 {
		msg = FitBytes(msg, 480, "", false)
	}
	return msg
}
