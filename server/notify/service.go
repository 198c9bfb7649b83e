package notify

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/platform/wechat"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Service is what people do with notifications: register groups, record subscriptions, go on
// and off duty, read the delivery log and retry failed sends. Every method takes the caller.
type Service struct {
	db        *gorm.DB
	box       *secret.Box
	regions   *region.Store
	clock     clock.Clock
	templates map[string]Template
	wake      func()
	// robot sends test messages to groups (TestGroup) the way the dispatcher sends notifications.
	robot          *RobotSender
	sendTimeout    time.Duration
	robotPerMinute int
}

// NewService wires the service. wake (optional) tells a local dispatcher there is work.
func NewService(db *gorm.DB, box *secret.Box, regions *region.Store, clk clock.Clock, templates map[string]Template, wake func()) *Service {
	if wake == nil {
		wake = func() {}
	}
	return &Service{db: db, box: box, regions: regions, clock: clk, templates: templates, wake: wake}
}

var (
	errStaffOnly        = apperr.Forbidden("只有民族工作部门工作人员和管理员可以管理通知")
	errGroupNotFound    = apperr.New(http.StatusNotFound, "notification_group_not_found", "通知群不存在或不在您的管辖范围内")
	errNotifNotFound    = apperr.New(http.StatusNotFound, "notification_not_found", "通知记录不存在或不在您的管辖范围内")
	errWebhookTaken     = apperr.New(http.StatusConflict, "webhook_taken", "该群机器人已登记为其他通知群").WithField("webhook_key", "该机器人已登记")
	errRegionOutOfScope = apperr.Forbidden("该行政区划不在您的管辖范围内").WithField("region_code", "不在您的管辖范围内")
)

func requireStaff(p *access.Principal) error {
	if !p.IsStaff() {
		return errStaffOnly
	}
	return nil
}

// requireGroupManager admits officers and the system administrator: notification groups are
// settings, and the delivery log (which carries messages about field records) is not.
func requireGroupManager(p *access.Principal) error {
	if !p.IsStaff() && !(p.IsAdministrator() && p.Role == access.RoleAdmin) {
		return errStaffOnly
	}
	return nil
}

func audienceOK(a string) bool {
	return slices.ContainsFunc(Audiences, func(x Audience) bool { return x.Code == a })
}

func audienceLevels(a string) []int {
	for _, x := range Audiences {
		if x.Code == a {
			return x.Levels
		}
	}
	return nil
}

// ---- groups ----

// GroupInput registers a group.
type GroupInput struct {
	Name       string
	RegionCode string
	Audience   string
	WebhookKey string // the key or the whole webhook URL
}

// GroupPatch changes a group; nil fields stay. A new webhook key re-activates a disabled group.
type GroupPatch struct {
	Name       *string
	RegionCode *string
	Audience   *string
	WebhookKey *string
	Status     *string
}

// GroupFilter narrows a group list.
type GroupFilter struct {
	RegionCode string
	Audience   string
	Status     string
	Page       paging.Page
}

func (s *Service) checkGroup(ctx context.Context, v *validate.Checker, g *Group) {
	v.Required("name", "群名称", g.Name, 100)
	v.OneOf("audience", "接收对象", g.Audience, true, audienceOK)
	switch {
	case g.RegionCode == "":
		v.Fail("region_code", "所属行政区划不能为空")
	case !region.ValidCode(g.RegionCode):
		v.Fail("region_code", "行政区划代码应为12位数字")
	default:
		if ok, err := s.regions.Exists(ctx, g.RegionCode); err != nil {
			v.Broken(err)
		} else if !ok {
			v.Fail("region_code", "行政区划代码不存在")
		} else if lv := audienceLevels(g.Audience); lv != nil && !slices.Contains(lv, region.LevelOf(g.RegionCode)) {
			v.Fail("region_code", audienceRule(g.Audience))
		}
	}
}

func audienceRule(a string) string {
	switch a {
	case "county_staff":
		return "县级工作人员群应登记在县级行政区划"
	case "city_staff":
		return "市级工作人员群应登记在市级行政区划"
	case "province_staff":
		return "省级工作人员群应登记在省级行政区划"
	}
	return "指导员群应登记在县级或以下行政区划"
}

