package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/region"
)

// ---- suggestions ----

// suggestionSubmittedRecipients: the county the suggestion is addressed to, its staff group and
// its officers on duty.
func suggestionSubmittedRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.SuggestionSubmitted) ([]Recipient, error) {
	return staffAndGroups(ctx, r, region.LevelCounty, p.CountyCode)
}

func renderSuggestionSubmitted(ctx context.Context, r *Resolver, ev Event, p outbox.SuggestionSubmitted) Message {
	who := strings.TrimSpace(p.InstructorName + " " + p.UnitName)
	var b strings.Builder
	fmt.Fprintf(&b, "**指导员意见建议**\n> 指导员:%s\n> 内容:%s\n", who, p.Summary)
	b.WriteString("请登录管理后台“意见建议”及时答复。")
	return Message{
		Title:    "【意见建议】" + cutRunes(p.Summary, 60, true),
		Text:     b.String(),
		Markdown: true,
		Link:     "/suggestions/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{"title": p.Summary, "name": who, "region": r.RegionName(ctx, p.CountyCode),
			"time": ev.CreatedAt.Format(time.RFC3339), "status": "待答复", "kind": "意见建议"},
	}
}

// suggestionAnsweredRecipients: the instructor who made the suggestion.
func suggestionAnsweredRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.SuggestionAnswered) ([]Recipient, error) {
	return r.InstructorAccount(ctx, p.InstructorID)
}

func renderSuggestionAnswered(ctx context.Context, r *Resolver, ev Event, p outbox.SuggestionAnswered) Message {
	county := r.RegionName(ctx, p.CountyCode)
	return Message{
		Title: "意见建议已答复:" + cutRunes(p.Summary, 60, true),
		Text:  fmt.Sprintf("您向%s民族工作部门提出的意见建议「%s」已答复:\n%s", county, p.Summary, p.Answer),
		Link:  "/suggestions/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{"title": p.Summary, "answer": p.Answer, "region": county,
			"time": ev.CreatedAt.Format(time.RFC3339), "status": "已答复"},
	}
}

// ---- training ----

// trainingEvent is either training payload; they share outbox.Training.
type trainingEvent interface {
	outbox.Payload
	Notice() outbox.Training
}

// trainingRecipients: each instructor the notice names. Training is personal: it is not posted
// to the instructors' groups, where those not enrolled would wonder whether to go.
func trainingRecipients(ctx context.Context, r *Resolver, ev Event, e trainingEvent) ([]Recipient, error) {
	return r.InstructorAccounts(ctx, e.Notice().InstructorIDs)
}

// trainingWhen is "5月6日 09:30—11:00" (the end with its date when on another day).
func trainingWhen(p outbox.Training) string {
	return meetingWhen(outbox.Meeting{StartsAt: p.StartsAt, EndsAt: p.EndsAt})
}

func renderTraining(ctx context.Context, r *Resolver, ev Event, e trainingEvent) Message {
	p := e.Notice()
	place := p.Place
	if p.Mode == "online" {
		place = "线上(链接见小程序“我的培训”)"
	}
	heading, footer := "培训通知", "您已报名参加本次培训,请按时参加。"
	if rem, ok := e.(outbox.TrainingReminder); ok {
		heading, footer = "培训提醒", fmt.Sprintf("培训将于%s后开始,请按时参加。", rem.StartsIn)
	}
	organiser := r.RegionName(ctx, p.RegionCode)
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n> 培训:%s\n> 时间:%s\n> 地点:%s\n> 组织:%s民族工作部门\n", heading, p.Title, trainingWhen(p), place, organiser)
	b.WriteString(footer)
	return Message{
		Title:    fmt.Sprintf("【%s】%s", heading, p.Title),
		Text:     b.String(),
		Markdown: true,
		Link:     "/training-sessions/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{"title": p.Title, "time": stamp(p.StartsAt), "place": place, "region": organiser,
			"status": "已报名", "kind": heading},
	}
}

// ---- the central adjustment ----

// adjustmentLaunchedRecipients: the staff and group of every county the round has instructors in.
func adjustmentLaunchedRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.AdjustmentLaunched) ([]Recipient, error) {
	var out []Recipient
	for _, c := range p.Counties {
		rs, err := staffAndGroups(ctx, r, region.LevelCounty, c.CountyCode)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func renderAdjustmentLaunched(ctx context.Context, r *Resolver, ev Event, p outbox.AdjustmentLaunched) Message {
	var total int64
	for _, c := range p.Counties {
		total += c.Instructors
	}
	launcher := r.RegionName(ctx, p.RegionCode)
	var b strings.Builder
	fmt.Fprintf(&b, "**指导员集中调整**\n> 名称:%s\n> 发起:%s民族工作部门\n> 任期届满时间:%s至%s\n> 涉及指导员:%d名\n",
		p.Title, launcher, p.WindowStart, p.WindowEnd, total)
	b.WriteString("请登录管理后台“任期调整”,对本县涉及的指导员逐一作出续聘、替换或不再续聘的决定。")
	return Message{
		Title:    "【集中调整】" + p.Title,
		Text:     b.String(),
		Markdown: true,
		Link:     "/adjustment-rounds/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{"title": p.Title, "region": launcher, "time": ev.CreatedAt.Format(time.RFC3339),
			"status": "待决定", "kind": "集中调整"},
	}
}

// adjustmentOverdueRecipients: the county's staff and group.
func adjustmentOverdueRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.AdjustmentOverdue) ([]Recipient, error) {
	return staffAndGroups(ctx, r, region.LevelCounty, p.CountyCode)
}

func renderAdjustmentOverdue(ctx context.Context, r *Resolver, ev Event, p outbox.AdjustmentOverdue) Message {
	var b strings.Builder
	fmt.Fprintf(&b, "**任期届满未调整** <font color=\"warning\">%d名</font>\n> 集中调整:%s\n> 最早届满:%s\n> 尚未决定:%d名\n",
		p.Overdue, p.Title, p.Earliest, p.Pending)
	b.WriteString("任期届满不会自动延续,请尽快在管理后台“任期调整”中作出续聘、替换或不再续聘的决定。")
	return Message{
		Title:    fmt.Sprintf("【任期届满未调整】%s:%d名", p.Title, p.Overdue),
		Text:     b.String(),
		Markdown: true,
		Link:     "/adjustment-rounds/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{"title": p.Title, "region": r.RegionName(ctx, p.CountyCode),
			"time": ev.CreatedAt.Format(time.RFC3339), "status": fmt.Sprintf("%d名待决定", p.Pending), "kind": "任期届满未调整"},
	}
}
