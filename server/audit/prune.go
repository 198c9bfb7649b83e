package audit

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// PruneBatch is the most entries one delete statement removes: MySQL holds its row locks for
// milliseconds, never long enough to hold up the requests writing new entries.
const PruneBatch = 1000

// Prune deletes the entries created before before, oldest first, PruneBatch at a time: the ids
// from idx_audit_created, then a delete by those ids that checks the age again. Any number of
// instances may prune at once: each entry is deleted by one of them, and an instance whose batch
// another one deleted first stops and leaves the rest to it. It returns how many entries it
// deleted.
//
// The caller decides before; the configuration refuses anything shorter than the six months the
// Cybersecurity Law requires network logs to be kept (config.AuditMinimum).
func Prune(ctx context.Context, db *gorm.DB, before time.Time) (int64, error) {
	before = before.UTC()
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var ids []int64
		if err := db.WithContext(ctx).Model(&Entry{}).Where("created_at < ?", before).Order("created_at").
			Limit(PruneBatch).Pluck("id", &ids).Error; err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		res := db.WithContext(ctx).Where("id IN ? AND created_at < ?", ids, before).Delete(&Entry{})
		if res.Error != nil {
			return total, res.Error
		}
		total += res.RowsAffected
		if len(ids) < PruneBatch || res.RowsAffected == 0 {
			return total, nil
		}
	}
}
