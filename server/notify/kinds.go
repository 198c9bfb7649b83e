package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/region"
	"gorm.io/gorm"
)

// Kind is how one event kind notifies: who receives it and what it says. Adding an event kind
// (meeting.scheduled, bulletin.published…) is one entry in kinds, a Recipients and a Render
// function, and, for subscribe messages, a template in config (notify.templates.<kind with _>).
type Kind struct {
	Recipients func(ctx context.Context, r *Resolver, ev Event, p Payload) ([]Recipient, error)
	Render     func(ctx context.Context, r *Resolver, ev Event, p Payload) Message
	// Template names the subscribe template when several kinds share one (the four
	// <kind>.returned events use record_returned, which the user accepts once for all); empty
	// means the kind's own, templateName(kind).
	Template string
}

// kinds are the events that notify someone; every other event is consumed without a message.
var kinds = map[string]Kind{
	"tip.submitted":      {Recipients: tipSubmittedRecipients, Render: renderTip("风险隐患预警")},
	"tip.escalated":      {Recipients: tipEscalatedRecipients, Render: renderTip("风险隐患线索上报")},
	"tip.acknowledged":   {Recipients: authorRecipients, Render: renderTipAcknowledged},
	"sentiment.answered": {Recipients: authorRecipients, Render: renderSentimentAnswered},
	"visit.returned":     {Recipients: authorRecipients, Render: renderReturned, Template: "record_returned"},
	"sentiment.returned": {Recipients: authorRecipients, Render: renderReturned, Template: "record_returned"},
	"tip.returned":       {Recipients: authorRecipients, Render: renderReturned, Template: "record_returned"},
	"mediation.returned": {Recipients: authorRecipients, Render: renderReturned, Template: "record_returned"},
	"group.disabled":     {Recipients: groupDisabledRecipients, Render: renderGroupDisabled},
	"meeting.scheduled":  {Recipients: meetingRecipients, Render: renderMeeting},
	"meeting.changed":    {Recipients: meetingRecipients, Render: renderMeeting},
	"meeting.cancelled":  {Recipients: meetingRecipients, Render: renderMeeting},
	"meeting.reminder":   {Recipients: meetingRecipients, Render: renderMeeting},
	"bulletin.published": {Recipients: bulletinRecipients, Render: renderBulletin},
	"task.assigned":      {Recipients: taskAssignedRecipients, Render: renderTaskAssigned},
}

// KindNames lists the event kinds that notify, for documentation and validation.
func KindNames() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	return out
}

// templateName is the config key of an event kind's own subscribe template: tip.submitted →
// tip_submitted.
func templateName(eventKind string) string { return strings.ReplaceAll(eventKind, ".", "_") }

// subscribeTemplate is the config key of the template an event kind is sent with: the one it
// shares (Kind.Template) or its own.
func subscribeTemplate(eventKind string) string {
	if k, ok := kinds[eventKind]; ok && k.Template != "" {
		return k.Template
	}
	return templateName(eventKind)
}

// Recipient is one target of an event on one channel.
type Recipient struct {
	Channel    string
	TargetKind string
	Target     string
}

func groupRecipient(id int64) Recipient {
	return Recipient{Channel: ChannelRobot, TargetKind: TargetGroup, Target: strconv.FormatInt(id, 10)}
}

func accountRecipient(id int64) Recipient {
	return Recipient{Channel: ChannelSubscribe, TargetKind: TargetAccount, Target: strconv.FormatInt(id, 10)}
}

// Payload is an event's JSON payload.
type Payload map[string]any

func parsePayload(s string) (Payload, error) {
	p := Payload{}
	if s == "" {
		return p, nil
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&p); err != nil {
		return nil, err
	}
	return p, nil
}

