package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v3Upload is an attachment (photo, voice note). owner_kind/owner_id are empty until a record
// claims it; region_code is the uploader's region until then and the owner's after.
type v3Upload struct {
	ID           int64     `gorm:"primaryKey"`
	AccountID    int64     `gorm:"not null;index:idx_uploads_account"`
	InstructorID *int64    `gorm:"index:idx_uploads_instructor"`
	Kind         string    `gorm:"size:8;not null"`
	MIME         string    `gorm:"column:mime;size:32;not null"`
	Size         int64     `gorm:"not null"`
	SHA256       string    `gorm:"column:sha256;size:64;not null"`
	StorageKey   string    `gorm:"size:128;not null;uniqueIndex:uk_uploads_storage_key"`
	Name         string    `gorm:"size:100;not null;default:''"`
	OwnerKind    string    `gorm:"size:32;not null;default:'';index:idx_uploads_owner,priority:1"`
	OwnerID      *int64    `gorm:"index:idx_uploads_owner,priority:2"`
	RegionCode   string    `gorm:"size:12;not null;default:'';index:idx_uploads_region"`
	CreatedAt    time.Time `gorm:"not null;index:idx_uploads_created"`
	AttachedAt   *time.Time
}

func (v3Upload) TableName() string { return "uploads" }

func v3(tx *gorm.DB, _ database.Dialect) error {
	return database.CreateTables(tx, &v3Upload{})
}
