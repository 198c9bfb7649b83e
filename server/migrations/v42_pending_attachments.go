package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v42PendingAttachment is an attachment a record declared by the upload client_id the phone will
// use, before the file arrived (text first, photos after). It is deleted when the upload with that
// client_id from the same account arrives and is attached to the owner. The unique key on
// (account, client_id) is shared with uploads' uk_uploads_client in meaning: one client id of an
// uploader belongs to at most one owner.
type v42PendingAttachment struct {
	ID         int64     `gorm:"primaryKey"`
	AccountID  int64     `gorm:"not null;uniqueIndex:uk_pending_attachments_client,priority:1"`
	ClientID   string    `gorm:"size:36;not null;uniqueIndex:uk_pending_attachments_client,priority:2"`
	OwnerKind  string    `gorm:"size:32;not null;index:idx_pending_attachments_owner,priority:1"`
	OwnerID    int64     `gorm:"not null;index:idx_pending_attachments_owner,priority:2"`
	RegionCode string    `gorm:"size:12;not null"`
	CreatedAt  time.Time `gorm:"not null"`
}

func (v42PendingAttachment) TableName() string { return "pending_attachments" }

func v42(tx *gorm.DB, _ database.Dialect) error {
	return database.CreateTables(tx, &v42PendingAttachment{})
}
