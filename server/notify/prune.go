package notify

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Retention is how long the outbox and the delivery log keep what is done with; 0 keeps it
// forever.
type Retention struct {
	// Events counts from consumption (fan-out). An event not yet consumed is never deleted.
	Events time.Duration
	// Notifications counts from the moment a notification became final (sent, failed, skipped:
	// its updated_at). Pending and sending ones are never deleted; a failed one can no longer be
	// retried once it is gone.
	Notifications time.Duration
}

// Pruned counts the rows one Prune deleted.
type Pruned struct {
	Events, Notifications int64
}

// PruneBatch is the most rows one delete statement removes: short enough that MySQL holds its
// row locks for milliseconds, never long enough to hold up the dispatcher or a submission.
const PruneBatch = 1000

// finalStatuses are the notification states nothing moves on from by itself.
var finalStatuses = []string{StatusSent, StatusFailed, StatusSkipped}

// Prune deletes the events consumed, and the notifications final, longer ago than keep says.
//
// The outbox is pruned here rather than in server/record, although record (and meeting,
// bulletin, task) write its rows: an event's life ends when this package's dispatcher consumes
// it, consumed_at is the dispatcher's state, and only this package reads events. A consumed event
// is never read again: fan-out copied into each notification what the delivery log shows (kind,
// subject, region, rendered message), so a notification outlives its event.
//
// Rows go in batches of PruneBatch by primary key, each delete re-checking that the row is still
// eligible: a notification a staff member retried meanwhile (failed → pending) stays. Any number
// of instances may prune at once: each row is deleted by one of them, and an instance whose batch
// another one deleted first stops there and leaves the rest to it.
func Prune(ctx context.Context, db *gorm.DB, now time.Time, keep Retention) (Pruned, error) {
	var out Pruned
	var err error
	if keep.Events > 0 {
		// idx_events_pending (consumed_at) holds the eligible ids in the order asked for; NULL
		// (unconsumed) is never < anything.
		out.Events, err = deleteInBatches(ctx, db, &Event{}, "consumed_at",
			"consumed_at < ?", now.Add(-keep.Events).UTC())
		if err != nil {
			return out, err
		}
	}
	if keep.Notifications > 0 {
		// idx_notifications_finished (status, updated_at), in index order.
		out.Notifications, err = deleteInBatches(ctx, db, &Notification{}, "status, updated_at",
			"status IN ? AND updated_at < ?", finalStatuses, now.Add(-keep.Notifications).UTC())
	}
	return out, err
}

// deleteInBatches deletes the rows of model matching cond, PruneBatch at a time: the ids first,
// in the order of the index that answers cond, then a delete by those ids that checks cond again.
func deleteInBatches(ctx context.Context, db *gorm.DB, model any, order, cond string, args ...any) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var ids []int64
		if err := db.WithContext(ctx).Model(model).Where(cond, args...).Order(order).
			Limit(PruneBatch).Pluck("id", &ids).Error; err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		res := db.WithContext(ctx).Where("id IN ?", ids).Where(cond, args...).Delete(model)
		if res.Error != nil {
			return total, res.Error
		}
		total += res.RowsAffected
		// A short batch was the last; a batch another instance deleted first means it is on the
		// same rows, and it goes on with them.
		if len(ids) < PruneBatch || res.RowsAffected == 0 {
			return total, nil
		}
	}
}
