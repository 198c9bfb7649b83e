package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/region"
)

// The author of a record hears back when staff take up a tip, answer a sentiment report, or
// return any record for correction.

// recordKindNames are the record kinds as the author knows them (server/record's labels).
var recordKindNames = map[string]string{
	"visit": "走访日志", "sentiment": "民情报告", "tip": "风险隐患线索", "mediation": "矛盾纠纷调解记录",
}

// authorRecipients: the account of the instructor who submitted the record.
func authorRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.Record) ([]Recipient, error) {
	return r.InstructorAccount(ctx, p.AuthorID)
}

var staffLevels = map[string]int{
	string(access.RoleCountyStaff): region.LevelCounty, string(access.RoleCityStaff): region.LevelCity,
	string(access.RoleProvinceStaff): region.LevelProvince,
}

// actorDepartment names who acted as the author should read it: "长安区民族工作部门" for county
// staff, the city's or the province's for theirs. Not the officer: the actor's name may be a
// login name, and the record's timeline shows who it was.
func actorDepartment(ctx context.Context, r *Resolver, ev Event, p outbox.Record) string {
	lv, ok := staffLevels[p.Actor.Role]
	if !ok {
		return "民族工作部门"
	}
	at := ancestorAt(ev.RegionCode, lv)
	if region.LevelOf(at) != lv {
		return "民族工作部门"
	}
	return r.RegionName(ctx, at) + "民族工作部门"
}

func renderTipAcknowledged(ctx context.Context, r *Resolver, ev Event, p outbox.Record) Message {
	title, note := p.Title, p.Note
	dept := actorDepartment(ctx, r, ev, p)
	var b strings.Builder
	fmt.Fprintf(&b, "您报送的线索「%s」已由%s签收。", title, dept)
	if note != "" {
		fmt.Fprintf(&b, "\n签收意见:%s", note)
	}
	return Message{
		Title: "线索已签收:" + title,
		Text:  b.String(),
		Link:  "/tips/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{
			"title": title, "actor": dept, "note": note, "time": ev.CreatedAt.Format(time.RFC3339), "status": "已签收",
			"kind": recordKindNames["tip"],
		},
	}
}

// renderReturned tells the author that staff returned a record for correction, and why (the
// return note is required), so that they can fix it and submit it again.
func renderReturned(ctx context.Context, r *Resolver, ev Event, p outbox.Record) Message {
	title, note := p.Title, p.Note
	kind := recordKindNames[ev.SubjectType]
	if kind == "" {
		kind = "记录"
	}
	dept := actorDepartment(ctx, r, ev, p)
	return Message{
		Title: kind + "已退回修改:" + title,
		Text:  fmt.Sprintf("您报送的%s「%s」已被%s退回修改。\n退回原因:%s\n请在小程序中修改后重新提交。", kind, title, dept, note),
		Link:  "/" + ev.SubjectType + "s/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{
			"title": title, "kind": kind, "note": note, "actor": dept, "time": ev.CreatedAt.Format(time.RFC3339), "status": "已退回",
		},
	}
}
