package bulletin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Corrections and withdrawals (measures §五(一), the platform for exchange). A published bulletin
// is corrected with a note (its earlier texts are kept in bulletin_versions and shown to staff;
// instructors see "已更正" with the time and the note) or withdrawn with a reason (instructors
// then see the reason, not the body). Read receipts are kept across a correction: the officer
// still sees who opened the bulletin, and each of them is told of the correction once, by
// subscribe message. Whether they opened it again is not tracked.

const maxNote = 500

var (
	errNotPublished = apperr.New(http.StatusConflict, "bulletin_not_published", "只有已发布的工作简报可以更正")
	errWithdrawn    = apperr.New(http.StatusConflict, "bulletin_withdrawn", "该工作简报已撤回")
	errNotDraft     = apperr.New(http.StatusConflict, "bulletin_not_draft", "只有草稿可以发布")
	errUnchanged    = apperr.Field("body", "更正后的标题和正文与当前版本相同")
)

// CorrectInput corrects a bulletin: the new title (empty keeps it), the new body and why.
type CorrectInput struct {
	Title string
	Body  string
	Note  string
}

// manageable loads a bulletin issued in the staff member's subtree, locked for the change.
func (s *Service) manageable(tx *gorm.DB, p *access.Principal, id int64) (Bulletin, error) {
	if !p.IsStaff() {
		return Bulletin{}, errStaffOnly
	}
	var b Bulletin
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return b, errNotFound
	}
	return b, err
}

// readers counts the instructors with a receipt for the bulletin (one each).
func readers(tx *gorm.DB, id int64) (int64, error) {
	var n int64
	err := tx.Model(&Read{}).Where("bulletin_id = ?", id).Count(&n).Error
	return n, err
}

// Correct replaces a published bulletin's text, keeps the one it replaces as a version and tells
// those who had read it, in one transaction.
func (s *Service) Correct(ctx context.Context, p *access.Principal, id int64, in CorrectInput) (View, error) {
	if !p.IsStaff() {
		return View{}, errStaffOnly
	}
	in.Title, in.Note = strings.TrimSpace(in.Title), strings.TrimSpace(in.Note)
	var v validate.Checker
	v.MaxLen("title", "简报标题", in.Title, maxTitle)
	v.Check(strings.TrimSpace(in.Body) != "", "body", "更正后的正文不能为空")
	v.MaxLen("body", "简报正文", in.Body, maxBody)
	v.Required("note", "更正说明", in.Note, maxNote)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	now := s.clock.Now()
	var b Bulletin
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var err error
		if b, err = s.manageable(tx, p, id); err != nil {
			return err
		}
		switch b.Status {
		case StatusWithdrawn:
			return errWithdrawn
		case StatusPublished:
		default:
			return errNotPublished
		}
		title := in.Title
		if title == "" {
			title = b.Title
		}
		if title == b.Title && in.Body == b.Body {
			return errUnchanged
		}
		at := b.CreatedAt
		if b.PublishedAt != nil {
			at = *b.PublishedAt
		}
		if b.CorrectedAt != nil {
			at = *b.CorrectedAt
		}
		old := Version{BulletinID: b.ID, Version: max(b.Version, 1), Title: b.Title, Body: b.Body, Note: b.CorrectionNote,
			CreatedBy: p.AccountID, CreatedAt: at}
		if err := tx.Create(&old).Error; err != nil {
			return err
		}
		b.Version, b.Title, b.Body, b.CorrectedAt, b.CorrectionNote, b.UpdatedAt = old.Version+1, title, in.Body, &now, in.Note, now
		if err := tx.Model(&Bulletin{}).Where("id = ?", b.ID).Updates(map[string]any{"version": b.Version, "title": b.Title,
			"body": b.Body, "corrected_at": now, "correction_note": b.CorrectionNote, "updated_at": now}).Error; err != nil {
			return err
		}
		n, err := readers(tx, b.ID)
		if err != nil {
			return err
		}
		return outbox.Write(tx, outbox.Entry{SubjectType: subjectType, SubjectID: b.ID, RegionCode: b.RegionCode, At: now,
			Payload: outbox.BulletinCorrected{BulletinChange: outbox.BulletinChange{BulletinID: b.ID, Title: b.Title,
				RegionCode: b.RegionCode, At: clock.Local(now), Readers: n}, Version: b.Version, Note: b.CorrectionNote}})
	})
	if err != nil {
		return View{}, err
	}
	audit.Subject(ctx, subjectType, b.ID, b.RegionCode)
	return s.Get(ctx, p, b.ID)
}

// Withdraw takes a bulletin back with a reason: instructors then see the reason instead of the
// body, and those who had read it are told. Withdrawing it again with the same reason (a retried
// request) changes nothing.
func (s *Service) Withdraw(ctx context.Context, p *access.Principal, id int64, reason string) (View, error) {
	if !p.IsStaff() {
		return View{}, errStaffOnly
	}
	reason = strings.TrimSpace(reason)
	var v validate.Checker
	v.Required("reason", "撤回原因", reason, maxNote)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	now := s.clock.Now()
	var b Bulletin
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var err error
		if b, err = s.manageable(tx, p, id); err != nil {
			return err
		}
		switch b.Status {
		case StatusWithdrawn:
			if b.WithdrawReason == reason {
				return nil
			}
			return errWithdrawn.WithField("reason", "已经撤回")
		case StatusDraft:
			return apperr.New(http.StatusConflict, "bulletin_draft", "草稿尚未发布,无需撤回")
		}
		b.Status, b.WithdrawnAt, b.WithdrawnBy, b.WithdrawReason, b.UpdatedAt = StatusWithdrawn, &now, p.AccountID, reason, now
		if err := tx.Model(&Bulletin{}).Where("id = ?", b.ID).Updates(map[string]any{"status": StatusWithdrawn,
			"withdrawn_at": now, "withdrawn_by": p.AccountID, "withdraw_reason": reason, "updated_at": now}).Error; err != nil {
			return err
		}
		n, err := readers(tx, b.ID)
		if err != nil {
			return err
		}
		if b.PublishedAt == nil {
			return nil // scheduled, never seen by anyone
		}
		return outbox.Write(tx, outbox.Entry{SubjectType: subjectType, SubjectID: b.ID, RegionCode: b.RegionCode, At: now,
			Payload: outbox.BulletinWithdrawn{BulletinChange: outbox.BulletinChange{BulletinID: b.ID, Title: b.Title,
				RegionCode: b.RegionCode, At: clock.Local(now), Readers: n}, Reason: reason}})
	})
	if err != nil {
		return View{}, err
	}
	audit.Subject(ctx, subjectType, b.ID, b.RegionCode)
	return s.Get(ctx, p, b.ID)
}