// Str reads a string field ("" when absent).
func (p Payload) Str(key string) string {
	switch v := p[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// Int reads an integer field (0 when absent).
func (p Payload) Int(key string) int64 {
	n, _ := strconv.ParseInt(p.Str(key), 10, 64)
	return n
}

// Resolver answers the questions recipient rules ask, inside the fan-out transaction.
type Resolver struct {
	tx      *gorm.DB
	regions *region.Store
}

// Groups are the active robot groups registered for exactly this region and audience.
func (r *Resolver) Groups(ctx context.Context, regionCode, audience string) ([]Recipient, error) {
	var ids []int64
	err := r.tx.WithContext(ctx).Model(&Group{}).
		Where("region_code = ? AND audience = ? AND status = ?", regionCode, audience, GroupActive).
		Order("id").Pluck("id", &ids).Error
	out := make([]Recipient, len(ids))
	for i, id := range ids {
		out[i] = groupRecipient(id)
	}
	return out, err
}

// StaffOnDuty are the active staff accounts of role bound to regionCode that are on duty, or all
// of them when nobody is.
func (r *Resolver) StaffOnDuty(ctx context.Context, role access.Role, regionCode string) ([]Recipient, error) {
	var staff []account
	err := r.tx.WithContext(ctx).Select("id", "on_duty").
		Where("role = ? AND region_code = ? AND status = ?", string(role), regionCode, "active").
		Order("id").Find(&staff).Error
	if err != nil {
		return nil, err
	}
	var on, all []Recipient
	for _, a := range staff {
		all = append(all, accountRecipient(a.ID))
		if a.OnDuty {
			on = append(on, accountRecipient(a.ID))
		}
	}
	if len(on) > 0 {
		return on, nil
	}
	return all, nil
}

// InstructorAccount is the account bound to an instructor, if any.
func (r *Resolver) InstructorAccount(ctx context.Context, instructorID int64) ([]Recipient, error) {
	if instructorID <= 0 {
		return nil, nil
	}
	var ids []int64
	err := r.tx.WithContext(ctx).Model(&account{}).Where("instructor_id = ? AND status = ?", instructorID, "active").
		Pluck("id", &ids).Error
	var out []Recipient
	for _, id := range ids {
		out = append(out, accountRecipient(id))
	}
	return out, err
}

// Admins are the active admin accounts.
func (r *Resolver) Admins(ctx context.Context) ([]Recipient, error) {
	var ids []int64
	err := r.tx.WithContext(ctx).Model(&account{}).Where("role = ? AND status = ?", string(access.RoleAdmin), "active").
		Order("id").Pluck("id", &ids).Error
	out := make([]Recipient, len(ids))
	for i, id := range ids {
		out[i] = accountRecipient(id)
	}
	return out, err
}

// RegionName names a region for a message: the county and, below it, the township
// ("长安区建北街道"); the code itself when unknown.
func (r *Resolver) RegionName(ctx context.Context, code string) string {
	if r.regions == nil || !region.ValidCode(code) {
		return code
	}
	name := ""
	lv := region.LevelOf(code)
	if lv > region.LevelCounty {
		if c, err := r.regions.Get(ctx, ancestorAt(code, region.LevelCounty)); err == nil {
			name = c.Name
		}
		if lv > region.LevelTownship {
			if t, err := r.regions.Get(ctx, ancestorAt(code, region.LevelTownship)); err == nil {
				name += t.Name
			}
		}
	}
	if g, err := r.regions.Get(ctx, code); err == nil {
		return name + g.Name
	}
	if name == "" {
		return code
	}
	return name
}

var levelDigits = map[int]int{region.LevelProvince: 2, region.LevelCity: 4, region.LevelCounty: 6, region.LevelTownship: 9}

// ancestorAt is the code of code's ancestor at level (code itself when it is at or above it).
func ancestorAt(code string, level int) string {
	n := levelDigits[level]
	if n == 0 || len(code) != 12 || region.LevelOf(code) <= level {
		return code
	}
	return code[:n] + strings.Repeat("0", 12-n)
}

// staffAndGroups is the usual rule: the level's staff groups and its staff on duty.
func staffAndGroups(ctx context.Context, r *Resolver, level int, code string) ([]Recipient, error) {
	var role access.Role
	var audience string
	switch level {
	case region.LevelCounty:
		role, audience = access.RoleCountyStaff, "county_staff"
	case region.LevelCity:
		role, audience = access.RoleCityStaff, "city_staff"
	case region.LevelProvince:
		role, audience = access.RoleProvinceStaff, "province_staff"
	default:
		return nil, nil
	}
	at := ancestorAt(code, level)
	if region.LevelOf(at) != level {
		return nil, nil
	}
	groups, err := r.Groups(ctx, at, audience)
	if err != nil {
		return nil, err
	}
	staff, err := r.StaffOnDuty(ctx, role, at)
	return append(groups, staff...), err
}

// ---- tips ----

var tipLevelNames = map[string]string{"general": "一般", "serious": "较大", "major": "重大", "critical": "特别重大"}

// tipSubmittedRecipients: the county staff group and the county officers on duty; major and
// critical tips reach the city at once too.
func tipSubmittedRecipients(ctx context.Context, r *Resolver, ev Event, p Payload) ([]Recipient, error) {
	out, err := staffAndGroups(ctx, r, region.LevelCounty, ev.RegionCode)
	if err != nil {
		return nil, err
	}
	if lv := p.Str("level"); lv == "major" || lv == "critical" {
		city, err := staffAndGroups(ctx, r, region.LevelCity, ev.RegionCode)
		if err != nil {
			return nil, err
		}
		out = append(out, city...)
	}
	return out, nil
}

// tipEscalatedRecipients: the staff and group of the level the tip went up to.
func tipEscalatedRecipients(ctx context.Context, r *Resolver, ev Event, p Payload) ([]Recipient, error) {
	switch p.Str("escalated_to") {
	case "city":
		return staffAndGroups(ctx, r, region.LevelCity, ev.RegionCode)
	case "province":
		return staffAndGroups(ctx, r, region.LevelProvince, ev.RegionCode)
	}
	return nil, nil
}

func renderTip(heading string) func(ctx context.Context, r *Resolver, ev Event, p Payload) Message {
	return func(ctx context.Context, r *Resolver, ev Event, p Payload) Message {
		level := tipLevelNames[p.Str("level")]
		if level == "" {
			level = "未定级"
		}
		place := r.RegionName(ctx, ev.RegionCode)
		title := p.Str("title")
		when := clock.Local(ev.CreatedAt).Format("2006-01-02 15:04")
		var b strings.Builder
		color := "warning"
		if level == "一般" {
			color = "comment"
		}
		fmt.Fprintf(&b, "**%s** <font color=\"%s\">%s</font>\n", heading, color, level)
		fmt.Fprintf(&b, "> 线索:%s\n> 地区:%s\n> 时间:%s\n", title, place, when)
		if ev.Kind == "tip.escalated" {
			how := "县级上报"
			if p.Str("automatic") == "true" {
				how = "超过签收时限未签收,系统自动上报"
			}
			fmt.Fprintf(&b, "> 上报:%s\n", how)
		}
		b.WriteString("请登录石榴平台及时签收处置。")
		return Message{
			Title:    fmt.Sprintf("【%s】%s:%s", level, heading, title),
			Text:     b.String(),
			Markdown: true,
			Link:     fmt.Sprintf("/tips/%d", ev.SubjectID),
			Fields: map[string]string{
				"title": title, "level": level, "region": place, "time": ev.CreatedAt.Format(time.RFC3339),
				"status": p.Str("status"), "kind": heading,
			},
		}
	}
}

// ---- sentiments ----

func renderSentimentAnswered(ctx context.Context, r *Resolver, ev Event, p Payload) Message {
	title := p.Str("title")
	answer := p.Str("answer")
	return Message{
		Title:  "民情报告已答复:" + title,
		Text:   fmt.Sprintf("您反映的民情「%s」已答复:\n%s", title, answer),
		Link:   fmt.Sprintf("/sentiments/%d", ev.SubjectID),
		Fields: map[string]string{"title": title, "answer": answer, "time": ev.CreatedAt.Format(time.RFC3339), "status": "已答复"},
	}
}

// ---- notification groups ----

// groupDisabledRecipients: the admins and whoever registered the group.
func groupDisabledRecipients(ctx context.Context, r *Resolver, ev Event, p Payload) ([]Recipient, error) {
	out, err := r.Admins(ctx)
	if err != nil {
		return nil, err
	}
	if by := p.Int("created_by"); by > 0 {
		dup := false
		for _, x := range out {
			dup = dup || x.Target == strconv.FormatInt(by, 10)
		}
		if !dup {
			out = append(out, accountRecipient(by))
		}
	}
	return out, nil
}

func renderGroupDisabled(ctx context.Context, r *Resolver, ev Event, p Payload) Message {
	name, reason := p.Str("group_name"), p.Str("reason")
	return Message{
		Title: "群机器人已停用:" + name,
		Text:  fmt.Sprintf("通知群「%s」的机器人已停用:%s。请在管理后台更换 webhook 地址后重新启用。", name, reason),
		Fields: map[string]string{
			"group": name, "reason": reason, "time": ev.CreatedAt.Format(time.RFC3339), "title": "群机器人已停用:" + name,
		},
	}
}