func (s *Service) sealKey(v *validate.Checker, g *Group, raw string) {
	if strings.TrimSpace(raw) == "" {
		v.Fail("webhook_key", "群机器人webhook地址不能为空")
		return
	}
	key, err := wechat.ParseWebhookKey(raw)
	if err != nil {
		v.Fail("webhook_key", "应为企业微信群机器人的webhook地址(https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)或其中的key")
		return
	}
	enc, err := s.box.Encrypt(key)
	if err != nil {
		v.Fail("webhook_key", "无法保存,请重试")
		return
	}
	g.WebhookKeyEnc, g.WebhookKeyHash = enc, s.box.Hash(key)
	g.WebhookHint = key
	if len(key) > 4 {
		g.WebhookHint = key[len(key)-4:]
	}
}

// CreateGroup registers a robot group for a region in the caller's subtree.
func (s *Service) CreateGroup(ctx context.Context, p *access.Principal, in GroupInput) (GroupView, error) {
	if err := requireGroupManager(p); err != nil {
		return GroupView{}, err
	}
	now := s.clock.Now()
	g := Group{Name: strings.TrimSpace(in.Name), RegionCode: in.RegionCode, Audience: in.Audience, Status: GroupActive,
		CreatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now}
	var v validate.Checker
	s.checkGroup(ctx, &v, &g)
	s.sealKey(&v, &g, in.WebhookKey)
	if err := v.Err(); err != nil {
		return GroupView{}, err
	}
	if !p.ManagesSettingsOf(g.RegionCode) {
		return GroupView{}, errRegionOutOfScope
	}
	if err := s.db.WithContext(ctx).Create(&g).Error; err != nil {
		if database.IsUniqueViolation(err) {
			return GroupView{}, errWebhookTaken
		}
		return GroupView{}, err
	}
	return s.groupView(ctx, g), nil
}

func (s *Service) groupView(ctx context.Context, g Group) GroupView {
	name := ""
	if r, err := s.regions.Get(ctx, g.RegionCode); err == nil {
		name = r.Name
	}
	return g.view(name)
}

// ListGroups lists the groups in the caller's subtree, newest first.
func (s *Service) ListGroups(ctx context.Context, p *access.Principal, f GroupFilter) ([]GroupView, string, error) {
	if err := requireGroupManager(p); err != nil {
		return nil, "", err
	}
	var v validate.Checker
	v.OneOf("audience", "接收对象", f.Audience, false, audienceOK)
	v.OneOf("status", "状态", f.Status, false, func(s string) bool { return s == GroupActive || s == GroupDisabled })
	v.RegionCode("region_code", f.RegionCode)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Group{}).Scopes(access.InSettingsScope(p, "region_code"), f.Page.Apply("id"))
	q = q.Scopes(access.UnderRegion("region_code", f.RegionCode))
	if f.Audience != "" {
		q = q.Where("audience = ?", f.Audience)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var rows []Group
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(g Group) int64 { return g.ID })
	out := make([]GroupView, len(rows))
	for i, g := range rows {
		out[i] = s.groupView(ctx, g)
	}
	return out, next, nil
}

func (s *Service) findGroup(ctx context.Context, p *access.Principal, id int64) (Group, error) {
	var g Group
	err := s.db.WithContext(ctx).Scopes(access.InSettingsScope(p, "region_code")).Where("id = ?", id).Take(&g).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return g, errGroupNotFound
	}
	return g, err
}

