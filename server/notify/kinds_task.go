package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// taskAssignedRecipients: each assignee's account. A task is personal work: it is not posted to
// the instructors' group, where the others would wonder whether it is theirs.
func taskAssignedRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.TaskAssigned) ([]Recipient, error) {
	return r.InstructorAccounts(ctx, p.InstructorIDs)
}

// taskDue is "5月31日 18:00", in Beijing time.
func taskDue(p outbox.TaskAssigned) string {
	if p.DueAt.IsZero() {
		return ""
	}
	return clock.Local(p.DueAt).Format("1月2日 15:04")
}

func renderTaskAssigned(ctx context.Context, r *Resolver, ev Event, p outbox.TaskAssigned) Message {
	title, summary := p.Title, p.Summary
	issuer := r.RegionName(ctx, ev.RegionCode)
	var b strings.Builder
	fmt.Fprintf(&b, "**交办任务**\n> 任务:%s\n> 交办:%s民族工作部门\n> 完成时限:%s\n", title, issuer, taskDue(p))
	if summary != "" {
		fmt.Fprintf(&b, "> 要求:%s\n", summary)
	}
	b.WriteString("请在小程序“交办任务”中查看要求,及时反馈进展和完成情况。")
	return Message{
		Title:    "【交办任务】" + cutRunes(title, 100, true),
		Text:     b.String(),
		Markdown: true,
		Link:     "/tasks/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{
			"title": title, "summary": summary, "region": issuer, "time": stamp(p.DueAt), "status": "待完成", "kind": "交办任务",
		},
	}
}
