package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/region"
	"gorm.io/gorm"
)

// Kind is how one event kind notifies: who receives it and what it says. Adding an event kind is
// one declaration in server/outbox with its payload type, then one entry here (in kinds, built
// by reads, or in silent) and, for subscribe messages, a template in config
// (notify.templates.<kind with _>). TestEveryEventKindHasAReader fails until that entry exists.
type Kind struct {
	Recipients func(ctx context.Context, r *Resolver, ev Event, p outbox.Payload) ([]Recipient, error)
	Render     func(ctx context.Context, r *Resolver, ev Event, p outbox.Payload) Message
	// Template names the subscribe template when several kinds share one (the four
	// <kind>.returned events use record_returned, which the user accepts once for all); empty
	// means the kind's own, templateName(kind).
	Template string
	// accepts reports whether the kind's functions read p's type.
	accepts func(p outbox.Payload) bool
}

// reads is the Kind whose functions read payloads of type P (a payload type of server/outbox, or
// an interface they implement).
func reads[P any](recipients func(context.Context, *Resolver, Event, P) ([]Recipient, error),
	render func(context.Context, *Resolver, Event, P) Message) Kind {
	return Kind{
		Recipients: func(ctx context.Context, r *Resolver, ev Event, p outbox.Payload) ([]Recipient, error) {
			return recipients(ctx, r, ev, p.(P))
		},
		Render: func(ctx context.Context, r *Resolver, ev Event, p outbox.Payload) Message {
			return render(ctx, r, ev, p.(P))
		},
		accepts: func(p outbox.Payload) bool { _, ok := p.(P); return ok },
	}
}

// sharing is k sent with the subscribe template of another name.
func (k Kind) sharing(template string) Kind {
	k.Template = template
	return k
}

// kinds are the events that notify someone.
var kinds = map[string]Kind{
	outbox.TipSteps.Submitted.String():      reads(tipSubmittedRecipients, renderTip("风险隐患预警")),
	outbox.TipEscalated.String():            reads(tipEscalatedRecipients, renderTip("风险隐患线索上报")),
	outbox.TipAcknowledged.String():         reads(authorRecipients, renderTipAcknowledged),
	outbox.SentimentAnswered.String():       reads(authorRecipients, renderSentimentAnswered),
	outbox.VisitSteps.Returned.String():     reads(authorRecipients, renderReturned).sharing("record_returned"),
	outbox.SentimentSteps.Returned.String(): reads(authorRecipients, renderReturned).sharing("record_returned"),
	outbox.TipSteps.Returned.String():       reads(authorRecipients, renderReturned).sharing("record_returned"),
	outbox.MediationSteps.Returned.String(): reads(authorRecipients, renderReturned).sharing("record_returned"),
	outbox.GroupDisabledKind.String():       reads(groupDisabledRecipients, renderGroupDisabled),
	outbox.MeetingScheduledKind.String():    reads(meetingRecipients, renderMeeting),
	outbox.MeetingChangedKind.String():      reads(meetingRecipients, renderMeeting),
	outbox.MeetingCancelledKind.String():    reads(meetingRecipients, renderMeeting),
	outbox.MeetingReminderKind.String():     reads(meetingRecipients, renderMeeting),
	outbox.BulletinPublishedKind.String():   reads(bulletinRecipients, renderBulletin),
	outbox.BulletinCorrectedKind.String():   reads(bulletinReaderRecipients, renderBulletinChange),
	outbox.BulletinWithdrawnKind.String():   reads(bulletinReaderRecipients, renderBulletinChange),
	outbox.TaskAssignedKind.String():        reads(taskAssignedRecipients, renderTaskAssigned),
	outbox.SuggestionSubmittedKind.String(): reads(suggestionSubmittedRecipients, renderSuggestionSubmitted),
	outbox.SuggestionAnsweredKind.String():  reads(suggestionAnsweredRecipients, renderSuggestionAnswered),
	outbox.TrainingEnrolledKind.String():    reads(trainingRecipients, renderTraining),
	outbox.TrainingReminderKind.String():    reads(trainingRecipients, renderTraining),
	outbox.AdjustmentLaunchedKind.String():  reads(adjustmentLaunchedRecipients, renderAdjustmentLaunched),
	outbox.AdjustmentOverdueKind.String():   reads(adjustmentOverdueRecipients, renderAdjustmentOverdue),
	outbox.FilingSubmittedKind.String():     reads(filingSubmittedRecipients, renderFiling),
	outbox.FilingAcceptedKind.String():      reads(filingDecidedRecipients, renderFiling),
	outbox.FilingReturnedKind.String():      reads(filingDecidedRecipients, renderFiling),
	outbox.FilingStaleKind.String():         reads(filingStaleRecipients, renderFilingStale),
}

