package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/platform/clock"
)

// Tasks (server/task) write task.assigned with the title, a plain-text summary, the due time,
// the issuer's region and the instructor ids it is assigned to.

// taskAssignedRecipients: each assignee's account. A task is personal work: it is not posted to
// the instructors' group, where the others would wonder whether it is theirs.
func taskAssignedRecipients(ctx context.Context, r *Resolver, ev Event, p Payload) ([]Recipient, error) {
	return r.InstructorAccounts(ctx, p.IDs("instructor_ids"))
}

// taskDue is "5月31日 18:00", in Beijing time.
func taskDue(p Payload) string {
	due, err := time.Parse(time.RFC3339Nano, p.Str("due_at"))
	if err != nil {
		return p.Str("due_at")
	}
	return clock.Local(due).Format("1月2日 15:04")
}

func renderTaskAssigned(ctx context.Context, r *Resolver, ev Event, p Payload) Message {
	title, summary := p.Str("title"), p.Str("summary")
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
			"title": title, "summary": summary, "region": issuer, "time": p.Str("due_at"), "status": "待完成", "kind": "交办任务",
		},
	}
}
