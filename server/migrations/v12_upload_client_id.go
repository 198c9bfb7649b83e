package migrations

import (
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v12Upload adds the client's id of an upload, so a phone retrying an upload whose answer it lost
// gets the first upload back instead of a second copy. The unique key per uploader decides
// between concurrent retries on any number of instances; uploads sent without an id keep NULL,
// which never collides.
type v12Upload struct {
	AccountID int64   `gorm:"not null;uniqueIndex:uk_uploads_client,priority:1"`
	ClientID  *string `gorm:"column:client_id;size:36;uniqueIndex:uk_uploads_client,priority:2"`
}

func (v12Upload) TableName() string { return "uploads" }

func v12(tx *gorm.DB, _ database.Dialect) error {
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	if !m.HasColumn(&v12Upload{}, "ClientID") {
		if err := m.AddColumn(&v12Upload{}, "ClientID"); err != nil {
			return err
		}
	}
	if !m.HasIndex(&v12Upload{}, "uk_uploads_client") {
		return m.CreateIndex(&v12Upload{}, "uk_uploads_client")
	}
	return nil
}
