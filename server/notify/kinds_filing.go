package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/region"
)

// The filing chain's notices go to staff the usual way (staffAndGroups): the WeCom robot groups
// registered for the level's staff and a subscribe message to its officers on duty.

// filingEvent is any filing notice but the reminder; they share outbox.Filing.
type filingEvent interface {
	outbox.Payload
	Notice() outbox.Filing
}

// filingLevels: who files at a level, and who receives.
var filingLevels = map[string]struct{ filer, receiver int }{
	"county": {region.LevelCounty, region.LevelCity},
	"city":   {region.LevelCity, region.LevelProvince},
}

// filingSubmittedRecipients: the level that must accept or return it (the city for a county's
// filing, the province for a city's).
func filingSubmittedRecipients(ctx context.Context, r *Resolver, ev Event, p filingEvent) ([]Recipient, error) {
	f := p.Notice()
	lv, ok := filingLevels[f.Level]
	if !ok {
		return nil, nil
	}
	return staffAndGroups(ctx, r, lv.receiver, f.ParentCode)
}

// filingDecidedRecipients: the county (or city) that filed.
func filingDecidedRecipients(ctx context.Context, r *Resolver, ev Event, p filingEvent) ([]Recipient, error) {
	f := p.Notice()
	lv, ok := filingLevels[f.Level]
	if !ok {
		return nil, nil
	}
	return staffAndGroups(ctx, r, lv.filer, f.RegionCode)
}

func renderFiling(ctx context.Context, r *Resolver, ev Event, p filingEvent) Message {
	f := p.Notice()
	filer, receiver := r.RegionName(ctx, f.RegionCode), r.RegionName(ctx, f.ParentCode)
	var heading, status, footer, extra string
	switch x := p.(type) {
	case outbox.FilingSubmitted:
		heading, status, footer = "指导员名册备案待接收", "待接收", "请登录管理后台“备案”查看变动并及时接收或退回。"
		if x.Note != "" {
			extra = "> 备注:" + x.Note + "\n"
		}
	case outbox.FilingAccepted:
		heading, status, footer = "指导员名册备案已接收", "已接收", "名册再有变动时,请及时重新备案。"
	case outbox.FilingReturned:
		heading, status, footer = "指导员名册备案被退回", "已退回", "请按退回原因修改名册后重新备案。"
		extra = "> 退回原因:" + x.Reason + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n> 备案单位:%s民族工作部门\n> 接收单位:%s民族工作部门\n> 指导员:%d名\n%s", heading, filer, receiver, f.InstructorCount, extra)
	b.WriteString(footer)
	title := fmt.Sprintf("%s指导员名册备案(%d名)", filer, f.InstructorCount)
	return Message{
		Title:    fmt.Sprintf("【%s】%s", heading, title),
		Text:     b.String(),
		Markdown: true,
		Link:     fmt.Sprintf("/filings/%d", ev.SubjectID),
		Fields: map[string]string{"title": title, "region": filer, "time": ev.CreatedAt.Format(time.RFC3339),
			"status": status, "kind": heading},
	}
}

// filingStaleRecipients: the county's staff and group.
func filingStaleRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.FilingStale) ([]Recipient, error) {
	return staffAndGroups(ctx, r, region.LevelCounty, p.CountyCode)
}

func renderFilingStale(ctx context.Context, r *Resolver, ev Event, p outbox.FilingStale) Message {
	county := r.RegionName(ctx, p.CountyCode)
	var b strings.Builder
	fmt.Fprintf(&b, "**名册有变动,请及时重新备案** <font color=\"warning\">%d天</font>\n> 地区:%s\n> 上次接收的备案:%s\n> 名册变动发现于:%s\n",
		p.Days, county, p.AcceptedOn, p.StaleSince)
	b.WriteString("指导员名册在上次备案被接收后有变动(增减、调整或信息修改),请登录管理后台“备案”向上级重新备案。")
	title := fmt.Sprintf("%s名册变动未备案(上次备案%s)", county, p.AcceptedOn)
	return Message{
		Title:    "【备案提醒】" + title,
		Text:     b.String(),
		Markdown: true,
		Link:     "/filings",
		Fields: map[string]string{"title": title, "region": county, "time": ev.CreatedAt.Format(time.RFC3339),
			"status": fmt.Sprintf("距上次备案%d天", p.Days), "kind": "备案提醒"},
	}
}
