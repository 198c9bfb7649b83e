package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v15Notification indexes finished notifications by status and the time they finished
// (updated_at), for the retention sweep (notify.Prune): it asks for the ids of sent, failed and
// skipped rows older than the cutoff, status by status and oldest first, and the index answers that alone (it ends in
// the primary key), in its own order, without reading the rows or sorting. The queue index
// (status, next_attempt_at) cannot: next_attempt_at says nothing about when a row finished.
// events(consumed_at) and audit_log(created_at) already have the index their sweep needs.
type v15Notification struct {
	Status    string    `gorm:"size:16;index:idx_notifications_finished,priority:1"`
	UpdatedAt time.Time `gorm:"index:idx_notifications_finished,priority:2"`
}

func (v15Notification) TableName() string { return "notifications" }

func v15(tx *gorm.DB, _ database.Dialect) error {
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	if !m.HasIndex(&v15Notification{}, "idx_notifications_finished") {
		return m.CreateIndex(&v15Notification{}, "idx_notifications_finished")
	}
	return nil
}
