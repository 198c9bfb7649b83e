package meeting

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/sweep"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DueReminders writes a "meeting.reminder" event for every reminder that has come due and returns
// how many it wrote. A reminder is due offset before the start of a scheduled meeting, unless the
// meeting's time was announced after that moment (its notice did the reminding). Any number of
// instances may sweep at once: the unique key of meeting_reminders lets each (meeting, offset,
// start time) through once, in the transaction that writes its event.
func (s *Service) DueReminders(ctx context.Context) (int, error) {
	if len(s.opt.Reminders) == 0 {
		return 0, nil
	}
	now := s.clock.Now()
	longest := slices.Max(s.opt.Reminders)
	var meetings []Meeting
	if err := s.db.WithContext(ctx).Where("status = ? AND starts_at > ? AND starts_at <= ?", StatusScheduled, now, now.Add(longest)).
		Order("starts_at, id").Find(&meetings).Error; err != nil {
		return 0, err
	}
	if len(meetings) == 0 {
		return 0, nil
	}
	ids := make([]int64, len(meetings))
	for i, m := range meetings {
		ids[i] = m.ID
	}
	type key struct {
		meeting int64
		offset  int
		start   int64
	}
	sent := map[key]bool{}
	for chunk := range slices.Chunk(ids, 500) {
		var rows []Reminder
		if err := s.db.WithContext(ctx).Where("meeting_id IN ?", chunk).Find(&rows).Error; err != nil {
			return 0, err
		}
		for _, r := range rows {
			sent[key{r.MeetingID, r.OffsetMinutes, r.StartsAt.Unix()}] = true
		}
	}
	done := 0
	for _, m := range meetings {
		for _, off := range s.opt.Reminders {
			due := m.StartsAt.Add(-off)
			minutes := int(off / time.Minute)
			if now.Before(due) || !m.AnnouncedAt.Before(due) || sent[key{m.ID, minutes, m.StartsAt.Unix()}] {
				continue
			}
			ok, err := s.remind(ctx, m, minutes, now)
			if err != nil {
				if ctx.Err() != nil {
					return done, nil
				}
				return done, fmt.Errorf("meeting %d reminder %dm: %w", m.ID, minutes, err)
			}
			if ok {
				done++
			}
		}
	}
	return done, nil
}

// remind claims one reminder and writes its event, unless the meeting was cancelled or moved
// since the sweep read it, or another instance claimed it first.
func (s *Service) remind(ctx context.Context, m Meeting, minutes int, now time.Time) (bool, error) {
	written := false
	err := s.transact(ctx, func(tx *gorm.DB) error {
		written = false
		var cur Meeting
		if err := tx.Where("id = ?", m.ID).Take(&cur).Error; err != nil {
			return err
		}
		if cur.Status != StatusScheduled || !cur.StartsAt.Equal(m.StartsAt) {
			return nil
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&Reminder{MeetingID: cur.ID, OffsetMinutes: minutes, StartsAt: cur.StartsAt, CreatedAt: now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		// Who said they will not come is not reminded.
		ids, err := s.inviteeIDs(tx, cur.ID, true)
		if err != nil {
			return err
		}
		written = true
		return emit(tx, cur, now, outbox.MeetingReminder{Meeting: notice(cur, ids), OffsetMinutes: minutes, StartsIn: startsIn(minutes)})
	})
	return written, err
}

// startsIn says how soon a meeting starts, for the reminder text: "1小时", "1天", "90分钟".
func startsIn(minutes int) string {
	switch {
	case minutes%(24*60) == 0:
		return fmt.Sprintf("%d天", minutes/(24*60))
	case minutes%60 == 0:
		return fmt.Sprintf("%d小时", minutes/60)
	}
	return fmt.Sprintf("%d分钟", minutes)
}

// Sweep runs DueOccurrences and DueReminders every interval until ctx ends; a zero interval
// disables it. Occurrences go first, so one created inside a reminder window is not reminded
// before its notice is out (its announced_at is then).
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	sweep.Counting(ctx, s.log, every, "meeting occurrences and reminders written", func(ctx context.Context) (int, error) {
		n, err := s.DueOccurrences(ctx)
		if err != nil {
			return n, err
		}
		r, err := s.DueReminders(ctx)
		return n + r, err
	})
}