// UpdateGroup changes a group in scope. A new webhook key, or status "active", re-activates a
// group the dispatcher disabled; status "disabled" stops it by hand.
func (s *Service) UpdateGroup(ctx context.Context, p *access.Principal, id int64, in GroupPatch) (GroupView, error) {
	if err := requireGroupManager(p); err != nil {
		return GroupView{}, err
	}
	g, err := s.findGroup(ctx, p, id)
	if err != nil {
		return GroupView{}, err
	}
	now := s.clock.Now()
	if in.Name != nil {
		g.Name = strings.TrimSpace(*in.Name)
	}
	if in.RegionCode != nil {
		g.RegionCode = *in.RegionCode
	}
	if in.Audience != nil {
		g.Audience = *in.Audience
	}
	var v validate.Checker
	s.checkGroup(ctx, &v, &g)
	if in.WebhookKey != nil {
		s.sealKey(&v, &g, *in.WebhookKey)
		if in.Status == nil {
			active := GroupActive
			in.Status = &active
		}
	}
	if in.Status != nil {
		v.OneOf("status", "状态", *in.Status, true, func(s string) bool { return s == GroupActive || s == GroupDisabled })
	}
	if err := v.Err(); err != nil {
		return GroupView{}, err
	}
	if !p.ManagesSettingsOf(g.RegionCode) {
		return GroupView{}, errRegionOutOfScope
	}
	if in.Status != nil && *in.Status != g.Status {
		g.Status = *in.Status
		if g.Status == GroupActive {
			g.DisabledReason, g.DisabledAt = "", nil
		} else {
			g.DisabledReason, g.DisabledAt = "由工作人员停用", &now
		}
	}
	err = s.db.WithContext(ctx).Model(&Group{}).Where("id = ?", g.ID).Updates(map[string]any{
		"name": g.Name, "region_code": g.RegionCode, "audience": g.Audience, "webhook_key_enc": g.WebhookKeyEnc,
		"webhook_key_hash": g.WebhookKeyHash, "webhook_hint": g.WebhookHint, "status": g.Status,
		"disabled_reason": g.DisabledReason, "disabled_at": g.DisabledAt, "updated_at": now,
	}).Error
	if database.IsUniqueViolation(err) {
		return GroupView{}, errWebhookTaken
	}
	if err != nil {
		return GroupView{}, err
	}
	g.UpdatedAt = now
	return s.groupView(ctx, g), nil
}

// ---- subscriptions ----

// wx.requestSubscribeMessage results.
const (
	ResultAccept = "accept"
	ResultReject = "reject"
	ResultBan    = "ban"
	ResultFilter = "filter"
)

// maxGrants caps the one-time grants counted per template: WeChat keeps its own count, and a
// 43101 resets ours.
const maxGrants = 50

// templateEvents maps each configured template id to the event kinds that use it.
func (s *Service) templateEvents() map[string][]string {
	out := map[string][]string{}
	for name, t := range s.templates {
		if t.ID != "" {
			out[t.ID] = append(out[t.ID], eventKindsOf(name)...)
		}
	}
	for id := range out {
		sort.Strings(out[id])
	}
	return out
}

