package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/region"
)

// bulletinRecipients: the instructor groups registered anywhere inside the bulletin's scope.
func bulletinRecipients(ctx context.Context, r *Resolver, ev Event, p outbox.BulletinPublished) ([]Recipient, error) {
	seen := map[int64]bool{}
	var out []Recipient
	for _, code := range p.Scope {
		if region.LevelOf(code) == 0 {
			continue
		}
		var ids []int64
		if err := r.tx.WithContext(ctx).Model(&Group{}).Scopes(access.UnderRegion("region_code", code)).
			Where("audience = ? AND status = ?", "instructors", GroupActive).Order("id").Pluck("id", &ids).Error; err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, groupRecipient(id))
			}
		}
	}
	return out, nil
}

func renderBulletin(ctx context.Context, r *Resolver, ev Event, p outbox.BulletinPublished) Message {
	title, summary := p.Title, p.Summary
	issuer := r.RegionName(ctx, ev.RegionCode)
	var b strings.Builder
	fmt.Fprintf(&b, "**工作简报**\n> 标题:%s\n> 发布:%s民族工作部门\n", title, issuer)
	if summary != "" {
		fmt.Fprintf(&b, "> 摘要:%s\n", summary)
	}
	b.WriteString("请在小程序“工作简报”中阅读全文。")
	if utf8.RuneCountInString(title) > 100 {
		title = cutRunes(title, 100, true)
	}
	return Message{
		Title:    "【工作简报】" + title,
		Text:     b.String(),
		Markdown: true,
		Link:     "/bulletins/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{
			"title": title, "summary": summary, "region": issuer, "time": stamp(p.PublishedAt), "kind": "工作简报",
		},
	}
}

// bulletinChange is either notice of a bulletin changed after it was read.
type bulletinChange interface {
	outbox.Payload
	Change() outbox.BulletinChange
}

// bulletinRead is a read receipt (server/bulletin's bulletin_reads), as far as notices need it.
type bulletinRead struct {
	BulletinID   int64
	InstructorID int64
	ReadAt       time.Time
}

func (bulletinRead) TableName() string { return "bulletin_reads" }

// bulletinReaderRecipients: the account of each instructor who had opened the bulletin when it
// changed, once, by subscribe message. The groups are not told again: a correction posted to
// every group would be read as a second bulletin by those who never opened the first.
func bulletinReaderRecipients(ctx context.Context, r *Resolver, ev Event, p bulletinChange) ([]Recipient, error) {
	c := p.Change()
	var ids []int64
	err := r.tx.WithContext(ctx).Model(&account{}).
		Where("status = ? AND instructor_id IN (?)", "active", r.tx.Model(&bulletinRead{}).Select("instructor_id").
			Where("bulletin_id = ? AND read_at <= ?", c.BulletinID, c.At.UTC())).
		Order("id").Pluck("id", &ids).Error
	out := make([]Recipient, len(ids))
	for i, id := range ids {
		out[i] = accountRecipient(id)
	}
	return out, err
}

func renderBulletinChange(ctx context.Context, r *Resolver, ev Event, p bulletinChange) Message {
	c := p.Change()
	title := cutRunes(c.Title, 100, true)
	heading, status, why := "工作简报已更正", "已更正", ""
	switch x := p.(type) {
	case outbox.BulletinCorrected:
		why = x.Note
	case outbox.BulletinWithdrawn:
		heading, status, why = "工作简报已撤回", "已撤回", x.Reason
	}
	issuer := r.RegionName(ctx, c.RegionCode)
	return Message{
		Title: "【" + heading + "】" + title,
		Text:  fmt.Sprintf("您已阅读的工作简报「%s」%s:%s", title, status, why),
		Link:  "/bulletins/" + strconv.FormatInt(ev.SubjectID, 10),
		Fields: map[string]string{"title": title, "note": why, "region": issuer, "time": stamp(c.At),
			"status": status, "kind": heading},
	}
}