// versions lists every version of a bulletin, the current one last.
func (s *Service) versions(db *gorm.DB, b Bulletin) ([]VersionView, error) {
	var rows []Version
	if err := db.Where("bulletin_id = ?", b.ID).Order("version").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]VersionView, 0, len(rows)+1)
	for _, r := range rows {
		out = append(out, VersionView{Version: r.Version, Title: r.Title, Body: r.Body, Note: r.Note, At: clock.Local(r.CreatedAt)})
	}
	at := b.CreatedAt
	if b.PublishedAt != nil {
		at = *b.PublishedAt
	}
	if b.CorrectedAt != nil {
		at = *b.CorrectedAt
	}
	out = append(out, VersionView{Version: max(b.Version, 1), Title: b.Title, Body: b.Body, Note: b.CorrectionNote,
		At: clock.Local(at), Current: true})
	return out, nil
}

// ---- drafts ----

// draft stores an unpublished bulletin (made from an experience share) in tx.
func (s *Service) draft(tx *gorm.DB, p *access.Principal, title, body string, scope []string, shareID int64) (Bulletin, error) {
	now := s.clock.Now()
	b := Bulletin{RegionCode: p.RegionCode, Title: title, Body: body, Status: StatusDraft, PublishAt: now,
		CreatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now, Version: 1, SourceShareID: shareID}
	if err := tx.Create(&b).Error; err != nil {
		return b, err
	}
	rows := make([]Scope, len(scope))
	for i, code := range scope {
		rows[i] = Scope{BulletinID: b.ID, RegionCode: code}
	}
	return b, tx.Create(&rows).Error
}

// Publish publishes a draft, now or at a set time, with the title, body and scope given (each
// empty keeps the draft's).
func (s *Service) Publish(ctx context.Context, p *access.Principal, id int64, in Input) (View, error) {
	if !p.IsStaff() {
		return View{}, errStaffOnly
	}
	now := s.clock.Now()
	in.Title = strings.TrimSpace(in.Title)
	var v validate.Checker
	v.MaxLen("title", "简报标题", in.Title, maxTitle)
	v.MaxLen("body", "简报正文", in.Body, maxBody)
	publishAt := now
	if raw := strings.TrimSpace(in.PublishAt); raw != "" {
		t, err := time.Parse(time.RFC3339Nano, raw)
		switch {
		case err != nil:
			v.Fail("publish_at", "发布时间应为RFC 3339格式的时间,如2024-05-01T09:30:00+08:00")
		case t.Before(now.Add(-pastSlack)):
			v.Fail("publish_at", "发布时间不能早于当前时间;立即发布请不传发布时间")
		case t.After(now.Add(maxAhead)):
			v.Fail("publish_at", "发布时间不能超过一年以后")
		case t.After(now):
			publishAt = t.UTC().Truncate(time.Second)
		}
	}
	var scope []string
	if len(in.Scope) > 0 {
		var err error
		if scope, err = s.checkScope(ctx, p, &v, in.Scope); err != nil {
			return View{}, err
		}
	}
	if err := v.Err(); err != nil {
		return View{}, err
	}
	var b Bulletin
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var err error
		if b, err = s.manageable(tx, p, id); err != nil {
			return err
		}
		if b.Status != StatusDraft {
			return errNotDraft
		}
		if in.Title != "" {
			b.Title = in.Title
		}
		if strings.TrimSpace(in.Body) != "" {
			b.Body = in.Body
		}
		b.Status, b.PublishAt, b.UpdatedAt = StatusScheduled, publishAt, now
		if !publishAt.After(now) {
			b.Status, b.PublishedAt = StatusPublished, &now
		}
		if err := tx.Model(&Bulletin{}).Where("id = ?", b.ID).Updates(map[string]any{"title": b.Title, "body": b.Body,
			"status": b.Status, "publish_at": b.PublishAt, "published_at": b.PublishedAt, "updated_at": now}).Error; err != nil {
			return err
		}
		if scope != nil {
			if err := tx.Where("bulletin_id = ?", b.ID).Delete(&Scope{}).Error; err != nil {
				return err
			}
			rows := make([]Scope, len(scope))
			for i, code := range scope {
				rows[i] = Scope{BulletinID: b.ID, RegionCode: code}
			}
			if err := tx.Create(&rows).Error; err != nil {
				return err
			}
		} else if err := tx.Model(&Scope{}).Where("bulletin_id = ?", b.ID).Order("region_code").Pluck("region_code", &scope).Error; err != nil {
			return err
		}
		if b.Status == StatusPublished {
			return s.emitPublished(tx, b, scope, now)
		}
		return nil
	})
	if err != nil {
		return View{}, err
	}
	audit.Subject(ctx, subjectType, b.ID, b.RegionCode)
	return s.Get(ctx, p, b.ID)
}
