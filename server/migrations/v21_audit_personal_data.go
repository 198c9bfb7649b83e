package migrations

import (
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v21AuditEntry adds whether an audited answer carried personal data in full (a whole phone or
// ID number, which lists show masked), so the audit administrator can list exactly who read
// whose. Earlier entries are false: such reads were not audited before.
type v21AuditEntry struct {
	PersonalData bool `gorm:"not null;default:false"`
}

func (v21AuditEntry) TableName() string { return "audit_log" }

func v21(tx *gorm.DB, _ database.Dialect) error {
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	if !m.HasColumn(&v21AuditEntry{}, "PersonalData") {
		return m.AddColumn(&v21AuditEntry{}, "PersonalData")
	}
	return nil
}
