package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/platform/clock"
)

// Meetings (server/meeting) write meeting.scheduled, meeting.changed, meeting.cancelled and
// meeting.reminder with the meeting's title, times, place, audience and the instructor ids it
// goes to (a reminder leaves out who declined).

// meetingRecipients: each invitee's account, and for a meeting of the whole county the
// instructor groups registered for the county. A meeting of a chosen list is not announced in
// the county's group, where everyone else would wonder whether to come.
func meetingRecipients(ctx context.Context, r *Resolver, ev Event, p Payload) ([]Recipient, error) {
	var out []Recipient
	if p.Str("audience") == "county" {
		groups, err := r.Groups(ctx, ev.RegionCode, "instructors")
		if err != nil {
			return nil, err
		}
		out = groups
	}
	people, err := r.InstructorAccounts(ctx, p.IDs("instructor_ids"))
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

// IDs reads an array of integers (nil when absent or malformed).
func (p Payload) IDs(key string) []int64 {
	raw, _ := p[key].([]any)
	out := make([]int64, 0, len(raw))
	for _, v := range raw {
		n, ok := v.(json.Number)
		if !ok {
			continue
		}
		if id, err := n.Int64(); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// Strs reads an array of strings.
func (p Payload) Strs(key string) []string {
	raw, _ := p[key].([]any)
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

var meetingChangeNames = map[string]string{
	"title": "名称", "starts_at": "开始时间", "ends_at": "结束时间", "place": "地点", "location": "会场位置",
	"agenda": "议程", "instructor_ids": "参会人员",
}

// meetingWhen is "5月6日 09:30—11:00" (the end with its date when on another day).
func meetingWhen(p Payload) string {
	start, err1 := time.Parse(time.RFC3339Nano, p.Str("starts_at"))
	end, err2 := time.Parse(time.RFC3339Nano, p.Str("ends_at"))
	if err1 != nil {
		return p.Str("starts_at")
	}
	start = clock.Local(start)
	s := start.Format("1月2日 15:04")
	if err2 == nil {
		end = clock.Local(end)
		if end.YearDay() == start.YearDay() && end.Year() == start.Year() {
			return s + "—" + end.Format("15:04")
		}
		return s + "—" + end.Format("1月2日 15:04")
	}
	return s
}

func renderMeeting(ctx context.Context, r *Resolver, ev Event, p Payload) Message {
	title, place := p.Str("title"), p.Str("place")
	heading, status, footer := "例会通知", "待召开", "请在小程序中回复是否参加,到场后扫码签到。"
	var b strings.Builder
	switch ev.Kind {
	case "meeting.changed":
		heading, footer = "例会变更", "请按变更后的安排参加。"
	case "meeting.cancelled":
		heading, status, footer = "例会取消", "已取消", ""
	case "meeting.reminder":
		heading, footer = "例会提醒", fmt.Sprintf("例会将于%s后开始,请准时参加,到场后扫码签到。", p.Str("starts_in"))
	}
	fmt.Fprintf(&b, "**%s**\n> 会议:%s\n> 时间:%s\n> 地点:%s\n", heading, title, meetingWhen(p), place)
	switch ev.Kind {
	case "meeting.scheduled":
		if agenda := p.Str("agenda"); agenda != "" {
			fmt.Fprintf(&b, "> 议程:%s\n", cutRunes(strings.Join(strings.Fields(agenda), " "), 300, true))
		}
	case "meeting.changed":
		var names []string
		for _, c := range p.Strs("changes") {
			if n := meetingChangeNames[c]; n != "" {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(&b, "> 变更:%s\n", strings.Join(names, "、"))
		}
	case "meeting.cancelled":
		fmt.Fprintf(&b, "> 取消原因:%s\n", p.Str("reason"))
	}
	b.WriteString(footer)
	return Message{
		Title:    fmt.Sprintf("【%s】%s", heading, title),
		Text:     strings.TrimRight(b.String(), "\n"),
		Markdown: true,
		Link:     "/meetings/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{
			"title": title, "time": p.Str("starts_at"), "place": place, "status": status, "kind": heading,
			"reason": p.Str("reason"), "region": r.RegionName(ctx, ev.RegionCode),
		},
	}
}
