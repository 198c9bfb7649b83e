package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v4AuditEntry is one audited request: every write and every read of a tip or mediation.
// region_code is the subject's region when known, else the actor's, so staff read their subtree.
type v4AuditEntry struct {
	ID          int64     `gorm:"primaryKey"`
	AccountID   int64     `gorm:"not null;index:idx_audit_account"`
	Role        string    `gorm:"size:32;not null"`
	RegionCode  string    `gorm:"size:12;not null;default:'';index:idx_audit_region"`
	Action      string    `gorm:"size:160;not null;index:idx_audit_action"`
	SubjectType string    `gorm:"size:32;not null;default:'';index:idx_audit_subject,priority:1"`
	SubjectID   *int64    `gorm:"index:idx_audit_subject,priority:2"`
	Status      int       `gorm:"not null"`
	RequestID   string    `gorm:"size:64;not null;default:''"`
	ClientIP    string    `gorm:"column:client_ip;size:45;not null;default:''"`
	CreatedAt   time.Time `gorm:"not null;index:idx_audit_created"`
}

func (v4AuditEntry) TableName() string { return "audit_log" }

func v4(tx *gorm.DB, _ database.Dialect) error {
	return database.CreateTables(tx, &v4AuditEntry{})
}