// eventKindsOf are the event kinds sent with a template (tip_submitted → tip.submitted;
// record_returned → visit.returned, sentiment.returned…).
func eventKindsOf(name string) []string {
	var out []string
	for k := range kinds {
		if subscribeTemplate(k) == name {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return []string{strings.Replace(name, "_", ".", 1)}
	}
	return out
}

func (s *Service) longTerm(templateID string) bool {
	for _, t := range s.templates {
		if t.ID == templateID && t.LongTerm {
			return true
		}
	}
	return false
}

// RecordSubscriptions stores what the caller answered in wx.requestSubscribeMessage: the
// result object as WeChat gives it, template id → accept/reject/ban/filter ("errMsg" is
// ignored). Each one-time "accept" allows one more message; a long-term one lasts.
func (s *Service) RecordSubscriptions(ctx context.Context, p *access.Principal, results map[string]string) ([]SubscriptionView, error) {
	if !p.IsStaff() && !p.IsInstructor() {
		return nil, apperr.Forbidden("请先登录")
	}
	delete(results, "errMsg")
	known := s.templateEvents()
	var v validate.Checker
	if len(results) == 0 {
		v.Fail("results", "订阅结果不能为空")
	}
	if len(results) > 10 {
		v.Fail("results", "一次最多提交10个模板的订阅结果")
	}
	ids := make([]string, 0, len(results))
	for id, r := range results {
		ids = append(ids, id)
		switch {
		case known[id] == nil:
			v.Fail("results."+id, "不是本小程序使用的订阅消息模板")
		case r != ResultAccept && r != ResultReject && r != ResultBan && r != ResultFilter:
			v.Fail("results."+id, "订阅结果应为 accept、reject、ban 或 filter")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sort.Strings(ids)
	now := s.clock.Now()
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		for _, id := range ids {
			kind := SubOneTime
			if s.longTerm(id) {
				kind = SubLongTerm
			}
			if err := upsertSubscription(tx, p.AccountID, id, kind, results[id], now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.ListSubscriptions(ctx, p)
}

func upsertSubscription(tx *gorm.DB, accountID int64, templateID, kind, result string, now time.Time) error {
	var sub Subscription
	err := tx.Where("account_id = ? AND template_id = ?", accountID, templateID).Take(&sub).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		sub = Subscription{AccountID: accountID, TemplateID: templateID, Kind: kind, Status: SubRejected, CreatedAt: now}
	} else if err != nil {
		return err
	}
	sub.Kind = kind
	switch result {
	case ResultAccept:
		sub.Status = SubActive
		if kind == SubOneTime {
			sub.Remaining = min(sub.Remaining+1, maxGrants)
		}
	case ResultReject:
		// Grants accepted earlier stay usable; a long-term subscription ends.
		if kind == SubLongTerm || sub.Remaining == 0 {
			sub.Status = SubRejected
		}
	case ResultBan, ResultFilter:
		sub.Status, sub.Remaining = SubBanned, 0
	}
	sub.UpdatedAt = now
	if sub.ID == 0 {
		err := tx.Create(&sub).Error
		if database.IsUniqueViolation(err) {
			return apperr.Conflict("订阅结果正在保存,请稍后重试")
		}
		return err
	}
	return tx.Model(&Subscription{}).Where("id = ?", sub.ID).Updates(map[string]any{
		"kind": sub.Kind, "status": sub.Status, "remaining": sub.Remaining, "updated_at": now}).Error
}

// ListSubscriptions lists the caller's subscriptions to the templates in use.
func (s *Service) ListSubscriptions(ctx context.Context, p *access.Principal) ([]SubscriptionView, error) {
	if !p.IsStaff() && !p.IsInstructor() {
		return nil, apperr.Forbidden("请先登录")
	}
	var rows []Subscription
	if err := s.db.WithContext(ctx).Where("account_id = ?", p.AccountID).Order("template_id").Find(&rows).Error; err != nil {
		return nil, err
	}
	known := s.templateEvents()
	out := []SubscriptionView{}
	for _, r := range rows {
		if known[r.TemplateID] == nil {
			continue
		}
		out = append(out, SubscriptionView{TemplateID: r.TemplateID, Events: known[r.TemplateID], Kind: r.Kind,
			Remaining: r.Remaining, Status: r.Status, Usable: r.usable(), UpdatedAt: clock.Local(r.UpdatedAt)})
	}
	return out, nil
}

// ---- duty ----

// DutyView is a staff member's duty state.
type DutyView struct {
	OnDuty bool `json:"on_duty"`
}

// SetDuty puts county, city or province staff on or off duty: alerts go to those on duty, or to
// everyone of the level when nobody is.
func (s *Service) SetDuty(ctx context.Context, p *access.Principal, on bool) (DutyView, error) {
	if !p.IsStaff() {
		return DutyView{}, apperr.Forbidden("只有县、市、省级民族工作部门工作人员可以设置值班状态")
	}
	err := s.db.WithContext(ctx).Model(&account{}).Where("id = ?", p.AccountID).
		Updates(map[string]any{"on_duty": on, "updated_at": s.clock.Now()}).Error
	return DutyView{OnDuty: on}, err
}

// ---- delivery log ----

// NotificationFilter narrows the delivery log.
type NotificationFilter struct {
	Status      string
	Channel     string
	EventKind   string
	EventID     int64
	SubjectType string
	SubjectID   int64
	Page        paging.Page
}

var statuses = []string{StatusPending, StatusSending, StatusSent, StatusFailed, StatusSkipped}

// ListNotifications is the delivery log of the caller's subtree, newest first.
func (s *Service) ListNotifications(ctx context.Context, p *access.Principal, f NotificationFilter) ([]NotificationView, string, error) {
	if err := requireStaff(p); err != nil {
		return nil, "", err
	}
	var v validate.Checker
	v.OneOf("status", "状态", f.Status, false, func(x string) bool { return slices.Contains(statuses, x) })
	v.OneOf("channel", "渠道", f.Channel, false, func(x string) bool { return x == ChannelRobot || x == ChannelSubscribe })
	v.MaxLen("event_kind", "事件类型", f.EventKind, 48)
	v.MaxLen("subject_type", "对象类型", f.SubjectType, 32)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Notification{}).Scopes(access.InRegion(p, "region_code"), f.Page.Apply("id"))
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Channel != "" {
		q = q.Where("channel = ?", f.Channel)
	}
	if f.EventKind != "" {
		q = q.Where("event_kind = ?", f.EventKind)
	}
	if f.EventID > 0 {
		q = q.Where("event_id = ?", f.EventID)
	}
	if f.SubjectType != "" {
		q = q.Where("subject_type = ?", f.SubjectType)
	}
	if f.SubjectID > 0 {
		q = q.Where("subject_id = ?", f.SubjectID)
	}
	var rows []Notification
	if err := q.Omit("content").Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(n Notification) int64 { return n.ID })
	names, err := s.targetNames(ctx, rows)
	if err != nil {
		return nil, "", err
	}
	out := make([]NotificationView, len(rows))
	for i, n := range rows {
		out[i] = n.view(names[n.TargetKind+":"+n.Target])
	}
	return out, next, nil
}

func (s *Service) targetNames(ctx context.Context, rows []Notification) (map[string]string, error) {
	var groupIDs, accountIDs []int64
	for _, n := range rows {
		switch n.TargetKind {
		case TargetGroup:
			groupIDs = append(groupIDs, n.targetID())
		case TargetAccount:
			accountIDs = append(accountIDs, n.targetID())
		}
	}
	out := map[string]string{}
	if len(groupIDs) > 0 {
		var gs []Group
		if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", groupIDs).Find(&gs).Error; err != nil {
			return nil, err
		}
		for _, g := range gs {
			out[TargetGroup+":"+strconv.FormatInt(g.ID, 10)] = g.Name
		}
	}
	if len(accountIDs) > 0 {
		var as []account
		if err := s.db.WithContext(ctx).Select("id", "display_name", "username").Where("id IN ?", accountIDs).Find(&as).Error; err != nil {
			return nil, err
		}
		for _, a := range as {
			out[TargetAccount+":"+strconv.FormatInt(a.ID, 10)] = a.name()
		}
	}
	return out, nil
}

// Retry puts a failed notification in scope back in the queue, attempts reset.
func (s *Service) Retry(ctx context.Context, p *access.Principal, id int64) (NotificationView, error) {
	if err := requireStaff(p); err != nil {
		return NotificationView{}, err
	}
	var n Notification
	err := s.db.WithContext(ctx).Scopes(access.InRegion(p, "region_code")).Omit("content").Where("id = ?", id).Take(&n).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return NotificationView{}, errNotifNotFound
	}
	if err != nil {
		return NotificationView{}, err
	}
	now := s.clock.Now()
	res := s.db.WithContext(ctx).Model(&Notification{}).Where("id = ? AND status = ?", id, StatusFailed).Updates(map[string]any{
		"status": StatusPending, "attempts": 0, "next_attempt_at": now, "last_error": "", "error_code": 0, "updated_at": now})
	if res.Error != nil {
		return NotificationView{}, res.Error
	}
	if res.RowsAffected == 0 {
		return NotificationView{}, apperr.New(http.StatusConflict, "notification_not_failed", "只有发送失败的通知可以重试")
	}
	s.wake()
	n.Status, n.Attempts, n.NextAttemptAt, n.LastError, n.ErrorCode, n.UpdatedAt = StatusPending, 0, now, "", 0, now
	names, err := s.targetNames(ctx, []Notification{n})
	if err != nil {
		return NotificationView{}, err
	}
	return n.view(names[n.TargetKind+":"+n.Target]), nil
}
