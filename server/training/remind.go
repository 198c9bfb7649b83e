package training

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/sweep"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Reminder marks a reminder written for one offset before one start time of a session
// (migration 36); its key lets each through once however many instances sweep.
type Reminder struct {
	SessionID     int64     `gorm:"primaryKey;autoIncrement:false"`
	OffsetMinutes int       `gorm:"primaryKey;autoIncrement:false"`
	StartsAt      time.Time `gorm:"primaryKey"`
	CreatedAt     time.Time
}

func (Reminder) TableName() string { return "training_reminders" }

// notice is what a training event says about ss, for the instructors ids.
func notice(ss Session, ids []int64) outbox.Training {
	if ids == nil {
		ids = []int64{}
	}
	return outbox.Training{SessionID: ss.ID, Title: ss.Title, StartsAt: clock.Local(ss.StartsAt), EndsAt: clock.Local(ss.EndsAt),
		Mode: ss.Mode, Place: ss.Place, RegionCode: ss.RegionCode, InstructorIDs: ids}
}

// emit writes a training event in tx, the transaction of the change it reports.
func emit(tx *gorm.DB, ss Session, at time.Time, p outbox.Payload) error {
	return outbox.Write(tx, outbox.Entry{SubjectType: sessionSubject, SubjectID: ss.ID, RegionCode: ss.RegionCode, At: at, Payload: p})
}

// DueReminders writes a "training.reminder" event for every reminder that has come due and
// returns how many it wrote. A reminder is due offset before a session starts; it goes to the
// instructors enrolled by then whose attendance is not recorded yet. An instructor enrolled
// after that moment was told by the enrolment notice, so a reminder names only those enrolled
// before it.
func (s *Service) DueReminders(ctx context.Context) (int, error) {
	if len(s.opt.Reminders) == 0 {
		return 0, nil
	}
	now := s.clock.Now()
	longest := slices.Max(s.opt.Reminders)
	var sessions []Session
	if err := s.db.WithContext(ctx).Where("starts_at > ? AND starts_at <= ?", now, now.Add(longest)).
		Order("starts_at, id").Find(&sessions).Error; err != nil {
		return 0, err
	}
	done := 0
	for _, ss := range sessions {
		for _, off := range s.opt.Reminders {
			due := ss.StartsAt.Add(-off)
			if now.Before(due) {
				continue
			}
			ok, err := s.remind(ctx, ss, off, due, now)
			if err != nil {
				if ctx.Err() != nil {
					return done, nil
				}
				return done, fmt.Errorf("training session %d reminder %s: %w", ss.ID, off, err)
			}
			if ok {
				done++
			}
		}
	}
	return done, nil
}

// remind claims one reminder and writes its event, unless the session moved since the sweep read
// it, another instance claimed it first, or nobody is left to remind.
func (s *Service) remind(ctx context.Context, ss Session, off time.Duration, due, now time.Time) (bool, error) {
	minutes := int(off / time.Minute)
	written := false
	err := s.transact(ctx, func(tx *gorm.DB) error {
		written = false
		var cur Session
		if err := tx.Where("id = ?", ss.ID).Take(&cur).Error; err != nil {
			return err
		}
		if !cur.StartsAt.Equal(ss.StartsAt) {
			return nil
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&Reminder{SessionID: cur.ID, OffsetMinutes: minutes, StartsAt: cur.StartsAt, CreatedAt: now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		var ids []int64
		if err := tx.Model(&Enrolment{}).Where("session_id = ? AND status = ? AND created_at < ?", cur.ID, StatusEnrolled, due).
			Order("instructor_id").Pluck("instructor_id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		written = true
		return emit(tx, cur, now, outbox.TrainingReminder{Training: notice(cur, ids), OffsetMinutes: minutes, StartsIn: startsIn(minutes)})
	})
	return written, err
}

// startsIn says how soon a session starts, for the reminder text: "1天", "2小时", "90分钟".
func startsIn(minutes int) string {
	switch {
	case minutes%(24*60) == 0:
		return fmt.Sprintf("%d天", minutes/(24*60))
	case minutes%60 == 0:
		return fmt.Sprintf("%d小时", minutes/60)
	}
	return fmt.Sprintf("%d分钟", minutes)
}

// Sweep runs DueReminders every interval until ctx ends; a zero interval disables it.
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	sweep.Counting(ctx, s.log, every, "training reminders written", s.DueReminders)
}
