package migrations

import (
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v28Event indexes the outbox by subject type and id for the tip desk's stream (tipfeed): each
// open desk reads "the tip events after id N" whenever a tip changes, and the index finds them
// without walking the other kinds' events.
type v28Event struct {
	ID          int64  `gorm:"primaryKey;index:idx_events_feed,priority:2"`
	SubjectType string `gorm:"size:32;index:idx_events_feed,priority:1"`
}

func (v28Event) TableName() string { return "events" }

func v28(tx *gorm.DB, _ database.Dialect) error {
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	if !m.HasIndex(&v28Event{}, "idx_events_feed") {
		return m.CreateIndex(&v28Event{}, "idx_events_feed")
	}
	return nil
}
