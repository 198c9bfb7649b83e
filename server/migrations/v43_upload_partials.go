package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v43UploadPartial is a resumable upload (the tus protocol) under way: the length the phone
// declared, how much has arrived, and, once the last byte came and the file went through the
// normal upload path, the upload it became. ID is the random token in its URL. The unique key on
// (account, client_id) makes a retried creation find the same partial on any instance.
type v43UploadPartial struct {
	ID        string    `gorm:"primaryKey;size:32"`
	AccountID int64     `gorm:"not null;uniqueIndex:uk_upload_partials_client,priority:1"`
	ClientID  *string   `gorm:"size:36;uniqueIndex:uk_upload_partials_client,priority:2"`
	Name      string    `gorm:"size:255;not null;default:''"`
	Length    int64     `gorm:"not null"`
	Offset    int64     `gorm:"column:received;not null;default:0"`
	UploadID  *int64    `gorm:""`
	CreatedAt time.Time `gorm:"not null"`
	ExpiresAt time.Time `gorm:"not null;index:idx_upload_partials_expires"`
}

func (v43UploadPartial) TableName() string { return "upload_partials" }

// v43UploadChunk is one PATCH's bytes of a partial, stored under its own key: the unique key on
// (partial, first byte) lets exactly one of two concurrent PATCHes at the same offset count.
type v43UploadChunk struct {
	PartialID  string `gorm:"primaryKey;size:32"`
	FirstByte  int64  `gorm:"primaryKey;autoIncrement:false"`
	Size       int64  `gorm:"not null"`
	StorageKey string `gorm:"size:128;not null"`
}

func (v43UploadChunk) TableName() string { return "upload_chunks" }

func v43(tx *gorm.DB, _ database.Dialect) error {
	return tx.Migrator().AutoMigrate(&v43UploadPartial{}, &v43UploadChunk{})
}
