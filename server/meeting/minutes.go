package meeting

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/upload"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Files is what minutes need from uploads: attaching the organizer's uploads, listing them, and
// letting go of those taken out of the minutes.
type Files interface {
	upload.Attacher
	Detach(tx *gorm.DB, ownerKind string, ownerID int64, keep []int64) error
}

// minutesOwner is the owner kind of the minutes' attachments (owner id: the meeting's).
const minutesOwner = "meeting_minutes"

const maxMinutes = 20000

var errNotHeld = apperr.New(http.StatusConflict, "meeting_not_started", "例会开始后才能记录会议纪要")

// Minutes are the minutes (会议纪要) of one meeting.
type Minutes struct {
	MeetingID  int64 `gorm:"primaryKey;autoIncrement:false"`
	RegionCode string
	Body       string
	Version    int
	CreatedBy  int64
	UpdatedBy  int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (Minutes) TableName() string { return "meeting_minutes" }

// MinutesView is the minutes as the API shows them, to staff and to the invitees.
type MinutesView struct {
	Body        string        `json:"body"`
	Attachments []upload.View `json:"attachments"`
	Version     int           `json:"version"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

// MinutesInput writes the minutes: the whole text and the whole list of attachments (those left
// out are taken off). Version, when given, must be the version read, so that two officers
// editing at once do not overwrite each other.
type MinutesInput struct {
	Body        string
	Attachments []int64
	Version     *int
}

// SaveMinutes writes or rewrites the minutes of a meeting of the caller's county once it has
// started. Every save is audited under the meeting.
func (s *Service) SaveMinutes(ctx context.Context, p *access.Principal, id int64, in MinutesInput) (View, error) {
	if err := requireOrganizer(p); err != nil {
		return View{}, err
	}
	body, msg := validate.Text(in.Body, true)
	var v validate.Checker
	if msg != "" {
		v.Fail("body", "会议纪要"+msg)
	} else {
		v.Required("body", "会议纪要", body, maxMinutes)
	}
	v.Check(len(in.Attachments) <= upload.MaxAttachments, "attachments", fmt.Sprintf("附件最多%d个", upload.MaxAttachments))
	seen := map[int64]bool{}
	for _, a := range in.Attachments {
		if a <= 0 || seen[a] {
			v.Fail("attachments", "附件编号应为不重复的正整数")
			break
		}
		seen[a] = true
	}
	if len(in.Attachments) > 0 && s.opt.Files == nil {
		v.Fail("attachments", "暂不支持附件")
	}
	if err := v.Err(); err != nil {
		return View{}, err
	}
	now := s.clock.Now()
	var m Meeting
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var err error
		if m, _, err = s.load(tx, p, id); err != nil {
			return err
		}
		if m.Status == StatusCancelled {
			return errCancelled
		}
		if now.Before(m.StartsAt) {
			return errNotHeld
		}
		var cur Minutes
		err = tx.Where("meeting_id = ?", m.ID).Take(&cur).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			if in.Version != nil && *in.Version != 0 {
				return errChanged
			}
			err = tx.Create(&Minutes{MeetingID: m.ID, RegionCode: m.RegionCode, Body: body, Version: 1,
				CreatedBy: p.AccountID, UpdatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now}).Error
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if in.Version != nil && *in.Version != cur.Version {
				return errChanged
			}
			res := tx.Model(&Minutes{}).Where("meeting_id = ? AND version = ?", m.ID, cur.Version).
				Updates(map[string]any{"body": body, "version": cur.Version + 1, "updated_by": p.AccountID, "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return errChanged
			}
		}
		if s.opt.Files == nil {
			return nil
		}
		if err := s.opt.Files.Detach(tx, minutesOwner, m.ID, in.Attachments); err != nil {
			return err
		}
		// What the minutes hold already stays, whoever of the county uploaded it; what is new
		// must be the caller's own upload.
		var kept []int64
		if err := tx.Model(&upload.Upload{}).Where("owner_kind = ? AND owner_id = ?", minutesOwner, m.ID).Pluck("id", &kept).Error; err != nil {
			return err
		}
		var added []int64
		for _, a := range in.Attachments {
			if !slices.Contains(kept, a) {
				added = append(added, a)
			}
		}
		return s.opt.Files.Attach(tx, p, added, minutesOwner, m.ID, m.RegionCode)
	})
	if err != nil {
		return View{}, err
	}
	audit.Subject(ctx, subjectType, m.ID, m.RegionCode)
	return s.detail(ctx, p, m, nil, now)
}

// minutes reads the minutes of m with their attachments, nil when none were written.
func (s *Service) minutes(ctx context.Context, m Meeting) (*MinutesView, error) {
	var row Minutes
	err := s.db.WithContext(ctx).Where("meeting_id = ?", m.ID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := &MinutesView{Body: row.Body, Attachments: []upload.View{}, Version: row.Version,
		CreatedAt: clock.Local(row.CreatedAt), UpdatedAt: clock.Local(row.UpdatedAt)}
	if s.opt.Files != nil {
		files, err := s.opt.Files.List(ctx, minutesOwner, []int64{m.ID})
		if err != nil {
			return nil, err
		}
		if f := files[m.ID]; f != nil {
			out.Attachments = f
		}
	}
	return out, nil
}

// detail is the view of one meeting with its minutes.
func (s *Service) detail(ctx context.Context, p *access.Principal, m Meeting, inv *Invitee, now time.Time) (View, error) {
	v := s.view(ctx, p, m, inv, now)
	mv, err := s.minutes(ctx, m)
	if err != nil {
		return View{}, err
	}
	v.Minutes = mv
	return v, nil
}