// silent are the events that tell nobody, by decision: the dispatcher consumes them without a
// message. A kind is in kinds or here, never in neither.
var silent = []outbox.Kind{
	outbox.VisitSteps.Submitted, outbox.VisitSteps.Updated, outbox.VisitSteps.Resubmitted, outbox.VisitSteps.Withdrawn,
	outbox.SentimentSteps.Submitted, outbox.SentimentSteps.Updated, outbox.SentimentSteps.Resubmitted, outbox.SentimentSteps.Withdrawn,
	outbox.SentimentForwarded, outbox.SentimentClosed,
	outbox.TipSteps.Updated, outbox.TipSteps.Resubmitted, outbox.TipSteps.Withdrawn,
	outbox.TipHandling, outbox.TipResolved, outbox.TipDuplicate,
	outbox.MediationSteps.Submitted, outbox.MediationSteps.Updated, outbox.MediationSteps.Resubmitted, outbox.MediationSteps.Withdrawn,
	outbox.MediationFollowedUp,
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

// stamp is a payload time as its JSON says it ("" when absent), for a message's fields.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
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
func tipSubmittedRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.Record) ([]Recipient, error) {
	out, err := staffAndGroups(ctx, r, region.LevelCounty, ev.RegionCode)
	if err != nil {
		return nil, err
	}
	if lv := p.Level; lv == "major" || lv == "critical" {
		city, err := staffAndGroups(ctx, r, region.LevelCity, ev.RegionCode)
		if err != nil {
			return nil, err
		}
		out = append(out, city...)
	}
	return out, nil
}

// tipEscalatedRecipients: the staff and group of the level the tip went up to.
func tipEscalatedRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.Record) ([]Recipient, error) {
	switch p.EscalatedTo {
	case "city":
		return staffAndGroups(ctx, r, region.LevelCity, ev.RegionCode)
	case "province":
		return staffAndGroups(ctx, r, region.LevelProvince, ev.RegionCode)
	}
	return nil, nil
}

func renderTip(heading string) func(ctx context.Context, r *Resolver, ev Event, p outbox.Record) Message {
	return func(ctx context.Context, r *Resolver, ev Event, p outbox.Record) Message {
		level := tipLevelNames[p.Level]
		if level == "" {
			level = "未定级"
		}
		place := r.RegionName(ctx, ev.RegionCode)
		title := p.Title
		when := clock.Local(ev.CreatedAt).Format("2006-01-02 15:04")
		var b strings.Builder
		color := "warning"
		if level == "一般" {
			color = "comment"
		}
		fmt.Fprintf(&b, "**%s** <font color=\"%s\">%s</font>\n", heading, color, level)
		fmt.Fprintf(&b, "> 线索:%s\n> 地区:%s\n> 时间:%s\n", title, place, when)
		if p.Event == outbox.TipEscalated {
			how := "县级上报"
			if p.Automatic {
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
				"status": p.Status, "kind": heading,
			},
		}
	}
}

// ---- sentiments ----

func renderSentimentAnswered(ctx context.Context, r *Resolver, ev Event, p outbox.Record) Message {
	title, answer := p.Title, p.Answer
	return Message{
		Title:  "民情报告已答复:" + title,
		Text:   fmt.Sprintf("您反映的民情「%s」已答复:\n%s", title, answer),
		Link:   fmt.Sprintf("/sentiments/%d", ev.SubjectID),
		Fields: map[string]string{"title": title, "answer": answer, "time": ev.CreatedAt.Format(time.RFC3339), "status": "已答复"},
	}
}

// ---- notification groups ----

// groupDisabledRecipients: the admins and whoever registered the group.
func groupDisabledRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.GroupDisabled) ([]Recipient, error) {
	out, err := r.Admins(ctx)
	if err != nil {
		return nil, err
	}
	if by := p.CreatedBy; by > 0 {
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

func renderGroupDisabled(ctx context.Context, r *Resolver, ev Event, p outbox.GroupDisabled) Message {
	name, reason := p.GroupName, p.Reason
	return Message{
		Title: "群机器人已停用:" + name,
		Text:  fmt.Sprintf("通知群「%s」的机器人已停用:%s。请在管理后台更换 webhook 地址后重新启用。", name, reason),
		Fields: map[string]string{
			"group": name, "reason": reason, "time": ev.CreatedAt.Format(time.RFC3339), "title": "群机器人已停用:" + name,
		},
	}
}
