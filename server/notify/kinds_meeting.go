package notify

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// meetingEvent is any of the four meeting payloads; they share outbox.Meeting.
type meetingEvent interface {
	outbox.Payload
	Notice() outbox.Meeting
}

// meetingRecipients: each invitee's account, and for a meeting of the whole county the
// instructor groups registered for the county. A meeting of a chosen list is not announced in
// the county's group, where everyone else would wonder whether to come.
func meetingRecipients(ctx context.Context, r *Resolver, ev Event, e meetingEvent) ([]Recipient, error) {
	p := e.Notice()
	var out []Recipient
	if p.Audience == "county" {
		groups, err := r.Groups(ctx, ev.RegionCode, "instructors")
		if err != nil {
			return nil, err
		}
		out = groups
	}
	people, err := r.InstructorAccounts(ctx, p.InstructorIDs)
	return append(out, people...), err
}

// InstructorAccounts are the active accounts bound to any of the instructors.
func (r *Resolver) InstructorAccounts(ctx context.Context, instructorIDs []int64) ([]Recipient, error) {
	var out []Recipient
	for chunk := range slices.Chunk(instructorIDs, 500) {
		var ids []int64
		if err := r.tx.WithContext(ctx).Model(&account{}).Where("instructor_id IN ? AND status = ?", chunk, "active").
			Order("id").Pluck("id", &ids).Error; err != nil {
			return nil, err
		}
		for _, id := range ids {
			out = append(out, accountRecipient(id))
		}
	}
	return out, nil
}

var meetingChangeNames = map[string]string{
	"title": "名称", "starts_at": "开始时间", "ends_at": "结束时间", "place": "地点", "location": "会场位置",
	"agenda": "议程", "instructor_ids": "参会人员",
}

// meetingWhen is "5月6日 09:30—11:00" (the end with its date when on another day).
func meetingWhen(p outbox.Meeting) string {
	if p.StartsAt.IsZero() {
		return ""
	}
	start := clock.Local(p.StartsAt)
	s := start.Format("1月2日 15:04")
	if !p.EndsAt.IsZero() {
		end := clock.Local(p.EndsAt)
		if end.YearDay() == start.YearDay() && end.Year() == start.Year() {
			return s + "—" + end.Format("15:04")
		}
		return s + "—" + end.Format("1月2日 15:04")
	}
	return s
}

func renderMeeting(ctx context.Context, r *Resolver, ev Event, e meetingEvent) Message {
	p := e.Notice()
	title, place, reason := p.Title, p.Place, ""
	heading, status, footer := "例会通知", "待召开", "请在小程序中回复是否参加,到场后扫码签到。"
	var extra string
	switch e := e.(type) {
	case outbox.MeetingScheduled:
		if p.Agenda != "" {
			extra = fmt.Sprintf("> 议程:%s\n", cutRunes(strings.Join(strings.Fields(p.Agenda), " "), 300, true))
		}
	case outbox.MeetingChanged:
		heading, footer = "例会变更", "请按变更后的安排参加。"
		var names []string
		for _, c := range e.Changes {
			if n := meetingChangeNames[c]; n != "" {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			extra = fmt.Sprintf("> 变更:%s\n", strings.Join(names, "、"))
		}
	case outbox.MeetingCancelled:
		heading, status, footer, reason = "例会取消", "已取消", "", e.Reason
		extra = fmt.Sprintf("> 取消原因:%s\n", reason)
	case outbox.MeetingReminder:
		heading, footer = "例会提醒", fmt.Sprintf("例会将于%s后开始,请准时参加,到场后扫码签到。", e.StartsIn)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n> 会议:%s\n> 时间:%s\n> 地点:%s\n", heading, title, meetingWhen(p), place)
	b.WriteString(extra)
	b.WriteString(footer)
	return Message{
		Title:    fmt.Sprintf("【%s】%s", heading, title),
		Text:     strings.TrimRight(b.String(), "\n"),
		Markdown: true,
		Link:     "/meetings/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{
			"title": title, "time": stamp(p.StartsAt), "place": place, "status": status, "kind": heading,
			"reason": reason, "region": r.RegionName(ctx, ev.RegionCode),
		},
	}
}
